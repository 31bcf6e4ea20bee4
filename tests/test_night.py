from __future__ import annotations

import datetime as dt

import pytest

from kiosk.core.night import in_night, parse_clock


@pytest.mark.parametrize("now, expected", [
    ("21:59", False), ("22:00", True), ("23:59", True), ("00:00", True), ("06:59", True), ("07:00", False),
    ("12:00", False),
])
def test_a_night_across_midnight(now: str, expected: bool) -> None:
    assert in_night(parse_clock(now), parse_clock("22:00"), parse_clock("07:00")) is expected


def test_a_span_within_one_day_and_an_empty_span() -> None:
    assert in_night(dt.time(13, 30), dt.time(13, 0), dt.time(14, 0))
    assert not in_night(dt.time(14, 0), dt.time(13, 0), dt.time(14, 0))
    assert not in_night(dt.time(3, 0), dt.time(7, 0), dt.time(7, 0))


@pytest.mark.parametrize("text", ["24:00", "7", "7:5", "noon", "12:60", ""])
def test_bad_times_are_refused_with_the_text(text: str) -> None:
    with pytest.raises(ValueError, match="not a time like 22:00"):
        parse_clock(text)


def night_settings(mode: str = "dim"):
    from kiosk.config import Settings

    return Settings(night_mode=mode, night_start="22:00", night_end="07:00", idle_timeout=60)


AT_NIGHT = dt.datetime(2026, 11, 26, 23, 0)
BY_DAY = dt.datetime(2026, 11, 26, 12, 0)


@pytest.mark.parametrize("now, current, idle_s, on_home, in_session, expected", [
    (AT_NIGHT, "", 61, True, False, "dim"),      # night, idle Home: it goes dark
    (AT_NIGHT, "", 59, True, False, ""),         # touched a moment ago
    (AT_NIGHT, "", 600, False, False, ""),       # another screen stays lit (it goes Home first)
    (AT_NIGHT, "", 600, True, True, ""),         # never during a session
    (AT_NIGHT, "dim", 0, True, False, "dim"),    # once dark, it stays dark until a touch wakes it
    (BY_DAY, "dim", 600, True, False, ""),       # morning lights it
])
def test_night_state(now: dt.datetime, current: str, idle_s: float, on_home: bool, in_session: bool,
                     expected: str) -> None:
    from kiosk.core.night import night_state

    assert night_state(now, night_settings(), current, idle_s=idle_s, on_home=on_home,
                       in_session=in_session) == expected
    assert night_state(now, night_settings("off"), current, idle_s=idle_s, on_home=on_home,
                       in_session=in_session) == ""
