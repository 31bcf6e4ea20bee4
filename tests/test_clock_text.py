"""One m:ss rule: the plan, the terminal player and the screen show every shipped cue at the same time."""

from __future__ import annotations

import io
import re
from typing import Dict, List, Tuple

import pytest

from kiosk.cli import main as kiosk_main
from kiosk.core.model import clock_text
from kiosk.core.session_view import session_view
from kiosk.core.timeline import build_timeline
from kiosk.play import cue_line

TIME = re.compile(r"\[(\d+):(\d\d)\] (.*)")


def as_seconds(minutes: str, seconds: str) -> int:
    return int(minutes) * 60 + int(seconds)


@pytest.mark.parametrize("seconds, short, padded", [
    (0, "0:00", "00:00"), (29.5, "0:29", "00:29"), (59.999, "0:59", "00:59"), (60, "1:00", "01:00"),
    (612.7, "10:12", "10:12"), (-3, "0:00", "00:00"), (float("inf"), "0:00", "00:00"),
])
def test_whole_seconds_rounded_down_like_a_stopwatch(seconds: float, short: str, padded: str) -> None:
    assert clock_text(seconds) == short and clock_text(seconds, pad_minutes=True) == padded


def test_plan_player_and_screen_agree_on_every_shipped_cue(shipped_library) -> None:
    compared = 0
    for routine in shipped_library.routines.values():
        out = io.StringIO()
        assert kiosk_main(["plan", routine.id], out=out) == 0
        planned: List[Tuple[int, str]] = []
        for line in out.getvalue().splitlines():
            match = TIME.match(line.strip())
            if match and line.startswith("    "):
                planned.append((as_seconds(match.group(1), match.group(2)), match.group(3)))
        timeline = build_timeline(routine)
        cues = timeline.cues
        assert len(planned) == len(cues)
        for cue, (plan_seconds, text) in zip(cues, planned):
            played = TIME.match(cue_line(cue))
            assert played is not None and played.group(3) == text == cue.text
            screen = session_view(timeline.position_at(cue.at_s), timeline, paused=False, said=None)
            shown: Dict[str, str] = dict(zip(("minutes", "seconds"), screen.elapsed_text.split(" / ")[0].split(":")))
            assert plan_seconds == as_seconds(played.group(1), played.group(2)) \
                == as_seconds(shown["minutes"], shown["seconds"]), (routine.id, cue)
            compared += 1
    assert compared > 600
