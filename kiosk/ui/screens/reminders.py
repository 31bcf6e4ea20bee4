"""Reminders, by touch alone: one card per reminder (its time with - and +, its days, Remove),
Add a reminder, and the reminder volume. The messages are set in config.yaml.

Every change goes through the controller (`add_reminder`, `shift_reminder`,
`toggle_reminder_day`, `remove_reminder`), which saves the settings file; the cards follow
`controller.settings.reminders`. Remove takes two taps: the first turns the button into
"Remove?" for CONFIRM_S seconds, the second (not a double tap's) removes the reminder.
"""

from __future__ import annotations

from typing import Any, List, Optional

from kivy.clock import Clock
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.config import RULES
from kiosk.core.reminders import MAX_REMINDERS, WEEKDAY_KEYS, Reminder
from kiosk.ui.screens import settings  # noqa: F401  (its kv has the SettingRow the volume uses)
from kiosk.ui.screens.base import KioskScreen, load_kv
from kiosk.ui.widgets import KButton

CONFIRM_S = 5.0
"""After a first tap on Remove, "Remove?" waits this long for the second tap, then is Remove again."""
DOUBLE_TAP_S = 0.6
"""A second tap sooner than this after the first is the same touch (a double tap or a bounce):
it does not remove."""
EMPTY_TEXT = "At the times you choose, the kiosk chimes, says a short message and shows a card with Start."
FULL_TEXT = f"At most {MAX_REMINDERS} reminders: remove one to add another."
MESSAGES_TEXT = "The messages are set in config.yaml (see the README)."


def days_summary(reminder: Reminder) -> str:
    """The days as a card says them: "Every day", "Weekdays", "Mon, Wed, Fri", "No day: it never plays"."""
    text = reminder.days_text()
    if not reminder.days:
        text += ": it never plays"
    return text[:1].upper() + text[1:]


class DayButton(KButton):
    """One day of a reminder's week: lit (green, with a bar under its name) when the reminder plays on it."""

    day = StringProperty("")
    chosen = BooleanProperty(False)


class ReminderRow(BoxLayout):
    """One reminder's card. Landscape: the time with - and +, the days summary and Remove on one
    line, the seven days below; portrait puts the summary and Remove on a line of their own and
    the days in two rows."""

    screen: Any = None
    """The RemindersScreen whose taps the card's buttons call."""
    index = NumericProperty(0)
    time = StringProperty("")
    summary = StringProperty("")
    message = StringProperty("")
    days = ListProperty([])
    armed = BooleanProperty(False)
    """Remove has been tapped once: the button asks "Remove?"."""
    scale = NumericProperty(1.0)
    portrait = BooleanProperty(False)

    def __init__(self, screen: "RemindersScreen", **kwargs: Any) -> None:
        self.screen = screen
        super().__init__(**kwargs)
        self.day_buttons = {}
        for key in WEEKDAY_KEYS:
            button = DayButton(day=key, text=key.capitalize())
            button.bind(on_release=self._day_tapped)
            self.day_buttons[key] = button
            self.ids.days.add_widget(button)
        self.fbind("days", self._show_days)
        self.fbind("scale", self._show_days)
        self._show_days()

    def show(self, index: int, reminder: Reminder) -> None:
        self.index = index
        self.time = reminder.time
        self.days = list(reminder.days)
        self.summary = days_summary(reminder)
        self.message = reminder.message

    def _show_days(self, *_args: Any) -> None:
        for key, button in self.day_buttons.items():
            button.chosen = key in self.days
            button.scale = self.scale

    def _day_tapped(self, button: DayButton) -> None:
        self.screen.toggle_day(self.index, button.day)


class RemindersScreen(KioskScreen):
    EMPTY_TEXT = EMPTY_TEXT
    FULL_TEXT = FULL_TEXT
    MESSAGES_TEXT = MESSAGES_TEXT
    full = BooleanProperty(False)
    """As many reminders as there may be: Add a reminder gives way to a note."""
    empty = BooleanProperty(True)

    def __init__(self, **kwargs: Any) -> None:
        self._rows: List[ReminderRow] = []
        self._armed: Optional[int] = None
        self._armed_at = 0.0
        self._disarm_event = Clock.create_trigger(lambda _dt: self.disarm(), CONFIRM_S)
        super().__init__(**kwargs)

    # ------------------------------------------------------------------ the cards

    def on_controller(self, _screen: Any, controller: Any) -> None:
        if controller is not None:
            controller.fbind("settings", self._refresh)
            controller.fbind("scale", self._refresh)
            controller.fbind("portrait", self._refresh)
            self._refresh()

    def on_kv_post(self, _base: Any) -> None:
        self._refresh()

    def rows(self) -> List[ReminderRow]:
        """The cards on the screen, in the order of the settings (for the tests, too)."""
        return list(self._rows)

    def _refresh(self, *_args: Any) -> None:
        """One card per reminder: the cards there are keep their widgets (a finger on one stays on it)."""
        if self.controller is None or "cards" not in self.ids:
            return
        reminders = self.controller.settings.reminders
        if len(reminders) != len(self._rows):
            self.disarm()  # the cards moved: "Remove?" might now be under another reminder
        holder = self.ids.cards
        while len(self._rows) > len(reminders):
            holder.remove_widget(self._rows.pop())
        while len(self._rows) < len(reminders):
            row = ReminderRow(self)
            self._rows.append(row)
            holder.add_widget(row)
        for index, (row, reminder) in enumerate(zip(self._rows, reminders)):
            row.scale, row.portrait = self.controller.scale, self.controller.portrait
            row.show(index, reminder)
            row.armed = index == self._armed
        self.empty = not reminders
        self.full = len(reminders) >= MAX_REMINDERS

    # ------------------------------------------------------------------ taps

    def add(self) -> None:
        if not self.controller.touched():
            return
        self.disarm()
        if self.controller.add_reminder() and self._rows:
            new = self._rows[-1]
            Clock.schedule_once(lambda _dt: self._scroll_to(new), 0)  # once it has its place

    def _scroll_to(self, row: ReminderRow) -> None:
        if row.parent is not None:
            self.ids.scroller.scroll_to(row, padding=10 * self.controller.scale, animate=False)

    def shift(self, index: int, direction: int) -> None:
        if not self.controller.touched():
            return
        self.disarm()
        self.controller.shift_reminder(index, direction)

    def toggle_day(self, index: int, day: str) -> None:
        if not self.controller.touched():
            return
        self.disarm()
        self.controller.toggle_reminder_day(index, day)

    def remove(self, index: int) -> None:
        """The first tap asks "Remove?"; a second, within CONFIRM_S (and not a double tap), removes."""
        if not self.controller.touched():
            return
        now = self.controller.clock()
        if self._armed == index:
            waited = now - self._armed_at
            if waited < DOUBLE_TAP_S:
                return  # the same tap, twice: still only asking
            if waited <= CONFIRM_S:
                self.disarm()
                self.controller.remove_reminder(index)
                return
        self._armed, self._armed_at = index, now
        for row in self._rows:
            row.armed = row.index == index
        self._disarm_event.cancel()
        self._disarm_event()

    def disarm(self) -> None:
        """"Remove?" is Remove again."""
        self._armed = None
        self._disarm_event.cancel()
        for row in self._rows:
            row.armed = False

    def step_volume(self, direction: int) -> None:
        if not self.controller.touched():
            return
        self.disarm()
        current = self.controller.settings.reminder_volume
        self.controller.change_setting("reminder_volume", RULES["reminder_volume"].stepped(current, direction))

    def back(self) -> None:
        if self.controller.touched():
            self.controller.go("settings")

    def on_leave(self, *_args: Any) -> None:
        self.disarm()


load_kv(__file__)
