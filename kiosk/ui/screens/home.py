"""Home: the one big Start button, today's state and the streaks, the way to everything else."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

from kiosk.ui.screens.base import KioskScreen, load_kv


class StartButton(ButtonBehavior, BoxLayout):
    """Start, and what it plays: two texts that each fit, in one big button."""

    scale = NumericProperty(1.0)
    title = StringProperty("Start")
    detail = StringProperty("")


class ReminderCard(BoxLayout):
    """The reminder on Home: its message and three answers, Start, In 30 minutes, Not today."""

    __events__ = ("on_start", "on_snooze", "on_not_today")
    scale = NumericProperty(1.0)
    portrait = BooleanProperty(False)
    text = StringProperty("")

    def on_touch_down(self, touch: Any) -> bool:
        # Hidden (no reminder), it has no height, yet its buttons keep theirs: a disabled
        # widget under the finger would swallow the tap meant for Start.
        return bool(self.text) and super().on_touch_down(touch)

    def on_touch_up(self, touch: Any) -> bool:
        return bool(self.text) and super().on_touch_up(touch)

    def on_start(self) -> None:
        pass

    def on_snooze(self) -> None:
        pass

    def on_not_today(self) -> None:
        pass


class HomeScreen(KioskScreen):
    pass


load_kv(__file__)
