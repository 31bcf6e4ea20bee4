"""The two fields the household added to a session: the screen it was done on, and when pain was rated."""

from __future__ import annotations

import json
from typing import Any, Callable, Dict

import pytest
from factories import numbered_record
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.core.model import SessionRecord

BOTH_PATHS = pytest.mark.parametrize("build", [SessionRecord.from_dict, SessionRecord._checked_from_dict],
                                     ids=["fast", "checked"])


@BOTH_PATHS
def test_both_fields_round_trip(build: Callable[[Dict[str, Any]], SessionRecord]) -> None:
    record = numbered_record(1, screen="Küche", pain_noted_utc="2026-01-02T08:00:00Z")
    data = record.to_dict()
    assert (data["screen"], data["pain_noted_utc"]) == ("Küche", "2026-01-02T08:00:00Z")
    assert build(data) == record
    assert build(json.loads(json.dumps(data))) == record
    assert build(data).to_dict() == data


def test_empty_fields_are_not_written_so_old_records_keep_their_shape() -> None:
    data = numbered_record(1).to_dict()
    assert "screen" not in data and "pain_noted_utc" not in data
    assert set(data) == set(SessionRecord.FIELDS)


@BOTH_PATHS
def test_a_record_without_them_reads_as_empty(build: Callable[[Dict[str, Any]], SessionRecord]) -> None:
    record = build(numbered_record(1).to_dict())
    assert (record.screen, record.pain_noted_utc) == ("", "")
    assert record.extra == {}


@BOTH_PATHS
def test_the_fields_are_not_mistaken_for_a_newer_versions(build: Callable[[Dict[str, Any]], SessionRecord]) -> None:
    data = dict(numbered_record(1).to_dict(), screen="Hall", pain_noted_utc="2026-01-02T08:00:00Z", mood="ok")
    record = build(data)
    assert record.extra == {"mood": "ok"}
    assert record.to_dict() == data


@BOTH_PATHS
@pytest.mark.parametrize("noted", ["2026-01-02T08:00:00Z", "2026-01-02T09:00:00+01:00", "2026-01-02T08:00:00.250Z",
                                   "2026-01-02T08:00:00"])
def test_a_rating_time_in_any_iso_form_is_read(build: Callable[[Dict[str, Any]], SessionRecord], noted: str) -> None:
    data = dict(numbered_record(1).to_dict(), pain_noted_utc=noted)
    assert build(data).pain_noted_utc == noted


@BOTH_PATHS
@pytest.mark.parametrize("noted", ["yesterday", "2026-13-01T08:00:00Z", "2026-02-30T08:00:00Z", "08:00",
                                   "2026-01-02T25:00:00Z", " ", 5, 1.5, True, ["2026-01-02T08:00:00Z"], {"at": 1}])
def test_a_rating_time_that_is_not_a_date_time_is_refused(
        build: Callable[[Dict[str, Any]], SessionRecord], noted: Any) -> None:
    data = dict(numbered_record(1).to_dict(), pain_noted_utc=noted)
    with pytest.raises(ValueError, match="pain_noted_utc"):
        build(data)


@BOTH_PATHS
@pytest.mark.parametrize("noted", [0, False, [], {}, None], ids=repr)
def test_a_rating_time_of_the_wrong_type_is_refused_even_when_falsy(
        build: Callable[[Dict[str, Any]], SessionRecord], noted: Any) -> None:
    """Like every other optional text field (`screen`, `clock_boot_id`): not text is refused, not read as empty."""
    data = dict(numbered_record(1).to_dict(), pain_noted_utc=noted)
    with pytest.raises(ValueError, match="pain_noted_utc"):
        build(data)


@BOTH_PATHS
@pytest.mark.parametrize("screen", [5, None, True, ["Hall"], {"name": "Hall"}])
def test_a_screen_that_is_not_text_is_refused(build: Callable[[Dict[str, Any]], SessionRecord], screen: Any) -> None:
    data = dict(numbered_record(1).to_dict(), screen=screen)
    with pytest.raises(ValueError, match="screen"):
        build(data)


_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-1, 3), st.floats(allow_nan=False), st.text(max_size=6),
                    st.sampled_from(["", "2026-01-02T08:00:00Z", "2026-01-02T09:00:00+01:00", "2026-02-30T08:00:00Z",
                                     "Hall", "yesterday"]), st.lists(st.integers(), max_size=1))


@settings(derandomize=True, database=None, deadline=None, max_examples=400)
@given(screen=_VALUES, noted=_VALUES)
def test_the_fast_path_and_the_checked_path_agree_on_the_new_fields(screen: Any, noted: Any) -> None:
    document = dict(numbered_record(2).to_dict(), screen=screen, pain_noted_utc=noted)

    def outcome(build: Callable[[Dict[str, Any]], SessionRecord]) -> Any:
        try:
            return build(document)
        except ValueError as error:
            return ("refused", str(error))

    assert outcome(SessionRecord.from_dict) == outcome(SessionRecord._checked_from_dict)
