"""Home: the one big Start button, today's state and the streaks, the way to everything else."""

from __future__ import annotations

from kivy.properties import NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

from kiosk.ui.screens.base import KioskScreen, load_kv


class StartButton(ButtonBehavior, BoxLayout):
    """Start, and what it plays: two texts that each fit, in one big button."""

    scale = NumericProperty(1.0)
    title = StringProperty("Start")
    detail = StringProperty("")


class HomeScreen(KioskScreen):
    pass


load_kv(__file__)
