"""What the Streaks screen says, from the figures alone: no window, no Kivy."""

from __future__ import annotations

import datetime as dt
from typing import List, Optional

import pytest
from factories import make_record

from kiosk.core.model import SessionRecord
from kiosk.core.streaks import WEEKDAYS, compute_stats, pain_history
from kiosk.ui.viewdata import (
    IN_A_ROW,
    NO_VALUE,
    StreaksView,
    day_month,
    day_named,
    pain_text,
    streaks_view,
    weekday_initials,
)

TODAY = dt.date(2026, 11, 26)  # a Thursday


def rated(day: dt.date, pain: Optional[int] = None, hour: int = 9, completed: bool = True) -> SessionRecord:
    started = dt.datetime.combine(day, dt.time(hour, 0), tzinfo=dt.timezone.utc)
    return make_record(day, pain=pain, completed=completed, started=started,
                       ended=started + dt.timedelta(minutes=5))


def view_of(records: List[SessionRecord], week_start: str = "monday", goal: int = 5) -> StreaksView:
    stats = compute_stats(records, TODAY, weekly_goal=goal, week_start=week_start)
    return streaks_view(stats, pain_history(records, TODAY), WEEKDAYS.index(week_start))


@pytest.mark.parametrize(("week_start", "initials"), [
    ("monday", "MTWTFSS"), ("sunday", "SMTWTFS"), ("saturday", "SSMTWTF"), ("wednesday", "WTFSSMT"),
])
def test_the_column_heads_follow_the_first_day_of_the_week(week_start: str, initials: str) -> None:
    assert "".join(weekday_initials(WEEKDAYS.index(week_start))) == initials
    assert "".join(view_of([rated(TODAY)], week_start).weekday_initials) == initials


@pytest.mark.parametrize("week_start", WEEKDAYS)
def test_each_row_is_labelled_with_the_date_its_week_starts(week_start: str) -> None:
    view = view_of([rated(TODAY)], week_start)
    assert len(view.weeks) == 12
    for week in view.weeks:
        assert week.start.weekday() == WEEKDAYS.index(week_start)
        assert week.label == day_month(week.start)
    assert view.weeks[-1].start <= TODAY < view.weeks[-1].start + dt.timedelta(days=7)


def test_a_sunday_week_is_labelled_with_its_sunday() -> None:
    view = view_of([rated(TODAY)], "sunday")
    assert view.weeks[-1].label == "22 Nov"  # Sunday 22 November 2026 starts the week holding Thursday 26th
    assert view.weeks[0].label == "6 Sep"


def test_dates_read_as_day_and_short_month_whatever_the_locale() -> None:
    assert day_month(dt.date(2026, 9, 7)) == "7 Sep"
    assert day_month(dt.date(2027, 1, 31)) == "31 Jan"
    assert day_named(TODAY, TODAY) == "today"
    assert day_named(TODAY - dt.timedelta(days=1), TODAY) == "yesterday"
    assert day_named(dt.date(2026, 11, 20), TODAY) == "Fri 20 Nov"


def test_this_week_is_days_done_of_the_goal() -> None:
    view = view_of([rated(TODAY - dt.timedelta(days=offset)) for offset in (0, 2)], goal=4)  # Thu and Tue
    assert view.this_week.value == "2 of 4"
    assert view.this_week.name == "days this week"
    assert (view.days_done, view.weekly_goal) == (2, 4)


def test_this_week_says_when_the_goal_is_met() -> None:
    view = view_of([rated(TODAY - dt.timedelta(days=offset)) for offset in (0, 1, 2)], goal=3)
    assert view.this_week.value == "3 of 3"
    assert view.this_week.name == "days: goal met"


def test_every_figure_is_named_for_what_it_counts() -> None:
    records = [rated(TODAY - dt.timedelta(days=offset)) for offset in (0, 1, 2, 10, 11, 12, 13, 14)]
    view = view_of(records, goal=1)
    assert (view.day_streak.value, view.day_streak.name) == ("3", f"days {IN_A_ROW}")
    assert (view.best_day_streak.value, view.best_day_streak.name) == ("5", f"most days {IN_A_ROW}")
    assert (view.week_streak.value, view.week_streak.name) == ("3", f"weeks on goal {IN_A_ROW}")
    assert (view.best_week_streak.value, view.best_week_streak.name) == ("3", f"most weeks on goal {IN_A_ROW}")
    assert view.grid_title == "Days done, last 12 weeks"
    assert view.pain_title == "Pain, week average"


def test_a_single_day_or_week_is_named_in_the_singular() -> None:
    view = view_of([rated(TODAY)], goal=1)
    assert (view.day_streak.value, view.day_streak.name) == ("1", f"day {IN_A_ROW}")
    assert (view.week_streak.value, view.week_streak.name) == ("1", f"week on goal {IN_A_ROW}")


def test_a_row_stays_on_one_line_when_a_name_wraps() -> None:
    assert IN_A_ROW == "in a\u00a0row"


def test_last_pain_is_the_newest_rating_given_not_the_weeks_average() -> None:
    records = [rated(TODAY, pain=8, hour=18), rated(TODAY - dt.timedelta(days=1), pain=2), rated(TODAY, pain=5, hour=7)]
    view = view_of(records)
    assert view.weeks[-1].pain == 5.0  # the week's mean of 2, 5 and 8
    assert view.last_pain.value == "8/10"  # the evening session, rated last
    assert view.last_pain.name == "last pain rating, today"


def test_last_pain_comes_from_a_session_that_was_not_finished_too() -> None:
    view = view_of([rated(TODAY - dt.timedelta(days=3), pain=4), rated(TODAY - dt.timedelta(days=1), pain=7,
                                                                          completed=False)])
    assert view.last_pain.value == "7/10"
    assert view.last_pain.name == "last pain rating, yesterday"


def test_last_pain_names_an_older_day_with_its_date() -> None:
    view = view_of([rated(dt.date(2026, 11, 20), pain=0), rated(TODAY)])
    assert view.last_pain.value == "0/10"
    assert view.last_pain.name == "last pain rating, Fri 20 Nov"


def test_without_ratings_the_pain_figure_says_so() -> None:
    view = view_of([rated(TODAY)])
    assert view.last_pain.value == NO_VALUE
    assert view.last_pain.name == "pain: no rating yet"
    assert not view.has_pain
    assert all(week.pain is None and week.pain_text == "" for week in view.weeks)


def test_a_single_rating_is_one_week_with_its_value_written_out() -> None:
    view = view_of([rated(TODAY - dt.timedelta(days=14), pain=3)])
    rated_weeks = [week for week in view.weeks if week.pain is not None]
    assert [(week.label, week.pain, week.pain_text) for week in rated_weeks] == [("9 Nov", 3.0, "3")]
    assert view.has_pain


@pytest.mark.parametrize(("mean", "text"), [(3.0, "3"), (2.5, "2.5"), (7 / 3, "2.3"), (0.0, "0"), (10.0, "10"),
                                            (9.96, "10"), (None, "")])
def test_a_weeks_mean_is_written_as_read(mean: Optional[float], text: str) -> None:
    assert pain_text(mean) == text


def test_before_the_log_is_read_every_figure_is_a_dash() -> None:
    view = streaks_view(None, [], WEEKDAYS.index("sunday"))
    figures = [view.day_streak, view.best_day_streak, view.week_streak, view.best_week_streak, view.this_week,
               view.last_pain]
    assert all(figure.value == NO_VALUE for figure in figures)
    assert view.weeks == () and view.today is None
    assert "".join(view.weekday_initials) == "SMTWTFS"  # from the setting until there are figures


def test_the_grid_rows_carry_the_days_done() -> None:
    view = view_of([rated(TODAY), rated(TODAY - dt.timedelta(days=3))])  # Thursday and Monday
    assert view.weeks[-1].days == (True, False, False, True, False, False, False)
    assert view.today == TODAY
