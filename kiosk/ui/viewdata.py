"""Pure helpers that turn the streak figures into what the Streaks screen shows.

No Kivy here: `streaks_view` makes one record from a `StreakStats` and the pain ratings,
and the screen binds to it, so every word and number on the screen is tested without a window.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

from kiosk.core.model import SessionRecord
from kiosk.core.streaks import DAYS_PER_WEEK, StreakStats, Week, newest_session

WEEKDAY_INITIALS = ("M", "T", "W", "T", "F", "S", "S")
"""Monday first, as `date.weekday()` counts."""
WEEKDAY_SHORT = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTH_SHORT = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
"""English names of our own, so a label never depends on the machine's locale."""
PAIN_MAX = 10
"""The pain scale is 0 to PAIN_MAX, as rated on the Done screen."""
NO_VALUE = "–"
IN_A_ROW = "in a\u00a0row"
"""A no-break space keeps "a row" on one line: a wrapped figure name never ends on a lone "row"."""

PainRating = Tuple[dt.date, int]
"""(day, pain) of one rated session, as `kiosk.core.streaks.pain_history` lists them."""


@dataclass(frozen=True)
class Figure:
    """One number on the screen and the words that say what it counts."""

    value: str
    name: str


@dataclass(frozen=True)
class WeekRow:
    """One row of the day grid, and that week's pain."""

    start: dt.date
    label: str
    """The week's first day, as "2 Nov"."""
    days: Tuple[bool, ...]
    pain: Optional[float]
    """Mean of the week's ratings (0-10); None when nobody rated that week."""
    pain_text: str
    """The mean as shown beside its bar ("3", "2.5"); empty without ratings."""


@dataclass(frozen=True)
class StreaksView:
    """Everything the Streaks screen shows, made once per change of the figures."""

    day_streak: Figure
    best_day_streak: Figure
    week_streak: Figure
    best_week_streak: Figure
    this_week: Figure
    days_done: int
    """Days done this week (the goal bar's filled part)."""
    weekly_goal: int
    last_pain: Figure
    """The newest rating actually given, with its day: not a week's average."""
    weekday_initials: Tuple[str, ...]
    """The grid's column heads, from the configured first day of the week."""
    weeks: Tuple[WeekRow, ...]
    """Oldest first; the last one holds today."""
    today: Optional[dt.date]
    grid_title: str
    pain_title: str
    no_pain_text: str
    """Shown in place of the pain bars when no week has a rating."""
    last_session_text: str = ""
    """In a home of several screens: when and on which screen the last session was done
    ("Last session: today, Bedroom"); empty otherwise."""

    @property
    def has_pain(self) -> bool:
        return any(week.pain is not None for week in self.weeks)


def weekday_initials(week_start: int) -> Tuple[str, ...]:
    """The seven column heads of a week that starts on `week_start` (0 Monday .. 6 Sunday)."""
    return tuple(WEEKDAY_INITIALS[(week_start + offset) % DAYS_PER_WEEK] for offset in range(DAYS_PER_WEEK))


def day_month(day: dt.date) -> str:
    """ "2 Nov": short enough for a label beside a grid row."""
    return f"{day.day} {MONTH_SHORT[day.month - 1]}"


def day_named(day: dt.date, today: dt.date) -> str:
    """ "today", "yesterday", or "Tue 24 Nov"."""
    if day == today:
        return "today"
    if day == today - dt.timedelta(days=1):
        return "yesterday"
    return f"{WEEKDAY_SHORT[day.weekday()]} {day_month(day)}"


def pain_text(pain: Optional[float]) -> str:
    """A pain mean as read beside its bar: "3" for a whole number, else one decimal ("2.5")."""
    if pain is None:
        return ""
    rounded = round(pain, 1)
    return f"{rounded:.0f}" if rounded == int(rounded) else f"{rounded:.1f}"


def plural(count: int, singular: str, many: str) -> str:
    return singular if count == 1 else many


def counted(count: Optional[int], singular: str, many: str) -> Figure:
    """A count and what it counts, in the singular for 1; a dash before the log is read."""
    if count is None:
        return Figure(NO_VALUE, many)
    return Figure(str(count), plural(count, singular, many))


LastSession = Tuple[dt.date, str]
"""(day, screen) of the newest session, as `last_session` finds it."""


def last_session(records: Sequence[SessionRecord]) -> Optional[LastSession]:
    """The day and screen of the newest dated session that names its screen, if the newest does."""
    newest = newest_session(records)
    return (newest.date, newest.screen) if newest is not None and newest.screen else None


def streaks_view(stats: Optional[StreakStats], pain_ratings: Sequence[PainRating], week_start: int,
                 newest: Optional[LastSession] = None) -> StreaksView:
    """The Streaks screen for these figures; `stats` is None until the log has been read.

    `pain_ratings` are the rated sessions oldest first (`pain_history`): the last is the
    rating shown as "last". `week_start` (0 Monday .. 6 Sunday) is the setting, used for the
    column heads until there are figures, which carry the week start they were made with.
    """
    if stats is None:
        day_now, day_best, week_now, week_best = None, None, None, None
        this_week, done, goal = Figure(NO_VALUE, "days this week"), 0, 0
        weeks: Tuple[Week, ...] = ()
        today: Optional[dt.date] = None
    else:
        day_now, day_best = stats.current_daily_streak, stats.longest_daily_streak
        week_now, week_best = stats.current_weekly_streak, stats.longest_weekly_streak
        done, goal = stats.this_week_days_done, stats.weekly_goal
        this_week = Figure(f"{done} of {goal}", "days: goal met" if done >= goal else "days this week")
        weeks, today, week_start = stats.weeks, stats.today, stats.week_start
    return StreaksView(
        day_streak=counted(day_now, f"day {IN_A_ROW}", f"days {IN_A_ROW}"),
        best_day_streak=counted(day_best, f"most days {IN_A_ROW}", f"most days {IN_A_ROW}"),
        week_streak=counted(week_now, f"week on goal {IN_A_ROW}", f"weeks on goal {IN_A_ROW}"),
        best_week_streak=counted(week_best, f"most weeks on goal {IN_A_ROW}", f"most weeks on goal {IN_A_ROW}"),
        this_week=this_week,
        days_done=done,
        weekly_goal=goal,
        last_pain=last_pain(pain_ratings, today),
        weekday_initials=weekday_initials(week_start),
        weeks=tuple(WeekRow(start=week.start, label=day_month(week.start), days=tuple(week.days),
                            pain=week.avg_pain, pain_text=pain_text(week.avg_pain)) for week in weeks),
        today=today,
        grid_title=f"Days done, last {len(weeks)} {plural(len(weeks), 'week', 'weeks')}" if weeks else "Days done",
        pain_title="Pain, week average",
        no_pain_text="No pain rated yet",
        last_session_text="" if newest is None else
        f"Last session: {day_named(newest[0], today) if today is not None else day_month(newest[0])}, {newest[1]}",
    )


def last_pain(pain_ratings: Sequence[PainRating], today: Optional[dt.date]) -> Figure:
    """The newest rating actually given and its day: the figure says it is one rating, not a mean."""
    if not pain_ratings:
        return Figure(NO_VALUE, "pain: no rating yet")
    day, pain = pain_ratings[-1]
    when = day_named(day, today) if today is not None else day_month(day)
    return Figure(f"{pain}/{PAIN_MAX}", f"last pain rating, {when}")
