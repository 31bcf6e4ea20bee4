"""The night schedule: when the idle kiosk blanks or dims its screen. Pure; the time is passed in."""

from __future__ import annotations

import datetime as dt
import re

NIGHT_MODES = ("off", "dim", "blank")
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def parse_clock(text: str) -> dt.time:
    """'22:00' -> 22:00; ValueError naming the problem otherwise."""
    match = _CLOCK.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a time like 22:00")
    return dt.time(int(match.group(1)), int(match.group(2)))


def in_night(now: dt.time, start: dt.time, end: dt.time) -> bool:
    """True between start and end; a span past midnight (22:00-07:00) wraps. start == end: never."""
    if start == end:
        return False
    if start < end:
        return start <= now < end
    return now >= start or now < end
