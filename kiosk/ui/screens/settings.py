"""Settings, by touch alone: every value is changed with big - and + or tap-to-cycle buttons."""

from __future__ import annotations

from typing import Any, List

from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.config import RULES
from kiosk.ui.screens.base import KioskScreen, load_kv
from kiosk.ui.screens.exercise_files import problems_summary


ENGINE_NAMES = {"pyttsx3": "Standard (espeak-ng)", "piper": "Natural (Piper)"}


def cycled(options: List[str], current: str) -> str:
    if not options:
        return current
    index = options.index(current) if current in options else -1
    return options[(index + 1) % len(options)]


class SettingRow(BoxLayout):
    """One setting: its name, its value, and the buttons the kv puts inside the row.

    Landscape has the three side by side; portrait puts the name on a line of its own,
    above the value and the buttons, so that neither is squeezed into a narrow column.
    """

    label = StringProperty("")
    value = StringProperty("")
    scale = NumericProperty(1.0)
    portrait = BooleanProperty(False)

    def add_widget(self, widget: Any, *args: Any, **kwargs: Any) -> None:
        """The buttons a row is given in the kv go to its controls, beside the value (once the
        row's own rule has made them: until then its own children are being added)."""
        if "controls" in self.ids:
            self.ids.controls.add_widget(widget, *args, **kwargs)
        else:
            super().add_widget(widget, *args, **kwargs)


class SettingsScreen(KioskScreen):
    def step(self, name: str, direction: int) -> None:
        if self.controller.touched():
            current = getattr(self.controller.settings, name)
            self.controller.change_setting(name, RULES[name].stepped(current, direction))

    def toggle(self, name: str) -> None:
        if self.controller.touched():
            self.controller.change_setting(name, not getattr(self.controller.settings, name))

    def next_choice(self, name: str) -> None:
        if self.controller.touched():
            current = getattr(self.controller.settings, name)
            self.controller.change_setting(name, cycled(list(RULES[name].choices), current))

    def next_default_routine(self) -> None:
        if not self.controller.touched():
            return
        choices = list(self.controller.routine_choices)
        current = self.controller.default_routine()
        self.controller.change_setting("default_routine", cycled(choices, current.id if current else ""))

    @staticmethod
    def engine_text(settings: Any, piper_in_use: bool) -> str:
        """The engine chosen; with Piper chosen but not speaking (see the notice), says so."""
        shown = ENGINE_NAMES.get(settings.voice_engine, settings.voice_engine)
        if settings.voice and settings.voice_engine == "piper" and not piper_in_use:
            return f"{shown}: unavailable"
        return shown

    @staticmethod
    def routine_name(controller: Any) -> str:
        routine = controller.default_routine()
        return routine.name if routine else "none"

    @staticmethod
    def exercise_files_text(controller: Any) -> str:
        """The Exercise files button: how many problems the library's files have."""
        return "Exercise files: " + problems_summary(controller.library.problems)


load_kv(__file__)
