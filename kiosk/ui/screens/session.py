"""Session: what to do now, how long is left, and thumb-sized controls."""

from __future__ import annotations

from typing import Any

from kivy.properties import ObjectProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.ui.screens.base import KioskScreen, load_kv


class StopDialog(BoxLayout):
    """'Stop the session?' over the whole screen; it swallows every touch outside its buttons."""

    controller = ObjectProperty(None)

    def on_touch_down(self, touch: Any) -> bool:
        super().on_touch_down(touch)
        return self.collide_point(*touch.pos)


class SessionScreen(KioskScreen):
    """Landscape: the picture with the words under it beside the countdown. Portrait: the
    picture, the countdown, then the words, with the controls at the bottom."""

    def on_kv_post(self, _base: Any) -> None:
        if self.controller is not None:
            self._arrange(self.controller, self.controller.portrait)

    def on_controller(self, _screen: Any, controller: Any) -> None:
        if controller is not None:
            controller.bind(confirm_stop=self._show_confirmation, portrait=self._arrange)
            self._arrange(controller, controller.portrait)

    def _arrange(self, _controller: Any, portrait: bool) -> None:
        words = self.ids.get("words")
        if words is None:
            return
        home = self.ids.middle if portrait else self.ids.picture_column
        if words.parent is not home:
            words.parent.remove_widget(words)
            home.add_widget(words, index=0)  # last: under the countdown, or under the picture

    def _show_confirmation(self, _controller: Any, asking: bool) -> None:
        """The stop question covers the controls, so only its own two buttons can be hit."""
        dialog = self.ids.get("stop_dialog_holder")
        if dialog is None:
            return
        dialog.clear_widgets()
        if asking:
            dialog.add_widget(StopDialog(controller=self.controller))


load_kv(__file__)
