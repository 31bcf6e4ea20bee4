"""Whether the wall clock can be believed, and how to date a session again once it can.

A Raspberry Pi has no battery-backed clock: after a boot without network the wall
clock can be hours or years wrong (fake-hwclock restores the time of the last
shutdown) until NTP syncs. The monotonic clock is right from boot, so every session
is saved with its monotonic start and the boot it belongs to. A session saved while
the wall clock was implausible is flagged and left out of streaks; once a trusted
reading from the same boot exists its start is worked out again as
`wall = trusted wall - (trusted monotonic - monotonic)`. Nothing is dropped.

Pure: readings are passed in. `read_clock` and `read_boot_id` are the only I/O here.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Union

from kiosk.core.model import SessionRecord, parse_utc

RELEASE_DATE = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)
"""No session can have happened before this version existed, so a wall clock showing an
earlier time is wrong. Move it forward with each release."""

BOOT_ID_PATH = Path("/proc/sys/kernel/random/boot_id")

Stored = Union[SessionRecord, Mapping[str, Any]]
"""A record, or its stored dict: the store checks thousands of documents without building records."""


@dataclass(frozen=True)
class ClockReading:
    """The wall and monotonic clocks read at one moment, and the boot they belong to."""

    wall: dt.datetime
    """Aware (local or UTC)."""
    monotonic_s: float
    boot_id: str


def read_boot_id(path: Path = BOOT_ID_PATH) -> str:
    """This boot's id, or "" where the system has none (then no session can be re-dated)."""
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return ""


def local_now() -> dt.datetime:
    """The wall clock, as an aware local time: the one "now" of the app and the command line."""
    return dt.datetime.now().astimezone()


def local_zone(environ: Optional[Dict[str, str]] = None, localtime: Path = Path("/etc/localtime")) -> dt.tzinfo:
    """The system's time zone with its daylight-saving rules (TZ, else /etc/localtime), for
    reminders; the fixed offset of now when neither can be read."""
    import zoneinfo

    name = (os.environ if environ is None else environ).get("TZ", "").lstrip(":")
    if name:
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    try:
        with localtime.open("rb") as source:
            return zoneinfo.ZoneInfo.from_file(source, key="localtime")
    except (OSError, ValueError):
        return local_now().tzinfo or dt.timezone.utc


def read_clock(monotonic: Callable[[], float] = time.monotonic,
               wall: Optional[Callable[[], dt.datetime]] = None) -> ClockReading:
    """Read both clocks now (the caller's clocks, so a fake clock stays one clock)."""
    now = wall() if wall is not None else local_now()
    return ClockReading(now, monotonic(), read_boot_id())


def wall_problem(wall: dt.datetime, newest_start: Optional[dt.datetime]) -> Optional[str]:
    """Why this wall-clock time cannot be right, or None when it is plausible."""
    if wall < RELEASE_DATE:
        return (f"the clock said {wall:%Y-%m-%d %H:%M}, before this version was released "
                f"({RELEASE_DATE:%Y-%m-%d})")
    if newest_start is not None and wall < newest_start:
        return (f"the clock said {wall:%Y-%m-%d %H:%M}, earlier than the newest session "
                f"({newest_start:%Y-%m-%d %H:%M} UTC)")
    return None


def _field(item: Stored, name: str, default: Any = None) -> Any:
    if isinstance(item, SessionRecord):
        return getattr(item, name)
    return item.get(name, default)


def timed_here(item: Stored) -> bool:
    """Whether this kiosk's own clock timed the session (not typed in, imported or from an old version)."""
    return _field(item, "clock_monotonic_s") is not None


def newest_trusted_start(records: Iterable[Stored]) -> Optional[dt.datetime]:
    """The latest start among sessions timed here by a clock that was believed.

    Back-filled and imported sessions carry times a person or another device chose,
    so they never make this kiosk's clock look wrong.
    """
    newest: Optional[dt.datetime] = None
    for item in records:
        if not timed_here(item) or _field(item, "clock_unverified", False):
            continue
        try:
            started = parse_utc(_field(item, "started_utc"))
        except (TypeError, ValueError):
            continue
        if newest is None or started > newest:
            newest = started
    return newest


def checked(record: SessionRecord, newest_start: Optional[dt.datetime]) -> SessionRecord:
    """The record, flagged unverified if its wall-clock start is implausible.

    Only sessions timed here are judged; a flag once set stays until a repair.
    """
    if not timed_here(record) or record.clock_unverified:
        return record
    try:
        started = record.started
    except ValueError:
        return replace(record, clock_unverified=True)
    if wall_problem(started, newest_start) is None:
        return record
    return replace(record, clock_unverified=True)


def redated(record: SessionRecord, reference: ClockReading,
            zone: Optional[dt.tzinfo] = None) -> Optional[SessionRecord]:
    """The unverified record dated from a trusted reading of its own boot, or None if it cannot be.

    `zone` is the local time zone for the new local date; None means the system's.
    """
    if (not record.clock_unverified or record.clock_monotonic_s is None or not record.clock_boot_id
            or record.clock_boot_id != reference.boot_id or record.clock_monotonic_s > reference.monotonic_s):
        return None  # another boot's monotonic time says nothing; nor does a reading from before the session
    since_start = dt.timedelta(seconds=reference.monotonic_s - record.clock_monotonic_s)
    started_utc = reference.wall.astimezone(dt.timezone.utc) - since_start
    if started_utc < RELEASE_DATE:
        return None
    started = started_utc.astimezone(zone) if zone is not None else started_utc.astimezone()
    try:
        moved = record.redated(started)
    except ValueError:
        return None
    return replace(moved, clock_unverified=False, clock_repaired_from=record.started_utc)


def repairs(records: Iterable[SessionRecord], reading: ClockReading, newest_start: Optional[dt.datetime],
            zone: Optional[dt.tzinfo] = None) -> List[SessionRecord]:
    """The unverified sessions that `reading` can date, re-dated; none if the reading is itself
    implausible (`newest_start`: see `newest_trusted_start` over the whole log)."""
    if wall_problem(reading.wall, newest_start) is not None:
        return []
    fixed = []
    for record in records:
        repaired = redated(record, reading, zone)
        if repaired is not None:
            fixed.append(repaired)
    return fixed


def reference_of(record: SessionRecord) -> Optional[ClockReading]:
    """A trusted session's own start as a clock reading, to date others of its boot."""
    if not timed_here(record) or record.clock_unverified or not record.clock_boot_id:
        return None
    assert record.clock_monotonic_s is not None
    try:
        return ClockReading(record.started, record.clock_monotonic_s, record.clock_boot_id)
    except ValueError:
        return None
