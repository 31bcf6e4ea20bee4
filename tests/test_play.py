"""`kiosk play`: a session in the terminal, on an accelerated clock so a test takes seconds."""

from __future__ import annotations

import io
import json
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import List, Tuple

import pytest
from voice_fakes import tiny_routine, write_tiny_library

from kiosk import cli, play
from kiosk.config import Settings
from kiosk.core.clockcheck import local_now
from kiosk.core.runner import SessionRunner
from kiosk.core.session import State
from kiosk.core.speaker import SilentSpeaker
from kiosk.core.timeline import Timeline, build_timeline
from kiosk.play import Outcome, ScaledClock, cue_line, play_routine, play_session
from kiosk.sound.audio import NullAudio


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    return cache


@pytest.fixture
def library_dir(tmp_path: Path) -> Path:
    return write_tiny_library(tmp_path / "library")


@pytest.fixture
def timeline(tmp_path: Path) -> Timeline:
    return build_timeline(tiny_routine(tmp_path / "library"))


def run_cli(*argv: str) -> Tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def captions(text: str) -> List[str]:
    return [line for line in text.splitlines() if line.startswith("[")]


def test_the_scaled_clock_samples_the_real_clock_and_never_adds_up() -> None:
    readings = iter([10.0, 10.5, 12.0])
    clock = ScaledClock(50.0, base=lambda: next(readings))
    assert clock() == pytest.approx(10.0 + 0.5 * 50)
    assert clock() == pytest.approx(10.0 + 2.0 * 50)
    with pytest.raises(ValueError):
        ScaledClock(0)


def test_a_caption_line_is_the_cue_with_its_time_into_the_session(timeline: Timeline) -> None:
    switch = next(c for c in timeline.cues if c.kind == "switch")
    assert cue_line(switch) == "[00:07] Switch to your left leg."


class SteppedClock:
    """A clock that only moves when the player sleeps: the loop, without waiting for real."""

    def __init__(self) -> None:
        self.now = 500.0
        self.sleeps: List[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_play_session_prints_every_cue_in_order_sleeping_until_each(timeline: Timeline) -> None:
    clock, out = SteppedClock(), io.StringIO()
    runner, interrupted = play_session(timeline, speaker=SilentSpeaker(), clock=clock, out=out, sleep=clock.sleep)
    assert not interrupted and runner.record().completed and runner.record().source == "cli"
    assert captions(out.getvalue()) == [cue_line(c) for c in timeline.cues]
    assert max(clock.sleeps) <= 0.51
    assert len(clock.sleeps) < 4 * timeline.total_s  # it sleeps until the next cue, it does not spin


def test_ctrl_c_in_play_session_stops_the_session(timeline: Timeline) -> None:
    clock, out = SteppedClock(), io.StringIO()

    def sleep(seconds: float) -> None:
        if clock.now - 500.0 > 5.0:
            raise KeyboardInterrupt
        clock.sleep(seconds)

    runner, interrupted = play_session(timeline, speaker=SilentSpeaker(), clock=clock, out=out, sleep=sleep)
    assert interrupted and runner.finished
    assert not runner.record().completed
    assert captions(out.getvalue()) == [cue_line(c) for c in timeline.cues if c.at_s <= 5.0]


def test_kiosk_play_prints_every_cue_in_order_and_records_the_session(library_dir: Path,
                                                                      timeline: Timeline) -> None:
    code, out, err = run_cli("--exercises", str(library_dir), "play", "tiny", "--speed", "25")
    assert code == 0, err
    assert captions(out) == [cue_line(c) for c in timeline.cues]
    assert "Well done: Tiny recorded" in out
    assert "Traceback" not in err
    code, listing, _ = run_cli("log", "list", "--json")
    records = json.loads(listing)
    assert code == 0 and len(records) == 1
    record = records[0]
    assert (record["routine"], record["completed"], record["source"]) == ("tiny", True, "cli")
    assert record["planned_s"] == timeline.total_s


def test_kiosk_play_says_when_a_session_reached_the_end_with_too_little_done(
        library_dir: Path, timeline: Timeline, monkeypatch: pytest.MonkeyPatch) -> None:
    """The terminal has no Skip, so the player is stood in for by a session skipped through."""

    def skipped_through(timeline: Timeline, *args, **kwargs) -> Outcome:
        clock = SteppedClock()
        runner = SessionRunner(timeline, clock=clock, speaker=SilentSpeaker(), wall=local_now, boot_id="",
                               source="cli")
        runner.start()
        while not runner.finished:
            clock.sleep(1.0)
            runner.skip()
        assert runner.state is State.DONE
        return Outcome(runner.record(), False, timeline.total_s)

    monkeypatch.setattr(play, "play_routine", skipped_through)
    code, out, err = run_cli("--exercises", str(library_dir), "play", "tiny", "--no-voice")
    assert code == 0, err
    assert "Finished, but less than half of the exercise time was done: recorded as not completed." in out
    assert "Well done" not in out and "Stopped at" not in out
    code, listing, _ = run_cli("log", "list", "--json")
    records = json.loads(listing)
    assert [(r["routine"], r["completed"], r.get("interrupted", False)) for r in records] == [("tiny", False, False)]


def test_kiosk_play_no_voice_still_prints_and_records(library_dir: Path, timeline: Timeline) -> None:
    code, out, err = run_cli("--exercises", str(library_dir), "play", "tiny", "--no-voice", "--speed", "25")
    assert code == 0, err
    assert captions(out) == [cue_line(c) for c in timeline.cues]
    assert "Preparing the voice" not in err


def test_kiosk_play_refuses_an_unknown_routine_and_a_bad_speed(library_dir: Path) -> None:
    code, _, err = run_cli("--exercises", str(library_dir), "play", "no-such-routine")
    assert code == 2 and "no routine 'no-such-routine'" in err
    with pytest.raises(SystemExit) as exit_info:
        run_cli("play", "--speed", "0")
    assert exit_info.value.code == 2


def test_play_routine_speaks_through_the_worker_when_there_is_sound(tmp_path: Path, timeline: Timeline) -> None:
    clock_speed = 25.0
    audio = NullAudio(ScaledClock(clock_speed))
    out, err = io.StringIO(), io.StringIO()
    outcome = play_routine(timeline, Settings(), out=out, err=err, speed=clock_speed, audio=audio,
                           cache_dir=tmp_path / "voice")
    assert outcome.record is not None and outcome.record.completed and not outcome.interrupted
    assert "Preparing the voice" in err.getvalue()
    assert captions(out.getvalue()) == [cue_line(c) for c in timeline.cues]
    played = [p.wav.name for p in audio.plays]
    assert played[-1] != "chime.wav" and "chime.wav" in played  # the chime, then "Well done"
    assert len(played) > 2


def read_line(process: subprocess.Popen, timeout_s: float) -> str:
    """The next line of the child's stdout, or "" at end or deadline."""
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout_s
    line = b""
    try:
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(timeout=left):
                break
            chunk = os.read(process.stdout.fileno(), 1)
            if not chunk:
                break
            line += chunk
    finally:
        selector.close()
    return line.decode("utf-8", "replace")


def test_ctrl_c_stops_kiosk_play_cleanly_and_records_a_session_not_completed(library_dir: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "--exercises", str(library_dir), "play", "tiny", "--no-voice"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=dict(os.environ))
    try:
        lines: List[str] = []
        while not any(line.startswith("[00:00]") for line in lines):
            line = read_line(process, 60.0)
            assert line, "kiosk play printed no first cue"
            lines.append(line)
        process.send_signal(signal.SIGINT)
        rest, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130
    assert "recorded as not completed" in rest.decode()
    assert b"Traceback" not in err
    code, listing, _ = run_cli("log", "list", "--json")
    records = json.loads(listing)
    assert code == 0 and [(r["routine"], r["completed"], r["source"]) for r in records] == [("tiny", False, "cli")]
