"""Streaks: the figures of `kiosk stats`, this week against the goal, the last weeks day by
day with their pain, and the last pain rating given.

The screen binds to one `StreaksView` (made by the pure `streaks_view`), remade whenever
the figures or the settings change and each time the screen comes up.
"""

from __future__ import annotations

from typing import Any

from kivy.properties import ObjectProperty

from kiosk.core.streaks import pain_history
from kiosk.ui import charts  # noqa: F401  (registers DayGrid, PainChart and GoalBar with the kv language)
from kiosk.ui.screens.base import KioskScreen, load_kv
from kiosk.ui.viewdata import StreaksView, last_session, streaks_view


class StreaksScreen(KioskScreen):
    view = ObjectProperty(streaks_view(None, (), 0), rebind=True)
    """Everything the screen shows; see `kiosk.ui.viewdata.StreaksView`."""

    def on_controller(self, _screen: Any, controller: Any) -> None:
        if controller is not None:
            controller.fbind("stats", self.refresh)
            controller.fbind("settings", self.refresh)
            self.refresh()

    def on_pre_enter(self, *_args: Any) -> None:
        self.refresh()  # a new rating that left every figure as it was still changes "last rated"

    def refresh(self, *_args: Any) -> None:
        self.view = self.make_view()

    def make_view(self) -> StreaksView:
        controller = self.controller
        stats = controller.stats
        records = controller.log_keeper.records
        ratings = pain_history(records, stats.today) if stats is not None else []
        return streaks_view(stats, ratings, controller.settings.week_start_index, last_session(records))


load_kv(__file__)
