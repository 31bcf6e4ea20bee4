"""The Streaks screen's drawings: the day grid and the pain chart."""

from __future__ import annotations

import datetime as dt
from typing import Any, List, Tuple

from kivy.graphics import Color, Line, Rectangle, RoundedRectangle
from kivy.properties import ListProperty, ObjectProperty
from kivy.uix.widget import Widget

from kiosk.ui import theme


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
