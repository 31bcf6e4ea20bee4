"""The reminders' schedule (kiosk.core.reminders), pure: when a reminder plays, how often, and
when it stays silent, with daylight saving in Europe/Berlin, America/New_York and
Australia/Lord_Howe (a 30-minute shift).

The oracle for `moment` is independent of its bisection: a sweep of every UTC minute of the
year, minute by minute, records the first instant whose local wall time reaches each asked
time. That is the rule the module states: a time that exists happens the first time it
happens, a time in a spring-forward gap happens when the gap ends.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
from functools import lru_cache
from typing import Callable, List, Optional, Sequence, Tuple
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.core.reminders import (DEFAULT_MESSAGE, LATE_LIMIT, MAX_REMINDERS, REPEAT_AFTER, SNOOZE_FOR,
                                  WEEKDAY_KEYS, Day, Planned, Prompt, Reminder, Situation, due, key_of, moment,
                                  parse_days, read_day, spoken, upcoming, why_silent)

UTC = dt.timezone.utc
MINUTE = dt.timedelta(minutes=1)
ZONE_NAMES = ("Europe/Berlin", "America/New_York", "Australia/Lord_Howe")
BERLIN, NEW_YORK, LORD_HOWE = (ZoneInfo(name) for name in ZONE_NAMES)
YEAR = 2026
TIMES = ("00:00", "01:30", "01:45", "02:00", "02:15", "02:30", "03:00", "08:30", "23:59")


def clock(text: str) -> dt.time:
    hours, minutes = text.split(":")
    return dt.time(int(hours), int(minutes))


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=UTC)


def local(zone: dt.tzinfo, *parts: int, fold: int = 0) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=zone, fold=fold)


def wall(when: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """The naive local wall time of an instant."""
    return when.astimezone(zone).replace(tzinfo=None)


# ---------------------------------------------------------------------------- an independent oracle


@lru_cache(maxsize=None)
def sweep(zone_name: str) -> Tuple[List[dt.datetime], List[dt.datetime]]:
    """Every UTC minute from the end of the previous year to the start of the next, and the
    running maximum of its local wall time (naive): the first instant whose wall time
    reaches W is the first minute whose running maximum is >= W."""
    zone = ZoneInfo(zone_name)
    instants: List[dt.datetime] = []
    reached: List[dt.datetime] = []
    now = utc(YEAR - 1, 12, 30, 0, 0)
    end = utc(YEAR + 1, 1, 2, 0, 0)
    highest = dt.datetime.min
    while now < end:
        highest = max(highest, wall(now, zone))
        instants.append(now)
        reached.append(highest)
        now += MINUTE
    return instants, reached


def first_reaching(zone_name: str, day: dt.date, time: dt.time) -> dt.datetime:
    instants, reached = sweep(zone_name)
    return instants[bisect.bisect_left(reached, dt.datetime.combine(day, time))]


def exists(zone: dt.tzinfo, day: dt.date, time: dt.time) -> bool:
    """Whether some instant shows this wall time (not inside a spring-forward gap)."""
    asked = dt.datetime.combine(day, time)
    return any(wall(asked.replace(tzinfo=zone, fold=fold).astimezone(UTC), zone) == asked for fold in (0, 1))


@lru_cache(maxsize=None)
def transitions(zone_name: str, year: int = YEAR) -> Tuple[Tuple[dt.date, dt.timedelta, dt.timedelta], ...]:
    """(local date, offset before, offset after) for each change of the zone's UTC offset in `year`."""
    zone = ZoneInfo(zone_name)
    found = []
    now = utc(year, 1, 1, 0, 0)
    before = now.astimezone(zone).utcoffset()
    while now.year == year:
        offset = now.astimezone(zone).utcoffset()
        if offset != before:
            found.append((now.astimezone(zone).date(), before, offset))
            before = offset
        now += dt.timedelta(minutes=15)
    return tuple(found)


def spring_day(zone_name: str) -> dt.date:
    return next(day for day, before, after in transitions(zone_name) if after > before)


def fall_day(zone_name: str) -> dt.date:
    return next(day for day, before, after in transitions(zone_name) if after < before)


def dst_days() -> List[Tuple[str, dt.date]]:
    return [(name, day) for name in ZONE_NAMES for day, _, _ in transitions(name)]


def test_the_transitions_are_the_known_ones() -> None:
    """The helper finds what the tz database says for 2026 (so the tests below use the right days)."""
    assert spring_day("Europe/Berlin") == dt.date(2026, 3, 29)
    assert fall_day("Europe/Berlin") == dt.date(2026, 10, 25)
    assert spring_day("America/New_York") == dt.date(2026, 3, 8)
    assert fall_day("America/New_York") == dt.date(2026, 11, 1)
    lord_howe = {day: after - before for day, before, after in transitions("Australia/Lord_Howe")}
    assert sorted(lord_howe.values()) == [dt.timedelta(minutes=-30), dt.timedelta(minutes=30)]
    assert spring_day("Australia/Lord_Howe").month == 10 and fall_day("Australia/Lord_Howe").month == 4


# ---------------------------------------------------------------------------- moment: worked examples


def test_spring_forward_in_berlin_plays_when_the_gap_ends() -> None:
    day = dt.date(2026, 3, 29)
    at = moment(day, dt.time(2, 30), BERLIN)
    assert at == utc(2026, 3, 29, 1, 0)
    assert at.utcoffset() == dt.timedelta(0)
    assert at.astimezone(BERLIN).time() == dt.time(3, 0)
    assert at.astimezone(BERLIN).utcoffset() == dt.timedelta(hours=2)


@pytest.mark.parametrize("minutes", range(0, 60))
def test_every_time_in_the_berlin_gap_plays_at_three(minutes: int) -> None:
    assert moment(dt.date(2026, 3, 29), dt.time(2, minutes), BERLIN) == utc(2026, 3, 29, 1, 0)


def test_the_edges_of_the_berlin_gap() -> None:
    day = dt.date(2026, 3, 29)
    assert moment(day, dt.time(1, 59), BERLIN) == utc(2026, 3, 29, 0, 59)
    assert moment(day, dt.time(3, 0), BERLIN) == utc(2026, 3, 29, 1, 0)
    assert moment(day, dt.time(3, 1), BERLIN) == utc(2026, 3, 29, 1, 1)


def test_spring_forward_in_new_york_plays_at_three_edt() -> None:
    at = moment(dt.date(2026, 3, 8), dt.time(2, 30), NEW_YORK)
    assert at == utc(2026, 3, 8, 7, 0)
    assert at.astimezone(NEW_YORK).time() == dt.time(3, 0)
    assert at.astimezone(NEW_YORK).tzname() == "EDT"


def test_spring_forward_on_lord_howe_shifts_thirty_minutes() -> None:
    day = spring_day("Australia/Lord_Howe")  # 2026-10-04: 02:00 +10:30 -> 02:30 +11:00
    at = moment(day, dt.time(2, 15), LORD_HOWE)
    assert at.astimezone(LORD_HOWE).replace(tzinfo=None) == dt.datetime.combine(day, dt.time(2, 30))
    assert at.astimezone(LORD_HOWE).utcoffset() == dt.timedelta(hours=11)
    assert at == dt.datetime.combine(day, dt.time(2, 30), tzinfo=dt.timezone(dt.timedelta(hours=11)))
    assert at - MINUTE < dt.datetime.combine(day, dt.time(2, 0), tzinfo=dt.timezone(dt.timedelta(hours=10.5)))
    for minutes in range(0, 30):
        assert moment(day, dt.time(2, minutes), LORD_HOWE) == at
    assert moment(day, dt.time(2, 30), LORD_HOWE) == at
    assert moment(day, dt.time(2, 45), LORD_HOWE) == at + dt.timedelta(minutes=15)


def test_fall_back_in_berlin_plays_the_first_time() -> None:
    """Berlin goes back from 03:00 CEST to 02:00 CET: 02:00-02:59 happens twice, 01:30 once."""
    day = dt.date(2026, 10, 25)
    twice = moment(day, dt.time(2, 30), BERLIN)
    assert twice == utc(2026, 10, 25, 0, 30)  # 02:30 CEST; the second 02:30 (CET) is 01:30 UTC
    assert twice.astimezone(BERLIN).utcoffset() == dt.timedelta(hours=2)
    assert moment(day, dt.time(1, 30), BERLIN) == utc(2026, 10, 24, 23, 30)
    assert moment(day, dt.time(2, 0), BERLIN) == utc(2026, 10, 25, 0, 0)
    assert moment(day, dt.time(3, 0), BERLIN) == utc(2026, 10, 25, 2, 0)


def test_fall_back_in_new_york_plays_the_first_time() -> None:
    at = moment(dt.date(2026, 11, 1), dt.time(1, 30), NEW_YORK)
    assert at == utc(2026, 11, 1, 5, 30)  # 01:30 EDT; the second 01:30 (EST) is 06:30 UTC
    assert at.astimezone(NEW_YORK).tzname() == "EDT"


def test_fall_back_on_lord_howe_plays_the_first_time() -> None:
    day = fall_day("Australia/Lord_Howe")  # 2026-04-05: 02:00 +11:00 -> 01:30 +10:30
    assert day.month == 4
    at = moment(day, dt.time(1, 45), LORD_HOWE)
    first = dt.datetime.combine(day, dt.time(1, 45), tzinfo=dt.timezone(dt.timedelta(hours=11)))
    assert at == first
    assert at.astimezone(LORD_HOWE).replace(tzinfo=None, fold=0) == dt.datetime.combine(day, dt.time(1, 45))


@pytest.mark.parametrize("zone, day, time, expected", [
    (BERLIN, dt.date(2026, 6, 15), dt.time(8, 30), utc(2026, 6, 15, 6, 30)),
    (BERLIN, dt.date(2026, 1, 15), dt.time(8, 30), utc(2026, 1, 15, 7, 30)),
    (NEW_YORK, dt.date(2026, 1, 15), dt.time(8, 30), utc(2026, 1, 15, 13, 30)),
    (NEW_YORK, dt.date(2026, 7, 4), dt.time(23, 59), utc(2026, 7, 5, 3, 59)),
    (LORD_HOWE, dt.date(2026, 7, 1), dt.time(8, 30), utc(2026, 6, 30, 22, 0)),
    (LORD_HOWE, dt.date(2026, 12, 25), dt.time(0, 0), utc(2026, 12, 24, 13, 0)),
])
def test_ordinary_days(zone: ZoneInfo, day: dt.date, time: dt.time, expected: dt.datetime) -> None:
    assert moment(day, time, zone) == expected


# ---------------------------------------------------------------------------- moment: every day of the year


@pytest.mark.parametrize("zone_name", ZONE_NAMES)
def test_every_day_of_the_year_the_moment_is_the_first_instant_reaching_the_time(zone_name: str) -> None:
    zone = ZoneInfo(zone_name)
    day = dt.date(YEAR, 1, 1)
    wrong = []
    gaps = 0
    while day.year == YEAR:
        for text in TIMES:
            time = clock(text)
            at = moment(day, time, zone)
            asked = dt.datetime.combine(day, time)
            expected = first_reaching(zone_name, day, time)
            shown = wall(at, zone)
            if exists(zone, day, time):
                ok = at == expected and shown == asked
            else:
                gaps += 1
                # the first instant after the gap: later on the wall, and a moment before it was before the gap
                ok = at == expected and shown > asked and wall(at - dt.timedelta(seconds=1), zone) < asked
            if not ok or at.utcoffset() != dt.timedelta(0) or at.microsecond or at.second:
                wrong.append((day, text, at, expected))
        day += dt.timedelta(days=1)
    assert wrong == []
    assert gaps >= 1  # the spring-forward day was visited


@pytest.mark.parametrize("zone_name", ZONE_NAMES)
def test_every_day_the_moments_are_in_the_order_of_their_times(zone_name: str) -> None:
    zone = ZoneInfo(zone_name)
    ordered = sorted(clock(text) for text in TIMES)
    day = dt.date(YEAR, 1, 1)
    wrong = []
    while day.year == YEAR:
        moments = [moment(day, time, zone) for time in ordered]
        for (a, at_a), (b, at_b) in zip(zip(ordered, moments), zip(ordered[1:], moments[1:])):
            if at_a > at_b or (exists(zone, day, a) and exists(zone, day, b) and at_a >= at_b):
                wrong.append((day, a, b))
        day += dt.timedelta(days=1)
    assert wrong == []


# ---------------------------------------------------------------------------- simulated days

Hook = Callable[[Day, dt.datetime, List[Tuple[str, str, dt.datetime]]], Day]
ORDINARY = Situation()


def simulate(reminders: Sequence[Reminder], zone: dt.tzinfo, date: dt.date, start: dt.datetime,
             end: dt.datetime, situation: Situation = ORDINARY, then: Optional[Hook] = None,
             day: Optional[Day] = None) -> Tuple[List[Tuple[str, str, dt.datetime]], Day]:
    """Ask `due` every minute from `start` to `end` (inclusive), recording what plays with
    `Day.with_played`, as the app does; `then` may answer the card after that, each minute."""
    day = day or Day(date)
    played: List[Tuple[str, str, dt.datetime]] = []
    now = start
    while now <= end:
        prompts = due(reminders, now, zone, day, situation)
        if prompts:
            day = day.with_played(prompts, now)
            played.extend((prompt.key, prompt.kind, now) for prompt in prompts)
        if then is not None:
            day = then(day, now, played)
        now += MINUTE
    return played, day


def around(day: dt.date, time: dt.time, zone: dt.tzinfo) -> Tuple[dt.datetime, dt.datetime]:
    """An hour before the reminder's moment to three hours after, on whole UTC minutes."""
    at = moment(day, time, zone).replace(second=0, microsecond=0)
    return at - dt.timedelta(hours=1), at + dt.timedelta(hours=3)


def answer_minutes_after_first(minutes: int) -> Hook:
    def hook(day: Day, now: dt.datetime, played: List[Tuple[str, str, dt.datetime]]) -> Day:
        firsts = [when for _, kind, when in played if kind == "first"]
        if firsts and now == firsts[0] + dt.timedelta(minutes=minutes) and not day.answered:
            return day.answer(now)
        return day
    return hook


def check_unanswered(zone_name: str, day: dt.date, time: dt.time) -> None:
    zone = ZoneInfo(zone_name)
    reminder = Reminder(time.strftime("%H:%M"))
    start, end = around(day, time, zone)
    played, _ = simulate([reminder], zone, day, start, end)
    kinds = [kind for _, kind, _ in played]
    assert kinds == ["first", "repeat"], (zone_name, day, time, played)
    (_, _, first), (_, _, again) = played
    assert first == moment(day, time, zone) == first_reaching(zone_name, day, time)
    assert again - first == REPEAT_AFTER


def check_answered(zone_name: str, day: dt.date, time: dt.time, after_minutes: int) -> None:
    zone = ZoneInfo(zone_name)
    reminder = Reminder(time.strftime("%H:%M"))
    start, end = around(day, time, zone)
    played, final = simulate([reminder], zone, day, start, end, then=answer_minutes_after_first(after_minutes))
    assert [kind for _, kind, _ in played] == ["first"], (zone_name, day, time, after_minutes, played)
    assert played[0][2] == moment(day, time, zone) == first_reaching(zone_name, day, time)
    assert final.answered == (key_of(reminder),)


@settings(max_examples=150, derandomize=True, deadline=None)
@given(zone_name=st.sampled_from(ZONE_NAMES), day=st.dates(dt.date(YEAR, 1, 1), dt.date(YEAR, 12, 31)),
       time=st.one_of(st.sampled_from([clock(text) for text in TIMES]),
                      st.builds(dt.time, st.integers(0, 23), st.integers(0, 59))))
def test_unanswered_a_reminder_plays_twice_never_more(zone_name: str, day: dt.date, time: dt.time) -> None:
    check_unanswered(zone_name, day, time)


@settings(max_examples=150, derandomize=True, deadline=None)
@given(zone_name=st.sampled_from(ZONE_NAMES), day=st.dates(dt.date(YEAR, 1, 1), dt.date(YEAR, 12, 31)),
       time=st.one_of(st.sampled_from([clock(text) for text in TIMES]),
                      st.builds(dt.time, st.integers(0, 23), st.integers(0, 59))),
       after_minutes=st.integers(0, 29))
def test_answered_after_the_first_play_it_plays_once(zone_name: str, day: dt.date, time: dt.time,
                                                      after_minutes: int) -> None:
    check_answered(zone_name, day, time, after_minutes)


@pytest.mark.parametrize("zone_name, day", dst_days(), ids=lambda value: str(value))
def test_on_the_daylight_saving_days_every_time_plays_twice_unanswered_and_once_answered(
        zone_name: str, day: dt.date) -> None:
    for text in TIMES + ("01:00", "01:59", "02:29", "02:45", "02:59", "03:30"):
        time = clock(text)
        check_unanswered(zone_name, day, time)
        check_answered(zone_name, day, time, 0)
        check_answered(zone_name, day, time, 29)


def test_a_time_that_happens_twice_plays_once_and_repeats_once() -> None:
    """Berlin 2026-10-25: 02:30 CEST plays, 03:00 CEST (= 02:00 CET) repeats, the second 02:30 stays quiet."""
    day = dt.date(2026, 10, 25)
    played, _ = simulate([Reminder("02:30")], BERLIN, day, utc(2026, 10, 24, 22, 0), utc(2026, 10, 25, 6, 0))
    assert [(kind, when) for _, kind, when in played] == [("first", utc(2026, 10, 25, 0, 30)),
                                                          ("repeat", utc(2026, 10, 25, 1, 0))]


def test_a_time_in_the_gap_plays_once_at_the_end_of_the_gap_and_repeats_once() -> None:
    day = dt.date(2026, 3, 29)
    played, _ = simulate([Reminder("02:30")], BERLIN, day, utc(2026, 3, 28, 22, 0), utc(2026, 3, 29, 6, 0))
    assert [(kind, wall(when, BERLIN).time()) for _, kind, when in played] == [("first", dt.time(3, 0)),
                                                                               ("repeat", dt.time(3, 30))]


# ---------------------------------------------------------------------------- the rules

DAY = dt.date(2026, 11, 26)  # a Thursday
EVENING_REMINDER = Reminder("18:30")


def at_berlin(hour: int, minute: int, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=BERLIN)


@pytest.mark.parametrize("late, plays", [
    (dt.timedelta(0), True),
    (dt.timedelta(hours=1, minutes=59), True),
    (dt.timedelta(hours=1, minutes=59, seconds=59), True),
    (LATE_LIMIT, False),
    (dt.timedelta(hours=2, minutes=1), False),
    (dt.timedelta(seconds=-1), False),
])
def test_a_reminder_missed_while_off_plays_at_most_two_hours_late(late: dt.timedelta, plays: bool) -> None:
    now = at_berlin(18, 30) + late
    prompts = due([EVENING_REMINDER], now, BERLIN, Day(DAY), Situation())
    assert [prompt.kind for prompt in prompts] == (["first"] if plays else [])
    if plays:
        assert prompts[0].due == at_berlin(18, 30) and prompts[0].reminder == EVENING_REMINDER


def test_a_restart_two_hours_and_a_minute_late_never_plays_it() -> None:
    played, _ = simulate([EVENING_REMINDER], BERLIN, DAY, at_berlin(20, 31), at_berlin(23, 59))
    assert played == []


def test_a_restart_an_hour_and_59_minutes_late_plays_it_and_its_repeat() -> None:
    played, _ = simulate([EVENING_REMINDER], BERLIN, DAY, at_berlin(20, 29), at_berlin(23, 59))
    assert [(kind, when) for _, kind, when in played] == [("first", at_berlin(20, 29)), ("repeat", at_berlin(20, 59))]


@pytest.mark.parametrize("situation, day, why", [
    (Situation(in_session=True), Day(DAY), "a session is running"),
    (Situation(done_today=True), Day(DAY), "done today"),
    (Situation(), Day(DAY, not_today=True), "not today"),
    (Situation(clock_trusted=False), Day(DAY), "clock untrusted"),
])
def test_never_during_a_session_once_done_on_not_today_or_with_an_untrusted_clock(
        situation: Situation, day: Day, why: str) -> None:
    assert why_silent(day, situation) == why
    assert due([EVENING_REMINDER], at_berlin(18, 30), BERLIN, day, situation) == []
    played, _ = simulate([EVENING_REMINDER], BERLIN, DAY, at_berlin(17, 0), at_berlin(23, 0), situation, day=day)
    assert played == []


def test_nothing_silences_an_ordinary_day() -> None:
    assert why_silent(Day(DAY), Situation()) == ""


def test_a_pending_repeat_is_silenced_too() -> None:
    """The first played; then a session starts, today is done, or Not today: no repeat at 19:00."""
    played = Day(DAY).with_played(due([EVENING_REMINDER], at_berlin(18, 30), BERLIN, Day(DAY), Situation()),
                                  at_berlin(18, 30))
    assert [p.kind for p in due([EVENING_REMINDER], at_berlin(19, 0), BERLIN, played, Situation())] == ["repeat"]
    for situation in (Situation(in_session=True), Situation(done_today=True), Situation(clock_trusted=False)):
        assert due([EVENING_REMINDER], at_berlin(19, 0), BERLIN, played, situation) == []
    dismissed = played.answer(at_berlin(18, 40), not_today=True)
    assert dismissed.not_today and due([EVENING_REMINDER], at_berlin(19, 0), BERLIN, dismissed, Situation()) == []


def test_not_today_silences_every_later_reminder_of_the_day() -> None:
    reminders = [Reminder("08:30"), EVENING_REMINDER]
    day = Day(DAY).answer(at_berlin(7, 0), not_today=True)
    played, _ = simulate(reminders, BERLIN, DAY, at_berlin(7, 0), at_berlin(23, 59), day=day)
    assert played == []


def test_a_snooze_plays_once_thirty_minutes_after_it_was_asked_for() -> None:
    asked = at_berlin(18, 33)

    def snooze(day: Day, now: dt.datetime, played: List[Tuple[str, str, dt.datetime]]) -> Day:
        return day.answer(now, snooze=True) if now == asked else day

    played, final = simulate([EVENING_REMINDER], BERLIN, DAY, at_berlin(17, 0), at_berlin(23, 0), then=snooze)
    assert [(kind, when) for _, kind, when in played] == [("first", at_berlin(18, 30)),
                                                          ("snooze", asked + SNOOZE_FOR)]
    assert final.snoozed_until == (asked + SNOOZE_FOR).astimezone(UTC).isoformat()


def test_the_snooze_prompt_carries_the_reminder_it_repeats_and_wakes_the_screen() -> None:
    reminders = [Reminder("08:30", message="Morning."), Reminder("18:30", message="Evening.")]
    day = Day(DAY).with_played(due(reminders, at_berlin(18, 30), BERLIN, Day(DAY), Situation()), at_berlin(18, 30))
    day = day.answer(at_berlin(18, 31), snooze=True)
    assert due(reminders, at_berlin(19, 0), BERLIN, day, Situation()) == []
    prompts = due(reminders, at_berlin(19, 1), BERLIN, day, Situation())
    assert [(p.kind, p.reminder.text, p.due) for p in prompts] == [("snooze", "Evening.", at_berlin(19, 1))]
    assert prompts[0].wakes_screen()


def test_the_repeat_does_not_wake_a_dark_screen_and_the_first_does() -> None:
    first = Prompt("0@18:30", "first", at_berlin(18, 30), EVENING_REMINDER)
    assert first.wakes_screen()
    assert not Prompt("0@18:30", "repeat", at_berlin(19, 0), EVENING_REMINDER).wakes_screen()


def berlin_night(when: dt.datetime) -> bool:
    time = when.astimezone(BERLIN).time()
    return time >= dt.time(22, 0) or time < dt.time(7, 0)


def test_a_repeat_that_falls_in_the_night_is_skipped_the_first_play_is_not() -> None:
    night = Situation(in_night=berlin_night)
    played, _ = simulate([Reminder("21:45")], BERLIN, DAY, at_berlin(20, 0), at_berlin(23, 59), night)
    assert [(kind, when) for _, kind, when in played] == [("first", at_berlin(21, 45))]
    played, _ = simulate([Reminder("06:00")], BERLIN, DAY, at_berlin(5, 0), at_berlin(9, 0), night)
    assert [(kind, when) for _, kind, when in played] == [("first", at_berlin(6, 0))]
    played, _ = simulate([Reminder("21:00")], BERLIN, DAY, at_berlin(20, 0), at_berlin(23, 59), night)
    assert [kind for _, kind, _ in played] == ["first", "repeat"]  # 21:30 is still evening


def test_passed_over_silences_the_reminders_whose_time_has_come_and_not_the_later_ones() -> None:
    reminders = [Reminder("08:30"), Reminder("12:00"), EVENING_REMINDER]
    day = Day(DAY).with_played(due(reminders, at_berlin(8, 30), BERLIN, Day(DAY), Situation()), at_berlin(8, 30))
    day = day.passed_over(reminders, at_berlin(12, 10), BERLIN)  # a session started at 12:10, 08:30 unanswered
    assert day.has_played(key_of(reminders[1]), "first")
    assert not day.has_played(key_of(EVENING_REMINDER), "first")
    assert set(day.answered) == {key_of(reminders[0]), key_of(reminders[1])}
    played, _ = simulate(reminders, BERLIN, DAY, at_berlin(12, 10), at_berlin(23, 59), day=day)
    assert [(key, kind, when) for key, kind, when in played] == [
        (key_of(EVENING_REMINDER), "first", at_berlin(18, 30)),
        (key_of(EVENING_REMINDER), "repeat", at_berlin(19, 0))]


def test_passed_over_just_after_the_first_play_means_no_repeat() -> None:
    day = Day(DAY).with_played(due([EVENING_REMINDER], at_berlin(18, 30), BERLIN, Day(DAY), Situation()),
                               at_berlin(18, 30))
    day = day.passed_over([EVENING_REMINDER], at_berlin(18, 45), BERLIN)
    played, _ = simulate([EVENING_REMINDER], BERLIN, DAY, at_berlin(18, 45), at_berlin(23, 59), day=day)
    assert played == []


def test_two_reminders_due_at_once_after_a_restart_come_together_oldest_first() -> None:
    reminders = [Reminder("09:00", message="Second."), Reminder("08:00", message="First.")]
    now = at_berlin(9, 30)
    prompts = due(reminders, now, BERLIN, Day(DAY), Situation())
    assert [(p.kind, p.reminder.text, p.due) for p in prompts] == [("first", "First.", at_berlin(8, 0)),
                                                                    ("first", "Second.", at_berlin(9, 0))]
    day = Day(DAY).with_played(prompts, now)
    assert due(reminders, now, BERLIN, day, Situation()) == []
    played, _ = simulate(reminders, BERLIN, DAY, now, at_berlin(23, 59), day=day)
    assert all(kind == "repeat" for _, kind, _ in played)
    assert sorted(key for key, _, _ in played) == sorted({key for key, _, _ in played})  # each at most once


def test_a_restart_reads_the_day_back_and_plays_nothing_again() -> None:
    reminders = [Reminder("08:30"), EVENING_REMINDER]
    played, day = simulate(reminders, BERLIN, DAY, at_berlin(18, 0), at_berlin(18, 35))
    assert [kind for _, kind, _ in played] == ["first"]
    text = json.dumps(day.to_json())
    again = read_day(text, DAY)
    assert again == day
    assert due(reminders, at_berlin(18, 35), BERLIN, again, Situation()) == []
    rest, _ = simulate(reminders, BERLIN, DAY, at_berlin(18, 35), at_berlin(23, 59), day=again)
    assert [(kind, when) for _, kind, when in rest] == [("repeat", at_berlin(19, 0))]
    _, finished = simulate(reminders, BERLIN, DAY, at_berlin(18, 35), at_berlin(23, 59), day=again)
    after = read_day(json.dumps(finished.to_json()), DAY)
    assert simulate(reminders, BERLIN, DAY, at_berlin(19, 0), at_berlin(23, 59), day=after)[0] == []


def test_a_restart_keeps_answers_and_snoozes() -> None:
    day = Day(DAY).with_played(due([EVENING_REMINDER], at_berlin(18, 30), BERLIN, Day(DAY), Situation()),
                               at_berlin(18, 30)).answer(at_berlin(18, 31), snooze=True)
    again = read_day(json.dumps(day.to_json()), DAY)
    assert again == day
    played, _ = simulate([EVENING_REMINDER], BERLIN, DAY, at_berlin(18, 32), at_berlin(23, 0), day=again)
    assert [(kind, when) for _, kind, when in played] == [("snooze", at_berlin(19, 1))]
    not_today = read_day(json.dumps(Day(DAY).answer(at_berlin(8, 0), not_today=True).to_json()), DAY)
    assert not_today.not_today


@pytest.mark.parametrize("text", [
    "", "{", "null", "[]", "42", '"text"', "{}", '{"date": "yesterday"}', '{"date": 20261126}',
    '{"date": "2026-11-26", "played": 5}', '{"date": "2026-11-26", "played": [["0@18:30", "first"]]}',
    '{"date": "2026-11-26", "played": [["0@18:30", "first", "18:30"]]}',
    '{"date": "2026-11-26", "played": [["0@18:30", "first", "2026-11-26T17:30:00"]]}',
    '{"date": "2026-11-26", "played": [null]}', '{"date": "2026-11-26", "snoozed_until": "soon"}',
    '{"date": "2026-11-26", "answered": 3}', "\x00\x01garbage",
])
def test_a_garbled_file_is_a_fresh_day(text: str) -> None:
    assert read_day(text, DAY) == Day(DAY)


def test_the_file_of_another_day_is_a_fresh_day() -> None:
    yesterday = Day(DAY - dt.timedelta(days=1), played=(("0@18:30", "first", "2026-11-25T17:30:00+00:00"),),
                    answered=("0@18:30",), not_today=True)
    assert read_day(json.dumps(yesterday.to_json()), DAY) == Day(DAY)
    assert read_day(json.dumps(yesterday.to_json()), DAY - dt.timedelta(days=1)) == yesterday


def test_the_file_is_what_to_json_writes() -> None:
    day = Day(DAY).with_played([Prompt("0@18:30", "first", at_berlin(18, 30), EVENING_REMINDER)], at_berlin(18, 30))
    assert day.to_json() == {"date": "2026-11-26", "played": [["0@18:30", "first", "2026-11-26T17:30:00+00:00"]],
                             "answered": [], "snoozed_until": "", "not_today": False}
    assert Day.from_json(day.to_json()) == day


def test_the_days_of_a_reminder_filter_it() -> None:
    weekdays = Reminder("08:30", days=WEEKDAY_KEYS[:5])
    saturday = dt.date(2026, 11, 28)
    assert saturday.weekday() == 5
    assert due([weekdays], at_berlin(8, 30, saturday), BERLIN, Day(saturday), Situation()) == []
    played, _ = simulate([weekdays], BERLIN, saturday, at_berlin(0, 0, saturday), at_berlin(23, 59, saturday))
    assert played == []
    friday = dt.date(2026, 11, 27)
    assert [p.kind for p in due([weekdays], at_berlin(8, 30, friday), BERLIN, Day(friday), Situation())] == ["first"]


def test_a_reminder_plays_only_on_the_day_of_the_day_record() -> None:
    """Yesterday's Day never plays today's reminder (the app starts a new Day at midnight)."""
    yesterday = Day(DAY - dt.timedelta(days=1))
    assert due([EVENING_REMINDER], at_berlin(18, 30), BERLIN, yesterday, Situation()) == []


def test_removing_an_earlier_reminder_does_not_play_a_later_one_again() -> None:
    """The 18:30 reminder played; at 18:40 the person removes the 08:30 one on the Settings
    screen (the app keeps today's Day). The 18:30 reminder has played today: it must not
    chime again as if new ("plays at most twice a day")."""
    before = [Reminder("08:30"), EVENING_REMINDER]
    day = Day(DAY).with_played(due(before, at_berlin(18, 30), BERLIN, Day(DAY), Situation()), at_berlin(18, 30))
    day = day.answer(at_berlin(18, 31))  # answered: no repeat either
    after = [EVENING_REMINDER]
    played, _ = simulate(after, BERLIN, DAY, at_berlin(18, 40), at_berlin(23, 59), day=day)
    assert played == []


# ---------------------------------------------------------------------------- what is said


def prompt_of(reminder: Reminder) -> Prompt:
    return Prompt("0@" + reminder.time, "first", at_berlin(18, 30), reminder)


@pytest.mark.parametrize("time, streak, says_streak", [
    (dt.time(16, 0), 12, True), (dt.time(23, 59), 2, True), (dt.time(18, 30), 12, True),
    (dt.time(15, 59), 12, False), (dt.time(8, 30), 30, False), (dt.time(18, 30), 1, False),
    (dt.time(18, 30), 0, False),
])
def test_the_evening_reminder_says_the_streak(time: dt.time, streak: int, says_streak: bool) -> None:
    reminder = Reminder("18:30", message="Time for your five minutes of feet and hips.")
    text = spoken(prompt_of(reminder), time, streak)
    if says_streak:
        assert text == f"Time for your five minutes of feet and hips. You are on a {streak}-day streak."
    else:
        assert text == "Time for your five minutes of feet and hips."


def test_the_12_day_streak_sentence_exactly() -> None:
    assert spoken(prompt_of(Reminder("18:30")), dt.time(18, 30), 12) == \
        f"{DEFAULT_MESSAGE} You are on a 12-day streak."


def test_a_reminder_without_a_message_says_the_default() -> None:
    assert Reminder("08:30").text == DEFAULT_MESSAGE
    assert Reminder("08:30", message="Feet!").text == "Feet!"


# ---------------------------------------------------------------------------- days


def test_parse_days_takes_short_and_full_names_in_any_case_in_week_order() -> None:
    assert parse_days(["mon", "Monday", "TUE"]) == ("mon", "tue")
    assert parse_days(["sun", "SATURDAY", " wed ", "Fri"]) == ("wed", "fri", "sat", "sun")
    assert parse_days(["thursday"]) == ("thu",)
    assert parse_days([]) == ()


@pytest.mark.parametrize("value", ["funday", "monkey", "mo", "", "tues", "sundays", 3, None])
def test_parse_days_refuses_what_is_not_a_day(value: object) -> None:
    with pytest.raises(ValueError) as caught:
        parse_days(["mon", value])
    assert repr(value) in str(caught.value)


@pytest.mark.parametrize("days, text", [
    (WEEKDAY_KEYS, "every day"),
    (("mon", "tue", "wed", "thu", "fri"), "weekdays"),
    (("fri", "thu", "wed", "tue", "mon"), "weekdays"),
    (("sat", "sun"), "weekends"),
    (("mon", "wed", "fri"), "Mon, Wed, Fri"),
    (("fri", "mon"), "Mon, Fri"),
    (("sun",), "Sun"),
    ((), "no day"),
])
def test_days_text(days: Tuple[str, ...], text: str) -> None:
    assert Reminder("08:30", days=days).days_text() == text


def test_a_reminder_is_on_its_days() -> None:
    reminder = Reminder("08:30", days=("mon", "sun"))
    monday = dt.date(2026, 11, 23)
    assert [reminder.on(monday + dt.timedelta(days=n)) for n in range(7)] == [True] + [False] * 5 + [True]


def test_the_limits() -> None:
    assert MAX_REMINDERS == 8
    assert REPEAT_AFTER == SNOOZE_FOR == dt.timedelta(minutes=30)
    assert LATE_LIMIT == dt.timedelta(hours=2)


# ---------------------------------------------------------------------------- the coming days

MORNING_AND_EVENING = [Reminder("08:30"), EVENING_REMINDER]


def summary(items: List[Planned]) -> List[Tuple[str, bool, str]]:
    return [(item.at.strftime("%a %d %H:%M"), item.plays, item.why_not) for item in items]


@pytest.mark.parametrize("day, situation, why", [
    (Day(DAY), Situation(done_today=True), "done today"),
    (Day(DAY).answer(at_berlin(9, 0), not_today=True), Situation(), "not today"),
])
def test_upcoming_says_why_today_is_silent_and_later_days_play(day: Day, situation: Situation, why: str) -> None:
    items = upcoming(MORNING_AND_EVENING, at_berlin(12, 0), BERLIN, day, situation)
    assert summary(items)[:3] == [("Thu 26 18:30", False, why), ("Fri 27 08:30", True, ""),
                                  ("Fri 27 18:30", True, "")]
    assert all(item.plays for item in items[1:])


def test_upcoming_with_an_untrusted_clock_no_day_plays() -> None:
    items = upcoming(MORNING_AND_EVENING, at_berlin(12, 0), BERLIN, Day(DAY), Situation(clock_trusted=False))
    assert items and all(not item.plays and item.why_not == "clock untrusted" for item in items)


def test_upcoming_says_already_played() -> None:
    day = Day(DAY).with_played(due(MORNING_AND_EVENING, at_berlin(18, 30), BERLIN, Day(DAY), Situation()),
                               at_berlin(18, 30))
    items = upcoming(MORNING_AND_EVENING, at_berlin(18, 30), BERLIN, day, Situation())
    assert summary(items)[:2] == [("Thu 26 18:30", False, "already played"), ("Fri 27 08:30", True, "")]


def test_upcoming_lists_seven_days_from_now_in_order() -> None:
    items = upcoming(MORNING_AND_EVENING, at_berlin(12, 0), BERLIN, Day(DAY), Situation())
    assert len(items) == 14
    assert [item.at for item in items] == sorted(item.at for item in items)
    assert items[0].at == at_berlin(18, 30) and items[-1].at == at_berlin(8, 30, DAY + dt.timedelta(days=7))
    assert all(item.plays and item.why_not == "" for item in items)
    assert all(item.at.tzinfo is not None and item.at.utcoffset() == dt.timedelta(hours=1) for item in items)
    exactly = upcoming([EVENING_REMINDER], at_berlin(18, 30), BERLIN, Day(DAY), Situation())
    assert [item.at.date() for item in exactly] == [DAY + dt.timedelta(days=n) for n in range(7)]
    assert upcoming(MORNING_AND_EVENING, at_berlin(12, 0), BERLIN, Day(DAY), Situation(), days=1)[-1].at == \
        at_berlin(8, 30, DAY + dt.timedelta(days=1))


def test_upcoming_leaves_out_days_a_reminder_is_not_on() -> None:
    items = upcoming([Reminder("08:30", days=WEEKDAY_KEYS[:5])], at_berlin(12, 0), BERLIN, Day(DAY), Situation())
    assert [item.at.strftime("%a") for item in items] == ["Fri", "Mon", "Tue", "Wed", "Thu"]


def test_upcoming_over_a_daylight_saving_week_shows_the_moment_on_the_wall() -> None:
    now = dt.datetime(2026, 3, 26, 12, 0, tzinfo=BERLIN)
    items = upcoming([Reminder("02:30")], now, BERLIN, Day(now.date()), Situation())
    shown = {item.at.date(): item.at.strftime("%H:%M %z") for item in items}
    assert shown[dt.date(2026, 3, 29)] == "03:00 +0200"
    assert shown[dt.date(2026, 3, 28)] == "02:30 +0100" and shown[dt.date(2026, 3, 30)] == "02:30 +0200"
    assert len(items) == 7


def test_a_running_session_does_not_change_the_list() -> None:
    items = upcoming(MORNING_AND_EVENING, at_berlin(12, 0), BERLIN, Day(DAY), Situation(in_session=True))
    assert items[0].plays
