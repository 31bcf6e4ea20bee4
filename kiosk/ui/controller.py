"""The kiosk's view-model: Kivy properties the screens bind to, and the actions they call.

The main thread only samples the monotonic clock and sets properties. The session
screen binds to one `SessionView` record made each frame; the log lives behind a
`LogKeeper`; anything that can block goes to the `BackgroundWorker`.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, List, Optional, Set, Tuple

from kivy.clock import Clock
from kivy.event import EventDispatcher
from kivy.properties import (
    BooleanProperty,
    DictProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)

from kiosk.config import Settings
from kiosk.core.catalog import Library
from kiosk.core.clockcheck import local_now, local_zone, read_boot_id, read_clock
from kiosk.core.model import SessionRecord
from kiosk.core.yamldoc import Problem
from kiosk.core.session_view import SessionView
from kiosk.core.speaker import SilentSpeaker, Speaker
from kiosk.core.streaks import StreakStats
from kiosk.core.timeline import Timeline
from kiosk.ui.background import BackgroundWorker
from kiosk.mqtt.link import MqttUnavailable
from kiosk.ui.household_bridge import HouseholdBridge
from kiosk.ui.home_section import DONE_TIMEOUT_S, NAV_GUARD_S, SAFETY_SEEN, START_GUARD_S, HomeSection
from kiosk.ui.log_keeper import LogKeeper, Opener, open_session_log
from kiosk.ui.reminder_section import ReminderSection
from kiosk.ui.session_section import STOPPED_AND_SAVED, SessionSection
from kiosk.ui.voice_section import VoiceSection

if TYPE_CHECKING:
    from kiosk.core.runner import SessionRunner  # made by the session section

__all__ = ["KioskController", "SAFETY_SEEN", "START_GUARD_S", "NAV_GUARD_S", "DONE_TIMEOUT_S", "NOTICE_S"]

log = logging.getLogger("kiosk")

FAILED = "Something could not be saved or read. The kiosk goes on; see the log for details."
NOTICE_S = 10.0
"""A notice is shown this long (outside a session), then the next one waiting, then none."""


class KioskController(HomeSection, SessionSection, VoiceSection, ReminderSection, EventDispatcher):
    """The properties the screens bind to; the actions are in its Home and session sections."""

    screen = StringProperty("home")
    """The screen on show: home, session, done, streaks, routines, settings or safety."""
    notice = StringProperty("")
    """A short message for the person at the display (a broken file, a recovered log).
    Never shown during a session: notices raised then wait for its end."""
    voice_notice = StringProperty("")
    """"Voice off" when the voice has fallen back to captions and beeps."""
    night = StringProperty("")
    """"dim" or "blank" while the idle kiosk is dark for the night; empty otherwise."""
    scale = NumericProperty(1.0)
    """Size unit: 1.0 on a 480-pixel short side; the kv multiplies every size by it."""
    portrait = BooleanProperty(False)
    """The window is taller than wide (a portrait panel or `rotation: 90`): every screen has
    its own arrangement for it, chosen from the window's shape."""
    safety_text = StringProperty("")
    """The safety note, shown over Home until it has been acknowledged once."""
    reminder_text = StringProperty("")
    """What the reminder card on Home says; empty when there is no card."""
    household_status = StringProperty("Not set up")
    piper_in_use = BooleanProperty(False)
    """Piper is the voice speaking (chosen, and not fallen back)."""
    piper_voices = ListProperty([])
    """The Piper voice models found (paths), for the Settings screen; read in the background."""
    """Home Assistant's connection, as the Settings screen says it."""
    safety_checked = BooleanProperty(False)
    """Whether the data folder has been asked if the note was read (a Start from afar waits for it)."""
    settings = ObjectProperty(Settings(), rebind=True)

    # Home and Streaks
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

    # Session
    in_session = BooleanProperty(False)
    paused = BooleanProperty(False)
    view = ObjectProperty(SessionView(), rebind=True)
    """Everything the session screen shows, one record per change (see `session_view`)."""
    confirm_stop = BooleanProperty(False)
    """True while the 'Stop the session?' question is on screen."""

    # Done
    done_title = StringProperty("Well done")
    streak_change_text = StringProperty("")
    pain = NumericProperty(-1)
    """The 0-10 rating tapped on the Done screen, -1 when none."""

    # Routines and Settings
    routines = ListProperty([])
    """One dict per routine: the Routines screen's RecycleView data."""
    routine_choices = DictProperty({})

    def __init__(self, library: Library, settings: Settings, *, data_dir: Path,
                 config_path: Optional[Path] = None, clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], dt.datetime] = local_now,
                 speaker_factory: Optional[Callable[[Settings], Speaker]] = None,
                 reminder_speaker_factory: Optional[Callable[[Settings], Speaker]] = None,
                 zone: Optional[dt.tzinfo] = None,
                 log_opener: Opener = open_session_log, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.library = library
        self.settings = settings
        self.settings_problems: Tuple[Problem, ...] = ()
        """The settings file's problems, for the Exercise files screen (set by `build_controller`)."""
        self.data_dir = data_dir
        self.config_path = config_path
        self.clock = clock
        self.wall = wall
        self._boot_id = read_boot_id()
        self._speaker_factory = speaker_factory or (lambda chosen: SilentSpeaker("off"))
        self._reminder_speaker_factory = reminder_speaker_factory or (lambda chosen: SilentSpeaker("off"))
        self.zone = zone or local_zone()
        """The time zone, with its daylight-saving rules, that reminder times are in."""
        self.worker = BackgroundWorker(lambda error: self.add_notice(FAILED))
        self.voice_worker = BackgroundWorker(lambda error: self.add_notice(FAILED), name="kiosk-voice")
        """Voice preparation on a thread of its own: Piper may take a minute, the log never waits for it."""
        self.log_keeper = LogKeeper(
            data_dir, self.worker, clock=clock, read_clock=lambda: read_clock(self.clock, self.wall),
            opener=log_opener, show_notice=self.add_notice, drop_notice=self._drop_notice,
            not_saved=self._not_saved, records_changed=self._refresh_stats, session_running=lambda: self.in_session)
        self.speaker: Speaker = SilentSpeaker("off")
        self._voice_ready: Set[str] = set()
        """Phrases the speaker has made for the sessions to come (told as each is ready)."""
        self._voice_queued: Set[str] = set()
        self._voice_settled: Set[str] = set()
        self._voice_notices_shown: Set[str] = set()
        self.runner: Optional[SessionRunner] = None
        self.timeline: Optional[Timeline] = None
        self.last_record: Optional[SessionRecord] = None
        self._stats_before: Optional[StreakStats] = None
        self._guard_until = -math.inf
        self._last_touch = clock()
        self._frame_event: Any = None
        self._second_event: Any = None
        self._shown_minute = ""
        self._notices: List[str] = []
        self._lasting: Set[str] = set()
        self._dismissed: Set[str] = set()
        self._notice_since = clock()
        self.household: Optional[HouseholdBridge] = None
        """Home Assistant and the other screens, when `mqtt:` is set up (see `start_up`)."""
        self._refresh_library_views()
        self.fbind("stats", lambda *_: self._prepare_reminder_voice())  # the evening's words name the streak
        # The card comes in Start's place, and Start comes back in the card's: a tap meant for
        # the one must not land on the other.
        self.fbind("reminder_text", lambda *_: setattr(self, "_guard_until",
                                                       max(self._guard_until, self.clock() + START_GUARD_S)))
        if library.errors:
            files = sorted({Path(p.path).name for p in library.errors})
            self.add_notice(f"Some exercise files have problems ({', '.join(files)}). "
                            f"Everything else works: see Settings, Exercise files.")

    # ------------------------------------------------------------------ life cycle

    def start_up(self) -> None:
        """Read the log and warm the voice in the background; tick the clock once a second."""
        self._notice_since = self.clock()  # notices made while building count from the first frame
        self._every_second()
        self._second_event = Clock.schedule_interval(lambda _dt: self._every_second(), 1.0)
        self.speaker = self._speaker_factory(self.settings)
        self._voice_chosen = self._voice_choice()
        self._update_voice_notice()
        self.log_keeper.open()
        self._load_reminders()
        self._join_household()
        self.worker.run(self._unread_safety_note, self._show_safety_note)
        self._prepare_home_voice()
        self.find_piper_voices()

    def shut_down(self) -> None:
        """Record a session still running, then release the worker, the voice and the log."""
        if self.worker.closed:
            return
        if self.runner is not None and self.in_session:
            self.runner.stop()
            self.in_session = False
            self.log_keeper.save(self.runner.record())
        else:
            self.log_keeper.flush()
        for event in (self._frame_event, self._second_event):
            if event is not None:
                event.cancel()
        if self.household is not None:
            self.household.stop()  # says offline; the session just saved goes at the next start
        self._cancel_pending_start()
        self.worker.close()
        self._close_reminders()
        try:
            self.speaker.close()  # ends a voice still preparing
        finally:
            self.voice_worker.close()
            self.log_keeper.close()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until background work queued so far, the voice's too, has finished (tests and shut-down)."""
        return self.worker.wait_idle(timeout) and self.voice_worker.wait_idle(timeout)

    @property
    def results_due(self) -> int:
        """Results of background work handed to the Clock and not yet run."""
        return self.worker.results_due + self.voice_worker.results_due

    def _join_household(self) -> None:
        """With `mqtt:` set up: become a Home Assistant device and a screen of the household."""
        if not self.settings.mqtt.enabled:
            return
        try:
            bridge = HouseholdBridge(self, self.settings.mqtt)
        except MqttUnavailable as error:
            log.error("mqtt: %s", error)
            self.add_notice("Home Assistant is set up in config.yaml, but the kiosk's MQTT part is not "
                            "installed (paho-mqtt). Everything else works.", lasting=True)
            return
        self.household = bridge
        self.log_keeper.screen_name = bridge.screen_name
        self.log_keeper.on_saved = bridge.publish_records
        self.fbind("stats", lambda *_: bridge.publish_state())
        self.fbind("settings", lambda *_: bridge.publish_state())
        self.fbind("in_session", lambda *_: bridge.publish_session())
        self.fbind("paused", lambda *_: bridge.publish_session())
        bridge.start()

    # ------------------------------------------------------------------ notices

    def add_notice(self, text: str, *, lasting: bool = False) -> None:
        """Show `text` now. A lasting notice (something still wrong, such as a session not yet
        saved) stays until it is put right or tapped away; any other goes after NOTICE_S."""
        if lasting:
            if text in self._dismissed:
                return  # tapped away: not shown again until it has been put right once
            self._lasting.add(text)
        if text in self._notices:
            self._notices.remove(text)
        self._notices.append(text)
        self._show_notice(text)

    def _drop_notice(self, text: str) -> None:
        """What the notice said is over (put right, or never true): it goes."""
        self._dismissed.discard(text)
        self._lasting.discard(text)
        self._retire(text)

    def _retire(self, text: str) -> None:
        if text in self._notices:
            self._notices.remove(text)
            self._show_notice(self._notices[-1] if self._notices else "")

    def _show_notice(self, text: str) -> None:
        if text != self.notice:
            self._notice_since = self.clock()
        self.notice = text

    def dismiss_notice(self) -> None:
        """A tap on the notice: it goes; a lasting one stays away until it is next put right."""
        if self.notice in self._lasting:
            self._dismissed.add(self.notice)
        self._retire(self.notice)

    def clear_notices(self) -> None:
        """A session starts: what was said before it is old news (what is still wrong is not)."""
        self._notices = [text for text in self._notices if text in self._lasting]
        self._show_notice(self._notices[-1] if self._notices else "")

    def _expire_notice(self) -> None:
        """Called every second: a notice goes after NOTICE_S on show, a lasting one never;
        time during a session does not count."""
        if self.in_session:
            self._notice_since = self.clock()
        elif (self.notice and self.notice not in self._lasting
              and self.clock() - self._notice_since >= NOTICE_S):
            self._retire(self.notice)

    def _not_saved(self, text: str) -> None:
        # Not "saved" after all: the notice that said so says only what happened.
        self._notices = [notice.replace(STOPPED_AND_SAVED, "Session stopped: ") for notice in self._notices]
        self.add_notice(text, lasting=True)
