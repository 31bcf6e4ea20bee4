"""Small builders for library records, so tests say only what matters to them."""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional, Sequence

from kiosk.core.model import Exercise, Routine, SessionRecord, Step


def make_exercise(id: str = "toe-spreads", **overrides: Any) -> Exercise:
    fields: dict[str, Any] = dict(
        id=id, name=id.replace("-", " ").capitalize(), instructions="Do the thing slowly.",
        caption="Slowly", duration_s=30.0,
    )
    fields.update(overrides)
    return Exercise(**fields)


def make_step(exercise: Optional[Exercise] = None, **overrides: Any) -> Step:
    exercise = exercise or make_exercise()
    fields: dict[str, Any] = dict(
        exercise=exercise, duration_s=exercise.duration_s, reps=exercise.reps,
        seconds_per_rep=exercise.seconds_per_rep, sets=exercise.sets, rest_s=exercise.rest_s,
        sides=exercise.sides,
    )
    fields.update(overrides)
    return Step(**fields)


def make_routine(steps: Sequence[Step] = (), id: str = "routine", **overrides: Any) -> Routine:
    fields: dict[str, Any] = dict(
        id=id, name=id.capitalize(), description="", steps=tuple(steps) or (make_step(),),
        lead_in_s=10.0, rest_between_s=15.0, default=True,
    )
    fields.update(overrides)
    return Routine(**fields)


def make_record(day: dt.date, completed: bool = True, routine: str = "daily-reset",
                pain: Optional[int] = None, **overrides: Any) -> SessionRecord:
    started = dt.datetime.combine(day, dt.time(9, 0), tzinfo=dt.timezone.utc)
    fields: dict[str, Any] = dict(
        routine=routine, started=started, ended=started + dt.timedelta(minutes=5),
        planned_s=300.0, active_s=300.0 if completed else 120.0, completed=completed,
        source="kiosk", pain=pain,
    )
    fields.update(overrides)
    return SessionRecord.create(**fields)


def numbered_record(number: int, **changes: Any) -> SessionRecord:
    """A record with a fixed id and times derived from `number`, for storage round trips."""
    day = f"2026-01-{1 + number % 28:02d}"
    fields: dict[str, Any] = dict(
        id=f"session-{number:05d}", routine="foot-basics",
        started_utc=f"{day}T07:{number % 60:02d}:00Z", ended_utc=f"{day}T07:{number % 60:02d}:30Z",
        local_date=day, utc_offset="+01:00", planned_s=600.0, active_s=587.25, completed=True,
        steps_done=8, steps_skipped=1, pain=3, source="kiosk",
    )
    fields.update(changes)
    return SessionRecord(**fields)


REMINDERS_EXAMPLE = """\
reminders:
  - time: "08:30"
    days: [mon, tue, wed, thu, fri]
  - time: "18:30"              # every day when days is left out
    message: "Time for your five minutes of feet and hips."
reminder_volume: 0.6
"""
"""The issue's example of the reminder settings, as a person writes them."""
