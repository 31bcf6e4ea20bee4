"""The typed records everything else passes around.

Frozen dataclasses only: no I/O, no Kivy, no YAML. The catalog builds the library
records, the timeline builds segments and cues, the store reads and writes
session records.
"""

from __future__ import annotations

import datetime as dt
import math
import sys
import uuid
from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Optional, Tuple

SIDES = ("both", "left", "right", "none")
TAGS = ("foot", "ankle", "hip", "seated", "standing", "floor")
SOURCES = ("kiosk", "cli", "backfill")


@dataclass(frozen=True)
class ExerciseCue:
    """A reminder said during each work period: at a fraction of it or N seconds in."""

    text: str
    at_fraction: Optional[float] = None
    at_seconds: Optional[float] = None

    def offset_s(self, work_s: float) -> float:
        if self.at_fraction is not None:
            return work_s * self.at_fraction
        assert self.at_seconds is not None
        return self.at_seconds


@dataclass(frozen=True)
class Exercise:
    id: str
    name: str
    instructions: str
    caption: str
    duration_s: Optional[float] = None
    reps: Optional[int] = None
    seconds_per_rep: Optional[float] = None
    sides: str = "none"
    limb: str = "side"
    switch_s: float = 5.0
    sets: int = 1
    rest_s: float = 10.0
    cues: Tuple[ExerciseCue, ...] = ()
    image: Optional[str] = None
    tags: Tuple[str, ...] = ()
    safety: Optional[str] = None
    source: str = ""
    """Where it was defined, as `path:line:col`, for messages."""


@dataclass(frozen=True)
class Step:
    """One exercise inside a routine, with the routine's overrides already applied."""

    exercise: Exercise
    duration_s: Optional[float]
    reps: Optional[int]
    seconds_per_rep: Optional[float]
    sets: int
    rest_s: float
    sides: str

    @property
    def work_s(self) -> float:
        """Length of one work period (one side, one set)."""
        if self.duration_s is not None:
            return self.duration_s
        assert self.reps is not None and self.seconds_per_rep is not None
        return self.reps * self.seconds_per_rep

    @property
    def side_order(self) -> Tuple[Optional[str], ...]:
        if self.sides == "both":
            return ("right", "left")
        if self.sides in ("left", "right"):
            return (self.sides,)
        return (None,)


@dataclass(frozen=True)
class Routine:
    id: str
    name: str
    description: str
    steps: Tuple[Step, ...]
    lead_in_s: float = 10.0
    rest_between_s: float = 15.0
    default: bool = False
    source: str = ""


@dataclass(frozen=True)
class Cue:
    """Something the session says (and captions) at an absolute time."""

    at_s: float
    kind: str
    text: str
    room_s: float = 0.0
    """Seconds until the next cue (infinite for the last one): the voice's budget."""


@dataclass(frozen=True)
class Segment:
    """One contiguous stretch of a session: lead-in, work, switch, set rest or rest."""

    index: int
    kind: str
    start_s: float
    end_s: float
    step_index: int
    exercise: Exercise
    side: Optional[str] = None
    set_number: int = 1
    set_count: int = 1
    cues: Tuple[Cue, ...] = ()

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class SessionRecord:
    """One session in the log. Dates are stored as the person lived them (local date)."""

    id: str
    routine: str
    started_utc: str
    ended_utc: str
    local_date: str
    utc_offset: str
    planned_s: float
    active_s: float
    completed: bool
    steps_done: int = 0
    steps_skipped: int = 0
    pain: Optional[int] = None
    source: str = "kiosk"
    clock_monotonic_s: Optional[float] = None
    """The monotonic clock at the start: with the boot id, it can date the session again."""
    clock_boot_id: str = ""
    """The boot that monotonic time belongs to (/proc/sys/kernel/random/boot_id); empty if unknown."""
    clock_unverified: bool = False
    """The wall clock looked wrong when this was saved: left out of streaks until dated again."""
    clock_repaired_from: str = ""
    """After a repair, the start the wrong clock gave, kept as evidence; empty otherwise."""
    interrupted: bool = False
    """Cut off by a crash or power cut: recorded from its last checkpoint, not completed."""
    screen: str = ""
    """The screen it was done on (its MQTT display name), when the home has more than one."""
    pain_noted_utc: str = ""
    """When the pain rating was given: between screens, the later rating wins."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Fields written by a newer version; kept so nothing is lost on rewrite."""

    FIELDS = (
        "id", "routine", "started_utc", "ended_utc", "local_date", "utc_offset",
        "planned_s", "active_s", "completed", "steps_done", "steps_skipped", "pain",
        "source",
    )
    CLOCK_FIELDS = ("clock_monotonic_s", "clock_boot_id", "clock_unverified", "clock_repaired_from")
    """Evidence about the wall clock; written only when it says something, so records
    from the command line and from older versions keep their shape."""
    OPTIONAL_FIELDS = CLOCK_FIELDS + ("interrupted", "screen", "pain_noted_utc")
    """Every field written only when it says something."""

    @property
    def date(self) -> dt.date:
        return dt.date.fromisoformat(self.local_date)

    @property
    def started(self) -> dt.datetime:
        """The start as an aware UTC datetime."""
        return parse_utc(self.started_utc)

    def to_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in self.FIELDS}
        for name in self.OPTIONAL_FIELDS:
            value = getattr(self, name)
            if value is not None and value != "" and value is not False:
                data[name] = value
        data.update(self.extra)
        return data

    def redated(self, started: dt.datetime) -> "SessionRecord":
        """The same session moved to start at `started` (aware, in the local zone wanted).

        The length is kept; the local date and offset follow the new start.
        """
        if started.tzinfo is None:
            raise ValueError("session times must carry their UTC offset")
        length = parse_utc(self.ended_utc) - parse_utc(self.started_utc)
        return replace(self, started_utc=utc_text(started), ended_utc=utc_text(started + length),
                       local_date=started.date().isoformat(), utc_offset=_offset_text(started))

    @classmethod
    def create(cls, *, routine: str, started: dt.datetime, ended: dt.datetime, planned_s: float,
               active_s: float, completed: bool, source: str, steps_done: int = 0,
               steps_skipped: int = 0, pain: Optional[int] = None) -> "SessionRecord":
        """A new record from aware local datetimes: the local date is the day it was done."""
        if started.tzinfo is None or ended.tzinfo is None:
            raise ValueError("session times must carry their UTC offset")
        return cls(
            id=uuid.uuid4().hex,
            routine=routine,
            started_utc=utc_text(started),
            ended_utc=utc_text(ended),
            local_date=started.date().isoformat(),
            utc_offset=_offset_text(started),
            planned_s=round(planned_s, 3),
            active_s=round(active_s, 3),
            completed=completed,
            steps_done=steps_done,
            steps_skipped=steps_skipped,
            pain=pain,
            source=source,
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "SessionRecord":
        """Build a record from stored JSON; raise ValueError naming the bad field.

        A log holds thousands of records, so a well-formed one takes a single combined
        check; anything it does not pass goes through `_checked_from_dict` for the message.
        """
        if type(data) is not dict:
            return cls._checked_from_dict(data)
        get = data.get
        started = get("started_utc")
        ended = get("ended_utc", started)
        local_date = get("local_date")
        planned, active = get("planned_s", 0), get("active_s", 0)
        done, skipped = get("steps_done", 0), get("steps_skipped", 0)
        pain, monotonic = get("pain"), get("clock_monotonic_s")
        source = get("source", "kiosk")
        completed = get("completed")
        unverified, interrupted = get("clock_unverified", False), get("interrupted", False)
        boot_id, repaired_from = get("clock_boot_id", ""), get("clock_repaired_from", "")
        screen, pain_noted = get("screen", ""), get("pain_noted_utc", "")
        offset = get("utc_offset", "+00:00")
        if not (type(get("id")) is str and type(get("routine")) is str and type(started) is str
                and type(ended) is str and type(local_date) is str and type(offset) is str
                and type(boot_id) is str and type(repaired_from) is str
                and type(screen) is str and type(pain_noted) is str and (not pain_noted or _is_moment(pain_noted))
                and type(completed) is bool and type(unverified) is bool and type(interrupted) is bool
                and type(planned) in _NUMBERS and 0 <= planned <= _LARGEST
                and type(active) in _NUMBERS and 0 <= active <= _LARGEST
                and type(done) is int and done >= 0 and type(skipped) is int and skipped >= 0
                and (pain is None or (type(pain) is int and 0 <= pain <= 10))
                and (monotonic is None or (type(monotonic) in _NUMBERS and -_LARGEST <= monotonic <= _LARGEST))
                and source in SOURCES and _is_date(local_date) and _is_moment(started) and _is_moment(ended)):
            return cls._checked_from_dict(data)
        extra_keys = data.keys() - _KNOWN_FIELDS
        return cls(
            id=data["id"], routine=data["routine"], started_utc=started, ended_utc=ended,
            local_date=local_date, utc_offset=offset, planned_s=float(planned), active_s=float(active),
            completed=completed, steps_done=done, steps_skipped=skipped, pain=pain, source=source,
            clock_monotonic_s=None if monotonic is None else float(monotonic), clock_boot_id=boot_id,
            clock_unverified=unverified, clock_repaired_from=repaired_from, interrupted=interrupted,
            screen=screen, pain_noted_utc=pain_noted,
            extra={key: data[key] for key in extra_keys} if extra_keys else {},
        )

    @classmethod
    def _checked_from_dict(cls, data: Mapping[str, Any]) -> "SessionRecord":
        """`from_dict` one field at a time, so the error names the first bad field."""
        if not isinstance(data, Mapping):
            raise ValueError("a session record must be an object")
        missing = [name for name in ("id", "routine", "started_utc", "local_date", "completed")
                   if name not in data]
        if missing:
            raise ValueError(f"session record lacks {', '.join(missing)}")

        def text(name: str, default: Optional[str] = None) -> str:
            value = data.get(name, default)
            if not isinstance(value, str):
                raise ValueError(f"session field {name!r} must be text, not {value!r}")
            return value

        def number(name: str) -> float:
            value = data.get(name, 0)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= _LARGEST:
                raise ValueError(f"session field {name!r} must be a number >= 0, not {value!r}")
            return float(value)

        def moment(name: str, default: Optional[str] = None) -> str:
            value = text(name, default)
            try:
                parse_utc(value)
            except ValueError:
                raise ValueError(f"session field {name!r} is not a date and time: {value!r}") from None
            return value

        def count(name: str) -> int:
            value = data.get(name, 0)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"session field {name!r} must be a whole number >= 0, not {value!r}")
            return value

        local_date = text("local_date")
        try:
            dt.date.fromisoformat(local_date)
        except ValueError:
            raise ValueError(f"session field 'local_date' is not a date: {local_date!r}") from None
        completed = data["completed"]
        if not isinstance(completed, bool):
            raise ValueError(f"session field 'completed' must be true or false, not {completed!r}")
        pain = data.get("pain")
        if pain is not None and (isinstance(pain, bool) or not isinstance(pain, int) or not 0 <= pain <= 10):
            raise ValueError(f"session field 'pain' must be 0-10 or empty, not {pain!r}")
        source = text("source", "kiosk")
        if source not in SOURCES:
            raise ValueError(f"session field 'source' must be one of {', '.join(SOURCES)}, not {source!r}")
        started = moment("started_utc")
        monotonic = data.get("clock_monotonic_s")
        if monotonic is not None and (isinstance(monotonic, bool) or not isinstance(monotonic, (int, float))
                                      or not -_LARGEST <= monotonic <= _LARGEST):
            raise ValueError(f"session field 'clock_monotonic_s' must be a number or empty, not {monotonic!r}")
        flags = {}
        for name in ("clock_unverified", "interrupted"):
            flags[name] = data.get(name, False)
            if not isinstance(flags[name], bool):
                raise ValueError(f"session field {name!r} must be true or false, not {flags[name]!r}")
        known = cls.FIELDS + cls.OPTIONAL_FIELDS
        return cls(
            id=text("id"),
            routine=text("routine"),
            started_utc=started,
            ended_utc=moment("ended_utc", started),
            local_date=local_date,
            utc_offset=text("utc_offset", "+00:00"),
            planned_s=number("planned_s"),
            active_s=number("active_s"),
            completed=completed,
            steps_done=count("steps_done"),
            steps_skipped=count("steps_skipped"),
            pain=pain,
            source=source,
            clock_monotonic_s=None if monotonic is None else float(monotonic),
            clock_boot_id=text("clock_boot_id", ""),
            clock_unverified=flags["clock_unverified"],
            clock_repaired_from=text("clock_repaired_from", ""),
            interrupted=flags["interrupted"],
            screen=text("screen", ""),
            pain_noted_utc="" if data.get("pain_noted_utc", "") == "" else moment("pain_noted_utc"),
            extra={key: value for key, value in data.items() if key not in known},
        )


_NUMBERS = (int, float)
_LARGEST = sys.float_info.max
"""A number of seconds beyond this (an integer of 400 digits, say) is not a number the log can hold."""
_KNOWN_FIELDS = frozenset(SessionRecord.FIELDS + SessionRecord.OPTIONAL_FIELDS)


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _is_moment(text: str) -> bool:
    try:
        parse_utc(text)
    except ValueError:
        return False
    return True


def clock_text(seconds: float, *, pad_minutes: bool = False) -> str:
    """A moment in a session or a length as m:ss (mm:ss with `pad_minutes`).

    The one rule everywhere (plan, player, screen, log): whole seconds, rounded down as a
    stopwatch does, so a cue at 29.5 s reads 0:29 wherever it is shown. Countdowns are
    another fact (seconds left) and round up.
    """
    whole = max(0, int(seconds)) if math.isfinite(seconds) else 0
    return f"{whole // 60:0{2 if pad_minutes else 1}d}:{whole % 60:02d}"


def parse_utc(text: str) -> dt.datetime:
    """A stored time as an aware datetime; 'Z' is read even where fromisoformat (before 3.11) refuses it."""
    moment = dt.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.timezone.utc)


def utc_text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _offset_text(moment: dt.datetime) -> str:
    offset = moment.utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
