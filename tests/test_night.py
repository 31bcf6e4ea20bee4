from __future__ import annotations

import datetime as dt

import pytest

from kiosk.night import in_night, parse_clock


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
