"""The safety note, once, on the first start: read it, tap 'I understand', and it never returns."""

from __future__ import annotations

from kiosk.ui.screens.base import KioskScreen, load_kv


class SafetyScreen(KioskScreen):
    pass


load_kv(__file__)
