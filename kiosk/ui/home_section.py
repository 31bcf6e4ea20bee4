"""The controller's Home side: the safety note, the Start button, streaks, the clock, the
night, touches and navigation, and settings. A section of `KioskController`, which owns
the properties these methods set.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, List, Optional

from kiosk import paths
from kiosk.config import RULES, Settings, save_settings
from kiosk.core.catalog import Library
from kiosk.core.model import Routine
from kiosk.core.night import night_state
from kiosk.core.safety_note import read_safety_note
from kiosk.core.streaks import compute_stats
from kiosk.core.timeline import build_timeline
from kiosk.sessionlog.atomic import WRITE_ERRORS, write_atomically
from kiosk.ui.background import BackgroundWorker
from kiosk.ui.log_keeper import LogKeeper

log = logging.getLogger("kiosk")

START_GUARD_S = 1.5
"""After a session starts or ends (or the night screen wakes), taps are ignored this long:
the second tap of a double tap on Start never lands on Pause, and a tap meant for Skip at
the very end never lands on Start."""
NAV_GUARD_S = 0.4
"""After any other screen change, taps are ignored this long: a double tap on a button never
presses what appears under the finger, and navigation still answers within half a second."""
DONE_TIMEOUT_S = 30.0
"""The Done screen goes back Home after this long without a touch."""
SAFETY_SEEN = "safety-note-seen"
SETTINGS_NOT_SAVED = "Settings not saved: the SD card cannot be written. The change applies until a restart."


def minutes_text(seconds: float) -> str:
    return f"{max(1, int(round(seconds / 60)))} min"


class HomeSection:
    # Set by KioskController (Kivy properties and plain attributes).
    library: Library
    settings: Settings
    data_dir: Path
    config_path: Optional[Path]
    clock: Callable[[], float]
    wall: Callable[[], dt.datetime]
    worker: BackgroundWorker
    log_keeper: LogKeeper
    screen: str
    night: str
    in_session: bool
    confirm_stop: bool
    household: Any
    household_status: str
    safety_text: str
    stats: Any
    start_title: str
    start_detail: str
    routines: List[Any]
    routine_choices: Any
    done_today: bool
    today_text: str
    daily_streak_text: str
    weekly_streak_text: str
    clock_text: str
    _last_touch: float
    _guard_until: float
    _screen_since: float = -math.inf
    _shown_minute: str

    if TYPE_CHECKING:  # provided by KioskController or the other section
        def add_notice(self, text: str, *, lasting: bool = False) -> None: ...
        def _expire_notice(self) -> None: ...
        def _end_long_pause(self, idle_s: float) -> None: ...
        def _drop_notice(self, text: str) -> None: ...
        def _replace_speaker(self, prepare_home: bool = True) -> None: ...
        def _prepare_home_voice(self) -> None: ...
        def _prepare_reminder_voice(self) -> None: ...
        def find_piper_voices(self) -> None: ...
        def cancel_start(self) -> None: ...
        def _show_voice_news(self) -> None: ...

        @property
        def starting(self) -> bool: ...
        def _check_reminders(self) -> None: ...

    # ------------------------------------------------------------------ safety note

    def _unread_safety_note(self) -> str:
        if (self.data_dir / SAFETY_SEEN).exists():
            return ""
        return read_safety_note(paths.safety_note_path())

    def _show_safety_note(self, text: str) -> None:
        self.safety_checked = True
        self.safety_text = text
        if text and self.screen == "home" and not self.in_session:
            self.screen = "safety"

    def acknowledge_safety(self) -> None:
        """Once read, never shown again on this kiosk (a marker in the data folder)."""
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

        self.worker.run(remember)

    # ------------------------------------------------------------------ Home, Streaks, Routines

    def default_routine(self) -> Optional[Routine]:
        return self.library.default_routine(self.settings.default_routine or None)

    def _show_start_button(self) -> None:
        """The Start button names the one-tap routine and its length."""
        default = self.default_routine()
        if default is None:
            self.start_title, self.start_detail = "No routine", "Check the exercise files"
        else:
            self.start_title = "Start"
            self.start_detail = f"{default.name} · {minutes_text(build_timeline(default).total_s)}"

    def _refresh_library_views(self) -> None:
        default = self.default_routine()
        if not self.starting:  # while a Start waits for the voice, the button says so
            self._show_start_button()
        self.routines = [{
            "routine_id": routine.id, "name": routine.name, "description": routine.description,
            "length": minutes_text(build_timeline(routine).total_s), "image": routine.steps[0].exercise.image or "",
            "is_default": default is not None and routine.id == default.id,
        } for routine in self.library.routines.values()]
        self.routine_choices = {r.id: r.name for r in self.library.routines.values()}

    def _refresh_stats(self) -> None:
        now = self.wall()
        stats = compute_stats(self.log_keeper.records, now.date(), weekly_goal=self.settings.weekly_goal,
                              week_start=self.settings.week_start_index, now=now)
        self.stats = stats
        self.done_today = stats.done_today
        self.today_text = "Done today" if stats.done_today else "Not done yet today"
        self.daily_streak_text = _count(stats.current_daily_streak, "day", "in a row")
        self.weekly_streak_text = _count(stats.current_weekly_streak, "week", "on goal")

    def _every_second(self) -> None:
        now = self.wall()
        if self.stats is not None and self.stats.today != now.date():
            self._refresh_stats()  # past midnight: "today" has moved on (a dark night screen too)
        self._end_long_pause(self.clock() - self._last_touch)
        self._check_reminders()  # first: a reminder wakes the night screen before it is judged
        self.night = night_state(now, self.settings, self.night, idle_s=self.clock() - self._last_touch,
                                 on_home=self.screen == "home", in_session=self.in_session)
        if self.night == "blank":
            return  # nothing on show: no redraw, nothing to keep the Pi busy
        minute = now.strftime("%H:%M")
        if minute != self._shown_minute:
            self._shown_minute = minute
            self.clock_text = minute
        self._show_voice_news()
        self._expire_notice()
        if self.household is not None:
            self.household_status = self.household.status_text()
            if self.in_session:
                self.household.publish_session()  # the seconds left, once a second
        if self.screen not in ("home", "session") and not self.in_session:
            limit = DONE_TIMEOUT_S if self.screen == "done" else self.settings.idle_timeout
            if self.clock() - self._last_touch >= limit:
                self.go("home")
        self.log_keeper.every_second()

    # ------------------------------------------------------------------ touches and navigation

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
            self._every_second()
            return False
        return now >= self._guard_until

    def go(self, screen: str) -> None:
        if screen == self.screen or (self.in_session and screen != "session"):
            return
        self.confirm_stop = False
        if self.screen == "home" and screen != "session":
            self.cancel_start()  # a Start waiting for the voice is off when Home is left
        guard = START_GUARD_S if "session" in (screen, self.screen) else NAV_GUARD_S
        self.screen = screen  # builds the screen the first time: the guard counts from when it is there
        self._last_touch = self._screen_since = self.clock()
        self._guard_until = self._last_touch + guard
        if screen in ("home", "streaks"):
            self.log_keeper.read_again()
        if screen == "settings":
            self.find_piper_voices()  # a voice copied in since is offered at once
        self.log_keeper.flush()

    def touched_to_start(self) -> bool:
        """A touch on something that starts a session from a list: like `touched`, and also
        ignored until the screen has been on show START_GUARD_S, so the second tap of a slow
        double tap on Routines cannot start the routine that appears under the finger."""
        return self.touched() and self.clock() - self._screen_since >= START_GUARD_S

    # ------------------------------------------------------------------ settings

    def change_setting(self, name: str, value: Any) -> None:
        """Apply a setting at once and save the settings file in the background."""
        self.change_settings(**{name: value})

    def change_settings(self, **values: Any) -> None:
        """Apply settings together (one new speaker, one save), at once, saved in the background."""
        updated = replace(self.settings, **values)
        if updated == self.settings:
            return
        self.settings = updated
        reloads = {RULES[name].reloads for name in values}  # what the settings table says they feed
        if "speaker" in reloads:
            self._replace_speaker()
        if "stats" in reloads:
            self._refresh_stats()
        if "library" in reloads:
            self._refresh_library_views()
            self._prepare_home_voice()  # the new one-tap routine, ready before the next tap
        if "phrases" in reloads:
            self._prepare_reminder_voice()
        if self.config_path is None:
            return
        path = self.config_path

        def save() -> bool:
            try:
                save_settings(path, updated)
            except OSError as error:
                if error.errno not in WRITE_ERRORS:
                    raise
                log.warning("could not save the settings to %s: %s", path, error.strerror or error)
                return False
            return True

        self.worker.run(save, lambda saved: self._drop_notice(SETTINGS_NOT_SAVED) if saved
                        else self.add_notice(SETTINGS_NOT_SAVED, lasting=True))


def _count(number: int, unit: str, rest: str) -> str:
    return f"{number} {unit}{'s' if number != 1 else ''} {rest}"
