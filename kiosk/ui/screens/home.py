"""Home: the one big Start button, today's state and the streaks, the way to everything else."""

from __future__ import annotations

from kiosk.ui.screens.base import KioskScreen, load_kv


class HomeScreen(KioskScreen):
    pass


load_kv(__file__)
