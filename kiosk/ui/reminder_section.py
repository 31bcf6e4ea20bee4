"""The controller's reminders: at a reminder's time, wake the screen, show the card on Home,
chime and say the message; and the card's three answers. A section of `KioskController`.

When is decided by the pure `kiosk.core.reminders`; this section asks it once a second,
keeps today's answers in the data folder (so a restart never plays one again) and plays
through a speaker of its own, at the reminder volume.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, List, Optional, Tuple

from kiosk.core.clockcheck import newest_trusted_start, wall_problem
from kiosk.core.model import Cue
from kiosk.core.night import in_night, parse_clock
from kiosk.core.reminders import MAX_REMINDERS, WEEKDAY_KEYS, Day, Reminder, Situation, due, may_say, spoken
from kiosk.remind import REMINDERS_FILE, read_day_file
from kiosk.core.speaker import Speaker
from kiosk.sessionlog.atomic import write_atomically
from kiosk.ui.background import BackgroundWorker

if TYPE_CHECKING:
    from kiosk.config import Settings
    from kiosk.ui.log_keeper import LogKeeper

log = logging.getLogger("kiosk")

REMINDER_STEP_MIN = 5
"""How far the Reminders screen's - and + move a reminder's time."""


class ReminderSection:
    # Set by KioskController (Kivy properties and plain attributes).
    settings: Settings
    data_dir: Path
    clock: Callable[[], float]
    wall: Callable[[], dt.datetime]
    zone: dt.tzinfo
    worker: BackgroundWorker
    log_keeper: LogKeeper
    screen: str
    night: str
    in_session: bool
    done_today: bool
    stats: Any
    household: Any
    reminder_text: str
    _last_touch: float
    _reminder_day: Optional[Day] = None
    _reminder_speaker: Optional[Speaker] = None
    _pending_answer: Optional[Tuple[bool, bool]] = None
    _reminder_speaker_factory: Callable[[Any], Speaker]

    if TYPE_CHECKING:
        def go(self, screen: str) -> None: ...
        def touched(self) -> bool: ...
        def start(self, routine_id: Optional[str] = None) -> bool: ...
        def change_setting(self, name: str, value: Any) -> None: ...

    # ------------------------------------------------------------------ life cycle

    def _load_reminders(self) -> None:
        """Read today's answers in the background; until then no reminder plays."""
        data_dir, today = self.data_dir, self.wall().date()
        self.worker.run(lambda: read_day_file(data_dir, today), self._reminders_loaded)

    def _reminders_loaded(self, day: Day) -> None:
        self._reminder_day = day
        if self._pending_answer is not None:  # "Not today" from Home Assistant came first
            snooze, not_today = self._pending_answer
            self._pending_answer = None
            self._answer(snooze=snooze, not_today=not_today)

    def _drop_reminder_speaker(self) -> None:
        speaker, self._reminder_speaker = self._reminder_speaker, None
        if speaker is not None:
            self.worker.run(speaker.close)

    def _close_reminders(self) -> None:
        if self._reminder_speaker is not None:
            self._reminder_speaker.close()

    # ------------------------------------------------------------------ once a second

    def _check_reminders(self) -> None:
        day = self._today()
        if day is None or self.stats is None or not (self.settings.reminders or self.reminder_text):
            return  # not read yet (today's answers, or whether today is done), or none set
        now = self.wall()
        if self.reminder_text and (self.done_today or day.not_today):
            self.reminder_text = ""  # done meanwhile (on another screen, say): the card goes
        situation = Situation(done_today=self.done_today, in_session=self.in_session, in_night=self._night_at)
        prompts = due(self.settings.reminders, now, self.zone, day, situation)
        if not prompts or not self._clock_trusted(now):  # the clock is asked only when one is due
            return
        prompt = prompts[-1]
        self._save_day(day.with_played(prompts, now))
        text = spoken(prompt, now.astimezone(self.zone).time(), self.stats.current_daily_streak)
        log.info("reminder: %s (%s, due %s)", text, prompt.kind, prompt.due.astimezone(self.zone).strftime("%H:%M"))
        if prompt.wakes_screen() or not self.night:
            self.night = ""
            self._last_touch = self.clock()  # awake for the idle time, as after a touch
        if self.screen != "home":
            self.go("home")
        self.reminder_text = text
        self._say_reminder(text)
        if self.household is not None:
            self.household.publish_reminder(text)

    def _today(self) -> Optional[Day]:
        day = self._reminder_day
        if day is None:
            return None
        today = self.wall().date()
        if day.date != today:
            day = self._reminder_day = Day(today)
            self.reminder_text = ""
        return day

    def _clock_trusted(self, now: dt.datetime) -> bool:
        return wall_problem(now, newest_trusted_start(self.log_keeper.records)) is None

    def _night_at(self, when: dt.datetime) -> bool:
        settings = self.settings
        if settings.night_mode == "off":
            return False
        return in_night(when.astimezone(self.zone).time(), parse_clock(settings.night_start),
                        parse_clock(settings.night_end))

    def _reminder_phrases(self) -> List[str]:
        """What the reminders may say today, for the voice to render ahead (Piper)."""
        streak = self.stats.current_daily_streak if self.stats is not None else 0
        return [text for reminder in self.settings.reminders for text in may_say(reminder, streak)]

    def _say_reminder(self, text: str) -> None:
        if self._reminder_speaker is None:
            self._reminder_speaker = self._reminder_speaker_factory(self.settings)
        speaker = self._reminder_speaker
        speaker.say(Cue(0.0, "done", text), self.clock())  # "done": the chime, then the words

    def _save_day(self, day: Day) -> None:
        if day == self._reminder_day:
            return  # nothing new (no reminders at all, say): not a byte on a card that may be full
        self._reminder_day = day
        path, text = self.data_dir / REMINDERS_FILE, day.to_json()

        def save() -> None:
            import json

            try:
                write_atomically(path, json.dumps(text).encode("utf-8"))
            except OSError as error:  # a full card: the worst is one reminder played again
                log.warning("could not save today's reminders: %s", error)

        self.worker.run(save)

    # ------------------------------------------------------------------ set by touch (Settings, Reminders)

    def add_reminder(self) -> bool:
        """A new reminder, every day, an hour after the last one (18:30 for the first); False at the most."""
        reminders = self.settings.reminders
        if len(reminders) >= MAX_REMINDERS:
            return False
        if reminders:
            last = reminders[-1].clock
            minutes = (last.hour * 60 + last.minute + 60) % (24 * 60)
            time = f"{minutes // 60:02d}:{minutes % 60:02d}"
        else:
            time = "18:30"
        self._change_reminders(reminders + (Reminder(time),))
        return True

    def shift_reminder(self, index: int, direction: int) -> None:
        """- or + on a reminder's time: 5 minutes earlier or later, round the clock."""
        reminder = self.settings.reminders[index]
        minutes = (reminder.clock.hour * 60 + reminder.clock.minute + direction * REMINDER_STEP_MIN) % (24 * 60)
        self._replace_reminder(index, replace(reminder, time=f"{minutes // 60:02d}:{minutes % 60:02d}"))

    def toggle_reminder_day(self, index: int, day: str) -> None:
        reminder = self.settings.reminders[index]
        chosen = set(reminder.days) ^ {day}
        self._replace_reminder(index, replace(reminder, days=tuple(key for key in WEEKDAY_KEYS if key in chosen)))

    def remove_reminder(self, index: int) -> None:
        reminders = list(self.settings.reminders)
        del reminders[index]
        self._change_reminders(tuple(reminders))

    def _replace_reminder(self, index: int, reminder: Reminder) -> None:
        reminders = list(self.settings.reminders)
        reminders[index] = reminder
        self._change_reminders(tuple(reminders))

    def _change_reminders(self, reminders: Tuple[Reminder, ...]) -> None:
        """A reminder added or changed whose time today has gone is not a late one: it does not
        play now (that is for a kiosk that was off), it starts tomorrow."""
        day = self._today()
        if day is not None:
            self._save_day(day.gone_by(reminders, self.wall(), self.zone))
        self.change_setting("reminders", reminders)

    # ------------------------------------------------------------------ the card's answers

    def reminder_start(self) -> None:
        """Start on the card: the one-tap routine, as Start does."""
        if self.touched():
            self.start()

    def reminder_snooze(self) -> None:
        """In 30 minutes: the card goes, and comes back (with the chime) in half an hour."""
        if self.touched():
            self._answer(snooze=True)

    def reminder_not_today(self) -> None:
        """Not today: no more reminders until tomorrow."""
        if self.touched():
            self.silence_reminders_today()

    def silence_reminders_today(self) -> None:
        """Not today, from the card or from Home Assistant."""
        self._answer(not_today=True)

    def _answer(self, *, snooze: bool = False, not_today: bool = False) -> None:
        day = self._today()
        self.reminder_text = ""
        if day is None:
            self._pending_answer = (snooze, not_today)
        else:
            self._save_day(day.answer(self.wall(), snooze=snooze, not_today=not_today))
        if self._reminder_speaker is not None:
            self._reminder_speaker.stop()

    def _reminders_passed_over(self) -> None:
        """A session starts or ends: it answers every reminder whose time has come."""
        day = self._today()
        self.reminder_text = ""
        if day is not None:
            self._save_day(day.passed_over(self.settings.reminders, self.wall(), self.zone))
        if self._reminder_speaker is not None:
            self._reminder_speaker.stop()
