"""The kiosk's own widgets: big buttons, a hold-to-stop button, a progress bar, the day grid."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, List, Optional, Tuple

from kivy.clock import Clock
from kivy.graphics import Color, Line, Rectangle, RoundedRectangle
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ColorProperty, ListProperty, NumericProperty, ObjectProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from kiosk.ui import theme


class KLabel(Label):
    """Text in the kiosk's colours; wraps inside its width."""


class KButton(ButtonBehavior, Label):
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


class DayGrid(Widget):
    """Last weeks as rows of seven cells: filled when a session was completed that day."""

    weeks = ListProperty([])
    """[(start date, [7 booleans])], oldest first."""
    today = ObjectProperty(None, allownone=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bind(pos=self._redraw, size=self._redraw, weeks=self._redraw, today=self._redraw)

    def cell_rects(self) -> List[Tuple[dt.date, bool, Tuple[float, float, float, float]]]:
        rows = len(self.weeks)
        if not rows:
            return []
        gap = max(2.0, min(self.width, self.height) * 0.012)
        cell = min((self.width - gap * 6) / 7, (self.height - gap * (rows - 1)) / rows)
        left = self.x + (self.width - (cell * 7 + gap * 6)) / 2
        top = self.top - (self.height - (cell * rows + gap * (rows - 1))) / 2
        rects = []
        for row, (start, days) in enumerate(self.weeks):
            for column, done in enumerate(days):
                x = left + column * (cell + gap)
                y = top - (row + 1) * cell - row * gap
                rects.append((start + dt.timedelta(days=column), bool(done), (x, y, cell, cell)))
        return rects

    def _redraw(self, *_args: Any) -> None:
        self.canvas.clear()
        with self.canvas:
            for day, done, (x, y, w, h) in self.cell_rects():
                Color(*(theme.DONE_DAY if done else theme.EMPTY_DAY))
                RoundedRectangle(pos=(x, y), size=(w, h), radius=[w * 0.18])
                if day == self.today:
                    Color(*theme.ACCENT)
                    Line(rounded_rectangle=(x - 2, y - 2, w + 4, h + 4, w * 0.2), width=max(1.5, w * 0.07))


class PainChart(Widget):
    """Average pain per week (0-10) as a line with dots; weeks without ratings are gaps."""

    values = ListProperty([])
    """One float or None per week, oldest first."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bind(pos=self._redraw, size=self._redraw, values=self._redraw)

    def points(self) -> List[Tuple[float, float]]:
        count = len(self.values)
        if count == 0:
            return []
        step = self.width / max(1, count - 1)
        return [(self.x + index * step, self.y + self.height * (value / 10.0))
                for index, value in enumerate(self.values) if value is not None]

    def _redraw(self, *_args: Any) -> None:
        self.canvas.clear()
        points = self.points()
        with self.canvas:
            Color(*theme.TRACK)
            Rectangle(pos=(self.x, self.y), size=(self.width, max(1.0, self.height * 0.01)))
            if not points:
                return
            Color(*theme.ACCENT)
            if len(points) > 1:
                Line(points=[c for point in points for c in point], width=max(1.5, self.height * 0.02))
            radius = max(3.0, self.height * 0.05)
            for x, y in points:
                RoundedRectangle(pos=(x - radius, y - radius), size=(radius * 2, radius * 2), radius=[radius])


Builder.load_file(str(Path(__file__).with_name("widgets.kv")))
