"""The kiosk's own widgets: text that fits its box, big buttons, a hold-to-stop button, a progress bar."""

from __future__ import annotations

from pathlib import Path
from typing import Any, List, Optional

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from kiosk.ui import theme

ELLIPSIS = "\u2026"
SHRINK_STEP = 0.92
"""Each try at fitting a text is this much smaller than the one before."""
SHRINK_FLOOR = 0.75
"""A text shrinks to at most this share of its size before it is shortened instead."""


class FitLabel(Label):
    """A label whose text always fits its box: it wraps at word breaks, shrinks within
    limits, and as a last resort ends with an ellipsis. It is never clipped.

    The kv sets `text` and `font_size` as usual: those are what is wanted. When they do
    not fit, the label shows a smaller size (down to `min_font_size`, by default 75% of
    the wanted one) and then fewer words; `wanted_text` keeps the whole text.
    """

    fit = BooleanProperty(True)
    """False for a label whose box grows with its text (inside a scrolling view)."""
    min_font_size = NumericProperty(0)
    """The smallest size the text may shrink to; 0 means SHRINK_FLOOR of the wanted size."""
    wanted_text = StringProperty("")
    wanted_font_size = NumericProperty(0)

    def __init__(self, **kwargs: Any) -> None:
        self._fitting = False
        self._refit = Clock.create_trigger(self._fit, -1)
        self._rendered: Any = None
        self._fit_key: Any = None
        self._fit_result: Any = None
        super().__init__(**kwargs)
        self.wanted_text, self.wanted_font_size = self.text, self.font_size
        for name in ("size", "text_size", "fit", "min_font_size", "bold", "italic", "font_name", "padding",
                     "line_height", "markup"):
            self.fbind(name, self._refit)  # each changes how much room the text takes
        self._refit()

    def on_text(self, _label: Any, text: str) -> None:
        if not self._fitting:
            self.wanted_text = text
            self._refit()

    def on_font_size(self, _label: Any, size: float) -> None:
        if not self._fitting:
            self.wanted_font_size = size
            self._refit()

    def room(self) -> List[float]:
        """The width and height the text may fill."""
        width = self.text_size[0] if self.text_size[0] is not None else self.width
        left, top, right, bottom = self.padding
        return [width - left - right, self.height - top - bottom]

    def texture_update(self, *args: Any) -> None:
        """Render, unless a fit is about to (it renders what will show) or nothing changed.

        The session screen sets every text again each frame; a shortened caption would
        otherwise be measured and drawn anew 60 times a second.
        """
        if self.fit and not self._fitting and self._refit.is_triggered:
            return
        key = (self._label.text, repr(self._label.options), repr(self._label.usersize))
        if key == self._rendered and self.texture is not None:
            return
        super().texture_update(*args)
        self._rendered = key

    def fits(self) -> bool:
        """Does the text as now rendered fit its room, with no word broken in the middle?"""
        width, height = self.room()
        self.texture_update()
        if self.texture_size[1] > height + 0.5:
            return False
        if self.text_size[0] is None:
            return self.texture_size[0] <= width + 0.5
        core = self._label
        return all(core.get_extents(word)[0] <= width + 0.5 for word in self.text.split())

    def _fit(self, *_args: Any) -> None:
        if not self.fit or self._fitting or self.width <= 1 or self.height <= 1:
            return
        key = (self.wanted_text, self.wanted_font_size, self.min_font_size, tuple(self.room()), self.bold,
               self.italic, self.font_name, self.markup, tuple(self.text_size), self.line_height)
        self._fitting = True
        try:
            if key == self._fit_key:
                self.text, self.font_size = self._fit_result  # fitted before: the same answer
            else:
                self._fit_text()
                self._fit_key, self._fit_result = key, (self.text, self.font_size)
        finally:
            self._fitting = False
        self._trigger_texture.cancel()
        self.texture_update()  # what shows is the fitted text (free when it was the last drawn)

    def _fit_text(self) -> None:
        text, wanted = self.wanted_text, self.wanted_font_size
        self.text, self.font_size = text, wanted
        if not text.strip() or self.fits():
            return
        least = self.min_font_size or wanted * SHRINK_FLOOR
        size = wanted
        while size > least:
            size = max(least, size * SHRINK_STEP)
            self.font_size = size
            if self.fits():
                return
        if self.markup:
            return  # shortening would cut through the markup: only shrinking applies
        words = text.split(" ")
        low, high = 0, len(words) - 1  # the most words that fit, followed by an ellipsis
        while low < high:
            middle = (low + high + 1) // 2
            self.text = _shortened(words, middle)
            if self.fits():
                low = middle
            else:
                high = middle - 1
        if low > 0:
            self.text = _shortened(words, low)
            return
        # Not even one word fits at the smallest size: a word is never cut, so it shrinks on.
        self.text = text if len(words) == 1 else _shortened(words, 1)
        while not self.fits() and self.font_size > 6:
            self.font_size = self.font_size * SHRINK_STEP


def _shortened(words: List[str], count: int) -> str:
    return " ".join(words[:count]).rstrip(" ,.;:-\u00b7") + ELLIPSIS


class KLabel(FitLabel):
    """Text in the kiosk's colours; wraps inside its width and always fits its box."""


class KButton(ButtonBehavior, FitLabel):
    """A large, high-contrast button; never smaller than the 80-pixel touch target."""

    background = ColorProperty(theme.BUTTON)
    background_pressed = ColorProperty(theme.BUTTON_PRESSED)
    scale = NumericProperty(1.0)
    selected = BooleanProperty(False)


class HoldButton(KButton):
    """A button that acts on a tap (`on_release`) and, held for `hold_s`, on `on_hold`.

    Stop uses it: a tap asks for confirmation, a long press stops at once, so a brush of
    the hand can never end a session by itself.
    """

    hold_s = NumericProperty(1.0)
    hold_progress = NumericProperty(0.0)
    __events__ = ("on_hold",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._held_since: Optional[float] = None
        self._event: Any = None
        self._fired = False

    def on_touch_down(self, touch: Any) -> bool:
        handled = super().on_touch_down(touch)
        if handled and self.collide_point(*touch.pos):
            self._held_since = Clock.get_time()
            self._fired = False
            self._event = Clock.schedule_interval(self._grow, 1 / 30)
        return handled

    def _grow(self, _dt: float) -> None:
        if self._held_since is None:
            return
        self.hold_progress = min(1.0, (Clock.get_time() - self._held_since) / self.hold_s)
        if self.hold_progress >= 1.0 and not self._fired:
            self._fired = True
            self.dispatch("on_hold")

    def on_touch_up(self, touch: Any) -> bool:
        if self._event is not None:
            self._event.cancel()
            self._event = None
        self._held_since = None
        self.hold_progress = 0.0
        if self._fired and touch.grab_current is self:
            touch.ungrab(self)
            self.state = "normal"
            return True
        return super().on_touch_up(touch)

    def on_hold(self) -> None:
        pass


class KProgressBar(Widget):
    progress = NumericProperty(0.0)
    track_color = ColorProperty(theme.TRACK)
    fill_color = ColorProperty(theme.PRIMARY)


Builder.load_file(str(Path(__file__).with_name("widgets.kv")))
