from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Dict, Set

import pytest
from factories import make_record, numbered_record
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.core.model import SessionRecord


def test_create_keeps_the_local_day_and_offset() -> None:
    tz = dt.timezone(dt.timedelta(hours=-5, minutes=-30))
    started = dt.datetime(2026, 3, 1, 23, 50, tzinfo=tz)  # already 2 March in UTC
    record = SessionRecord.create(routine="r", started=started, ended=started + dt.timedelta(minutes=5),
                                  planned_s=300, active_s=299.4444, completed=True, source="kiosk")
    assert record.local_date == "2026-03-01"
    assert record.utc_offset == "-05:30"
    assert record.started_utc == "2026-03-02T05:20:00Z"
    assert record.active_s == 299.444
    assert len(record.id) == 32


def test_create_refuses_naive_times() -> None:
    with pytest.raises(ValueError, match="UTC offset"):
        SessionRecord.create(routine="r", started=dt.datetime(2026, 1, 1), ended=dt.datetime(2026, 1, 1),
                             planned_s=1, active_s=1, completed=True, source="cli")


def test_round_trip_keeps_fields_of_newer_versions() -> None:
    data = make_record(dt.date(2026, 1, 2), pain=3).to_dict()
    data["boot_id"] = "abc"
    record = SessionRecord.from_dict(data)
    assert record.extra == {"boot_id": "abc"}
    assert record.to_dict() == data


@pytest.mark.parametrize("change, message", [
    ({"local_date": "2026-13-01"}, "local_date"),
    ({"completed": "yes"}, "completed"),
    ({"pain": 11}, "pain"),
    ({"pain": True}, "pain"),
    ({"active_s": -1}, "active_s"),
    ({"steps_done": 1.5}, "steps_done"),
    ({"source": "web"}, "source"),
    ({"routine": 7}, "routine"),
])
def test_from_dict_names_the_bad_field(change: dict, message: str) -> None:
    data = make_record(dt.date(2026, 1, 2)).to_dict()
    data.update(change)
    with pytest.raises(ValueError, match=message):
        SessionRecord.from_dict(data)


def test_from_dict_names_missing_fields() -> None:
    with pytest.raises(ValueError, match="lacks id, routine"):
        SessionRecord.from_dict({"started_utc": "x", "local_date": "2026-01-01", "completed": True})
    with pytest.raises(ValueError, match="object"):
        SessionRecord.from_dict(["not", "a", "record"])  # type: ignore[arg-type]


_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-3, 12), st.floats(allow_nan=True, allow_infinity=True),
                    st.sampled_from(["", "x", "kiosk", "cli", "2026-02-30", "2026-01-05", "2026-01-05T07:00:00Z",
                                     "+01:00", "yesterday"]), st.lists(st.integers(), max_size=2))


@settings(max_examples=400, deadline=None)
@given(changes=st.dictionaries(st.sampled_from(SessionRecord.FIELDS + SessionRecord.OPTIONAL_FIELDS + ("other",)),
                               _VALUES, max_size=4),
       dropped=st.sets(st.sampled_from(SessionRecord.FIELDS), max_size=2))
def test_the_fast_path_accepts_and_refuses_exactly_what_the_field_by_field_check_does(
        changes: Dict[str, Any], dropped: Set[str]) -> None:
    document = dict(numbered_record(3).to_dict(), **changes)
    for name in dropped:
        document.pop(name, None)

    def outcome(build: Callable[[Dict[str, Any]], SessionRecord]) -> Any:
        try:
            return build(document)
        except ValueError as error:
            return ("refused", str(error))

    assert outcome(SessionRecord.from_dict) == outcome(SessionRecord._checked_from_dict)


def test_a_stored_record_keeps_the_completed_it_was_saved_with() -> None:
    """Sessions saved before the half-the-exercise-time rule are never judged again on load."""
    data = make_record(dt.date(2026, 1, 2), steps_done=0, steps_skipped=5, active_s=55.0, planned_s=244.0).to_dict()
    assert data["completed"] is True
    record = SessionRecord.from_dict(data)
    assert record.completed is True
    assert record.to_dict() == data
