"""The session state machine: one table of legal transitions, events in, cues out.

Time is only ever read from the events (`at`, seconds on one monotonic clock), so a
test can play a ten-minute session in a loop and the UI only has to sample.
Position = now - started - paused time + skip offset; nothing is accumulated.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Callable, Dict, FrozenSet, List, Optional, Set, Tuple, Type

from kiosk.core.model import Cue
from kiosk.core.timeline import Position, Timeline

BACK_GRACE_S = 3.0
"""Back within this many seconds of a step's start goes to the step before it."""

COMPLETED_SHARE = 0.5
"""A session counts as completed when it reached the end of its routine and at least this
share of the routine's exercise time (its work segments) was done: see `Session.work_done_s`.
The screen, `kiosk play` and README say "half" in words: change them with it."""

_ROUNDING_S = 1e-6
"""Float slack when comparing seconds, so exactly half is half however the sum was rounded."""


def counts_as_completed(reached_end: bool, work_done_s: float, planned_work_s: float) -> bool:
    """The completion rule: reached the end, with at least COMPLETED_SHARE of the exercise time done."""
    return reached_end and work_done_s >= COMPLETED_SHARE * planned_work_s - _ROUNDING_S


class State(enum.Enum):
    IDLE = "idle"
    LEAD_IN = "lead_in"
    ACTIVE = "active"
    PAUSED = "paused"
    DONE = "done"
    STOPPED = "stopped"


@dataclass(frozen=True)
class Event:
    at: float
    """Monotonic seconds when it happened."""


@dataclass(frozen=True)
class Start(Event):
    pass


@dataclass(frozen=True)
class Tick(Event):
    """A sample of the clock: moves lead-in -> active -> done and hands out due cues."""


@dataclass(frozen=True)
class Pause(Event):
    pass


@dataclass(frozen=True)
class Resume(Event):
    pass


@dataclass(frozen=True)
class Skip(Event):
    """Forward: out of a rest into its exercise, or out of an exercise to the next one."""


@dataclass(frozen=True)
class Back(Event):
    """To the start of this step, or of the previous one when just begun."""


@dataclass(frozen=True)
class Stop(Event):
    pass


class IllegalTransition(Exception):
    def __init__(self, state: State, event: Event) -> None:
        super().__init__(f"{type(event).__name__} is not allowed while the session is {state.value}")
        self.state = state
        self.event = event


RUNNING = (State.LEAD_IN, State.ACTIVE)
MOVABLE = (State.LEAD_IN, State.ACTIVE, State.PAUSED)

Handler = Callable[["Session", Event], Tuple[Cue, ...]]


@dataclass(frozen=True)
class Summary:
    """What the log needs to know about a session that has ended (or is ending)."""

    routine_id: str
    completed: bool
    """Reached the end with enough exercise time done (`counts_as_completed`)."""
    planned_s: float
    active_s: float
    steps_done: int
    steps_skipped: int
    reached_end: bool
    """Ran to the end of the routine (not stopped), whether or not enough of it was done."""
    work_s: float
    """Seconds of exercise time done (`Session.work_done_s`)."""
    planned_work_s: float
    """The routine's exercise time: all its work segments."""


class Session:
    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self.state = State.IDLE
        self.started_at: Optional[float] = None
        self.ended_at: Optional[float] = None
        self._paused_total = 0.0
        self._paused_since: Optional[float] = None
        self._offset = 0.0
        self._last_sample: Optional[float] = None
        self._include_sample_start = False
        self._skipped: Set[int] = set()
        self._furthest = 0.0
        self._runs: List[Tuple[float, float]] = []
        """Stretches of the timeline (from, to) the position ran through, ended by a skip or back."""
        self._run_from = 0.0
        """Where the position's current run began: 0, or where the last skip or back put it."""

    # ----------------------------------------------------------------- reading

    def active_s(self, now: float) -> float:
        """Real seconds spent in the session, pauses excluded; skips do not change it."""
        if self.started_at is None:
            return 0.0
        end = self.ended_at if self.ended_at is not None else now
        paused = self._paused_total + ((end - self._paused_since) if self._paused_since is not None else 0.0)
        return max(0.0, end - self.started_at - paused)

    def elapsed_s(self, now: float) -> float:
        """Seconds into the timeline: active time moved by skips and backs."""
        if self.started_at is None:
            return 0.0
        return min(self.timeline.total_s, max(0.0, self.active_s(now) + self._offset))

    def position(self, now: float) -> Position:
        return self.timeline.position_at(self.elapsed_s(now))

    def work_done_s(self, now: float) -> float:
        """Seconds of exercise time done: the part of the routine's work segments that the
        session's position ran through, computed from the position, never from frame times.

        The position moves only while the session runs, so a pause adds nothing, and the
        lead-in, rests, set rests and side switches are not exercise time. Each skip or back
        ends one run of the position and starts another where it lands. Time spent in an
        exercise before skipping it counts; a skipped remainder does not. The runs are
        merged before measuring, so each second of the routine's exercise time counts at
        most once: an exercise gone back to and done again counts once, and the total never
        exceeds `Timeline.work_s`.
        """
        if self.started_at is None:
            return 0.0
        return self.timeline.work_within(self._runs + [(self._run_from, self.elapsed_s(now))])

    def summary(self, now: float) -> Summary:
        steps = len(self.timeline.routine.steps)
        done = sum(1 for i in range(steps)
                   if i not in self._skipped and self.timeline.last_work_end(i) <= self._furthest + 1e-9)
        reached_end = self.state is State.DONE
        work, planned_work = self.work_done_s(now), self.timeline.work_s
        return Summary(
            routine_id=self.timeline.routine.id,
            completed=counts_as_completed(reached_end, work, planned_work),
            planned_s=self.timeline.total_s,
            active_s=self.active_s(now),
            steps_done=done,
            steps_skipped=len(self._skipped),
            reached_end=reached_end,
            work_s=work,
            planned_work_s=planned_work,
        )

    # ----------------------------------------------------------------- events

    def handle(self, event: Event) -> Tuple[Cue, ...]:
        """Apply one event; return the cues that fell due because of it."""
        allowed = TRANSITIONS.get((self.state, type(event)))
        if allowed is None:
            raise IllegalTransition(self.state, event)
        before = self.state
        cues = HANDLERS[type(event)](self, event)
        assert self.state in allowed, f"{before.value} + {type(event).__name__} led to {self.state.value}"
        return cues

    def can(self, event_type: Type[Event]) -> bool:
        return (self.state, event_type) in TRANSITIONS

    def _start(self, event: Event) -> Tuple[Cue, ...]:
        self.started_at = event.at
        self.state = State.LEAD_IN
        return self._tick(event)

    def _tick(self, event: Event) -> Tuple[Cue, ...]:
        if self.state not in RUNNING:
            return ()
        elapsed = self.elapsed_s(event.at)
        if self._last_sample is not None and elapsed < self._last_sample:
            return ()  # a late-delivered sample: moving back would hand its cues out again
        cues = self.timeline.cues_between(self._last_sample, elapsed, include_start=self._include_sample_start)
        self._last_sample = elapsed
        self._include_sample_start = False
        self._furthest = max(self._furthest, elapsed)
        if elapsed >= self.timeline.total_s:
            # It ended when the timeline ran out, not when a (late) sample noticed.
            overshoot = max(0.0, self.active_s(event.at) + self._offset - self.timeline.total_s)
            self.state = State.DONE
            self.ended_at = event.at - overshoot
        else:
            self.state = self._running_state(elapsed)
        return cues

    def _running_state(self, elapsed: float) -> State:
        first_work = self.timeline.first_work_start(0)
        return State.LEAD_IN if elapsed < first_work else State.ACTIVE

    def _pause(self, event: Event) -> Tuple[Cue, ...]:
        cues = self._tick(event)
        if self.state is State.DONE:
            return cues
        self._paused_since = event.at
        self.state = State.PAUSED
        return cues

    def _end_pause(self, at: float) -> None:
        if self._paused_since is not None:
            self._paused_total += at - self._paused_since
            self._paused_since = None

    def _resume(self, event: Event) -> Tuple[Cue, ...]:
        self._end_pause(event.at)
        self.state = self._running_state(self.elapsed_s(event.at))
        return self._tick(event)

    def _move_to(self, event: Event, target: float) -> Tuple[Cue, ...]:
        here = self.elapsed_s(event.at)
        self._runs.append((self._run_from, here))
        self._run_from = target
        self._offset += target - here
        self._last_sample = target
        self._include_sample_start = True
        if self.state is State.PAUSED:
            if target < self.timeline.total_s:
                return ()
            self._end_pause(event.at)  # skipping past the last step finishes the session
            self.state = State.ACTIVE
        return self._tick(event)

    def _skip(self, event: Event) -> Tuple[Cue, ...]:
        elapsed = self.elapsed_s(event.at)
        segment = self.timeline.position_at(elapsed).segment
        assert segment is not None
        step = segment.step_index
        if segment.kind in ("lead_in", "rest"):
            return self._move_to(event, self.timeline.first_work_start(step))
        self._skipped.add(step)
        starts = self.timeline.step_starts
        target = starts[step + 1] if step + 1 < len(starts) else self.timeline.total_s
        return self._move_to(event, target)

    def _back(self, event: Event) -> Tuple[Cue, ...]:
        elapsed = self.elapsed_s(event.at)
        step = self.timeline.position_at(elapsed).segment.step_index  # type: ignore[union-attr]
        starts = self.timeline.step_starts
        if elapsed - starts[step] < BACK_GRACE_S and step > 0:
            step -= 1
        self._skipped.discard(step)
        return self._move_to(event, starts[step])

    def _stop(self, event: Event) -> Tuple[Cue, ...]:
        self._end_pause(event.at)
        self.ended_at = event.at
        self.state = State.STOPPED
        return ()


L, A, P, D, S = State.LEAD_IN, State.ACTIVE, State.PAUSED, State.DONE, State.STOPPED
TRANSITIONS: Dict[Tuple[State, Type[Event]], FrozenSet[State]] = {
    # (state, event):            the states it can lead to (which one: the timeline decides)
    (State.IDLE, Start):         frozenset({L, A, D}),
    (State.IDLE, Tick):          frozenset({State.IDLE}),
    (L, Tick):                   frozenset({L, A, D}),
    (L, Pause):                  frozenset({P, D}),
    (L, Skip):                   frozenset({L, A, D}),
    (L, Back):                   frozenset({L, A}),
    (L, Stop):                   frozenset({S}),
    (A, Tick):                   frozenset({A, D}),
    (A, Pause):                  frozenset({P, D}),
    (A, Skip):                   frozenset({L, A, D}),
    (A, Back):                   frozenset({L, A}),
    (A, Stop):                   frozenset({S}),
    (P, Tick):                   frozenset({P}),
    (P, Resume):                 frozenset({L, A, D}),
    (P, Skip):                   frozenset({P, D}),
    (P, Back):                   frozenset({P}),
    (P, Stop):                   frozenset({S}),
    (D, Tick):                   frozenset({D}),
    (S, Tick):                   frozenset({S}),
}
"""(state, event) -> the states it may lead to. A pair that is not here is an illegal transition.

A handler below only does the side effects of its event and settles on one of these."""

HANDLERS: Dict[Type[Event], Handler] = {
    Start: Session._start,
    Tick: Session._tick,
    Pause: Session._pause,
    Resume: Session._resume,
    Skip: Session._skip,
    Back: Session._back,
    Stop: Session._stop,
}


def legal_events(state: State) -> List[str]:
    return sorted(event.__name__ for (from_state, event) in TRANSITIONS if from_state is state)
