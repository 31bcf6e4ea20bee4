"""The Streaks screen's drawings: the day grid, the pain by week, and this week's goal bar.

The grid and the pain chart split their height the same way (a head band, then one band
per week), so side by side at the same height they read as one table: the week's date
on the left of its row, its days, then its pain. Their words are child `KLabel`s, so
they fit their boxes like every other label and can be found in the widget tree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, List, Sequence, Tuple

from kivy.clock import Clock
from kivy.core.text import Label as CoreLabel
from kivy.graphics import Color, Line, Rectangle, RoundedRectangle
from kivy.properties import ListProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.widget import Widget

from kiosk.core.streaks import DAYS_PER_WEEK
from kiosk.ui import theme
from kiosk.ui.viewdata import PAIN_MAX, WeekRow
from kiosk.ui.widgets import KLabel

Band = Tuple[float, float]
"""(bottom, height) of a horizontal strip of a chart."""
Box = Tuple[float, float, float, float]
"""(x, y, width, height)."""


def row_bands(bottom: float, height: float, rows: int) -> Tuple[Band, List[Band]]:
    """The head band at the top and one band per row under it, all of one height, so two
    charts with as many rows and the same height line up row for row."""
    band = height / (rows + 1)
    top = bottom + height
    return (top - band, band), [(top - band * (row + 2), band) for row in range(rows)]


def text_width(text: str, font_size: float, bold: bool = False) -> float:
    """The width `text` takes at `font_size`, so a column can be made as wide as its words."""
    return float(CoreLabel(font_size=font_size, bold=bold).get_extents(text)[0]) if text else 0.0


class ChartLabels(List[KLabel]):
    """The KLabels a chart owns, as a list: made, kept and dropped to match a list of texts."""

    def __init__(self, owner: Widget, **style: Any) -> None:
        super().__init__()
        self.owner = owner
        self.style = style

    def show(self, texts: Sequence[str], font_size: float, min_font_size: float) -> List[KLabel]:
        while len(self) > len(texts):
            self.owner.remove_widget(self.pop())
        while len(self) < len(texts):
            label = KLabel(**self.style)
            self.append(label)
            self.owner.add_widget(label)
        for label, text in zip(self, texts):
            label.text = text
            label.font_size = font_size
            label.min_font_size = min_font_size
        return list(self)


def place(label: KLabel, box: Box) -> None:
    x, y, width, height = box
    label.pos = (x, y)
    label.size = (max(1.0, width), max(1.0, height))


class Chart(Widget):
    """What the drawings share: the size of their words, and one redraw before the next frame for any change."""

    font_size = NumericProperty(20)
    min_font_size = NumericProperty(18)
    """Words on the chart never shrink below this (18 px at 800x480, so read across the room)."""

    def __init__(self, **kwargs: Any) -> None:
        self._redraw_soon = Clock.create_trigger(lambda _dt: self.redraw(), -1)
        super().__init__(**kwargs)
        self.fbind("pos", self._redraw_soon)
        self.fbind("size", self._redraw_soon)
        self.fbind("font_size", self._redraw_soon)
        self.fbind("min_font_size", self._redraw_soon)
        self._redraw_soon()

    def redraw(self) -> None:
        raise NotImplementedError


class DayGrid(Chart):
    """The last weeks as rows of seven cells, filled when a session was completed that day.

    A head of weekday initials; each row starts with the date its week starts on. Today is
    outlined; the days after it are only outlined, not yet lived.
    """

    weeks = ListProperty([])
    """WeekRow records, oldest first."""
    initials = ListProperty([])
    """The seven column heads, the configured first day of the week first."""
    today = ObjectProperty(None, allownone=True)

    def __init__(self, **kwargs: Any) -> None:
        self.head_labels = ChartLabels(self, color=theme.MUTED, bold=True)
        """The weekday initials, left to right."""
        self.date_labels = ChartLabels(self, color=theme.MUTED, halign="right")
        """The weeks' first days, oldest (top) first."""
        self._cells: List[Tuple[dt.date, bool, Box]] = []
        super().__init__(**kwargs)
        self.fbind("weeks", self._redraw_soon)
        self.fbind("initials", self._redraw_soon)
        self.fbind("today", self._redraw_soon)

    def cell_rects(self) -> List[Tuple[dt.date, bool, Box]]:
        """(day, done, box) of every cell as last drawn."""
        return list(self._cells)

    def redraw(self) -> None:
        weeks: List[WeekRow] = list(self.weeks)
        self.canvas.before.clear()
        heads = self.head_labels.show(list(self.initials) if weeks else [], self.font_size, self.min_font_size)
        dates = self.date_labels.show([week.label for week in weeks], self.font_size, self.min_font_size)
        self._cells = []
        if not weeks:
            return
        gap = max(2.0, self.font_size * 0.15)
        date_width = min(self.width * 0.4, max(text_width(week.label, self.font_size) for week in weeks) + 2 * gap)
        left = self.x + date_width + gap
        column = (self.right - left) / DAYS_PER_WEEK
        (head_y, band), bands = row_bands(self.y, self.height, len(weeks))
        side = max(2.0, min(column, band) - gap)
        for index, label in enumerate(heads):
            place(label, (left + index * column, head_y, column, band))
        for week, label, (row_y, _band) in zip(weeks, dates, bands):
            place(label, (self.x, row_y, date_width, band))
            for index, done in enumerate(week.days):
                x = left + index * column + (column - side) / 2
                y = row_y + (band - side) / 2
                self._cells.append((week.start + dt.timedelta(days=index), bool(done), (x, y, side, side)))
        with self.canvas.before:
            for day, done, (x, y, w, h) in self._cells:
                if self.today is not None and day > self.today:
                    Color(*theme.EMPTY_DAY)
                    Line(rounded_rectangle=(x + 1, y + 1, w - 2, h - 2, w * 0.18), width=1)
                    continue
                Color(*(theme.DONE_DAY if done else theme.EMPTY_DAY))
                RoundedRectangle(pos=(x, y), size=(w, h), radius=[w * 0.18])
                if day == self.today:
                    Color(*theme.ACCENT)
                    Line(rounded_rectangle=(x - 1, y - 1, w + 2, h + 2, w * 0.2), width=max(1.5, w * 0.08))


class PainChart(Chart):
    """Pain per week on a 0-10 scale: one bar per rated week, its value written after it.

    The head carries the scale (0, 5, 10) over guide lines; weeks without ratings are
    empty rows, so even a single rating is a labelled bar against the whole scale.
    """

    weeks = ListProperty([])
    """WeekRow records, oldest first: the rows of the DayGrid beside it."""
    empty_text = StringProperty("")
    """Shown across the rows when no week has a rating."""

    SCALE = (0, PAIN_MAX // 2, PAIN_MAX)

    def __init__(self, **kwargs: Any) -> None:
        self.scale_labels = ChartLabels(self, color=theme.MUTED)
        """0, 5 and 10 over the guide lines."""
        self.value_labels = ChartLabels(self, color=theme.TEXT, halign="left", bold=True)
        """One per rated week, oldest first, each after its bar."""
        self.empty_labels = ChartLabels(self, color=theme.MUTED)
        self._bars: List[Tuple[float, Box]] = []
        super().__init__(**kwargs)
        self.fbind("weeks", self._redraw_soon)
        self.fbind("empty_text", self._redraw_soon)

    def bars(self) -> List[Tuple[float, Box]]:
        """(value, box) of every bar as last drawn, oldest first."""
        return list(self._bars)

    def track(self) -> Tuple[float, float]:
        """The x of 0 and of 10 on the scale."""
        widest_value = max([text_width(week.pain_text, self.font_size, bold=True) for week in self.weeks]
                           + [text_width(str(PAIN_MAX), self.font_size, bold=True)])
        gap = max(2.0, self.font_size * 0.3)
        zero = self.x + text_width("0", self.font_size) / 2 + gap
        return zero, max(zero + 1, self.right - widest_value - 2 * gap)

    def redraw(self) -> None:
        weeks: List[WeekRow] = list(self.weeks)
        rated = [(row, week.pain, week.pain_text) for row, week in enumerate(weeks) if week.pain is not None]
        self.canvas.before.clear()
        self._bars = []
        scale = self.scale_labels.show([str(mark) for mark in self.SCALE] if weeks else [],
                                       self.font_size, self.min_font_size)
        shown = self.value_labels.show([text for _row, _pain, text in rated], self.font_size, self.min_font_size)
        empty = self.empty_labels.show([self.empty_text] if weeks and not rated and self.empty_text else [],
                                       self.font_size, self.min_font_size)
        if not weeks:
            return
        (head_y, band), bands = row_bands(self.y, self.height, len(weeks))
        zero, ten = self.track()
        gap = max(2.0, self.font_size * 0.3)
        for mark, label in zip(self.SCALE, scale):
            width = text_width(label.text, self.font_size) + gap
            place(label, (zero + (ten - zero) * mark / PAIN_MAX - width / 2, head_y, width, band))
        for label in empty:
            place(label, (self.x, self.y, self.width, head_y - self.y))
        thickness = band * 0.55
        for (row, pain, _text), label in zip(rated, shown):
            row_y = bands[row][0]
            end = zero + max(thickness * 0.25, (ten - zero) * min(max(pain, 0.0), PAIN_MAX) / PAIN_MAX)
            self._bars.append((pain, (zero, row_y + (band - thickness) / 2, end - zero, thickness)))
            place(label, (end + gap, row_y, self.right - end - gap, band))
        with self.canvas.before:
            Color(*theme.TRACK)
            for mark in self.SCALE:
                x = zero + (ten - zero) * mark / PAIN_MAX
                Rectangle(pos=(x - 0.5, self.y), size=(1.5, head_y - self.y))
            Color(*theme.ACCENT)
            for _value, (x, y, w, h) in self._bars:
                RoundedRectangle(pos=(x, y), size=(w, h), radius=[min(h, w) * 0.3])


class GoalBar(Chart):
    """This week against the goal: one segment per day of the goal, filled for each day done."""

    done = NumericProperty(0)
    goal = NumericProperty(0)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fbind("done", self._redraw_soon)
        self.fbind("goal", self._redraw_soon)

    def segments(self) -> List[Tuple[bool, Box]]:
        """(filled, box) of each segment, left to right."""
        goal = int(self.goal)
        if goal <= 0:
            return []
        gap = max(2.0, self.height * 0.25)
        width = (self.width - gap * (goal - 1)) / goal
        return [(index < self.done, (self.x + index * (width + gap), self.y, width, self.height))
                for index in range(goal)]

    def redraw(self) -> None:
        self.canvas.before.clear()
        with self.canvas.before:
            for filled, (x, y, w, h) in self.segments():
                Color(*(theme.DONE_DAY if filled else theme.TRACK))
                RoundedRectangle(pos=(x, y), size=(w, h), radius=[h * 0.3])
                if not filled:
                    Color(*theme.MUTED)
                    Line(rounded_rectangle=(x, y, w, h, h * 0.3), width=1)
