"""Streak figures from the session log: dates + today + week rules, nothing else.

No clock is read here: `today` is always passed in, so the kiosk, the CLI and the tests
all decide what "today" is. A day is the local date the person lived (the record's
`local_date`), never a UTC date, so time zones and DST cannot move a session to another day.
A session saved while the wall clock looked wrong (`clock_unverified`) counts nowhere
until `clockcheck` has dated it again: a guessed day could make or break a streak.
A date the clock jumped over on a flight east was never lived, so it neither counts nor
breaks a streak (`skipped_days` has the rule).
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from dataclasses import dataclass
from typing import AbstractSet, Any, Dict, FrozenSet, Iterable, List, Optional, Set, Tuple, Union

from kiosk.core.model import SessionRecord, parse_utc

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_WEEKLY_GOAL = 5
DEFAULT_GRID_WEEKS = 12
DAYS_PER_WEEK = 7
ONE_DAY = dt.timedelta(days=1)
_OFFSET = re.compile(r"([+-])(\d{2}):(\d{2})\Z")


def parse_week_start(value: Union[str, int]) -> int:
    """Turn a configured week start ("monday", "Mon", 0) into 0 (Monday) .. 6 (Sunday).

    Digit strings are refused on purpose: cron counts Sunday as "0", so "0" would be a guess.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        if 0 <= value <= 6:
            return value
        raise ValueError(f"week start must be 0 (Monday) to 6 (Sunday), not {value!r}")
    if isinstance(value, str):
        name = value.strip().lower()
        if len(name) >= 3:
            for index, weekday in enumerate(WEEKDAYS):
                if weekday.startswith(name):
                    return index
    raise ValueError(
        "week start must be a weekday name (monday .. sunday, or mon .. sun) "
        f"or a number 0 (Monday) to 6 (Sunday), not {value!r}"
    )


@dataclass(frozen=True)
class Week:
    """One row of the streak grid: which of its seven days had a completed session."""

    start: dt.date
    days: Tuple[bool, ...]
    avg_pain: Optional[float] = None
    """Mean pain of the week's ratings up to today; None when nobody rated that week."""

    def __post_init__(self) -> None:
        if len(self.days) != DAYS_PER_WEEK:
            raise ValueError(f"a week has {DAYS_PER_WEEK} days, not {len(self.days)}")

    @property
    def days_done(self) -> int:
        return sum(self.days)

    def to_json(self) -> Dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "days": list(self.days),
            "days_done": self.days_done,
            "avg_pain": self.avg_pain,
        }


@dataclass(frozen=True)
class StreakStats:
    """Everything the streak screen shows, computed once for one `today`."""

    today: dt.date
    weekly_goal: int
    week_start: int
    current_daily_streak: int
    longest_daily_streak: int
    current_weekly_streak: int
    longest_weekly_streak: int
    done_today: bool
    this_week_start: dt.date
    this_week_days_done: int
    weeks: Tuple[Week, ...]
    """The grid, oldest first; the last week is the one holding `today`."""
    total_sessions: int
    """Every record dated up to today, completed or not (unverified ones have no date yet)."""
    completed_sessions: int

    def to_json(self) -> Dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "current_daily_streak": self.current_daily_streak,
            "longest_daily_streak": self.longest_daily_streak,
            "current_weekly_streak": self.current_weekly_streak,
            "longest_weekly_streak": self.longest_weekly_streak,
            "weekly_goal": self.weekly_goal,
            "week_start": WEEKDAYS[self.week_start],
            "done_today": self.done_today,
            "this_week": {
                "start": self.this_week_start.isoformat(),
                "days_done": self.this_week_days_done,
            },
            "weeks": [week.to_json() for week in self.weeks],
            "total_sessions": self.total_sessions,
            "completed_sessions": self.completed_sessions,
        }


_ClockReading = Tuple[str, dt.date, str]
"""What one record tells about the person's clock: at `started_utc` it showed a date, at an offset."""


@dataclass(frozen=True)
class _LogSummary:
    """What one pass over the records yields, so a generator of records is read only once."""

    counted: FrozenSet[dt.date]
    lived: FrozenSet[dt.date]
    """Every date with a record, finished or not: the person's clock showed it."""
    readings: Tuple[_ClockReading, ...]
    pain_ratings: Tuple[Tuple[dt.date, int], ...]
    total_sessions: int
    completed_sessions: int


def _summarise(records: Iterable[SessionRecord], today: dt.date) -> _LogSummary:
    _check_today(today)
    counted: Set[dt.date] = set()
    lived: Set[dt.date] = set()
    readings: List[_ClockReading] = []
    ratings: List[Tuple[dt.date, str, int]] = []
    total_sessions = 0
    completed_sessions = 0
    for record in records:
        if record.clock_unverified:
            continue  # saved under a wall clock that looked wrong: its day is unknown until repaired
        day = record.date
        if day > today:
            continue  # a wrong clock wrote it; it says nothing about the streak
        total_sessions += 1
        lived.add(day)
        if record.source != "backfill":  # its start is made up: noon, in the zone it was typed in
            readings.append((record.started_utc, day, record.utc_offset))
        if record.completed:
            completed_sessions += 1
            counted.add(day)
        if record.pain is not None:
            ratings.append((day, record.started_utc, record.pain))
    ratings.sort()  # by day, then start time, so the order never depends on the log's order
    return _LogSummary(
        counted=frozenset(counted),
        lived=frozenset(lived),
        readings=tuple(readings),
        pain_ratings=tuple((day, pain) for day, _started, pain in ratings),
        total_sessions=total_sessions,
        completed_sessions=completed_sessions,
    )


def counted_days(records: Iterable[SessionRecord], today: dt.date) -> Set[dt.date]:
    """The days up to `today` with at least one completed session."""
    return set(_summarise(records, today).counted)


def skipped_days(
    records: Iterable[SessionRecord], today: dt.date, now: Optional[dt.datetime] = None
) -> Set[dt.date]:
    """The days up to `today` a flight east carried the person over: they never lived them."""
    _check_now(now, today)
    return set(_skipped(_summarise(records, today), today, now))


def pain_history(records: Iterable[SessionRecord], today: dt.date) -> List[Tuple[dt.date, int]]:
    """(day, pain) for every rated session up to today, oldest first, for the pain chart.

    Unfinished sessions keep their rating: stopping because it hurt is worth seeing.
    """
    return list(_summarise(records, today).pain_ratings)


def newest_session(records: Iterable[SessionRecord]) -> Optional[SessionRecord]:
    """The session that ended last, of those whose time is known (not saved under a wall clock
    that looked wrong); ties by id, so the answer never depends on the log's order."""
    dated = (record for record in records if not record.clock_unverified)
    return max(dated, key=lambda record: (parse_utc(record.ended_utc), record.id), default=None)


def compute_stats(
    records: Iterable[SessionRecord],
    today: dt.date,
    weekly_goal: int = DEFAULT_WEEKLY_GOAL,
    week_start: Union[int, str] = 0,
    grid_weeks: int = DEFAULT_GRID_WEEKS,
    *,
    now: Optional[dt.datetime] = None,
) -> StreakStats:
    """Daily and weekly streaks, this week's progress and the grid, as of `today`.

    `now` (aware, falling on `today`) is where the person's clock stands: with it, the day a
    flight east skipped keeps the streak alive before today's session too. Without it the
    clock is taken to be where the last session left it.
    Raise ValueError for a weekly goal outside 1..7, a grid of no weeks or a bad week start.
    """
    _check_whole_number("weekly_goal", weekly_goal, 1, DAYS_PER_WEEK)
    _check_whole_number("grid_weeks", grid_weeks, 1, None)
    first_weekday = parse_week_start(week_start)
    _check_now(now, today)
    summary = _summarise(records, today)
    skipped = _skipped(summary, today, now)

    day_numbers = {day.toordinal() for day in summary.counted}
    today_number = today.toordinal()
    skipped_numbers = sorted(day.toordinal() for day in skipped)
    lived_day_numbers = {_lived_number(number, skipped_numbers) for number in day_numbers}

    days_done_by_week: Dict[int, int] = {}
    for day_number in day_numbers:
        week_number = _week_start_number(day_number, first_weekday)
        days_done_by_week[week_number] = days_done_by_week.get(week_number, 0) + 1
    days_skipped_by_week: Dict[int, int] = {}
    for day_number in skipped_numbers:
        week_number = _week_start_number(day_number, first_weekday)
        days_skipped_by_week[week_number] = days_skipped_by_week.get(week_number, 0) + 1
    goal_weeks = {
        week for week, done in days_done_by_week.items()
        if done >= min(weekly_goal, DAYS_PER_WEEK - days_skipped_by_week.get(week, 0))
    }  # a week that lost a day to a flight east asks at most for the days it still had
    this_week_number = _week_start_number(today_number, first_weekday)

    return StreakStats(
        today=today,
        weekly_goal=weekly_goal,
        week_start=first_weekday,
        current_daily_streak=_current_run(
            lived_day_numbers, _lived_number(today_number, skipped_numbers), 1
        ),
        longest_daily_streak=_longest_run(lived_day_numbers, 1),
        current_weekly_streak=_current_run(goal_weeks, this_week_number, DAYS_PER_WEEK),
        longest_weekly_streak=_longest_run(goal_weeks, DAYS_PER_WEEK),
        done_today=today_number in day_numbers,
        this_week_start=dt.date.fromordinal(this_week_number),
        this_week_days_done=days_done_by_week.get(this_week_number, 0),
        weeks=_grid(summary, this_week_number, first_weekday, grid_weeks),
        total_sessions=summary.total_sessions,
        completed_sessions=summary.completed_sessions,
    )


def _grid(
    summary: _LogSummary, this_week_number: int, first_weekday: int, grid_weeks: int
) -> Tuple[Week, ...]:
    """The last `grid_weeks` weeks, oldest first, ending with the week that holds today."""
    first_week_number = this_week_number - DAYS_PER_WEEK * (grid_weeks - 1)
    pains_by_week: Dict[int, List[int]] = {}
    for day, pain in summary.pain_ratings:
        week_number = _week_start_number(day.toordinal(), first_weekday)
        if week_number >= first_week_number:
            pains_by_week.setdefault(week_number, []).append(pain)

    weeks: List[Week] = []
    for week_number in range(first_week_number, this_week_number + 1, DAYS_PER_WEEK):
        start = dt.date.fromordinal(week_number)
        pains = pains_by_week.get(week_number)
        weeks.append(Week(
            start=start,
            days=tuple(
                start + dt.timedelta(days=offset) in summary.counted
                for offset in range(DAYS_PER_WEEK)
            ),
            avg_pain=sum(pains) / len(pains) if pains else None,
        ))
    return tuple(weeks)


def _skipped(summary: _LogSummary, today: dt.date, now: Optional[dt.datetime]) -> FrozenSet[dt.date]:
    """The dates the person's clock jumped over, so they never lived them.

    Take two readings of the clock next to each other in time (two records, or the last one
    and `now`), and assume the zone changed at most once between them. Then the clock jumped
    ahead by exactly the offset gained, and that one jump can have carried the person over
    all the dates strictly between the readings exactly when they are no longer than it:
    `missing days <= offset gained`. Those dates are skipped; with a shorter jump some of
    them was lived, and stays a missed day. Offsets span 26 hours, so a flight skips one
    date at most; a date lived from its first minute to its last is never skipped (no jump
    that long fits beside it between the readings), nor is a date with any record at all.
    """
    offsets = {text: _parse_offset(text) for text in {text for _, _, text in summary.readings}}
    now_offset = now.utcoffset() if now is not None else None
    if len(({now_offset} | set(offsets.values())) - {None}) < 2:
        return frozenset()  # the clock never changed zone: nothing can have been skipped

    shown: List[Tuple[dt.datetime, dt.date, dt.timedelta]] = []  # (moment, date, offset)
    for started_utc, day, offset_text in summary.readings:
        offset = offsets[offset_text]
        try:
            moment = parse_utc(started_utc)
        except ValueError:
            continue  # a start we cannot read tells nothing about the clock
        if offset is not None:
            shown.append((moment, day, offset))
    if now is not None and now_offset is not None:
        shown.append((now.astimezone(dt.timezone.utc), today, now_offset))
    shown.sort()

    skipped: Set[dt.date] = set()
    for (_, earlier, earlier_offset), (_, later, later_offset) in zip(shown, shown[1:]):
        missing = (later - earlier).days - 1
        if missing >= 1 and later_offset - earlier_offset >= missing * ONE_DAY:
            skipped.update(earlier + n * ONE_DAY for n in range(1, missing + 1))
    return frozenset(skipped - summary.lived)


def _lived_number(day_number: int, skipped_numbers: List[int]) -> int:
    """The day's place in the calendar the person lived, so a skipped date leaves no gap."""
    return day_number - bisect.bisect_left(skipped_numbers, day_number)


def _parse_offset(text: str) -> Optional[dt.timedelta]:
    """"+14:00" as a timedelta; None for anything else, which then tells nothing."""
    match = _OFFSET.match(text)
    if match is None:
        return None
    sign, hours, minutes = match.groups()
    offset = dt.timedelta(hours=int(hours), minutes=int(minutes))
    return -offset if sign == "-" else offset


def _week_start_number(day_number: int, first_weekday: int) -> int:
    """The ordinal of the first day of the week holding `day_number`.

    Ordinal 1 (0001-01-01) was a Monday, so `(ordinal + 6) % 7` is the weekday.
    """
    weekday = (day_number + 6) % DAYS_PER_WEEK
    return day_number - (weekday - first_weekday) % DAYS_PER_WEEK


def _current_run(members: AbstractSet[int], this_unit: int, step: int) -> int:
    """The run ending at this day (or week), or at the one before if this one is not done yet.

    An unfinished today or week never breaks a streak; it only joins it once done.
    """
    unit = this_unit if this_unit in members else this_unit - step
    run = 0
    while unit in members:
        run += 1
        unit -= step
    return run


def _longest_run(members: AbstractSet[int], step: int) -> int:
    """The longest run of members `step` apart, counting forward only from each run's start."""
    longest = 0
    for first in members:
        if first - step in members:
            continue
        length = 1
        while first + length * step in members:
            length += 1
        longest = max(longest, length)
    return longest


def _check_today(today: dt.date) -> None:
    """A datetime would compare badly with dates and carries a zone the log deliberately drops."""
    if isinstance(today, dt.datetime) or not isinstance(today, dt.date):
        raise TypeError(f"today must be a local date (datetime.date), not {today!r}")


def _check_now(now: Optional[dt.datetime], today: dt.date) -> None:
    """`now` must carry its offset (that is what it is for) and agree with `today`."""
    if now is None:
        return
    if not isinstance(now, dt.datetime) or now.utcoffset() is None:
        raise TypeError(f"now must be an aware datetime (with its UTC offset), not {now!r}")
    if now.date() != today:
        raise ValueError(f"now ({now.isoformat()}) must fall on today ({today.isoformat()})")


def _check_whole_number(name: str, value: int, lowest: int, highest: Optional[int]) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < lowest
        or (highest is not None and value > highest)
    ):
        allowed = f"{lowest} to {highest}" if highest is not None else f"{lowest} or more"
        raise ValueError(f"{name} must be a whole number {allowed}, not {value!r}")
