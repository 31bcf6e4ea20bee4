"""Streak rules, pinned by hand-written cases and checked against brute force with hypothesis."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import random
from dataclasses import dataclass
from typing import Dict, FrozenSet, Iterable, List, Optional, Sequence, Set, Tuple

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kiosk.core.model import SessionRecord
from kiosk.core.streaks import (
    WEEKDAYS,
    StreakStats,
    Week,
    compute_stats,
    counted_days,
    pain_history,
    parse_week_start,
    skipped_days,
)

_record_ids = itertools.count(1)

# A Wednesday; weeks starting Monday run 2026-03-16 .. 2026-03-22.
TODAY = dt.date(2026, 3, 18)


def record(
    local_date: dt.date | str,
    completed: bool = True,
    pain: Optional[int] = None,
    started_utc: str = "2026-01-01T00:00:00Z",
    utc_offset: str = "+00:00",
) -> SessionRecord:
    day = local_date if isinstance(local_date, str) else local_date.isoformat()
    return SessionRecord(
        id=f"s{next(_record_ids)}",
        routine="r",
        started_utc=started_utc,
        ended_utc=started_utc,
        local_date=day,
        utc_offset=utc_offset,
        planned_s=60,
        active_s=60,
        completed=completed,
        pain=pain,
    )


def days_ago(*offsets: int, today: dt.date = TODAY) -> List[dt.date]:
    return [today - dt.timedelta(days=offset) for offset in offsets]


def done_on(days: Iterable[dt.date]) -> List[SessionRecord]:
    return [record(day) for day in days]


def date_range(first: dt.date, last: dt.date) -> List[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def test_today_is_a_wednesday() -> None:
    assert TODAY.weekday() == WEEKDAYS.index("wednesday")


# --- daily streaks -------------------------------------------------------------------------


def test_empty_log_gives_zeros_and_an_empty_grid() -> None:
    stats = compute_stats([], TODAY)
    assert (stats.current_daily_streak, stats.longest_daily_streak) == (0, 0)
    assert (stats.current_weekly_streak, stats.longest_weekly_streak) == (0, 0)
    assert not stats.done_today
    assert stats.this_week_days_done == 0
    assert (stats.total_sessions, stats.completed_sessions) == (0, 0)
    assert len(stats.weeks) == 12
    assert all(not any(week.days) and week.avg_pain is None for week in stats.weeks)


def test_streak_ends_today_when_today_is_done() -> None:
    stats = compute_stats(done_on(days_ago(0, 1, 2)), TODAY)
    assert stats.current_daily_streak == 3
    assert stats.done_today


def test_streak_is_still_alive_today_when_yesterday_was_done() -> None:
    stats = compute_stats(done_on(days_ago(1, 2)), TODAY)
    assert stats.current_daily_streak == 2
    assert not stats.done_today


def test_streak_is_zero_when_neither_today_nor_yesterday_was_done() -> None:
    stats = compute_stats(done_on(days_ago(2, 3, 4)), TODAY)
    assert stats.current_daily_streak == 0
    assert stats.longest_daily_streak == 3


def test_a_gap_breaks_the_streak_and_longest_remembers_the_old_run() -> None:
    stats = compute_stats(done_on(days_ago(0, 1, 3, 4, 5, 6)), TODAY)
    assert stats.current_daily_streak == 2
    assert stats.longest_daily_streak == 4


def test_several_sessions_on_one_day_count_once() -> None:
    stats = compute_stats(done_on(days_ago(0, 0, 0, 1, 1)), TODAY)
    assert stats.current_daily_streak == 2
    assert stats.this_week_days_done == 2
    assert (stats.total_sessions, stats.completed_sessions) == (5, 5)


def test_unfinished_sessions_never_count() -> None:
    records = [record(day, completed=False) for day in days_ago(0, 1, 2)] + done_on(days_ago(3))
    stats = compute_stats(records, TODAY)
    assert stats.current_daily_streak == 0
    assert stats.longest_daily_streak == 1
    assert not stats.done_today
    assert (stats.total_sessions, stats.completed_sessions) == (4, 1)
    assert counted_days(records, TODAY) == set(days_ago(3))


def test_an_unfinished_session_does_not_hide_a_finished_one_the_same_day() -> None:
    records = [record(TODAY, completed=False), record(TODAY)]
    assert compute_stats(records, TODAY).done_today


def test_future_dated_records_are_ignored_everywhere() -> None:
    tomorrow = TODAY + dt.timedelta(days=1)
    records = done_on(days_ago(1)) + [record(tomorrow, pain=9), record(dt.date(2027, 1, 1))]
    stats = compute_stats(records, TODAY)
    assert stats.current_daily_streak == 1
    assert not stats.done_today
    assert (stats.total_sessions, stats.completed_sessions) == (1, 1)
    assert stats.weeks[-1].days == (False, True, False, False, False, False, False)
    assert stats.weeks[-1].avg_pain is None
    assert counted_days(records, TODAY) == {TODAY - dt.timedelta(days=1)}
    assert pain_history(records, TODAY) == []


def test_streak_runs_across_month_and_year_boundaries() -> None:
    today = dt.date(2026, 1, 2)
    days = date_range(dt.date(2025, 11, 28), today)
    stats = compute_stats(done_on(days), today)
    assert stats.current_daily_streak == len(days) == 36


def test_streak_runs_across_a_leap_day() -> None:
    today = dt.date(2028, 3, 1)
    days = date_range(dt.date(2028, 2, 27), today)
    assert len(days) == 4
    assert compute_stats(done_on(days), today).current_daily_streak == 4


def test_days_are_local_dates_whatever_the_utc_time_or_offset() -> None:
    """Around a DST change the UTC start falls on the day before; the local date decides."""
    today = dt.date(2026, 3, 29)  # clocks go forward in Europe
    records = [
        record("2026-03-28", started_utc="2026-03-27T23:30:00Z", utc_offset="+01:00"),
        record("2026-03-29", started_utc="2026-03-28T23:30:00Z", utc_offset="+01:00"),
        record("2026-03-30", started_utc="2026-03-29T22:30:00Z", utc_offset="+02:00"),
    ]
    stats = compute_stats(records, today)
    assert stats.done_today
    assert stats.current_daily_streak == 2
    assert counted_days(records, today) == {dt.date(2026, 3, 28), dt.date(2026, 3, 29)}
    assert all(type(day) is dt.date for day in counted_days(records, today))
    assert all(type(week.start) is dt.date for week in stats.weeks)
    assert type(stats.this_week_start) is dt.date


def test_today_must_be_a_date_not_a_datetime() -> None:
    with pytest.raises(TypeError, match="local date"):
        compute_stats([], dt.datetime(2026, 3, 18, 12, 0))
    with pytest.raises(TypeError, match="local date"):
        counted_days([], "2026-03-18")  # type: ignore[arg-type]


# --- weekly streaks ------------------------------------------------------------------------

MONDAY = dt.date(2026, 3, 16)  # start of the week holding TODAY


def week_days(monday: dt.date, count: int) -> List[dt.date]:
    return [monday + dt.timedelta(days=n) for n in range(count)]


def weeks_before(weeks: int) -> dt.date:
    return MONDAY - dt.timedelta(weeks=weeks)


def test_unfinished_current_week_does_not_break_the_weekly_streak() -> None:
    days = week_days(weeks_before(2), 5) + week_days(weeks_before(1), 6) + [MONDAY]
    stats = compute_stats(done_on(days), TODAY)
    assert stats.this_week_start == MONDAY
    assert stats.this_week_days_done == 1
    assert stats.current_weekly_streak == 2
    assert stats.longest_weekly_streak == 2


def test_current_week_joins_the_streak_once_it_meets_the_goal() -> None:
    days = week_days(weeks_before(2), 3) + week_days(weeks_before(1), 3) + week_days(MONDAY, 3)
    stats = compute_stats(done_on(days), TODAY, weekly_goal=3)
    assert stats.this_week_days_done == 3
    assert stats.current_weekly_streak == 3
    assert stats.longest_weekly_streak == 3


def test_a_missed_last_week_breaks_the_weekly_streak() -> None:
    days = week_days(weeks_before(3), 5) + week_days(weeks_before(2), 5) + week_days(weeks_before(1), 4)
    stats = compute_stats(done_on(days), TODAY)
    assert stats.current_weekly_streak == 0
    assert stats.longest_weekly_streak == 2


def test_longest_weekly_streak_can_lie_in_the_past() -> None:
    old_run = [day for n in range(20, 24) for day in week_days(weeks_before(n), 5)]
    recent = week_days(weeks_before(1), 7)
    stats = compute_stats(done_on(old_run + recent), TODAY)
    assert stats.current_weekly_streak == 1
    assert stats.longest_weekly_streak == 4


def test_unmet_current_week_does_not_count_toward_longest() -> None:
    days = week_days(weeks_before(1), 2) + week_days(MONDAY, 2)
    stats = compute_stats(done_on(days), TODAY, weekly_goal=3)
    assert (stats.current_weekly_streak, stats.longest_weekly_streak) == (0, 0)


def test_weekly_goal_of_one_counts_every_week_with_a_session() -> None:
    days = [weeks_before(3), weeks_before(2) + dt.timedelta(days=6), weeks_before(1)]
    stats = compute_stats(done_on(days), TODAY, weekly_goal=1)
    assert stats.current_weekly_streak == 3


def test_weeks_can_start_on_sunday() -> None:
    today = dt.date(2026, 3, 16)  # a Monday
    sunday_to_saturday = date_range(dt.date(2026, 3, 8), dt.date(2026, 3, 14))
    records = done_on(sunday_to_saturday)

    sunday_weeks = compute_stats(records, today, weekly_goal=7, week_start=6)
    assert sunday_weeks.this_week_start == dt.date(2026, 3, 15)
    assert sunday_weeks.current_weekly_streak == 1
    assert sunday_weeks.weeks[-2].start == dt.date(2026, 3, 8)
    assert sunday_weeks.weeks[-2].days == (True,) * 7

    monday_weeks = compute_stats(records, today, weekly_goal=7, week_start=0)
    assert monday_weeks.this_week_start == dt.date(2026, 3, 16)
    assert monday_weeks.current_weekly_streak == 0
    assert monday_weeks.longest_weekly_streak == 0


def test_week_start_may_be_given_by_name() -> None:
    by_name = compute_stats(done_on(days_ago(0, 1)), TODAY, week_start="Sun")
    by_number = compute_stats(done_on(days_ago(0, 1)), TODAY, week_start=6)
    assert by_name.week_start == 6
    assert by_name.this_week_start == by_number.this_week_start == dt.date(2026, 3, 15)


def test_weekly_streak_runs_across_the_year_boundary() -> None:
    today = dt.date(2026, 1, 7)  # a Wednesday
    days = date_range(dt.date(2025, 12, 22), dt.date(2026, 1, 4))
    stats = compute_stats(done_on(days), today, weekly_goal=7)
    assert stats.weeks[-2].start == dt.date(2025, 12, 29)
    assert stats.weeks[-2].days == (True,) * 7
    assert stats.current_weekly_streak == 2


# --- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ("monday", 0), ("Mon", 0), (" SUNDAY ", 6), ("tue", 1), ("Tues", 1), ("wednesday", 2),
        ("thu", 3), ("Thurs", 3), ("fri", 4), ("sat", 5), (0, 0), (3, 3), (6, 6),
    ],
)
def test_parse_week_start_accepts_names_abbreviations_and_numbers(
    value: str | int, expected: int
) -> None:
    assert parse_week_start(value) == expected


@pytest.mark.parametrize("value", ["", "mo", "funday", "0", "7", 7, -1, True, None, 1.0])
def test_parse_week_start_rejects_anything_else_with_a_clear_message(value: object) -> None:
    with pytest.raises(ValueError, match="week start must be"):
        parse_week_start(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("goal", [0, 8, -1, True, 2.5, "5"])
def test_weekly_goal_must_be_one_to_seven(goal: object) -> None:
    with pytest.raises(ValueError, match="weekly_goal"):
        compute_stats([], TODAY, weekly_goal=goal)  # type: ignore[arg-type]


@pytest.mark.parametrize("grid_weeks", [0, -3, 1.5, False])
def test_grid_needs_at_least_one_week(grid_weeks: object) -> None:
    with pytest.raises(ValueError, match="grid_weeks"):
        compute_stats([], TODAY, grid_weeks=grid_weeks)  # type: ignore[arg-type]


def test_compute_stats_rejects_a_bad_week_start() -> None:
    with pytest.raises(ValueError, match="week start"):
        compute_stats([], TODAY, week_start=7)


def test_a_week_has_seven_days() -> None:
    with pytest.raises(ValueError, match="7 days"):
        Week(start=MONDAY, days=(True,) * 6)


# --- the grid ------------------------------------------------------------------------------


def test_grid_has_n_weeks_oldest_first_ending_with_the_week_holding_today() -> None:
    stats = compute_stats(done_on(days_ago(0, 1, 30, 83)), TODAY)
    starts = [week.start for week in stats.weeks]
    assert len(starts) == 12
    assert starts[-1] == MONDAY == stats.this_week_start
    assert starts[-1] <= TODAY < starts[-1] + dt.timedelta(days=7)
    assert all(later - earlier == dt.timedelta(days=7) for earlier, later in zip(starts, starts[1:]))
    assert all(start.weekday() == 0 for start in starts)
    assert all(len(week.days) == 7 for week in stats.weeks)
    assert stats.weeks[0].start == MONDAY - dt.timedelta(weeks=11)


def test_grid_marks_exactly_the_counted_days_and_nothing_after_today() -> None:
    records = done_on(days_ago(0, 2, 7)) + [record(TODAY + dt.timedelta(days=2))]
    stats = compute_stats(records, TODAY)
    assert stats.weeks[-1].days == (True, False, True, False, False, False, False)
    assert stats.weeks[-2].days == (False, False, True, False, False, False, False)
    assert stats.weeks[-1].days_done == stats.this_week_days_done == 2


def test_grid_leaves_out_days_older_than_its_first_week() -> None:
    stats = compute_stats(done_on(days_ago(0, 200)), TODAY, grid_weeks=4)
    assert len(stats.weeks) == 4
    assert sum(week.days_done for week in stats.weeks) == 1
    assert stats.longest_daily_streak == 1


def test_grid_of_one_week_is_the_current_week() -> None:
    stats = compute_stats(done_on(days_ago(0)), TODAY, grid_weeks=1)
    assert [week.start for week in stats.weeks] == [MONDAY]


def test_grid_spans_the_year_boundary() -> None:
    today = dt.date(2026, 1, 1)  # a Thursday
    stats = compute_stats(done_on([dt.date(2025, 12, 31), today]), today, grid_weeks=2)
    assert [week.start for week in stats.weeks] == [dt.date(2025, 12, 22), dt.date(2025, 12, 29)]
    assert stats.weeks[-1].days == (False, False, True, True, False, False, False)


# --- pain ----------------------------------------------------------------------------------


def test_pain_history_is_sorted_and_keeps_only_rated_sessions_up_to_today() -> None:
    records = [
        record(days_ago(0)[0], pain=2),
        record(days_ago(3)[0], pain=5, completed=False),
        record(days_ago(1)[0]),
        record(days_ago(3)[0], pain=4, started_utc="2026-01-01T00:00:00Z"),
        record(TODAY + dt.timedelta(days=1), pain=8),
    ]
    assert pain_history(records, TODAY) == [
        (days_ago(3)[0], 4),
        (days_ago(3)[0], 5),
        (TODAY, 2),
    ]


def test_same_day_ratings_are_ordered_by_start_time() -> None:
    later = record(TODAY, pain=6, started_utc="2026-03-18T18:00:00Z")
    earlier = record(TODAY, pain=1, started_utc="2026-03-18T07:00:00Z")
    assert pain_history([later, earlier], TODAY) == [(TODAY, 1), (TODAY, 6)]


def test_weekly_average_pain_is_none_without_ratings() -> None:
    records = [
        record(MONDAY, pain=3),
        record(MONDAY + dt.timedelta(days=1), pain=6, completed=False),
        record(weeks_before(2), pain=0),
        record(weeks_before(1)),
    ]
    stats = compute_stats(records, TODAY)
    assert stats.weeks[-1].avg_pain == pytest.approx(4.5)
    assert stats.weeks[-2].avg_pain is None
    assert stats.weeks[-3].avg_pain == 0.0


# --- output and inputs ---------------------------------------------------------------------


def test_to_json_has_the_agreed_shape() -> None:
    records = done_on(days_ago(0, 1)) + [record(days_ago(2)[0], completed=False, pain=3)]
    data = compute_stats(records, TODAY, weekly_goal=2, week_start=6, grid_weeks=3).to_json()
    assert json.loads(json.dumps(data)) == data
    assert data == {
        "today": "2026-03-18",
        "current_daily_streak": 2,
        "longest_daily_streak": 2,
        "current_weekly_streak": 1,
        "longest_weekly_streak": 1,
        "weekly_goal": 2,
        "week_start": "sunday",
        "done_today": True,
        "this_week": {"start": "2026-03-15", "days_done": 2},
        "weeks": [
            {"start": "2026-03-01", "days": [False] * 7, "days_done": 0, "avg_pain": None},
            {"start": "2026-03-08", "days": [False] * 7, "days_done": 0, "avg_pain": None},
            {
                "start": "2026-03-15",
                "days": [False, False, True, True, False, False, False],
                "days_done": 2,
                "avg_pain": 3.0,
            },
        ],
        "total_sessions": 3,
        "completed_sessions": 2,
    }


def test_records_may_come_from_a_generator_and_a_list_is_left_alone() -> None:
    records = done_on(days_ago(0, 1, 2)) + [record(days_ago(1)[0], pain=2)]
    before = list(records)
    from_list = compute_stats(records, TODAY)
    from_generator = compute_stats((r for r in records), TODAY)
    assert records == before
    assert from_list == from_generator
    assert pain_history(iter(records), TODAY) == [(days_ago(1)[0], 2)]


def test_stats_are_frozen() -> None:
    stats = compute_stats([], TODAY)
    with pytest.raises(AttributeError):
        stats.current_daily_streak = 5  # type: ignore[misc]


# --- properties against brute force --------------------------------------------------------


def brute_counted(records: Sequence[SessionRecord], today: dt.date) -> Set[dt.date]:
    return {
        dt.date.fromisoformat(r.local_date)
        for r in records
        if r.completed and dt.date.fromisoformat(r.local_date) <= today
    }


def brute_current_daily(counted: Set[dt.date], today: dt.date) -> int:
    day = today if today in counted else today - dt.timedelta(days=1)
    streak = 0
    while day in counted:
        streak += 1
        day -= dt.timedelta(days=1)
    return streak


def longest_true_run(flags: Sequence[bool]) -> int:
    longest = run = 0
    for flag in flags:
        run = run + 1 if flag else 0
        longest = max(longest, run)
    return longest


def brute_longest_daily(counted: Set[dt.date], today: dt.date) -> int:
    if not counted:
        return 0
    return longest_true_run([day in counted for day in date_range(min(counted), today)])


def brute_week_start(day: dt.date, week_start: int) -> dt.date:
    while day.weekday() != week_start:
        day -= dt.timedelta(days=1)
    return day


def brute_weekly(counted: Set[dt.date], today: dt.date, goal: int, week_start: int) -> tuple:
    """(current, longest) by walking every week from the first counted one to this week."""
    this_week = brute_week_start(today, week_start)
    first_week = brute_week_start(min(counted), week_start) if counted else this_week
    met: List[bool] = []
    start = first_week
    while start <= this_week:
        done = sum(start + dt.timedelta(days=n) in counted for n in range(7))
        met.append(done >= goal)
        start += dt.timedelta(days=7)
    finished_weeks = met if met[-1] else met[:-1]
    current = 0
    for flag in reversed(finished_weeks):
        if not flag:
            break
        current += 1
    return current, longest_true_run(met)


todays = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31))
entries = st.lists(
    st.tuples(
        st.integers(min_value=-5, max_value=120),  # days before today; negative is the future
        st.booleans(),
        st.one_of(st.none(), st.integers(min_value=0, max_value=10)),
    ),
    max_size=80,
)
weekday_numbers = st.integers(min_value=0, max_value=6)
thorough = settings(deadline=None, max_examples=300)


def build(today: dt.date, rows: Iterable[tuple]) -> List[SessionRecord]:
    return [
        record(today - dt.timedelta(days=days_back), completed=completed, pain=pain)
        for days_back, completed, pain in rows
    ]


def test_ten_years_of_sessions_give_the_figures_a_day_by_day_count_gives() -> None:
    """How fast is for bench/bench_core.py (`kiosk stats` on 20,000 sessions); here, how right."""
    rng = random.Random(7)
    today = dt.date(2026, 3, 18)
    records = [
        record(
            today - dt.timedelta(days=rng.randrange(3650)),
            completed=rng.random() < 0.9,
            pain=rng.choice([None, None, rng.randrange(11)]),
        )
        for _ in range(20_000)
    ]
    stats = compute_stats(records, today, grid_weeks=52)
    counted = brute_counted(records, today)
    assert stats.current_daily_streak == brute_current_daily(counted, today)
    assert stats.longest_daily_streak == brute_longest_daily(counted, today)
    assert (stats.current_weekly_streak, stats.longest_weekly_streak) == brute_weekly(counted, today, 5, 0)
    assert (stats.total_sessions, stats.completed_sessions) == (20_000, sum(r.completed for r in records))
    first = stats.weeks[0].start
    assert sum(week.days_done for week in stats.weeks) == len({day for day in counted if day >= first})


@thorough
@given(today=todays, rows=entries)
def test_daily_streaks_match_a_day_by_day_count(today: dt.date, rows: List[tuple]) -> None:
    records = build(today, rows)
    counted = brute_counted(records, today)
    stats = compute_stats(records, today)
    assert counted_days(records, today) == counted
    assert stats.current_daily_streak == brute_current_daily(counted, today)
    assert stats.longest_daily_streak == brute_longest_daily(counted, today)
    assert stats.longest_daily_streak >= stats.current_daily_streak
    assert stats.done_today == (today in counted)


@thorough
@given(
    today=todays,
    rows=entries,
    goal=st.integers(min_value=1, max_value=7),
    week_start=weekday_numbers,
)
def test_weekly_streaks_match_a_week_by_week_walk(
    today: dt.date, rows: List[tuple], goal: int, week_start: int
) -> None:
    records = build(today, rows)
    counted = brute_counted(records, today)
    stats = compute_stats(records, today, weekly_goal=goal, week_start=week_start)
    current, longest = brute_weekly(counted, today, goal, week_start)
    assert (stats.current_weekly_streak, stats.longest_weekly_streak) == (current, longest)
    assert stats.longest_weekly_streak >= stats.current_weekly_streak
    this_week = brute_week_start(today, week_start)
    assert stats.this_week_start == this_week
    assert stats.this_week_days_done == len({d for d in counted if d >= this_week})


@thorough
@given(
    today=todays,
    rows=entries,
    week_start=weekday_numbers,
    grid_weeks=st.integers(min_value=1, max_value=20),
)
def test_grid_covers_exactly_the_counted_days_in_its_range(
    today: dt.date, rows: List[tuple], week_start: int, grid_weeks: int
) -> None:
    records = build(today, rows)
    counted = brute_counted(records, today)
    stats = compute_stats(records, today, week_start=week_start, grid_weeks=grid_weeks)
    assert len(stats.weeks) == grid_weeks
    first = stats.weeks[0].start
    assert sum(week.days_done for week in stats.weeks) == len({d for d in counted if d >= first})
    for week in stats.weeks:
        assert week.start.weekday() == week_start
        days = [week.start + dt.timedelta(days=n) for n in range(7)]
        assert list(week.days) == [day in counted for day in days]
        ratings = [
            r.pain for r in records
            if r.pain is not None and days[0] <= dt.date.fromisoformat(r.local_date) <= min(days[-1], today)
        ]
        if ratings:
            assert week.avg_pain == pytest.approx(sum(ratings) / len(ratings))
        else:
            assert week.avg_pain is None
    assert stats.weeks[-1].start <= today < stats.weeks[-1].start + dt.timedelta(days=7)


@thorough
@given(today=todays, rows=entries, seed=st.integers(min_value=0, max_value=2**16))
def test_results_do_not_depend_on_the_order_of_the_log(
    today: dt.date, rows: List[tuple], seed: int
) -> None:
    records = build(today, rows)
    shuffled = list(records)
    random.Random(seed).shuffle(shuffled)
    assert compute_stats(shuffled, today) == compute_stats(records, today)
    assert pain_history(shuffled, today) == pain_history(records, today)
    history = pain_history(records, today)
    assert [day for day, _pain in history] == sorted(day for day, _pain in history)
    assert len(history) == sum(
        1 for r in records if r.pain is not None and dt.date.fromisoformat(r.local_date) <= today
    )
    stats: StreakStats = compute_stats(records, today)
    assert stats.total_sessions == sum(1 for r in records if r.date <= today)
    assert json.loads(json.dumps(stats.to_json())) == stats.to_json()


# --- time zones: a flight east can skip a date, a flight west repeats one -------------------

UTC = dt.timezone.utc
ONE_DAY = dt.timedelta(days=1)


def zone(offset: str) -> dt.timezone:
    sign = -1 if offset.startswith("-") else 1
    hours, minutes = offset[1:].split(":")
    return dt.timezone(sign * dt.timedelta(hours=int(hours), minutes=int(minutes)))


def at(day: str, clock: str, offset: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=zone(offset))


def session_at(started: dt.datetime, completed: bool = True, source: str = "kiosk") -> SessionRecord:
    return SessionRecord.create(routine="r", started=started, ended=started + dt.timedelta(minutes=5),
                                planned_s=300, active_s=300, completed=completed, source=source)


# At UTC-11 (American Samoa) 23:50 is 10:50 UTC the next day; at UTC+14 (Kiritimati) 01:00
# is 11:00 UTC the day before: ten minutes later, and the clock has left out all of the 13th.
THREE_EVENINGS_AT_MINUS_11 = ("2026-03-10", "2026-03-11", "2026-03-12")
LANDED = dt.date(2026, 3, 14)


def three_evenings() -> List[SessionRecord]:
    return [session_at(at(day, "23:50", "-11:00")) for day in THREE_EVENINGS_AT_MINUS_11]


def test_a_flight_east_over_the_date_line_does_not_break_the_daily_streak() -> None:
    records = three_evenings() + [session_at(at("2026-03-14", "01:00", "+14:00"))]
    stats = compute_stats(records, LANDED)
    assert (stats.current_daily_streak, stats.longest_daily_streak) == (4, 4)
    assert stats.done_today
    assert skipped_days(records, LANDED) == {dt.date(2026, 3, 13)}
    assert dt.date(2026, 3, 13) not in counted_days(records, LANDED)  # skipped, not done
    assert stats.weeks[-1].days == (False, True, True, True, False, True, False)  # Monday 9th ..


def test_the_streak_is_alive_right_after_landing_before_todays_session() -> None:
    landed = at("2026-03-14", "02:00", "+14:00")
    stats = compute_stats(three_evenings(), LANDED, now=landed)
    assert stats.current_daily_streak == 3 and not stats.done_today
    assert skipped_days(three_evenings(), LANDED, now=landed) == {dt.date(2026, 3, 13)}


def test_without_now_the_clock_is_taken_to_be_where_the_last_session_left_it() -> None:
    assert compute_stats(three_evenings(), LANDED).current_daily_streak == 0


def test_staying_put_through_the_13th_is_a_missed_day() -> None:
    stayed = at("2026-03-14", "09:00", "-11:00")
    assert compute_stats(three_evenings(), LANDED, now=stayed).current_daily_streak == 0
    assert skipped_days(three_evenings(), LANDED, now=stayed) == set()


def test_a_jump_of_less_than_a_day_never_excuses_a_missed_day() -> None:
    records = [
        session_at(at("2026-03-10", "20:00", "-10:00")),  # Honolulu
        session_at(at("2026-03-11", "20:00", "-10:00")),
        session_at(at("2026-03-13", "18:00", "+09:00")),  # Tokyo: 19 hours ahead, the 12th was lived
    ]
    stats = compute_stats(records, dt.date(2026, 3, 13))
    assert (stats.current_daily_streak, stats.longest_daily_streak) == (1, 2)
    assert skipped_days(records, dt.date(2026, 3, 13)) == set()


def test_a_day_lived_whole_after_a_jump_of_23_hours_is_a_missed_day() -> None:
    records = [
        session_at(at("2026-03-10", "00:10", "-10:00")),  # then straight to Tonga: 00:40 became 23:40
        session_at(at("2026-03-12", "08:00", "+13:00")),  # the 11th came and went in Tonga
    ]
    stats = compute_stats(records, dt.date(2026, 3, 12))
    assert (stats.current_daily_streak, stats.longest_daily_streak) == (1, 1)
    assert skipped_days(records, dt.date(2026, 3, 12)) == set()


def test_a_jump_of_a_day_cannot_excuse_two_missing_days() -> None:
    records = [session_at(at("2026-03-10", "23:50", "-11:00")), session_at(at("2026-03-13", "01:00", "+14:00"))]
    stats = compute_stats(records, dt.date(2026, 3, 13))
    assert (stats.current_daily_streak, stats.longest_daily_streak) == (1, 1)
    assert skipped_days(records, dt.date(2026, 3, 13)) == set()


def test_a_day_with_an_unfinished_session_was_lived_and_breaks_the_streak() -> None:
    records = [
        session_at(at("2026-03-12", "23:50", "-11:00")),
        session_at(at("2026-03-13", "00:05", "-11:00"), completed=False),  # then the flight
        session_at(at("2026-03-14", "02:00", "+14:00")),
    ]
    assert compute_stats(records, LANDED).current_daily_streak == 1
    assert skipped_days(records, LANDED) == set()


def test_a_backfilled_session_says_nothing_about_the_clock() -> None:
    """`kiosk log add --date` writes noon in the zone it is typed in, not where the person was."""
    records = [session_at(at("2026-03-10", "23:50", "-11:00")),
               session_at(at("2026-03-12", "12:00", "+14:00"), source="backfill")]
    assert compute_stats(records, dt.date(2026, 3, 12)).current_daily_streak == 1
    assert skipped_days(records, dt.date(2026, 3, 12)) == set()


def test_a_flight_west_over_the_date_line_counts_the_repeated_date_once() -> None:
    records = [
        session_at(at("2026-03-11", "08:00", "+14:00")),
        session_at(at("2026-03-12", "08:00", "+14:00")),
        session_at(at("2026-03-11", "20:00", "-11:00")),  # flew back: the 11th again
        session_at(at("2026-03-12", "20:00", "-11:00")),
    ]
    stats = compute_stats(records, dt.date(2026, 3, 12))
    assert (stats.current_daily_streak, stats.completed_sessions) == (2, 4)
    assert stats.weeks[-1].days_done == 2
    assert skipped_days(records, dt.date(2026, 3, 12)) == set()


def test_offsets_and_starts_that_cannot_be_read_tell_nothing() -> None:
    records = [
        record("2026-03-10", started_utc="2026-03-11T10:50:00Z", utc_offset="-11"),
        record("2026-03-12", started_utc="2026-03-11T11:00:00Z", utc_offset="+14:00"),
        record("2026-03-12", started_utc="not a time", utc_offset="-11:00"),
    ]
    stats = compute_stats(records, dt.date(2026, 3, 12))
    assert (stats.current_daily_streak, stats.longest_daily_streak) == (1, 1)


def test_now_must_carry_its_offset_and_fall_on_today() -> None:
    with pytest.raises(TypeError, match="aware"):
        compute_stats([], LANDED, now=dt.datetime(2026, 3, 14, 9, 0))
    with pytest.raises(ValueError, match="must fall on today"):
        compute_stats([], LANDED, now=at("2026-03-13", "23:00", "-11:00"))
    with pytest.raises(ValueError, match="must fall on today"):
        skipped_days([], LANDED, now=at("2026-03-15", "01:00", "+14:00"))


def week_over_the_date_line(leave_out: str = "") -> List[SessionRecord]:
    """Monday 9 March .. Sunday 15 March 2026; Friday the 13th is lost to the flight."""
    sessions = [at(f"2026-03-{day:02d}", "23:50", "-11:00") for day in (9, 10, 11, 12)]
    sessions += [at("2026-03-14", "01:00", "+14:00"), at("2026-03-15", "20:00", "+14:00")]
    return [session_at(started) for started in sessions if started.date().isoformat() != leave_out]


def test_a_week_that_lost_a_day_to_a_flight_east_asks_at_most_for_the_six_it_had() -> None:
    monday = dt.date(2026, 3, 16)
    every_day = compute_stats(week_over_the_date_line(), monday, weekly_goal=7)
    assert every_day.weeks[-2].days == (True, True, True, True, False, True, True)
    assert (every_day.current_weekly_streak, every_day.longest_weekly_streak) == (1, 1)

    missed_sunday = compute_stats(week_over_the_date_line(leave_out="2026-03-15"), monday, weekly_goal=7)
    assert (missed_sunday.current_weekly_streak, missed_sunday.longest_weekly_streak) == (0, 0)

    five = compute_stats(week_over_the_date_line(leave_out="2026-03-15"), monday, weekly_goal=5)
    assert five.current_weekly_streak == 1


# A traveller: the clock shows one zone from `start` until `move`, then another until `end`
# (now). Every property below holds for any such trip, east or west, over the date line or not.

ORIGIN = dt.datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
minutes_from_utc = st.integers(min_value=-48, max_value=56).map(lambda quarters: quarters * 15)
east_over_the_date_line = st.tuples(st.sampled_from([-720, -660, -600]), st.sampled_from([720, 780, 840]))


@dataclass(frozen=True)
class Trip:
    start: dt.datetime
    move: dt.datetime
    end: dt.datetime
    before: dt.timezone
    after: dt.timezone

    @property
    def now(self) -> dt.datetime:
        return self.end.astimezone(self.after)

    @property
    def today(self) -> dt.date:
        return self.now.date()

    def stretches(self) -> List[Tuple[dt.datetime, dt.datetime, dt.timezone]]:
        """Half-open UTC stretches and the zone the clock showed in each; `end` is the last second."""
        return [(self.start, self.move, self.before), (self.move, self.end + dt.timedelta(seconds=1), self.after)]


@st.composite
def trips(draw: st.DrawFn) -> Trip:
    before_minutes, after_minutes = draw(st.one_of(east_over_the_date_line,
                                                   st.tuples(minutes_from_utc, minutes_from_utc)))
    before = dt.timezone(dt.timedelta(minutes=before_minutes))
    after = dt.timezone(dt.timedelta(minutes=after_minutes))
    start = ORIGIN + dt.timedelta(seconds=draw(st.integers(min_value=0, max_value=7 * 86400)))
    move_day = start.astimezone(before).date() + dt.timedelta(days=draw(st.integers(min_value=0, max_value=15)))
    # a date is skipped only by a move late in the evening (or at midnight), and a move early
    # in the morning leaves room to live the next date whole after a jump of nearly a day
    move_second = draw(st.one_of(st.integers(min_value=0, max_value=86399), st.just(0),
                                 st.integers(min_value=22 * 3600, max_value=86399),
                                 st.integers(min_value=1, max_value=3600)))
    move = dt.datetime.combine(move_day, dt.time(), tzinfo=before) + dt.timedelta(seconds=move_second)
    move = max(move, start + dt.timedelta(minutes=1)).astimezone(UTC)
    stay = draw(st.one_of(st.integers(min_value=60, max_value=3 * 3600),  # just landed
                          st.integers(min_value=60, max_value=6 * 86400)))
    return Trip(start, move, move + dt.timedelta(seconds=stay), before, after)


def days_shown(trip: Trip) -> Dict[dt.date, List[Tuple[dt.datetime, dt.datetime, dt.timezone]]]:
    """Every local date the person's clock showed, with the UTC stretches in which it showed it."""
    shown: Dict[dt.date, List[Tuple[dt.datetime, dt.datetime, dt.timezone]]] = {}
    for since, until, clock in trip.stretches():
        day = since.astimezone(clock).date()
        while day <= (until - dt.timedelta(seconds=1)).astimezone(clock).date():
            midnight = dt.datetime.combine(day, dt.time(), tzinfo=clock)
            shown.setdefault(day, []).append((max(since, midnight), min(until, midnight + ONE_DAY), clock))
            day += ONE_DAY
    return shown


def shown_whole(trip: Trip, day: dt.date) -> bool:
    """Whether the clock showed every moment of `day`, from its first second to its last."""
    reached = dt.datetime.combine(day, dt.time())
    spans = sorted((since.astimezone(clock).replace(tzinfo=None), until.astimezone(clock).replace(tzinfo=None))
                   for since, until, clock in trip.stretches())
    for first, last in spans:
        if first <= reached:
            reached = max(reached, last)
    return reached >= dt.datetime.combine(day + ONE_DAY, dt.time())


def practise(trip: Trip, seed: int, leave_out: FrozenSet[dt.date] = frozenset()) -> List[SessionRecord]:
    """One session at a random moment in every stretch in which the clock showed a date."""
    rng = random.Random(seed)
    return [
        session_at((since + dt.timedelta(seconds=rng.randrange(int((until - since).total_seconds()))))
                   .astimezone(clock))
        for day, stretches in sorted(days_shown(trip).items()) if day not in leave_out
        for since, until, clock in stretches
    ]


seeds = st.integers(min_value=0, max_value=2**16)
travelling = settings(deadline=None, max_examples=1000)
"""The dates a flight can skip are a small corner of all trips: look there harder."""


@travelling
@given(trip=trips(), seed=seeds, practised_today=st.booleans(), week_start=weekday_numbers)
def test_a_zone_change_never_breaks_a_streak_that_daily_practice_kept(
    trip: Trip, seed: int, practised_today: bool, week_start: int
) -> None:
    today = trip.today
    lived = {day for day in days_shown(trip) if day <= today}
    records = practise(trip, seed, leave_out=frozenset() if practised_today else frozenset({today}))
    done = lived if practised_today else lived - {today}
    never_lived = {day for day in date_range(min(lived), today) if day not in lived}

    assert skipped_days(records, today, now=trip.now) == never_lived
    stats = compute_stats(records, today, weekly_goal=7, week_start=week_start, now=trip.now)
    assert counted_days(records, today) == done
    assert stats.current_daily_streak == stats.longest_daily_streak == len(done)
    assert stats.done_today == practised_today
    whole_weeks_lived = [week for week in stats.weeks[:-1] if week.start >= min(lived)]
    assert stats.current_weekly_streak >= len(whole_weeks_lived)


@travelling
@given(trip=trips(), seed=seeds, choice=st.integers(min_value=0))
def test_a_day_lived_from_start_to_end_without_a_session_still_breaks_the_streak(
    trip: Trip, seed: int, choice: int
) -> None:
    today = trip.today
    lived = {day for day in days_shown(trip) if day <= today}
    landing = trip.move.astimezone(trip.after).date()
    wholly = sorted((day for day in lived if min(lived) < day < today and shown_whole(trip, day)),
                    key=lambda day: (abs((day - landing).days), day))  # near the flight first
    assume(wholly)
    missed = wholly[choice % len(wholly)]
    records = practise(trip, seed, leave_out=frozenset({missed}))

    assert missed not in skipped_days(records, today, now=trip.now)
    stats = compute_stats(records, today, now=trip.now)
    later = {day for day in counted_days(records, today) if day > missed}
    assert stats.current_daily_streak == len(later)
    assert stats.longest_daily_streak < len(lived) - 1
