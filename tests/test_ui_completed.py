"""Issue 12 in a real window: a session skipped to its end is no 'Well done' and no streak day."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from kivy_harness import Kiosk, visible

from kiosk.core.timeline import build_timeline
from kiosk.sessionlog.store import SessionLog


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def kiosk(shipped_library, data_dir: Path) -> Iterator[Kiosk]:
    driver = Kiosk(shipped_library, data_dir)
    yield driver
    driver.close()


def records(data_dir: Path):
    with SessionLog.open(data_dir) as log:
        return log.records()


def test_a_session_skipped_to_the_end_goes_home_saying_it_does_not_count(
        kiosk: Kiosk, data_dir: Path, shipped_library) -> None:
    timeline = build_timeline(shipped_library.default_routine())
    steps = len(timeline.routine.steps)
    kiosk.tap(kiosk.widget("home", "start_button"))
    assert kiosk.controller.screen == "session"
    skip = kiosk.widget("session", "skip_button")
    taps = 0
    while kiosk.controller.in_session:
        assert taps < 2 * steps, "Skip twice a step (its lead-in or rest, then its exercise) should end it"
        kiosk.advance(3)  # a few seconds in each lead-in, rest and exercise, as a person would
        kiosk.tap(skip)
        taps += 1
    assert taps == 2 * steps

    assert kiosk.controller.screen == "home"
    assert kiosk.controller.notice == (
        f"Session finished: 0 of {steps} exercises done. Less than half of the exercise time was done, "
        "so it does not count for the streak.")
    assert visible(kiosk.root.ids.notice)
    kiosk.settle()
    assert not kiosk.controller.done_today  # no streak day from it
    saved = records(data_dir)
    assert len(saved) == 1
    assert not saved[0].completed and not saved[0].interrupted
    assert (saved[0].steps_done, saved[0].steps_skipped) == (0, steps)
    assert saved[0].active_s == pytest.approx(3 * 2 * steps, abs=0.6)


def test_a_session_done_to_the_end_still_says_well_done(kiosk: Kiosk, data_dir: Path, shipped_library) -> None:
    timeline = build_timeline(shipped_library.default_routine())
    kiosk.tap(kiosk.widget("home", "start_button"))
    kiosk.advance(timeline.first_work_start(1) + 2)  # all of the first exercise, into the second
    kiosk.tap(kiosk.widget("session", "skip_button"))  # the second exercise skipped after 2 s
    kiosk.advance(timeline.total_s - timeline.step_starts[2] + 1)  # the rest, to the end
    assert kiosk.controller.screen == "done"
    assert kiosk.controller.done_title == "Well done"
    kiosk.settle()
    assert kiosk.controller.done_today
    saved = records(data_dir)
    assert [(r.completed, r.steps_skipped) for r in saved] == [(True, 1)]
