"""Streaks: the figures of `kiosk stats`, the last weeks day by day, and pain over time."""

from __future__ import annotations

from kiosk.ui import charts  # noqa: F401  (registers DayGrid and PainChart with the kv language)
from kiosk.ui.screens.base import KioskScreen, load_kv


class StreaksScreen(KioskScreen):
    pass


load_kv(__file__)
