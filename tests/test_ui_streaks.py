"""The Streaks screen in a real window: what its grid, bars and figures say, read from the widget tree."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, Tuple

import pytest
from factories import make_record
from kivy_harness import Kiosk, visible  # noqa: I001  (configures Kivy before anything imports it)
from layout_rules import everything_wrong, shown_labels
from test_ui_screens import TODAY, seed_log, show

from kiosk.config import Settings
from kiosk.core.model import SessionRecord
from kiosk.sessionlog.store import SessionLog
from kiosk.ui.viewdata import IN_A_ROW, day_month

MONDAY = TODAY - dt.timedelta(days=TODAY.weekday())
READABLE_PX = 18
"""No word on the screen is smaller than this at 800x480 (times the scale on a larger screen)."""


def write_log(data_dir: Path, records: Sequence[SessionRecord]) -> None:
    with SessionLog.open(data_dir) as log:
        log.import_records(list(records))


@pytest.fixture
def streaks_at(shipped_library, tmp_path: Path) -> Iterator:
    """Open the Streaks screen on a log of these sessions, with these settings, at this size."""
    made: List[Kiosk] = []

    def make(records: Optional[Sequence[SessionRecord]] = None, *, settings: Optional[Settings] = None,
             size: Tuple[int, int] = (800, 480)) -> Kiosk:
        data_dir = tmp_path / f"data-{len(made)}"
        if records is None:
            seed_log(data_dir)
        else:
            write_log(data_dir, records)
        kiosk = Kiosk(shipped_library, data_dir, settings=settings, size=size, today=TODAY)
        made.append(kiosk)
        show(kiosk, "streaks")
        kiosk.until_laid_out(kiosk.root)
        return kiosk

    yield make
    for kiosk in made:
        kiosk.close()


def left_to_right(labels: Sequence) -> List[str]:
    return [label.text for label in sorted(labels, key=lambda label: label.center_x)]


def top_to_bottom(labels: Sequence) -> List[str]:
    return [label.text for label in sorted(labels, key=lambda label: -label.center_y)]


@pytest.mark.parametrize(("week_start", "heads"), [("monday", "MTWTFSS"), ("sunday", "SMTWTFS"),
                                                   ("saturday", "SSMTWTF")])
def test_the_grid_is_headed_by_weekday_initials_from_the_first_day_of_the_week(
        streaks_at, week_start: str, heads: str) -> None:
    kiosk = streaks_at(settings=Settings(week_start=week_start))
    grid = kiosk.widget("streaks", "day_grid")
    assert left_to_right(grid.head_labels) == list(heads)
    assert all(visible(label) for label in grid.head_labels)


@pytest.mark.parametrize(("week_start", "last_row", "first_row"), [("monday", "23 Nov", "7 Sep"),
                                                                   ("sunday", "22 Nov", "6 Sep")])
def test_each_row_is_labelled_with_the_date_its_week_starts(
        streaks_at, week_start: str, last_row: str, first_row: str) -> None:
    kiosk = streaks_at(settings=Settings(week_start=week_start))
    grid = kiosk.widget("streaks", "day_grid")
    dates = top_to_bottom(grid.date_labels)
    assert dates == [day_month(week.start) for week in kiosk.controller.stats.weeks]
    assert (dates[0], dates[-1]) == (first_row, last_row)
    rows = sorted({round(y + h / 2) for _day, _done, (_x, y, _w, h) in grid.cell_rects()}, reverse=True)
    assert [round(label.center_y) for label in sorted(grid.date_labels, key=lambda label: -label.center_y)] == rows


def test_changing_the_first_day_of_the_week_turns_the_grid_at_once(streaks_at) -> None:
    kiosk = streaks_at()
    kiosk.controller.change_setting("week_start", "sunday")
    kiosk.frames(2)
    grid = kiosk.widget("streaks", "day_grid")
    assert left_to_right(grid.head_labels) == list("SMTWTFS")
    assert top_to_bottom(grid.date_labels)[-1] == "22 Nov"


def test_today_is_the_outlined_cell_under_its_weekday(streaks_at) -> None:
    kiosk = streaks_at([make_record(MONDAY), make_record(TODAY)])
    grid = kiosk.widget("streaks", "day_grid")
    today_cell = [box for day, _done, box in grid.cell_rects() if day == TODAY]
    assert len(today_cell) == 1
    x, _y, w, _h = today_cell[0]
    thursday = sorted(grid.head_labels, key=lambda label: label.center_x)[TODAY.weekday()]
    assert thursday.text == "T" and abs(thursday.center_x - (x + w / 2)) < 1
    done = sorted(day for day, done, _box in grid.cell_rects() if done)
    assert done == [MONDAY, TODAY]


def test_this_week_shows_days_done_against_the_goal_as_a_bar(streaks_at) -> None:
    kiosk = streaks_at([make_record(MONDAY), make_record(MONDAY + dt.timedelta(days=1))],
                       settings=Settings(weekly_goal=5))
    figure = kiosk.widget("streaks", "this_week")
    assert figure.value == "2 of 5"
    assert figure.label == "days this week"
    assert "2 of 5" in [label.text for label in shown_labels(figure)]
    segments = figure.ids.goal_bar.segments()
    assert [filled for filled, _box in segments] == [True, True, False, False, False]
    assert visible(figure.ids.goal_bar)


def test_a_single_pain_rating_is_a_labelled_bar_on_the_0_to_10_scale(streaks_at) -> None:
    kiosk = streaks_at([make_record(MONDAY - dt.timedelta(days=7), pain=3), make_record(TODAY)])
    chart = kiosk.widget("streaks", "pain_chart")
    scale = kiosk.controller.scale
    assert left_to_right(chart.scale_labels) == ["0", "5", "10"]
    assert [label.text for label in chart.value_labels] == ["3"]
    value = chart.value_labels[0]
    assert visible(value) and value.font_size >= READABLE_PX * scale
    (bar_value, (x, y, w, h)), = chart.bars()
    zero, ten = chart.track()
    assert bar_value == 3 and x == pytest.approx(zero) and w == pytest.approx((ten - zero) * 0.3)
    assert value.x >= x + w  # written after the bar, not over it
    grid = kiosk.widget("streaks", "day_grid")
    week_label = next(label for label in grid.date_labels if label.text == day_month(MONDAY - dt.timedelta(days=7)))
    assert abs(week_label.center_y - (y + h / 2)) < 1 and abs(value.center_y - week_label.center_y) < 1
    assert kiosk.widget("streaks", "pain_title").text == "Pain, week average"


def test_without_ratings_the_pain_chart_says_none_were_given(streaks_at) -> None:
    kiosk = streaks_at([make_record(TODAY)])
    chart = kiosk.widget("streaks", "pain_chart")
    assert chart.bars() == [] and chart.value_labels == []
    assert [label.text for label in chart.empty_labels] == ["No pain rated yet"]
    assert visible(chart.empty_labels[0])
    assert kiosk.widget("streaks", "pain_now").value == "–"


def test_every_figure_is_named_for_what_it_is(streaks_at) -> None:
    kiosk = streaks_at()
    names = {figure_id: (kiosk.widget("streaks", figure_id).value, kiosk.widget("streaks", figure_id).label)
             for figure_id in ("current_daily", "longest_daily", "current_weekly", "longest_weekly", "pain_now")}
    stats = kiosk.controller.stats
    assert names == {
        "current_daily": (str(stats.current_daily_streak), f"days {IN_A_ROW}"),
        "longest_daily": (str(stats.longest_daily_streak), f"most days {IN_A_ROW}"),
        "current_weekly": (str(stats.current_weekly_streak), f"weeks on goal {IN_A_ROW}"),
        "longest_weekly": (str(stats.longest_weekly_streak), f"most weeks on goal {IN_A_ROW}"),
        "pain_now": ("1/10", "last pain rating, Fri 20 Nov"),  # seed_log's newest rating, not a week's mean
    }
    assert kiosk.widget("streaks", "grid_title").text == "Days done, last 12 weeks"


def test_a_rating_given_on_the_done_screen_is_the_last_rating_shown(streaks_at) -> None:
    """Rated 4 like Monday: the week's mean and every figure stay as they were, yet "last rated" moves."""
    kiosk = streaks_at([make_record(MONDAY, pain=4)])
    assert kiosk.widget("streaks", "pain_now").label == "last pain rating, Mon 23 Nov"
    kiosk.controller.go("home")
    kiosk.advance(2)
    show(kiosk, "done")
    four = next(button for button in kiosk.widget("done", "pain_buttons").children if button.value == 4)
    kiosk.tap(four)
    kiosk.settle()
    kiosk.advance(2)
    show(kiosk, "streaks")
    figure = kiosk.widget("streaks", "pain_now")
    assert (figure.value, figure.label) == ("4/10", "last pain rating, today")
    assert [label.text for label in kiosk.widget("streaks", "pain_chart").value_labels] == ["4"]


@pytest.mark.parametrize("size", [(800, 480), (480, 800), (1920, 1080)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_word_fits_and_is_readable_across_the_room(streaks_at, size: Tuple[int, int]) -> None:
    kiosk = streaks_at(size=size)
    screen = kiosk.screen("streaks")
    scale = kiosk.controller.scale
    assert everything_wrong(screen, kiosk.window, scale=scale) == []
    small = [(label.text, label.font_size) for label in shown_labels(screen) if label.font_size < READABLE_PX * scale]
    assert small == []
    grid, chart = kiosk.widget("streaks", "day_grid"), kiosk.widget("streaks", "pain_chart")
    assert len(grid.date_labels) == 12 and len(grid.head_labels) == 7 and chart.value_labels
    kiosk.screenshot(f"streaks-test-{size[0]}x{size[1]}")


@pytest.mark.parametrize(("size", "portrait"), [((800, 480), False), ((480, 800), True)])
def test_portrait_stacks_the_figures_over_the_grid(streaks_at, size: Tuple[int, int], portrait: bool) -> None:
    kiosk = streaks_at(size=size)
    assert kiosk.controller.portrait is portrait
    figures, table = kiosk.widget("streaks", "figures"), kiosk.widget("streaks", "table")
    if portrait:
        assert figures.y >= table.top and figures.width == pytest.approx(table.width)
    else:
        assert figures.right <= table.x and figures.height == pytest.approx(table.height)


@pytest.mark.parametrize("size", [(800, 480), (480, 800)], ids=["landscape", "portrait"])
def test_in_a_home_of_several_screens_streaks_says_where_the_last_session_was_done(streaks_at, size) -> None:
    from dataclasses import replace

    older = replace(make_record(TODAY - dt.timedelta(days=1)), screen="Living room")
    newest = replace(make_record(TODAY), screen="Bedroom")
    kiosk = streaks_at([older, newest], size=size)
    label = kiosk.widget("streaks", "last_session")
    assert label.text == "Last session: today, Bedroom" and visible(label)
    assert everything_wrong(kiosk.root, kiosk.window, scale=kiosk.controller.scale) == []


def test_a_home_with_one_screen_shows_no_last_session_line(streaks_at) -> None:
    kiosk = streaks_at([make_record(TODAY)])
    label = kiosk.widget("streaks", "last_session")
    assert label.text == "" and label.height == 0
