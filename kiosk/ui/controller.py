"""The kiosk's view-model: Kivy properties the screens bind to, and the actions they call.

The controller owns the session runner, the speaker and a single background worker
for disk and speech preparation. The main thread only samples the monotonic clock
and sets properties; anything that can block goes to the worker, and its result
comes back through `Clock.schedule_once`.
"""

from __future__ import annotations

import datetime as dt
import errno
import logging
import math
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, List, Optional

from kivy.clock import Clock
from kivy.event import EventDispatcher
from kivy.properties import (
    BooleanProperty, DictProperty, ListProperty, NumericProperty, ObjectProperty, StringProperty,
)

from .. import paths
from ..catalog import Library
from ..checkpoint import CheckpointWriter
from ..clockcheck import local_now, newest_trusted_start, read_boot_id, read_clock
from ..config import RULES, Settings, save_settings
from ..model import Routine, SessionRecord, clock_text
from ..night import in_night, parse_clock
from ..runner import SessionRunner
from ..session import State
from ..streaks import StreakStats, compute_stats, pain_history
from ..timeline import Timeline, build_timeline
from ..speaker import SilentSpeaker, Speaker

log = logging.getLogger("kiosk")

START_GUARD_S = 1.5
"""After a screen change, taps are ignored this long: a double tap never acts twice."""
DONE_TIMEOUT_S = 30.0
"""The Done screen goes back Home after this long without a touch."""
STOP_HOLD_S = 1.0
"""How long Stop must be held: a brush of the hand cannot end a session."""
SAVE_RETRY_S = 60.0
"""A session the SD card could not take is tried again this often (and at each screen change)."""
LOG_POLL_S = 30.0
"""How often the idle app looks at the log for sessions added over SSH."""

NOT_SAVED = {
    errno.ENOSPC: "Not saved yet: the SD card is full. It is saved as soon as there is room.",
    errno.EDQUOT: "Not saved yet: the SD card is full. It is saved as soon as there is room.",
    errno.EIO: "Not saved yet: the SD card is failing. It is saved as soon as it answers again.",
}
STOPPED_AND_SAVED = "Session stopped and saved: "
NOT_SAVED_OTHER = "Not saved yet: the SD card cannot be written. It is saved as soon as it can be."

SEGMENT_TITLES = {
    "lead_in": "Get ready",
    "work": "",
    "switch": "Switch sides",
    "set_rest": "Rest",
    "rest": "Rest",
}

SAFETY_SEEN = "safety-note-seen"

Opener = Callable[[Path], Any]


def read_safety_note(path: Path) -> str:
    """The safety note's Markdown as plain lines for a label (headings, emphasis, bullets)."""
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError:
        return ("This is not medical advice. Move gently and stop at any sharp pain. "
                "When in doubt, ask a physiotherapist.")
    paragraphs: List[str] = []
    joining = False
    for line in raw.splitlines():
        line = line.strip().lstrip("#").strip().replace("**", "").replace("*", "")
        if not line:
            joining = False
            continue
        if line.startswith("- "):
            paragraphs.append("• " + line[2:])
        elif joining:
            paragraphs[-1] += " " + line
        else:
            paragraphs.append(line)
        joining = True
    lines = paragraphs
    return "\n".join(lines).strip()


def _default_log_opener(data_dir: Path) -> Any:
    from ..store import SessionLog

    return SessionLog.open_for_reading(data_dir)


def minutes_text(seconds: float) -> str:
    minutes = max(1, int(round(seconds / 60)))
    return f"{minutes} min"


class KioskController(EventDispatcher):
    # ------------------------------------------------------------------ navigation
    screen = StringProperty("home")
    """The screen on show: home, session, done, streaks, routines or settings."""
    notice = StringProperty("")
    """A short message for the person at the display (a broken file, a recovered log)."""
    voice_notice = StringProperty("")
    """"Voice off" when the voice has fallen back to captions and beeps."""
    night = StringProperty("")
    """"dim" or "blank" while the idle kiosk is dark for the night; empty otherwise."""
    scale = NumericProperty(1.0)
    """Size unit: 1.0 on a 480-pixel short side; the kv multiplies every size by it."""

    safety_text = StringProperty("")
    """The safety note, shown over Home until it has been acknowledged once."""

    # ------------------------------------------------------------------ home
    start_title = StringProperty("Start")
    start_detail = StringProperty("")
    """Names the one-tap routine and its length."""
    today_text = StringProperty("")
    done_today = BooleanProperty(False)
    daily_streak_text = StringProperty("")
    weekly_streak_text = StringProperty("")
    clock_text = StringProperty("")
    stats = ObjectProperty(None, allownone=True, rebind=True)
    """The latest StreakStats, or None until the log has been read."""

    # ------------------------------------------------------------------ session
    in_session = BooleanProperty(False)
    paused = BooleanProperty(False)
    exercise_name = StringProperty("")
    segment_title = StringProperty("")
    countdown_text = StringProperty("")
    segment_progress = NumericProperty(0.0)
    side_text = StringProperty("")
    set_text = StringProperty("")
    step_text = StringProperty("")
    next_text = StringProperty("")
    image_source = StringProperty("")
    caption_text = StringProperty("")
    overall_progress = NumericProperty(0.0)
    elapsed_text = StringProperty("")
    confirm_stop = BooleanProperty(False)
    """True while the 'Stop the session?' question is on screen."""

    # ------------------------------------------------------------------ done
    done_title = StringProperty("Well done")
    streak_change_text = StringProperty("")
    pain = NumericProperty(-1)
    """The 0-10 rating tapped on the Done screen, -1 when none."""

    # ------------------------------------------------------------------ lists
    routines = ListProperty([])
    """One dict per routine for the Routines screen."""
    pain_points = ListProperty([])
    """(date, pain) pairs for the Streaks chart."""
    settings = ObjectProperty(Settings(), rebind=True)
    routine_choices = DictProperty({})

    def __init__(self, library: Library, settings: Settings, *, data_dir: Path,
                 config_path: Optional[Path] = None, clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], dt.datetime] = local_now,
                 speaker_factory: Optional[Callable[[Settings], Speaker]] = None,
                 log_opener: Opener = _default_log_opener, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.library = library
        self.settings = settings
        self.data_dir = data_dir
        self.config_path = config_path
        self.clock = clock
        self.wall = wall
        self._boot_id = read_boot_id()
        self._speaker_factory = speaker_factory or (lambda chosen: SilentSpeaker("off"))
        self._log_opener = log_opener
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kiosk-io")
        self._pending: List[Future] = []
        self._pending_lock = threading.Lock()
        self._log: Any = None
        self._records: List[SessionRecord] = []
        self._unsaved: List[SessionRecord] = []
        """Finished sessions the log could not take yet (a full or read-only card), oldest first."""
        self._saving = False
        self._last_save_try = -math.inf
        self._last_poll = clock()
        self._checkpoints = CheckpointWriter(data_dir)
        self.speaker: Speaker = SilentSpeaker("off")
        self.runner: Optional[SessionRunner] = None
        self.timeline: Optional[Timeline] = None
        self.last_record: Optional[SessionRecord] = None
        self._stats_before: Optional[StreakStats] = None
        self._guard_until = -math.inf
        self._last_touch = clock()
        self._frame_event: Any = None
        self._minute_event: Any = None
        self._shown_minute = ""
        self._notices: List[str] = []
        self._closed = False
        self._refresh_library_views()
        self._set_notice_from_library()

    # ================================================================== life cycle

    def start_up(self) -> None:
        """Read the log and warm the voice in the background; tick the clock once a second."""
        self._update_clock()
        self._minute_event = Clock.schedule_interval(lambda _dt: self._update_clock(), 1.0)
        self.speaker = self._speaker_factory(self.settings)
        self._update_voice_notice()
        self._background(self._open_log, self._log_opened)
        self._background(self._unread_safety_note, self._show_safety_note)
        default = self.default_routine()
        if default is not None:
            phrases = [cue.text for cue in build_timeline(default).cues]
            self._background(lambda: self.speaker.prepare(phrases), lambda _result: self._update_voice_notice())

    def shut_down(self) -> None:
        """Record a session still running, then release the worker, the voice and the log."""
        if self._closed:
            return
        if self.runner is not None and self.in_session:
            self.runner.stop()
            self._save_record(self.runner.record())
            self.in_session = False
        elif self._unsaved:
            self._flush_unsaved()
        self._closed = True
        for event in (self._frame_event, self._minute_event):
            if event is not None:
                event.cancel()
        self._worker.shutdown(wait=True)
        try:
            self.speaker.close()
        finally:
            self._checkpoints.release()
            if self._log is not None:
                self._log.close()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until background work queued so far has finished (tests and shut-down)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._pending_lock:
                pending = [f for f in self._pending if not f.done()]
                self._pending = pending
            if not pending:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            try:
                pending[0].exception(timeout=remaining)
            except FutureTimeout:
                return False

    # ================================================================== background work

    def _background(self, work: Callable[[], Any], done: Optional[Callable[[Any], None]] = None) -> None:
        """Run `work` on the worker; hand its result to `done` on the main thread."""
        if self._closed:
            return

        def run() -> None:
            # The result is handed to the Clock before the future counts as done, so
            # `wait_idle` returning means every result is already on its way to the screen.
            try:
                result = work()
            except Exception as error:
                log.error("background work failed", exc_info=error)
                Clock.schedule_once(lambda _dt: self._show_notice(
                    "Something could not be saved or read. The kiosk goes on; see the log for details."))
                return
            if done is not None:
                Clock.schedule_once(lambda _dt: done(result))

        future = self._worker.submit(run)
        with self._pending_lock:
            self._pending.append(future)

    def _unread_safety_note(self) -> str:
        if (self.data_dir / SAFETY_SEEN).exists():
            return ""
        return read_safety_note(paths.safety_note_path())

    def _show_safety_note(self, text: str) -> None:
        self.safety_text = text
        if text and self.screen == "home" and not self.in_session:
            self.screen = "safety"

    def acknowledge_safety(self) -> None:
        """Once read, never shown again on this kiosk (a marker in the data folder)."""
        from ..atomic import WRITE_ERRORS, write_atomically

        self.safety_text = ""
        self.go("home")
        marker = self.data_dir / SAFETY_SEEN

        def remember() -> None:
            try:
                marker.parent.mkdir(parents=True, exist_ok=True)
                write_atomically(marker, b"The safety note was shown and acknowledged.\n")
            except OSError as error:
                if error.errno not in WRITE_ERRORS:
                    raise
                log.warning("could not write %s: %s; the safety note shows again at the next start",
                            marker, error.strerror or error)

        self._background(remember)

    def _open_log(self) -> List[SessionRecord]:
        self._log = self._log_opener(self.data_dir)
        return self._read_records()

    def _log_opened(self, records: List[SessionRecord]) -> None:
        for notice in getattr(self._log, "notices", []):
            log.warning("%s", notice)
        for notice in getattr(self._log, "screen_notices", getattr(self._log, "notices", [])):
            self._show_notice(notice)
        self._records_read(records)

    def _ensure_log(self) -> Any:
        """The open log (worker thread only); opened here if the start-up read failed, and
        opened again if it was read-only (the card may have been freed or remounted)."""
        if self._log is not None and getattr(self._log, "writable", True) is False:
            self._log.close()
            self._log = None
        if self._log is None:
            self._log = self._log_opener(self.data_dir)
        return self._log

    def _save_record(self, record: SessionRecord) -> None:
        """Keep a finished session and save it in the background; kept in memory until saved."""
        self._records.append(record)
        self._unsaved.append(record)
        self._refresh_stats()
        self._flush_unsaved()

    def _flush_unsaved(self) -> None:
        """Try to put every unsaved session in the log; on a failing card keep them in the checkpoint."""
        if not self._unsaved or self._saving:
            return
        self._saving = True
        self._last_save_try = self.clock()
        pending = tuple(self._unsaved)
        checkpoints = self._checkpoints

        def save() -> Optional[int]:
            try:
                session_log = self._ensure_log()
                for record in pending:
                    stored = session_log.get(record.id)
                    if stored is None:
                        session_log.append(record)
                    elif stored.pain != record.pain:  # rated while an earlier save was on its way
                        session_log.update_pain(record.id, record.pain)
            except OSError as error:
                log.warning("could not save %d session(s): %s", len(pending), error)
                try:
                    checkpoints.save(pending)  # survives a restart if there is room for this much
                except OSError:
                    pass
                return error.errno or errno.EIO
            if not self.in_session:  # else the running session's next checkpoint replaces it
                try:
                    checkpoints.finish()
                except OSError as error:
                    log.warning("could not remove the checkpoint: %s", error)
            return None

        def saved(failure: Optional[int]) -> None:
            self._saving = False
            if failure is None:
                self._unsaved = [record for record in self._unsaved if record not in pending]
                for text in set(NOT_SAVED.values()) | {NOT_SAVED_OTHER}:
                    self._drop_notice(text)
                if self._unsaved:
                    self._flush_unsaved()
            else:
                # Not "saved" after all: the notice that said so says only what happened.
                self._notices = [text.replace(STOPPED_AND_SAVED, "Session stopped: ") for text in self._notices]
                self._show_notice(NOT_SAVED.get(failure, NOT_SAVED_OTHER))

        if self._closed:
            self._saving = False
            return
        self._background(save, saved)

    def _save_checkpoint(self, record: SessionRecord) -> None:
        """Write the running session (and any unsaved ones) to the checkpoint, never on the main thread."""
        records = tuple(self._unsaved) + (record,)
        checkpoints = self._checkpoints

        def save() -> None:
            try:
                checkpoints.save(records)
            except OSError as error:
                log.warning("could not write the session checkpoint: %s", error)

        self._background(save)

    # ================================================================== home

    def default_routine(self) -> Optional[Routine]:
        return self.library.default_routine(self.settings.default_routine or None)

    def _refresh_library_views(self) -> None:
        default = self.default_routine()
        if default is None:
            self.start_title, self.start_detail = "No routine", "Check the exercise files"
        else:
            total = build_timeline(default).total_s
            self.start_title = "Start"
            self.start_detail = f"{default.name} · {minutes_text(total)}"
        rows = []
        for routine in self.library.routines.values():
            timeline = build_timeline(routine)
            first = routine.steps[0].exercise
            rows.append({
                "routine_id": routine.id, "name": routine.name, "description": routine.description,
                "length": minutes_text(timeline.total_s), "image": first.image or "",
                "is_default": default is not None and routine.id == default.id,
            })
        self.routines = rows
        self.routine_choices = {r.id: r.name for r in self.library.routines.values()}

    def _set_notice_from_library(self) -> None:
        errors = self.library.errors
        if errors:
            files = sorted({Path(p.path).name for p in errors})
            self._show_notice(f"Some exercise files have problems ({', '.join(files)}); "
                              f"everything else works. Run 'kiosk validate' for details.")

    def add_notice(self, text: str) -> None:
        self._show_notice(text)

    def _show_notice(self, text: str) -> None:
        if text not in self._notices:
            self._notices.append(text)
        self.notice = self._notices[-1]

    def _drop_notice(self, text: str) -> None:
        if text in self._notices:
            self._notices.remove(text)
            self.notice = self._notices[-1] if self._notices else ""

    def dismiss_notice(self) -> None:
        if self.notice in self._notices:
            self._notices.remove(self.notice)
        self.notice = self._notices[-1] if self._notices else ""

    def _update_clock(self) -> None:
        now = self.wall()
        self._update_night(now)
        if self.night == "blank":
            return  # nothing on show: no redraw, nothing to keep the Pi busy
        text = now.strftime("%H:%M")
        if text != self._shown_minute:
            self._shown_minute = text
            self.clock_text = text
            if self.stats is not None and self.stats.today != now.date():
                self._refresh_stats()  # past midnight: "today" has moved on
        if self.screen not in ("home", "session") and not self.in_session:
            if self.clock() - self._last_touch >= self._idle_limit():
                self.go("home")
        if self._unsaved and self.clock() - self._last_save_try >= SAVE_RETRY_S:
            self._flush_unsaved()
        if not self.in_session and self._log is not None and self.clock() - self._last_poll >= LOG_POLL_S:
            self._last_poll = self.clock()  # a session added over SSH shows on Home within a minute
            self._background(self._read_records, self._records_read)

    def _update_night(self, now: dt.datetime) -> None:
        """Go dark at night once nobody has touched the idle Home screen for a while."""
        settings = self.settings
        if settings.night_mode == "off" or self.in_session:
            self.night = ""
            return
        dark = in_night(now.time(), parse_clock(settings.night_start), parse_clock(settings.night_end))
        if not dark:
            self.night = ""
        elif not self.night and self.screen == "home" and \
                self.clock() - self._last_touch >= settings.idle_timeout:
            self.night = settings.night_mode

    def _idle_limit(self) -> float:
        return DONE_TIMEOUT_S if self.screen == "done" else self.settings.idle_timeout

    def _refresh_stats(self) -> None:
        now = self.wall()
        today = now.date()
        stats = compute_stats(self._records, today, weekly_goal=self.settings.weekly_goal,
                              week_start=self.settings.week_start_index, now=now)
        self.stats = stats
        self.pain_points = [(day.isoformat(), value) for day, value in pain_history(self._records, today)]
        self.done_today = stats.done_today
        self.today_text = "Done today" if stats.done_today else "Not done yet today"
        self.daily_streak_text = _days(stats.current_daily_streak)
        self.weekly_streak_text = _weeks(stats.current_weekly_streak)

    # ================================================================== touches and navigation

    def touched(self) -> bool:
        """Note a touch; False while the guard after a screen change is on (ignore it).

        A touch on the dark night screen only wakes it: it must not press what is under it.
        """
        now = self.clock()
        self._last_touch = now
        if self.night:
            self.night = ""
            self._guard_until = now + START_GUARD_S
            self._shown_minute = ""
            self._update_clock()
            return False
        return now >= self._guard_until

    def go(self, screen: str) -> None:
        if screen == self.screen:
            return
        if self.in_session and screen != "session":
            return
        self.confirm_stop = False
        self._guard_until = self.clock() + START_GUARD_S
        self._last_touch = self.clock()
        self.screen = screen
        if screen in ("home", "streaks") and self._log is not None:
            # The log may have changed under us (`kiosk log add` over SSH): read it again.
            self._last_poll = self.clock()
            self._background(self._read_records, self._records_read)
        if self._unsaved:
            self._flush_unsaved()

    def _read_records(self) -> List[SessionRecord]:
        """The log's sessions, after dating again any saved under a wrong clock, if the clock now looks right."""
        session_log = self._ensure_log()
        repair_clock = getattr(session_log, "repair_clock", None)
        if repair_clock is not None:
            repair_clock(read_clock(self.clock, self.wall))
        return list(session_log.records())

    def _records_read(self, records: List[SessionRecord]) -> None:
        stored = {record.id for record in records}
        self._records = records + [record for record in self._unsaved if record.id not in stored]
        self._refresh_stats()

    # ================================================================== session

    def start(self, routine_id: Optional[str] = None) -> bool:
        """Start a session (the one-tap routine by default). False if one is already running."""
        if self.in_session or self._closed:
            return False
        routine = self.library.routines.get(routine_id) if routine_id else self.default_routine()
        if routine is None:
            self._show_notice("That routine is not in the library any more.")
            return False
        self._stats_before = self.stats
        self.timeline = build_timeline(routine)
        if self.speaker.status == "fallback":
            self._replace_speaker()  # every session gives the voice another chance
        self.speaker.stop()
        self.runner = SessionRunner(self.timeline, clock=self.clock, speaker=self.speaker, wall=self.wall,
                                    boot_id=self._boot_id,
                                    newest_start=newest_trusted_start(self._records))
        phrases = [cue.text for cue in self.timeline.cues]
        self._background(lambda: self.speaker.prepare(phrases), lambda _result: self._update_voice_notice())
        self.in_session = True
        self.paused = False
        self.pain = -1
        self.last_record = None
        self.go("session")
        self.runner.start()
        self._show_position()
        self._frame_event = Clock.schedule_interval(self._on_frame, 0)
        self._set_screen_awake(True)
        return True

    def _on_frame(self, _dt: float = 0.0) -> None:
        """Sample the clock once per frame: the screen follows the timeline, never the frame rate."""
        runner = self.runner
        if runner is None:
            return
        if not runner.finished:
            runner.tick()
            checkpoint = runner.checkpoint()
            if checkpoint is not None:
                self._save_checkpoint(checkpoint)
        self._show_position()
        self._update_voice_notice()
        if runner.finished:
            self._session_ended()

    def tick(self) -> None:
        self._on_frame()

    def _show_position(self) -> None:
        runner, timeline = self.runner, self.timeline
        if runner is None or timeline is None:
            return
        position = runner.position()
        segment = position.segment
        if segment is None:
            return
        steps = len(timeline.routine.steps)
        self.exercise_name = segment.exercise.name
        self.segment_title = "Paused" if runner.state is State.PAUSED else SEGMENT_TITLES[segment.kind]
        self.countdown_text = str(max(0, int(math.ceil(position.seconds_left_in_segment - 1e-9))))
        self.segment_progress = position.seconds_into_segment / segment.duration_s if segment.duration_s else 1.0
        self.side_text = (segment.side or "").upper() if segment.step_index < steps and \
            timeline.routine.steps[segment.step_index].sides != "none" else ""
        self.set_text = f"Set {segment.set_number} of {segment.set_count}" if segment.set_count > 1 else ""
        self.step_text = f"Step {segment.step_index + 1} of {steps}"
        self.next_text = self._next_text(segment.step_index, segment.kind)
        self.image_source = segment.exercise.image or ""
        said = runner.caption_cue
        if said is not None and said.at_s >= segment.start_s - 1e-9:
            self.caption_text = said.text
        else:
            self.caption_text = segment.exercise.caption if segment.kind == "work" else ""
        self.overall_progress = position.fraction_done
        self.elapsed_text = f"{clock_text(position.elapsed_s)} / {clock_text(position.total_s)}"
        self.paused = runner.state is State.PAUSED

    def _next_text(self, step_index: int, kind: str) -> str:
        """The exercise after this one (during a rest the header already names this one)."""
        assert self.timeline is not None
        steps = self.timeline.routine.steps
        if step_index + 1 < len(steps):
            return f"Next: {steps[step_index + 1].exercise.name}"
        return "Last exercise"

    def toggle_pause(self) -> None:
        if self.runner is not None and not self.runner.finished:
            self.runner.toggle_pause()
            self._show_position()

    def skip(self) -> None:
        if self.runner is not None and not self.runner.finished:
            self.runner.skip()
            self._on_frame()

    def back(self) -> None:
        if self.runner is not None and not self.runner.finished:
            self.runner.back()
            self._on_frame()

    def ask_stop(self) -> None:
        """The first step of stopping: the screen asks before the session ends."""
        if self.in_session:
            self.confirm_stop = True

    def cancel_stop(self) -> None:
        self.confirm_stop = False

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
        if self._frame_event is not None:
            self._frame_event.cancel()
            self._frame_event = None
        self.in_session = False
        self.confirm_stop = False
        self._set_screen_awake(False)
        record = runner.record()
        self.last_record = record
        self._save_record(record)
        if record.completed:
            self.done_title = "Well done"
            self.streak_change_text = self._streak_change(record)
            self.go("done")
        else:
            done, total = record.steps_done, len(runner.timeline.routine.steps)
            self._show_notice(f"{STOPPED_AND_SAVED}{done} of {total} exercises done.")
            self.go("home")

    def _streak_change(self, record: SessionRecord) -> str:
        stats = self.stats
        if stats is None:
            return ""
        before = self._stats_before
        streak = stats.current_daily_streak
        if before is not None and before.done_today:
            return f"Another one today. Day {streak} in a row."
        if streak <= 1:
            return "Day 1. A good start."
        return f"Day {streak} in a row."

    def recover(self, message: str) -> None:
        """After an unexpected error: save any running session, go Home, and say so."""
        if self._frame_event is not None:
            self._frame_event.cancel()
            self._frame_event = None
        runner = self.runner
        if self.in_session and runner is not None:
            if not runner.finished:
                runner.stop()
            self.in_session = False
            self._set_screen_awake(False)
            self._save_record(runner.record())
        self.in_session = False
        self.confirm_stop = False
        self.screen = "home"
        self._show_notice(message)

    def rate_pain(self, value: int) -> None:
        """Save the 0-10 rating with the session just finished."""
        record = self.last_record
        if record is None or not 0 <= value <= 10:
            return
        self.pain = value
        updated = replace(record, pain=value)
        self.last_record = updated
        self._records = [updated if r.id == record.id else r for r in self._records]
        # Saved the way a finished session is: kept until the card takes it, retried if it refuses.
        self._unsaved = [r for r in self._unsaved if r.id != record.id] + [updated]
        self._refresh_stats()
        self._flush_unsaved()

    def _set_screen_awake(self, awake: bool) -> None:
        from kivy.core.window import Window

        try:
            Window.allow_screensaver = not awake
        except Exception:  # a window without the property: nothing to keep awake
            log.debug("window cannot hold the screen awake")

    def _replace_speaker(self) -> None:
        old = self.speaker
        self.speaker = self._speaker_factory(self.settings)
        self._background(old.close)
        self._update_voice_notice()

    def _update_voice_notice(self) -> None:
        status = self.speaker.status
        self.voice_notice = "Voice off: follow the captions" if status == "fallback" else ""

    # ================================================================== settings

    def change_setting(self, name: str, value: Any) -> None:
        """Apply a setting at once and save the settings file in the background."""
        updated = replace(self.settings, **{name: value})
        if updated == self.settings:
            return
        self.settings = updated
        reloads = RULES[name].reloads  # what the settings table says this setting feeds
        if reloads == "speaker":
            self._replace_speaker()
        elif reloads == "stats":
            self._refresh_stats()
        elif reloads == "library":
            self._refresh_library_views()
        if self.config_path is not None:
            from ..atomic import WRITE_ERRORS

            path = self.config_path
            not_saved = "Settings not saved: the SD card cannot be written. The change applies until a restart."

            def save() -> bool:
                try:
                    save_settings(path, updated)
                except OSError as error:
                    if error.errno not in WRITE_ERRORS:
                        raise
                    log.warning("could not save the settings to %s: %s", path, error.strerror or error)
                    return False
                return True

            def saved(done: bool) -> None:
                if done:
                    self._drop_notice(not_saved)  # every save writes every setting
                else:
                    self._show_notice(not_saved)

            self._background(save, saved)


def _days(count: int) -> str:
    return f"{count} day{'s' if count != 1 else ''} in a row"


def _weeks(count: int) -> str:
    return f"{count} week{'s' if count != 1 else ''} on goal"

