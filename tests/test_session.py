"""The session state machine, driven by a fake clock: `at` is just a number we choose.

Times are multiples of 1/8 s so sums and differences stay exact, and two runs that
should agree can be compared with `==`.
"""

from __future__ import annotations

from typing import Dict, List, Tuple, Type

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.core.catalog import Library
from kiosk.core.model import Cue
from kiosk.core.session import (
    BACK_GRACE_S,
    COMPLETED_SHARE,
    TRANSITIONS,
    Back,
    Event,
    IllegalTransition,
    Pause,
    Resume,
    Session,
    Skip,
    Start,
    State,
    Stop,
    Tick,
    counts_as_completed,
    legal_events,
)
from kiosk.core.timeline import Timeline, build_timeline
from tests.factories import make_exercise, make_routine, make_step

START = 1000.0
"""The fake monotonic clock's reading when the session starts."""

EVENT_TYPES: Tuple[Type[Event], ...] = (Start, Tick, Pause, Resume, Skip, Back, Stop)


@pytest.fixture(scope="module")
def timeline(shipped_library: Library) -> Timeline:
    routine = shipped_library.default_routine()
    assert routine is not None
    return build_timeline(routine)


def started(timeline: Timeline) -> Tuple[Session, List[Cue]]:
    session = Session(timeline)
    return session, list(session.handle(Start(at=START)))


def at(elapsed: float) -> float:
    """The clock reading `elapsed` active seconds into a session without pauses."""
    return START + elapsed


def run_to_end(session: Session, now: float, handed_out: List[Cue]) -> float:
    """Tick once a second of clock time until the session is done."""
    while session.state is not State.DONE:
        now += 1.0
        handed_out.extend(session.handle(Tick(at=now)))
    return now


def announcement(timeline: Timeline, step_index: int) -> Cue:
    return next(c for c in timeline.cues if c.kind == "announce"
                and timeline.position_at(c.at_s).segment.step_index == step_index)  # type: ignore[union-attr]


# --------------------------------------------------------------------------- the table

def session_in(state: State, timeline: Timeline) -> Tuple[Session, float]:
    """A session on the default routine in `state`, and the clock reading it got there at."""
    session = Session(timeline)
    if state is State.IDLE:
        return session, START
    session.handle(Start(at=START))
    if state is State.LEAD_IN:
        return session, START
    if state is State.ACTIVE:
        session.handle(Tick(at=at(20.0)))
        return session, at(20.0)
    if state is State.PAUSED:
        session.handle(Pause(at=at(5.0)))
        return session, at(5.0)
    if state is State.DONE:
        session.handle(Tick(at=at(300.0)))
        return session, at(300.0)
    session.handle(Stop(at=at(5.0)))
    return session, at(5.0)


# The state after each legal event, one second after the session got into its state.
# Anything missing here must be an illegal transition.
NEXT_STATE: Dict[Tuple[State, Type[Event]], State] = {
    (State.IDLE, Start): State.LEAD_IN,
    (State.IDLE, Tick): State.IDLE,
    (State.LEAD_IN, Tick): State.LEAD_IN,
    (State.LEAD_IN, Pause): State.PAUSED,
    (State.LEAD_IN, Skip): State.ACTIVE,
    (State.LEAD_IN, Back): State.LEAD_IN,
    (State.LEAD_IN, Stop): State.STOPPED,
    (State.ACTIVE, Tick): State.ACTIVE,
    (State.ACTIVE, Pause): State.PAUSED,
    (State.ACTIVE, Skip): State.ACTIVE,
    (State.ACTIVE, Back): State.LEAD_IN,
    (State.ACTIVE, Stop): State.STOPPED,
    (State.PAUSED, Tick): State.PAUSED,
    (State.PAUSED, Resume): State.LEAD_IN,
    (State.PAUSED, Skip): State.PAUSED,
    (State.PAUSED, Back): State.PAUSED,
    (State.PAUSED, Stop): State.STOPPED,
    (State.DONE, Tick): State.DONE,
    (State.STOPPED, Tick): State.STOPPED,
}


def test_the_table_lists_exactly_the_legal_transitions() -> None:
    assert set(TRANSITIONS) == set(NEXT_STATE)
    assert all(NEXT_STATE[pair] in TRANSITIONS[pair] for pair in NEXT_STATE)
    assert legal_events(State.PAUSED) == ["Back", "Resume", "Skip", "Stop", "Tick"]
    assert legal_events(State.DONE) == ["Tick"]


@pytest.mark.parametrize("state", list(State), ids=lambda s: s.value)
@pytest.mark.parametrize("event_type", EVENT_TYPES, ids=lambda e: e.__name__)
def test_every_state_and_event_pair(timeline: Timeline, state: State, event_type: Type[Event]) -> None:
    session, now = session_in(state, timeline)
    assert session.state is state
    event = event_type(at=now + 1.0)
    legal = (state, event_type) in TRANSITIONS
    assert session.can(event_type) is legal
    if legal:
        session.handle(event)
        assert session.state is NEXT_STATE[(state, event_type)]
    else:
        with pytest.raises(IllegalTransition) as raised:
            session.handle(event)
        assert (raised.value.state, raised.value.event) == (state, event)
        assert event_type.__name__ in str(raised.value) and state.value in str(raised.value)
        assert session.state is state


# --------------------------------------------------------------------------- whole runs

tick_times = st.lists(st.integers(0, 300 * 8).map(lambda eighths: eighths / 8), max_size=60).map(sorted)
lateness = st.integers(0, 40).map(lambda eighths: eighths / 8)


@settings(max_examples=100, deadline=None)
@given(tick_times, lateness)
def test_a_whole_run_hands_out_every_cue_once_and_completes(
        timeline: Timeline, elapsed_times: List[float], late_s: float) -> None:
    total = timeline.total_s
    session, handed_out = started(timeline)
    for elapsed in elapsed_times + [total + late_s]:
        handed_out.extend(session.handle(Tick(at=at(elapsed))))
        expected = State.DONE if elapsed >= total else (
            State.LEAD_IN if elapsed < timeline.first_work_start(0) else State.ACTIVE)
        assert session.state is expected
    assert handed_out == list(timeline.cues)
    assert session.handle(Tick(at=at(total + late_s + 10.0))) == ()
    summary = session.summary(at(total + 60.0))
    assert summary.completed is True and summary.reached_end is True
    assert summary.work_s == summary.planned_work_s == timeline.work_s == 210.0
    assert summary.routine_id == "daily-reset"
    assert summary.planned_s == total
    assert summary.active_s == total
    assert summary.steps_done == len(timeline.routine.steps)
    assert summary.steps_skipped == 0


pauses = st.lists(st.tuples(st.integers(0, 300 * 8 - 1).map(lambda eighths: eighths / 8),
                            st.integers(1, 600 * 8).map(lambda eighths: eighths / 8),
                            st.booleans()),
                  max_size=8)


@settings(max_examples=100, deadline=None)
@given(tick_times, pauses)
def test_pauses_shift_nothing_relative_to_active_time(
        timeline: Timeline, elapsed_times: List[float], pause_list: List[Tuple[float, float, bool]]) -> None:
    """Ticks at the same active times, with and without pauses, say and show the same."""
    total = timeline.total_s
    plain, plain_cues = started(timeline)
    paused, paused_cues = started(timeline)
    pause_at = {elapsed: (length, tick_first) for elapsed, length, tick_first in pause_list}
    samples = sorted(set(elapsed_times) | set(pause_at)) + [total]
    paused_for = 0.0
    for elapsed in samples:
        plain_cues.extend(plain.handle(Tick(at=at(elapsed))))
        now = at(elapsed) + paused_for
        if elapsed in pause_at:
            length, tick_first = pause_at[elapsed]
            if tick_first:
                paused_cues.extend(paused.handle(Tick(at=now)))
            paused_cues.extend(paused.handle(Pause(at=now)))
            assert paused.state is State.PAUSED
            frozen = paused.position(now)
            for waited in (length / 3, length / 2, length, length * 7):
                assert paused.position(now + waited) == frozen
                assert paused.handle(Tick(at=now + waited)) == ()
            assert paused.state is State.PAUSED
            paused_cues.extend(paused.handle(Resume(at=now + length)))
            paused_for += length
        else:
            paused_cues.extend(paused.handle(Tick(at=now)))
        assert paused.state is plain.state
        assert paused.position(at(elapsed) + paused_for) == plain.position(at(elapsed))
        assert paused_cues == plain_cues
    assert paused.state is State.DONE
    assert paused_cues == list(timeline.cues)
    assert paused.summary(at(total) + paused_for).active_s == plain.summary(at(total)).active_s == total


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 320 * 8).map(lambda eighths: eighths / 8), min_size=1, max_size=40))
def test_ticks_out_of_order_never_hand_a_cue_out_twice(
        timeline: Timeline, elapsed_times: List[float]) -> None:
    session, handed_out = started(timeline)
    furthest = 0.0
    for elapsed in elapsed_times:
        if session.state is State.DONE:
            break
        handed_out.extend(session.handle(Tick(at=at(elapsed))))
        furthest = max(furthest, elapsed)
        assert handed_out == list(timeline.cues_between(None, furthest))


def test_a_repeated_or_earlier_tick_hands_out_nothing(timeline: Timeline) -> None:
    session, handed_out = started(timeline)
    first = session.handle(Tick(at=at(25.0)))
    assert [c.text for c in first] == ["Begin.", "Halfway. Press a little where it feels tight."]
    assert session.handle(Tick(at=at(25.0))) == ()
    assert session.handle(Tick(at=at(15.0))) == ()
    assert session.handle(Tick(at=at(25.0))) == ()
    assert [c.text for c in session.handle(Tick(at=at(32.5)))] == ["3"]
    assert session.state is State.ACTIVE


# --------------------------------------------------------------------------- skip and back

def test_skip_from_the_lead_in_or_a_rest_goes_to_that_steps_first_work(timeline: Timeline) -> None:
    session, _ = started(timeline)
    cues = session.handle(Skip(at=at(3.0)))
    assert session.position(at(3.0)).elapsed_s == timeline.first_work_start(0) == 10.0
    assert [c.text for c in cues] == ["Begin."]
    assert session.state is State.ACTIVE

    session, _ = started(timeline)
    session.handle(Tick(at=at(70.0)))
    assert session.position(at(70.0)).segment.kind == "rest"  # type: ignore[union-attr]
    cues = session.handle(Skip(at=at(71.0)))
    assert session.position(at(71.0)).elapsed_s == timeline.first_work_start(1) == 80.0
    assert [c.text for c in cues] == ["Begin."]
    assert session.position(at(75.0)).elapsed_s == 84.0
    handed_out = list(cues)
    run_to_end(session, at(75.0), handed_out)
    assert handed_out == [c for c in timeline.cues if c.at_s >= 80.0]
    summary = session.summary(at(400.0))
    assert (summary.completed, summary.steps_done, summary.steps_skipped) == (True, 5, 0)


@pytest.mark.parametrize("elapsed", [20.0, 37.0, 50.0], ids=["work", "switch", "second-side"])
def test_skip_in_an_exercise_goes_to_the_next_step_and_announces_it(
        timeline: Timeline, elapsed: float) -> None:
    session, handed_out = started(timeline)
    handed_out.extend(session.handle(Tick(at=at(elapsed))))
    handed_out.extend(session.handle(Skip(at=at(elapsed + 1.0))))
    handed_out.extend(session.handle(Tick(at=at(elapsed + 1.0))))
    assert session.position(at(elapsed + 1.0)).elapsed_s == timeline.step_starts[1] == 65.0
    assert handed_out.count(announcement(timeline, 1)) == 1
    run_to_end(session, at(elapsed + 1.0), handed_out)
    assert handed_out == [c for c in timeline.cues if c.at_s <= elapsed or c.at_s >= 65.0]
    summary = session.summary(at(1000.0))
    assert (summary.completed, summary.steps_done, summary.steps_skipped) == (True, 4, 1)
    assert summary.active_s == 300.0 - (65.0 - (elapsed + 1.0))


def test_skip_on_the_last_step_finishes_the_session(timeline: Timeline) -> None:
    session, _ = started(timeline)
    session.handle(Tick(at=at(290.0)))
    cues = session.handle(Skip(at=at(291.0)))
    assert session.state is State.DONE
    assert [c.kind for c in cues] == ["done"]
    assert session.handle(Tick(at=at(295.0))) == ()
    summary = session.summary(at(400.0))
    assert (summary.completed, summary.steps_done, summary.steps_skipped) == (True, 4, 1)
    assert summary.active_s == 291.0
    assert summary.planned_s == timeline.total_s


def test_skip_on_the_last_step_while_paused_finishes_and_leaves_the_pause_out(timeline: Timeline) -> None:
    session, _ = started(timeline)
    session.handle(Tick(at=at(290.0)))
    session.handle(Pause(at=at(290.0)))
    cues = session.handle(Skip(at=at(350.0)))
    assert session.state is State.DONE
    assert [c.kind for c in cues] == ["done"]
    summary = session.summary(at(400.0))
    assert (summary.completed, summary.active_s, summary.steps_skipped) == (True, 290.0, 1)


@pytest.mark.parametrize("last_tick, back_at, target, step, state", [
    (66.0, 65.0 + BACK_GRACE_S - 0.5, 0.0, 0, State.LEAD_IN),   # just into step 2: back to step 1
    (100.0, 65.0 + BACK_GRACE_S, 65.0, 1, State.ACTIVE),         # later: back to step 2's start
    (1.0, 2.0, 0.0, 0, State.LEAD_IN),                            # nothing before the first step
], ids=["grace", "after-grace", "first-step"])
def test_back_goes_to_this_step_or_just_after_its_start_the_one_before(
        timeline: Timeline, last_tick: float, back_at: float, target: float, step: int,
        state: State) -> None:
    session, _ = started(timeline)
    session.handle(Tick(at=at(last_tick)))
    cues = session.handle(Back(at=at(back_at)))
    assert session.position(at(back_at)).elapsed_s == target == timeline.step_starts[step]
    assert cues == (announcement(timeline, step),)
    assert session.state is state


def test_back_unskips_the_step_it_returns_to(timeline: Timeline) -> None:
    session, handed_out = started(timeline)
    handed_out.extend(session.handle(Tick(at=at(20.0))))
    handed_out.extend(session.handle(Skip(at=at(21.0))))
    assert session.summary(at(21.0)).steps_skipped == 1
    replayed = session.handle(Back(at=at(22.0)))
    assert session.position(at(22.0)).elapsed_s == 0.0
    assert replayed == (announcement(timeline, 0),)
    handed_out = list(replayed)
    end = run_to_end(session, at(22.0), handed_out)
    assert handed_out == list(timeline.cues)
    summary = session.summary(end)
    assert (summary.completed, summary.steps_done, summary.steps_skipped) == (True, 5, 0)
    assert summary.active_s == 22.0 + 300.0


@pytest.mark.parametrize("move, paused_at", [(Skip, 20.0), (Back, 100.0)], ids=["skip", "back"])
def test_moving_while_paused_stays_paused_and_announces_on_resume(
        timeline: Timeline, move: Type[Event], paused_at: float) -> None:
    session, _ = started(timeline)
    session.handle(Tick(at=at(paused_at)))
    session.handle(Pause(at=at(paused_at)))
    assert session.handle(move(at=at(paused_at + 10.0))) == ()
    assert session.state is State.PAUSED
    assert session.position(at(paused_at + 10.0)) == session.position(at(paused_at + 500.0))
    assert session.position(at(paused_at + 500.0)).elapsed_s == 65.0
    assert session.handle(Resume(at=at(paused_at + 500.0))) == (announcement(timeline, 1),)
    assert session.position(at(paused_at + 501.0)).elapsed_s == 66.0


# --------------------------------------------------------------------------- stop

@pytest.mark.parametrize("state", [State.LEAD_IN, State.ACTIVE, State.PAUSED], ids=lambda s: s.value)
def test_stop_ends_the_session_unfinished(timeline: Timeline, state: State) -> None:
    session, now = session_in(state, timeline)
    session.handle(Stop(at=now + 30.0))
    assert session.state is State.STOPPED
    summary = session.summary(now + 1000.0)
    assert summary.completed is False
    running_before = now - START
    expected_active = running_before if state is State.PAUSED else running_before + 30.0
    assert summary.active_s == expected_active
    assert summary.steps_skipped == 0
    assert session.handle(Tick(at=now + 40.0)) == ()
    with pytest.raises(IllegalTransition):
        session.handle(Resume(at=now + 50.0))


def test_stop_counts_active_time_without_any_of_the_pauses(timeline: Timeline) -> None:
    session, _ = started(timeline)
    session.handle(Tick(at=at(20.0)))
    session.handle(Pause(at=at(30.0)))
    session.handle(Resume(at=at(90.0)))   # 60 s paused
    session.handle(Tick(at=at(140.0)))
    session.handle(Pause(at=at(150.0)))
    session.handle(Stop(at=at(200.0)))    # paused again when stopped
    summary = session.summary(at(999.0))
    assert summary.active_s == 150.0 - 60.0
    assert summary.steps_done == 1      # only the first exercise (ends at 65 s) was finished
    assert summary.completed is False


def test_a_tiny_routine_runs_from_start_to_done() -> None:
    step = make_step(make_exercise(duration_s=4.0, sides="both", switch_s=0.0))
    timeline = build_timeline(make_routine([step], lead_in_s=0.0))
    session = Session(timeline)
    handed_out = list(session.handle(Start(at=0.0)))
    assert session.state is State.ACTIVE  # no lead-in: straight into the work
    run_to_end(session, 0.0, handed_out)
    assert handed_out == list(timeline.cues)
    assert session.summary(100.0).active_s == timeline.total_s == 8.0


# --------------------------------------------------------------------------- completed or not

def skip_through(session: Session, now: float, spend_s: float) -> float:
    """Spend `spend_s` in each segment the session lands in, then Skip, until it is done."""
    while session.state is not State.DONE:
        now += spend_s
        session.handle(Tick(at=now))
        session.handle(Skip(at=now))
    return now


def test_a_session_with_every_exercise_skipped_reaches_the_end_but_is_not_completed(
        timeline: Timeline) -> None:
    """Issue 12: 0 of 5 done, every exercise skipped a few seconds in, was a 'Well done'."""
    session, _ = started(timeline)
    end = skip_through(session, START, spend_s=3.0)
    summary = session.summary(end + 60.0)
    assert summary.reached_end is True
    assert summary.completed is False
    assert (summary.steps_done, summary.steps_skipped) == (0, 5)
    # 3 s before each Skip: in the lead-in or a rest (no exercise time), then 3 s into the exercise.
    assert summary.work_s == 5 * 3.0
    assert summary.active_s == 10 * 3.0
    assert summary.planned_work_s == timeline.work_s == 210.0


def test_a_session_done_in_full_is_completed_with_all_its_exercise_time(timeline: Timeline) -> None:
    session, _ = started(timeline)
    end = run_to_end(session, START, [])
    summary = session.summary(end)
    assert (summary.completed, summary.reached_end) == (True, True)
    assert summary.work_s == summary.planned_work_s == 210.0


def two_step_timeline(lead_in_s: float, work_s: float, rest_s: float) -> Timeline:
    steps = [make_step(make_exercise(name, duration_s=work_s)) for name in ("first", "second")]
    return build_timeline(make_routine(steps, lead_in_s=lead_in_s, rest_between_s=rest_s))


@pytest.mark.parametrize("lead_in_s, work_s, rest_s", [(10.0, 30.0, 15.0), (0.1, 12.1, 1.3)],
                         ids=["round", "float-rounding"])
@pytest.mark.parametrize("skip_first_early_s, completed", [(0.0, True), (1.0, False)],
                         ids=["exactly-half", "a-second-short"])
def test_exactly_half_of_the_exercise_time_done_is_completed(
        lead_in_s: float, work_s: float, rest_s: float, skip_first_early_s: float, completed: bool) -> None:
    """With 0.1 s of lead-in, the routine's exercise time adds up to a hair over 24.2 s, so
    12.1 s done must still count as half."""
    timeline = two_step_timeline(lead_in_s, work_s, rest_s)
    assert timeline.work_s == pytest.approx(2 * work_s)
    session = Session(timeline)
    session.handle(Start(at=0.0))
    first_work_end = lead_in_s + work_s
    if skip_first_early_s:
        now = first_work_end - skip_first_early_s
        session.handle(Skip(at=now))   # the first exercise's last second skipped: to the next rest
    else:
        now = first_work_end + rest_s / 2
        session.handle(Tick(at=now))   # the first exercise done, into the second step's rest
    session.handle(Skip(at=now))   # out of the rest into the second exercise
    session.handle(Skip(at=now))   # and the second exercise skipped at once: the end
    summary = session.summary(now)
    assert summary.reached_end is True
    assert summary.work_s == pytest.approx(work_s - skip_first_early_s)
    assert summary.completed is completed
    assert summary.steps_done == (0 if skip_first_early_s else 1)


def test_the_rule_is_reached_the_end_and_at_least_the_share() -> None:
    assert COMPLETED_SHARE == 0.5
    assert counts_as_completed(True, 105.0, 210.0) is True
    assert counts_as_completed(True, 104.9, 210.0) is False
    assert counts_as_completed(True, 210.0, 210.0) is True
    assert counts_as_completed(False, 210.0, 210.0) is False  # stopped: never completed


def test_pauses_do_not_count_as_exercise_time(timeline: Timeline) -> None:
    session, _ = started(timeline)
    session.handle(Tick(at=at(20.0)))                 # 10 s into the first exercise
    session.handle(Pause(at=at(20.0)))
    assert session.work_done_s(at(20.0)) == 10.0
    assert session.work_done_s(at(20.0 + 600.0)) == 10.0  # ten minutes paused: still 10 s
    session.handle(Resume(at=at(620.0)))
    session.handle(Skip(at=at(620.0)))               # the rest of the exercise skipped
    end = skip_through(session, at(620.0), spend_s=0.0)
    summary = session.summary(end)
    assert summary.work_s == 10.0
    assert summary.active_s == 20.0
    assert (summary.reached_end, summary.completed) == (True, False)


def test_pauses_in_a_full_session_change_nothing(timeline: Timeline) -> None:
    session, _ = started(timeline)
    session.handle(Pause(at=at(30.0)))
    session.handle(Resume(at=at(330.0)))
    end = run_to_end(session, at(330.0), [])
    summary = session.summary(end)
    assert summary.work_s == 210.0 and summary.active_s == 300.0 and summary.completed is True


def test_exercise_time_before_a_skip_counts_and_the_part_skipped_does_not(timeline: Timeline) -> None:
    session, _ = started(timeline)
    session.handle(Skip(at=at(30.0)))   # 20 s into the first exercise's first side: to step 2
    assert session.work_done_s(at(30.0)) == 20.0
    assert session.work_done_s(at(40.0)) == 20.0 + 0.0   # step 2's rest (65-80 s): no exercise time
    assert session.work_done_s(at(70.0)) == 20.0 + 25.0  # 25 s into step 2's exercise (80-110 s)


def test_an_exercise_done_again_after_back_counts_once(timeline: Timeline) -> None:
    session, _ = started(timeline)
    session.handle(Tick(at=at(100.0)))           # the first exercise done, 20 s into the second
    assert session.work_done_s(at(100.0)) == 50.0 + 20.0
    session.handle(Back(at=at(100.0)))           # back to the second step's start (65 s)
    assert session.work_done_s(at(120.0)) == 50.0 + 20.0  # its first 20 s again: counted once
    assert session.work_done_s(at(145.0)) == 50.0 + 30.0  # and on to its end
    end = run_to_end(session, at(145.0), [])
    summary = session.summary(end)
    assert summary.work_s == timeline.work_s == 210.0
    assert summary.active_s == 300.0 + 35.0
    assert summary.completed is True


def test_a_stopped_session_reports_its_exercise_time_and_is_not_completed(timeline: Timeline) -> None:
    session, _ = started(timeline)
    session.handle(Tick(at=at(250.0)))
    session.handle(Stop(at=at(250.0)))
    summary = session.summary(at(999.0))
    assert summary.work_s == (25.0 + 25.0) + 30.0 + (24.0 + 24.0) + (25.0 + 25.0)  # steps 1-4
    assert (summary.reached_end, summary.completed) == (False, False)


moves = st.lists(st.tuples(st.sampled_from([Tick, Pause, Resume, Skip, Back]),
                           st.integers(0, 40 * 8).map(lambda eighths: eighths / 8)),
                 max_size=40)


@settings(max_examples=200, deadline=None)
@given(moves)
def test_exercise_time_never_shrinks_never_exceeds_the_routines_and_decides_completed(
        timeline: Timeline, events: List[Tuple[Type[Event], float]]) -> None:
    session, _ = started(timeline)
    now, last_work = START, 0.0
    for event_type, wait in events:
        now += wait
        if session.can(event_type):
            session.handle(event_type(at=now))
        work = session.work_done_s(now)
        assert last_work <= work <= timeline.work_s
        assert work <= session.active_s(now)
        last_work = work
    if session.state is State.PAUSED:
        session.handle(Resume(at=now))
    end = run_to_end(session, now, [])
    summary = session.summary(end)
    assert summary.reached_end is True
    assert summary.completed is (summary.work_s >= timeline.work_s / 2)
