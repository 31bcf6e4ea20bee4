"""Settings, by touch alone: every value is changed with big - and + or tap-to-cycle buttons."""

from __future__ import annotations

from typing import Any, List

from kiosk.config import RULES
from kiosk.ui.screens.base import KioskScreen, load_kv


def cycled(options: List[str], current: str) -> str:
    if not options:
        return current
    index = options.index(current) if current in options else -1
    return options[(index + 1) % len(options)]


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
    def routine_name(controller: Any) -> str:
        routine = controller.default_routine()
        return routine.name if routine else "none"


load_kv(__file__)
