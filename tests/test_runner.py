"""The runner: a fake monotonic clock, a speaker that writes down what it was asked to say."""

from __future__ import annotations

import datetime as dt
from typing import List, Sequence, Tuple

import pytest

from kiosk.core.model import Cue
from kiosk.core.runner import SessionRunner
from kiosk.core.session import State
from kiosk.core.timeline import build_timeline

START_WALL = dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class NotingSpeaker:
    def __init__(self) -> None:
        self.said: List[Tuple[Cue, float]] = []
        self.stops = 0

    def prepare(self, phrases: Sequence[str]) -> None:
        pass

    def say(self, cue: Cue, due_at: float) -> None:
        self.said.append((cue, due_at))

    def stop(self) -> None:
        self.stops += 1

    status = "voice"

    def close(self) -> None:
        pass


@pytest.fixture
def parts(shipped_library):
    timeline = build_timeline(shipped_library.default_routine())
    clock, speaker = FakeClock(), NotingSpeaker()
    wall_now = [START_WALL]
    runner = SessionRunner(timeline, clock=clock, speaker=speaker, wall=lambda: wall_now[0], boot_id="")
    return runner, clock, speaker, timeline, wall_now


def test_a_whole_session_says_every_cue_once_at_its_time(parts) -> None:
    runner, clock, speaker, timeline, _ = parts
    runner.start()
    while not runner.finished:
        clock.now += 0.37
        runner.tick()
    assert [cue for cue, _ in speaker.said] == list(timeline.cues)
    for cue, due in speaker.said:
        assert due == pytest.approx(1000.0 + cue.at_s)
    assert runner.caption_cue == timeline.cues[-1]
    record = runner.record()
    assert record.completed and record.active_s == timeline.total_s
    assert record.steps_done == len(timeline.routine.steps) and record.steps_skipped == 0
    assert runner.record() is record


def test_a_late_sample_reports_when_each_cue_was_due(parts) -> None:
    runner, clock, speaker, timeline, _ = parts
    runner.start()
    clock.now += 11.5  # one very late frame crosses the lead-in's end
    runner.tick()
    late = [(cue.at_s, due) for cue, due in speaker.said]
    assert late[-1] == (10.0, pytest.approx(1010.0))


def test_wall_clock_jump_does_not_change_the_recorded_length(parts) -> None:
    runner, clock, _, timeline, wall_now = parts
    runner.start()
    wall_now[0] = START_WALL + dt.timedelta(days=400)  # NTP fixes the clock mid-session
    clock.now += 60
    runner.tick()
    runner.stop()
    record = runner.record()
    assert record.started_utc == "2026-11-26T07:00:00Z"
    assert record.ended_utc == "2026-11-26T07:01:00Z"
    assert record.active_s == 60 and not record.completed


def test_pause_silences_and_stop_records_active_time_only(parts) -> None:
    runner, clock, speaker, _, _ = parts
    runner.start()
    clock.now += 20
    runner.tick()
    runner.toggle_pause()
    assert runner.state is State.PAUSED and speaker.stops == 1
    said = len(speaker.said)
    clock.now += 500
    runner.tick()
    assert len(speaker.said) == said
    runner.toggle_pause()
    clock.now += 5
    runner.tick()
    runner.stop()
    assert runner.record().active_s == 25


def test_record_before_the_end_is_refused(parts) -> None:
    runner = parts[0]
    runner.start()
    with pytest.raises(RuntimeError):
        runner.record()


def test_skip_hands_out_the_next_announcement_due_now(parts) -> None:
    runner, clock, speaker, timeline, _ = parts
    runner.start()
    clock.now += 15
    runner.tick()
    runner.skip()
    cue, due = speaker.said[-1]
    assert cue.kind == "announce" and cue.text.startswith("Rest. Next up:")
    assert due == clock.now


def test_a_session_run_to_the_end_with_every_exercise_skipped_is_recorded_not_completed(parts) -> None:
    runner, clock, _, timeline, _ = parts
    runner.start()
    while not runner.finished:
        clock.now += 4
        runner.tick()
        runner.skip()
    assert runner.state is State.DONE
    record = runner.record()
    assert not record.completed and not record.interrupted
    assert (record.steps_done, record.steps_skipped) == (0, len(timeline.routine.steps))
    assert record.active_s == 4 * 2 * len(timeline.routine.steps)


def test_checkpoints_stay_not_completed_even_past_half_the_exercise_time(parts) -> None:
    runner, clock, _, timeline, _ = parts
    runner.start()
    clock.now += timeline.total_s - 1  # all but the last second: nearly all the exercise time done
    runner.tick()
    checkpoint = runner.checkpoint()
    assert checkpoint is not None and checkpoint.interrupted and not checkpoint.completed
