"""Streak rules, pinned by hand-written cases and checked against brute force with hypothesis."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import random
import time
from typing import Iterable, List, Optional, Sequence, Set

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.model import SessionRecord
from kiosk.streaks import (
    WEEKDAYS,
    StreakStats,
    Week,
    compute_stats,
    counted_days,
    pain_history,
    parse_week_start,
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


def test_ten_years_of_sessions_take_well_under_100_ms() -> None:
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
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        compute_stats(records, today, grid_weeks=52)
        timings.append(time.perf_counter() - started)
    assert min(timings) < 0.1


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
