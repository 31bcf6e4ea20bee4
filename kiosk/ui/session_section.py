"""The controller's session side: start, the frame, pause, skip, back, stop, the Done
screen, and the voice. A section of `KioskController`, which owns the properties these
methods set.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any, Callable, Optional

from kivy.clock import Clock

from kiosk.core.catalog import Library
from kiosk.core.clockcheck import newest_trusted_start
from kiosk.core.model import Routine, SessionRecord
from kiosk.core.runner import SessionRunner
from kiosk.core.session import State
from kiosk.core.session_view import SessionView, session_view
from kiosk.core.speaker import Speaker
from kiosk.core.streaks import StreakStats
from kiosk.core.timeline import Timeline, build_timeline
from kiosk.ui.background import BackgroundWorker
from kiosk.ui.log_keeper import LogKeeper

log = logging.getLogger("kiosk")

STOPPED_AND_SAVED = "Session stopped and saved: "
PAUSE_LIMIT_S = 600.0
"""A session paused this long with no touch (Pause, or the Stop question left unanswered)
is stopped and saved: nobody is there, and the screen may sleep again."""


class SessionSection:
    # Set by KioskController (Kivy properties and plain attributes).
    library: Library
    settings: Any
    clock: Callable[[], float]
    wall: Callable[[], dt.datetime]
    worker: BackgroundWorker
    log_keeper: LogKeeper
    speaker: Speaker
    runner: Optional[SessionRunner]
    timeline: Optional[Timeline]
    last_record: Optional[SessionRecord]
    screen: str
    stats: Any
    in_session: bool
    paused: bool
    view: SessionView
    confirm_stop: bool
    done_title: str
    streak_change_text: str
    pain: float
    voice_notice: str
    _speaker_factory: Callable[[Any], Speaker]
    _boot_id: str
    _stats_before: Optional[StreakStats]
    _frame_event: Any
    _guard_until: float
    _last_touch: float
    night: str
    safety_text: str
    safety_checked: bool
    _paused_to_ask: bool = False

    if TYPE_CHECKING:  # provided by KioskController or the other section
        def add_notice(self, text: str) -> None: ...
        def clear_notices(self) -> None: ...
        def go(self, screen: str) -> None: ...
        def default_routine(self) -> Optional[Routine]: ...
        def _reminders_passed_over(self) -> None: ...
        def _drop_reminder_speaker(self) -> None: ...
        def _start_when_voice_ready(self, routine: Routine, timeline: Timeline, *, wait: bool = True) -> bool: ...
        def cancel_start(self) -> None: ...
        def _replace_speaker(self, prepare_home: bool = True) -> None: ...
        def _prepare_voice(self, timeline: Timeline) -> None: ...
        def _update_voice_notice(self) -> None: ...

        @property
        def starting(self) -> bool: ...

    # ------------------------------------------------------------------ the session

    def start(self, routine_id: Optional[str] = None) -> bool:
        """Start a session (the one-tap routine by default). False if one is already running."""
        if self.in_session or self.worker.closed:
            return False
        if self.starting:
            return False  # tapped again while it waits for the voice
        routine = self.library.routines.get(routine_id) if routine_id else self.default_routine()
        if routine is None:
            self.add_notice("That routine is not in the library any more.")
            return False
        if self.speaker.status == "fallback":
            self._replace_speaker(prepare_home=False)  # every session gives the voice another chance
        # Only Home's Start button can show a wait: from the list, or from Home Assistant while
        # another screen is up, the session starts at once.
        return self._start_when_voice_ready(routine, build_timeline(routine),
                                            wait=routine_id is None and self.screen == "home")

    def _begin(self, routine: Routine, timeline: Timeline) -> bool:
        """The session starts: from the tap, or once the voice is ready (see the voice section)."""
        if self.in_session or self.worker.closed:
            return False
        self._stats_before = self.stats
        self.clear_notices()
        self.timeline = timeline
        self.speaker.stop()
        self.runner = SessionRunner(self.timeline, clock=self.clock, speaker=self.speaker, wall=self.wall,
                                    boot_id=self._boot_id, newest_start=newest_trusted_start(self.log_keeper.records))
        self._prepare_voice(self.timeline)
        self._reminders_passed_over()  # a session answers today's reminders
        self.in_session = True
        self.pain = -1
        self.last_record = None
        self.go("session")
        self.runner.start()
        self._on_frame()
        self._frame_event = Clock.schedule_interval(self._on_frame, 0)
        self._set_screen_awake(True)
        return True

    # ------------------------------------------------------------------ from Home Assistant

    def start_from_afar(self) -> bool:
        """Start pressed in Home Assistant: what a tap on Start does, behind the same guards
        (never a second session; not in the moments after a session starts or ends)."""
        if self.why_not_start():
            return False
        self.night = ""
        self._last_touch = self.clock()  # a press from afar is somebody there, as a tap is
        return self.start()

    def why_not_start(self) -> str:
        """Why a Start from afar would be ignored now; empty when it would start."""
        if self.in_session:
            return "a session is running"
        if self.starting:
            return "a session is starting (the voice is being prepared)"
        if self.clock() < self._guard_until:
            return "the screen has just changed (a session started or ended, or the screen woke)"
        if self.screen == "done":
            return "the Done screen is up: its pain rating would be lost"
        if self.safety_text or not self.safety_checked:
            return "the safety note has not been read at the screen yet"
        if self.default_routine() is None:
            return "there is no routine to start"
        return ""

    def pause_from_afar(self) -> None:
        """Pause or resume pressed in Home Assistant; with the Stop question open, it resumes."""
        if not self.in_session:
            return
        self._last_touch = self.clock()  # the 10-minute pause limit counts from here, as from a tap
        if self.confirm_stop:
            self.cancel_stop()
        else:
            self.toggle_pause()

    def stop_from_afar(self) -> None:
        """Stop pressed in Home Assistant: stopped and saved, as Stop and its confirm on the screen."""
        if self.in_session:
            self.confirm_stop = False
            self.stop()
        else:
            self.cancel_start()  # a Start still waiting for the voice

    def _on_frame(self, _dt: float = 0.0) -> None:
        """Sample the clock once per frame: the screen follows the timeline, never the frame rate."""
        runner, timeline = self.runner, self.timeline
        if runner is None or timeline is None:
            return
        if not runner.finished:
            runner.tick()
            checkpoint = runner.checkpoint()
            if checkpoint is not None:
                self.log_keeper.checkpoint(checkpoint)
        self.paused = runner.state is State.PAUSED
        view = session_view(runner.position(), timeline, paused=self.paused, said=runner.caption_cue)
        if view != self.view:
            self.view = view
        self._update_voice_notice()
        if runner.finished:
            self._session_ended()

    def toggle_pause(self) -> None:
        self._act(lambda runner: runner.toggle_pause())

    def skip(self) -> None:
        self._act(lambda runner: runner.skip())

    def back(self) -> None:
        self._act(lambda runner: runner.back())

    def _act(self, action: Callable[[SessionRunner], None]) -> None:
        if self.runner is not None and not self.runner.finished:
            action(self.runner)
            self._on_frame()

    def ask_stop(self) -> None:
        """The first step of stopping: the screen asks before the session ends, and the
        session waits (paused) for the answer."""
        if not self.in_session or self.confirm_stop or self.runner is None or self.runner.finished:
            return
        self._paused_to_ask = self.runner.state is not State.PAUSED
        if self._paused_to_ask:
            self._act(lambda runner: runner.toggle_pause())
        self.confirm_stop = True

    def _end_long_pause(self, idle_s: float) -> None:
        if self.in_session and self.paused and idle_s >= PAUSE_LIMIT_S:
            self.stop()

    def cancel_stop(self) -> None:
        """Keep going: the session carries on where the question paused it."""
        if not self.confirm_stop:
            return
        self.confirm_stop = False
        if self._paused_to_ask and self.runner is not None and self.runner.state is State.PAUSED:
            self._act(lambda runner: runner.toggle_pause())
        self._paused_to_ask = False

    def stop(self) -> None:
        """Stop for real (after the confirmation or a long press): saved as not completed."""
        if self.runner is None or self.runner.finished:
            return
        self.runner.stop()
        self._session_ended()

    def _session_ended(self) -> None:
        runner = self.runner
        if runner is None or not self.in_session:
            return
        self._end_session()
        record = runner.record()
        self.last_record = record
        self.log_keeper.save(record)
        if record.completed:
            self.done_title = "Well done"
            self.streak_change_text = self._streak_change()
            self.go("done")
        else:
            done, total = record.steps_done, len(runner.timeline.routine.steps)
            if runner.state is State.DONE:
                # Reached the end with too little exercise time done: no "Well done", no streak.
                # (Not "saved": if the card refuses it, the not-saved notice says so beside this.)
                self.add_notice(f"Session finished: {done} of {total} exercises done. Less than half "
                                "of the exercise time was done, so it does not count for the streak.")
            else:
                self.add_notice(f"{STOPPED_AND_SAVED}{done} of {total} exercises done.")
            self.go("home")

    def _end_session(self) -> None:
        if self._frame_event is not None:
            self._frame_event.cancel()
            self._frame_event = None
        self._reminders_passed_over()  # none plays the moment a session ends
        self.in_session = False
        self.confirm_stop = False
        self._set_screen_awake(False)

    def _streak_change(self) -> str:
        stats, before = self.stats, self._stats_before
        if stats is None:
            return ""
        streak = stats.current_daily_streak
        if before is not None and before.done_today:
            return f"Another one today. Day {streak} in a row."
        return "Day 1. A good start." if streak <= 1 else f"Day {streak} in a row."

    def recover(self, message: str) -> None:
        """After an unexpected error: save any running session, go Home, and say so."""
        runner, running = self.runner, self.in_session
        self._end_session()
        if running and runner is not None:
            if not runner.finished:
                runner.stop()
            self.log_keeper.save(runner.record())
        self.screen = "home"
        self.add_notice(message)

    def rate_pain(self, value: int) -> None:
        """Save the 0-10 rating with the session just finished."""
        if self.last_record is None or not 0 <= value <= 10:
            return
        self.pain = value
        self.last_record = self.log_keeper.rate(self.last_record, value, self.wall())

    def _set_screen_awake(self, awake: bool) -> None:
        from kivy.core.window import Window

        try:
            Window.allow_screensaver = not awake
        except Exception:  # a window without the property: nothing to keep awake
            log.debug("window cannot hold the screen awake")

