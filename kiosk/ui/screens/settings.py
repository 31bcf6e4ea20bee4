"""Settings, by touch alone: every value is changed with big - and + or tap-to-cycle buttons."""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

from ...streaks import WEEKDAYS
from .base import KioskScreen, load_kv

STEPS: Dict[str, Tuple[float, float, float]] = {
    "volume": (0.1, 0.0, 1.0),
    "speech_rate": (20, 80, 300),
    "weekly_goal": (1, 1, 7),
}
"""Setting -> (step, lowest, highest) for the - and + buttons."""


def stepped(name: str, value: float, direction: int) -> float:
    step, lowest, highest = STEPS[name]
    moved = min(highest, max(lowest, value + direction * step))
    return round(moved, 2) if isinstance(step, float) else int(moved)


def cycled(options: List[str], current: str) -> str:
    if not options:
        return current
    index = options.index(current) if current in options else -1
    return options[(index + 1) % len(options)]


class SettingsScreen(KioskScreen):
    def step(self, name: str, direction: int) -> None:
        if self.controller.touched():
            self.controller.change_setting(name, stepped(name, getattr(self.controller.settings, name), direction))

    def toggle(self, name: str) -> None:
        if self.controller.touched():
            self.controller.change_setting(name, not getattr(self.controller.settings, name))

    def next_week_start(self) -> None:
        if self.controller.touched():
            self.controller.change_setting("week_start", cycled(list(WEEKDAYS), self.controller.settings.week_start))

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
