"""Runs one session: samples the clock, hands due cues to the speaker, makes the log record.

Shared by the touchscreen app and `kiosk play`. It owns no thread and no timer: the
caller decides when to sample (Kivy's Clock, or a loop in the terminal), and the
position always comes from the one monotonic clock it was given.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import replace
from typing import Callable, Optional, Tuple

from kiosk.core.clockcheck import checked
from kiosk.core.model import Cue, SessionRecord
from kiosk.core.session import Back, Pause, Resume, Session, Skip, Start, State, Stop, Tick
from kiosk.core.speaker import Speaker
from kiosk.core.timeline import Position, Timeline

CHECKPOINT_EVERY_S = 5.0
"""Active seconds between checkpoints (besides every segment boundary): a power cut loses
less than this, with room to spare under the promised 15 s while the disk is slow."""

CAPTIONLESS = ("count", "rep", "start")
"""Cues the screen already shows (the countdown) and so does not caption."""

MonotonicClock = Callable[[], float]
WallClock = Callable[[], dt.datetime]


class SessionRunner:
    def __init__(self, timeline: Timeline, *, clock: MonotonicClock, speaker: Speaker,
                 wall: WallClock, boot_id: str, source: str = "kiosk",
                 newest_start: Optional[dt.datetime] = None) -> None:
        """`clock` should be the system's monotonic clock (or a test's stand-in for it): the
        record keeps its start so a session saved under a wrong wall clock can be dated
        again, given `boot_id`, the boot that clock belongs to (`clockcheck.read_boot_id()`,
        "" if unknown). `wall` gives the local time, aware. `newest_start` is the
        newest trusted start in the log (`clockcheck.newest_trusted_start`), so the record
        is flagged here already if the wall clock is behind it, as the log would flag it."""
        self.timeline = timeline
        self.session = Session(timeline)
        self.clock = clock
        self.speaker = speaker
        self.wall = wall
        self.source = source
        self.boot_id = boot_id
        self.newest_start = newest_start
        self.caption_cue: Optional[Cue] = None
        """The last phrase handed out (not a count): what the voice is saying, for the screen."""
        self._started_wall: Optional[dt.datetime] = None
        self._record: Optional[SessionRecord] = None
        self.record_id = uuid.uuid4().hex
        """The session's id in the log, the same in every checkpoint and in the final record."""
        self._checkpointed: Optional[Tuple[int, float]] = None

    @property
    def state(self) -> State:
        return self.session.state

    @property
    def finished(self) -> bool:
        return self.session.state in (State.DONE, State.STOPPED)

    def position(self) -> Position:
        return self.session.position(self.clock())

    def start(self) -> Tuple[Cue, ...]:
        self._started_wall = self.wall()
        return self._deliver(self.session.handle(Start(self.clock())))

    def tick(self) -> Tuple[Cue, ...]:
        return self._deliver(self.session.handle(Tick(self.clock())))

    def pause(self) -> None:
        self._deliver(self.session.handle(Pause(self.clock())))
        self.speaker.stop()

    def resume(self) -> None:
        self._deliver(self.session.handle(Resume(self.clock())))

    def toggle_pause(self) -> None:
        if self.session.state is State.PAUSED:
            self.resume()
        elif self.session.can(Pause):
            self.pause()

    def skip(self) -> None:
        self.speaker.stop()
        self._deliver(self.session.handle(Skip(self.clock())))

    def back(self) -> None:
        self.speaker.stop()
        self._deliver(self.session.handle(Back(self.clock())))

    def stop(self) -> None:
        if self.session.can(Stop):
            self.session.handle(Stop(self.clock()))
            self.speaker.stop()

    def _deliver(self, cues: Tuple[Cue, ...]) -> Tuple[Cue, ...]:
        """Give the speaker each cue with the monotonic time it fell due."""
        now = self.clock()
        elapsed = self.session.elapsed_s(now)
        if self.session.state is State.DONE and self.session.ended_at is not None:
            now = self.session.ended_at  # the moment the timeline ran out, not the late sample
        for cue in cues:
            self.speaker.say(cue, now - max(0.0, elapsed - cue.at_s))
            if cue.kind not in CAPTIONLESS:
                self.caption_cue = cue
        return cues

    def checkpoint(self) -> Optional[SessionRecord]:
        """The record to checkpoint now, or None if the last one is recent enough.

        Due at the start, at each segment boundary and every CHECKPOINT_EVERY_S of active
        time: the record is the session as if the power were cut now (not completed,
        marked interrupted, with the active time so far).
        """
        if self.session.started_at is None or self.finished:
            return None
        now = self.clock()
        segment = self.session.position(now).segment
        segment_index = segment.index if segment is not None else -1
        active = self.session.active_s(now)
        if self._checkpointed is not None:
            last_index, last_active = self._checkpointed
            if segment_index == last_index and active - last_active < CHECKPOINT_EVERY_S:
                return None
        self._checkpointed = (segment_index, active)
        return replace(self._make_record(now), interrupted=True)

    def record(self) -> SessionRecord:
        """The log record of the session, once it has ended. The same record every call.

        It is completed when the session reached the end with enough of its exercise time
        done (`session.counts_as_completed`); a stopped session never is.

        The end time is the start plus the monotonic time that passed, so a wall
        clock that jumps during a session cannot change how long it lasted. A start
        the wall clock cannot have been right about is flagged unverified (the log checks
        again, against its newest session, when the record is appended).
        """
        if not self.finished:
            raise RuntimeError("the session has not ended")
        if self._record is None:
            self._record = self._make_record(self.clock())
        return self._record

    def _make_record(self, now: float) -> SessionRecord:
        summary = self.session.summary(now)
        assert self.session.started_at is not None
        ended_at = self.session.ended_at if self.session.ended_at is not None else now
        started = self._started_wall or self.wall()
        ended = started + dt.timedelta(seconds=ended_at - self.session.started_at)
        record = SessionRecord.create(
            routine=summary.routine_id, started=started, ended=ended,
            planned_s=summary.planned_s, active_s=summary.active_s, completed=summary.completed,
            steps_done=summary.steps_done, steps_skipped=summary.steps_skipped, source=self.source,
        )
        record = replace(record, id=self.record_id, clock_monotonic_s=round(self.session.started_at, 6),
                         clock_boot_id=self.boot_id)
        return checked(record, self.newest_start)
