"""The night schedule: when the idle kiosk blanks or dims its screen. Pure; the time is passed in."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

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


def night_state(now: dt.datetime, settings: Any, current: str, *, idle_s: float, on_home: bool,
                in_session: bool) -> str:
    """What the screen should be now: "", "dim" or "blank".

    It goes dark only at night, on an idle Home screen nobody has touched for
    `settings.idle_timeout` seconds, never during a session; once dark it stays dark
    until morning or a touch. `settings` has night_mode, night_start, night_end, idle_timeout.
    """
    if settings.night_mode == "off" or in_session:
        return ""
    if not in_night(now.time(), parse_clock(settings.night_start), parse_clock(settings.night_end)):
        return ""
    if current:
        return current
    return settings.night_mode if on_home and idle_s >= settings.idle_timeout else ""
