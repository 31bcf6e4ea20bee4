"""Routines: every routine with its length and first picture; a tap starts it."""

from __future__ import annotations

from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

from kiosk.ui.screens.base import KioskScreen, load_kv


class RoutineTile(ButtonBehavior, BoxLayout):
    """One row of the RecycleView: its fields come from the controller's `routines` data."""

    controller = ObjectProperty(None, allownone=True)
    scale = NumericProperty(1.0)
    routine_id = StringProperty("")
    name = StringProperty("")
    description = StringProperty("")
    length = StringProperty("")
    image = StringProperty("")
    is_default = BooleanProperty(False)

    def on_release(self) -> None:
        if self.controller is not None and self.controller.touched_to_start():
            self.controller.start(self.routine_id)


class RoutinesScreen(KioskScreen):
    pass


load_kv(__file__)
