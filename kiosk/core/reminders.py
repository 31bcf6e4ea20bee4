"""Reminders: when to chime, say the message and show the reminder card. Pure; "now", the
time zone, today's answers and whether today is done are all passed in.

Local time, as the person set it. Two days a year the wall clock jumps:
- spring forward: a time inside the gap (02:30 when clocks go from 02:00 to 03:00) does not
  exist that day; its reminder plays once, when the gap ends (03:00);
- fall back: a time inside the repeated hour (01:30 when 02:00 goes back to 01:00) happens
  twice; its reminder plays once, the first time.

A reminder plays at most twice a day: at its time, and once more 30 minutes later if
nobody answered the card. "In 30 minutes" plays it once more after 30 minutes; "Not
today" silences every reminder until tomorrow. None plays during a session, once today
has a completed session, or while the wall clock is not trusted; one missed while the
kiosk was off plays at most 2 hours late.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from kiosk.core.night import parse_clock

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""As `date.weekday()` counts: Monday is 0."""
MAX_REMINDERS = 8
REPEAT_AFTER = dt.timedelta(minutes=30)
SNOOZE_FOR = dt.timedelta(minutes=30)
LATE_LIMIT = dt.timedelta(hours=2)
"""A reminder missed while the kiosk was off still plays this long after its time, never later."""
EVENING = dt.time(16, 0)
"""From this time on, a reminder on a day that would end a daily streak says the streak."""
DEFAULT_MESSAGE = "Time for your foot and hip exercises."
UTC = dt.timezone.utc


@dataclass(frozen=True)
class Reminder:
    """One reminder from the settings: a local time, on some days of the week, with a message."""

    time: str
    """"HH:MM", local time."""
    days: Tuple[str, ...] = WEEKDAY_KEYS
    message: str = ""

    @property
    def clock(self) -> dt.time:
        return parse_clock(self.time)

    def on(self, day: dt.date) -> bool:
        return WEEKDAY_KEYS[day.weekday()] in self.days

    @property
    def text(self) -> str:
        return self.message or DEFAULT_MESSAGE

    def days_text(self) -> str:
        """ "every day", "weekdays", "weekends" or "Mon, Wed, Fri": for the screen and the list."""
        chosen = [key for key in WEEKDAY_KEYS if key in self.days]
        if len(chosen) == 7:
            return "every day"
        if chosen == list(WEEKDAY_KEYS[:5]):
            return "weekdays"
        if chosen == list(WEEKDAY_KEYS[5:]):
            return "weekends"
        if not chosen:
            return "no day"
        return ", ".join(key.capitalize() for key in chosen)


def parse_days(values: Sequence[Any]) -> Tuple[str, ...]:
    """Day names as the settings file gives them (mon ... sun, any case, or monday ...), in
    week order; ValueError naming the first that is not a day."""
    chosen = set()
    for value in values:
        text = str(value).strip().lower()
        key = text[:3]
        if key not in WEEKDAY_KEYS or (len(text) > 3 and not _full_day_name(text)):
            raise ValueError(f"{value!r} is not a day (mon, tue, wed, thu, fri, sat, sun)")
        chosen.add(key)
    return tuple(key for key in WEEKDAY_KEYS if key in chosen)


def _full_day_name(text: str) -> bool:
    return text in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def moment(day: dt.date, clock: dt.time, zone: dt.tzinfo) -> dt.datetime:
    """When `clock` on `day` happens in `zone`, in UTC: a time in a spring-forward gap happens
    when the gap ends; a time that happens twice (fall back) happens the first time."""
    wall = dt.datetime.combine(day, clock)
    first = wall.replace(tzinfo=zone, fold=0)
    second = wall.replace(tzinfo=zone, fold=1)
    early, late = sorted((first.astimezone(UTC), second.astimezone(UTC)))
    if early.astimezone(zone).replace(tzinfo=None) == wall:
        return early  # it exists: the first time it happens (the only one on most days)
    # In a gap: neither reading round-trips. The gap ends at the one instant between the
    # two readings where the offset changes; find it to the second.
    low, high = early, late
    while high - low > dt.timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).utcoffset() == low.astimezone(zone).utcoffset():
            low = middle
        else:
            high = middle
    return high.replace(microsecond=0)


# ---------------------------------------------------------------------------- today's answers

@dataclass(frozen=True)
class Day:
    """What happened with the reminders on one local date: kept in the data folder so a
    restart (a power cut) never plays one again."""

    date: dt.date
    played: Tuple[Tuple[str, str, str], ...] = ()
    """(key, kind, when in UTC ISO) for each prompt played or passed over."""
    answered: Tuple[str, ...] = ()
    """Keys of reminders somebody answered (a button on the card, or a session started)."""
    snoozed_until: str = ""
    not_today: bool = False

    def has_played(self, key: str, kind: str) -> bool:
        return any(played_key == key and played_kind == kind for played_key, played_kind, _ in self.played)

    def played_at(self, key: str, kind: str) -> Optional[dt.datetime]:
        for played_key, played_kind, when in self.played:
            if played_key == key and played_kind == kind:
                return _from_iso(when)
        return None

    def with_played(self, prompts: Sequence["Prompt"], now: dt.datetime) -> "Day":
        return replace(self, played=self.played + tuple((p.key, p.kind, _iso(now)) for p in prompts))

    def passed_over(self, reminders: Sequence[Reminder], now: dt.datetime, zone: dt.tzinfo) -> "Day":
        """A session starts or ends: every reminder whose time has come counts as answered (a
        session is the answer), so none plays or repeats just after it."""
        return self.gone_by(reminders, now, zone).answer(now)

    def gone_by(self, reminders: Sequence[Reminder], now: dt.datetime, zone: dt.tzinfo) -> "Day":
        """These reminders' times today that have already gone count as played and answered:
        a reminder just added or moved to an earlier time is not a late one to play now."""
        missed = [Prompt(key, "first", when, reminder) for key, when, reminder in occurrences(reminders, self.date, zone)
                  if when <= now and not self.has_played(key, "first")]
        day = self.with_played(missed, now)
        return replace(day, answered=tuple(sorted(set(day.answered) | {prompt.key for prompt in missed})))

    def answer(self, now: dt.datetime, *, snooze: bool = False, not_today: bool = False) -> "Day":
        """Somebody answered: no repeat of what has played; with `snooze`, once more in 30 minutes."""
        keys = tuple(sorted({key for key, _, _ in self.played} | set(self.answered)))
        return replace(self, answered=keys, snoozed_until=_iso(now + SNOOZE_FOR) if snooze else "",
                       not_today=self.not_today or not_today)

    def to_json(self) -> Dict[str, Any]:
        return {"date": self.date.isoformat(), "played": [list(item) for item in self.played],
                "answered": list(self.answered), "snoozed_until": self.snoozed_until,
                "not_today": self.not_today}

    @classmethod
    def from_json(cls, data: Any) -> "Day":
        """ValueError if it is not what `to_json` writes."""
        if not isinstance(data, dict):
            raise ValueError("not an object")
        try:
            played = tuple((str(key), str(kind), str(when)) for key, kind, when in data.get("played", []))
            for _, _, when in played:
                _from_iso(when)
            snoozed = str(data.get("snoozed_until", ""))
            if snoozed:
                _from_iso(snoozed)
            return cls(date=dt.date.fromisoformat(data["date"]), played=played,
                       answered=tuple(str(key) for key in data.get("answered", [])), snoozed_until=snoozed,
                       not_today=bool(data.get("not_today", False)))
        except (KeyError, TypeError) as error:
            raise ValueError(f"not a reminders day: {error}") from None


def read_day(text: str, today: dt.date) -> Day:
    """Today's answers from the saved file's text; a file of another day, or unreadable, is a new day."""
    try:
        day = Day.from_json(json.loads(text))
    except ValueError:
        return Day(today)
    return day if day.date == today else Day(today)


def _iso(moment_: dt.datetime) -> str:
    return moment_.astimezone(UTC).isoformat(timespec="seconds")


def _from_iso(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone")
    return value


# ---------------------------------------------------------------------------- what is due

@dataclass(frozen=True)
class Prompt:
    """A reminder to play now: the chime, the message, the card."""

    key: str
    kind: str
    """first (at its time), repeat (30 minutes on, unanswered) or snooze (asked for)."""
    due: dt.datetime
    reminder: Reminder

    def wakes_screen(self) -> bool:
        """A time the person chose (the reminder's own, or "In 30 minutes"): a dark night screen wakes."""
        return self.kind in ("first", "snooze")


@dataclass(frozen=True)
class Situation:
    """What else decides whether a reminder plays now."""

    done_today: bool = False
    in_session: bool = False
    clock_trusted: bool = True
    in_night: Callable[[dt.datetime], bool] = field(default=lambda when: False)
    """Whether the night schedule has the screen dark at a moment (for the automatic repeat)."""


def key_of(reminder: Reminder) -> str:
    """A reminder's identity for today's answers: what it is, not where it is in the list, so
    removing an earlier one never makes a later one play again."""
    return f"{reminder.time}|{','.join(reminder.days)}|{reminder.message}"


def occurrences(reminders: Sequence[Reminder], day: dt.date, zone: dt.tzinfo) -> List[Tuple[str, dt.datetime,
                                                                                          Reminder]]:
    """Each reminder that is on `day`, with its moment (UTC), in time order."""
    found = {key_of(reminder): (moment(day, reminder.clock, zone), reminder)
             for reminder in reminders if reminder.on(day)}  # the same reminder twice is one
    return sorted(((key, when, reminder) for key, (when, reminder) in found.items()), key=lambda item: item[1])


def due(reminders: Sequence[Reminder], now: dt.datetime, zone: dt.tzinfo, day: Day,
        situation: Situation) -> List[Prompt]:
    """Every prompt due at `now`, oldest first: play the last; the others are passed over
    (after a restart two may be due at once, and one chime is enough)."""
    if why_silent(day, situation):
        return []
    found: List[Prompt] = []
    for key, when, reminder in occurrences(reminders, day.date, zone):
        if when <= now < when + LATE_LIMIT and not day.has_played(key, "first"):
            found.append(Prompt(key, "first", when, reminder))
        first_played = day.played_at(key, "first")
        if first_played is not None and key not in day.answered and not day.has_played(key, "repeat"):
            again = first_played + REPEAT_AFTER
            if again <= now < again + LATE_LIMIT and not situation.in_night(again):
                found.append(Prompt(key, "repeat", again, reminder))
    if day.snoozed_until:
        until = _from_iso(day.snoozed_until)
        key = f"snooze@{day.snoozed_until}"
        if until <= now < until + LATE_LIMIT and not day.has_played(key, "snooze"):
            last = _last_played_reminder(reminders, day, zone)
            found.append(Prompt(key, "snooze", until, last))
    return sorted(found, key=lambda prompt: prompt.due)


def why_silent(day: Day, situation: Situation) -> str:
    """Why no reminder plays today (now), or empty."""
    if situation.in_session:
        return "a session is running"
    if situation.done_today:
        return "done today"
    if day.not_today:
        return "not today"
    if not situation.clock_trusted:
        return "clock untrusted"
    return ""


def _last_played_reminder(reminders: Sequence[Reminder], day: Day, zone: dt.tzinfo) -> Reminder:
    """The reminder a snooze repeats: the last one played today (else the first of the list)."""
    keys = {key: reminder for key, _, reminder in occurrences(reminders, day.date, zone)}
    for key, _, _ in reversed(day.played):
        if key in keys:
            return keys[key]
    return reminders[0] if reminders else Reminder("00:00")


def spoken(prompt: Prompt, local_time: dt.time, daily_streak: int) -> str:
    """What is said (and shown on the card): the message, and in the evening, when today
    would end a daily streak of two days or more, the streak."""
    return _said(prompt.reminder, local_time >= EVENING, daily_streak)


def may_say(reminder: Reminder, daily_streak: int) -> Tuple[str, ...]:
    """Everything a reminder may say today (the evening's words too), to render ahead."""
    return tuple(dict.fromkeys((_said(reminder, False, daily_streak), _said(reminder, True, daily_streak))))


def _said(reminder: Reminder, evening: bool, daily_streak: int) -> str:
    if evening and daily_streak >= 2:
        return f"{reminder.text} You are on a {daily_streak}-day streak."
    return reminder.text


# ---------------------------------------------------------------------------- the coming days

@dataclass(frozen=True)
class Planned:
    """One reminder in the coming days, for `kiosk remind list`."""

    at: dt.datetime
    """Local time."""
    reminder: Reminder
    plays: bool
    why_not: str = ""
    late: bool = False
    """Its time has gone (the kiosk was off), but it is under 2 hours late: it plays as soon as it can."""


def upcoming(reminders: Sequence[Reminder], now: dt.datetime, zone: dt.tzinfo, day: Day, situation: Situation,
             days: int = 7) -> List[Planned]:
    """The reminders from `now` over the coming `days`, each with whether it will play.

    Today's answers (done, not today) and the clock's state are known only for today; a
    later day's reminder plays as far as anything can tell now.
    """
    today = now.astimezone(zone).date()
    planned: List[Planned] = []
    for offset in range(days + 1):
        date = today + dt.timedelta(days=offset)
        for key, when, reminder in occurrences(reminders, date, zone):
            if when + (LATE_LIMIT if date == today else dt.timedelta(0)) <= now \
                    or when >= now + dt.timedelta(days=days):
                continue  # (today's from the last 2 hours, not played yet, still play: listed)
            why = ""
            if date == today:
                why = why_silent(day, replace(situation, in_session=False))
                if not why and day.has_played(key, "first"):
                    why = "already played"
            elif not situation.clock_trusted:
                why = "clock untrusted"
            planned.append(Planned(when.astimezone(zone), reminder, not why, why, late=when < now))
    return planned
