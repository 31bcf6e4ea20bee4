"""Done: well done, what it did to the streak, and a one-tap pain rating."""

from __future__ import annotations

from typing import Any

from kiosk.ui.screens.base import KioskScreen, load_kv
from kiosk.ui.widgets import KButton


class PainButton(KButton):
    """One of 0-10; lit when it is the rating saved for this session."""

    def __init__(self, value: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.value = value
        self.text = str(value)


class DoneScreen(KioskScreen):
    def on_kv_post(self, _base: Any) -> None:
        for value in range(11):
            button = PainButton(value)
            button.bind(on_release=self._rate)
            self.ids.pain_buttons.add_widget(button)
        self._refresh_buttons()

    def on_controller(self, _screen: Any, controller: Any) -> None:
        if controller is not None:
            controller.bind(pain=self._refresh_buttons, scale=self._refresh_buttons)
            self._refresh_buttons()

    def _refresh_buttons(self, *_args: Any) -> None:
        if self.controller is None or "pain_buttons" not in self.ids:
            return
        for button in self.ids.pain_buttons.children:
            button.scale = self.controller.scale
            button.selected = self.controller.pain == button.value

    def _rate(self, button: PainButton) -> None:
        if self.controller.touched():
            self.controller.rate_pain(button.value)


load_kv(__file__)
