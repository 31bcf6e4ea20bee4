"""Routines: every routine with its length and first picture; a tap starts it."""

from __future__ import annotations

from typing import Any, Dict, List

from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

from .base import KioskScreen, load_kv


class RoutineTile(ButtonBehavior, BoxLayout):
    controller = ObjectProperty(None)
    routine_id = StringProperty("")
    name = StringProperty("")
    description = StringProperty("")
    length = StringProperty("")
    image = StringProperty("")
    is_default = BooleanProperty(False)

    def on_release(self) -> None:
        if self.controller is not None and self.controller.touched():
            self.controller.start(self.routine_id)


class RoutinesScreen(KioskScreen):
    def on_controller(self, _screen: Any, controller: Any) -> None:
        if controller is not None:
            controller.bind(routines=self._fill)
            self._fill(controller, controller.routines)

    def _fill(self, _controller: Any, rows: List[Dict[str, Any]]) -> None:
        if "tiles" not in self.ids:
            return
        tiles = self.ids.tiles
        tiles.clear_widgets()
        for row in rows:
            tiles.add_widget(RoutineTile(controller=self.controller, **row))

    def on_kv_post(self, _base: Any) -> None:
        if self.controller is not None:
            self._fill(self.controller, self.controller.routines)


load_kv(__file__)
