"""CSV export and import of session records: round trips, and errors that point at the line."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any, Dict, List

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.model import SOURCES, SessionRecord
from kiosk.records_csv import CSV_FIELDS, CsvImportError, export_csv, import_csv

from factories import numbered_record

HEADER = ",".join(CSV_FIELDS)


make_record = numbered_record


def exported(records: List[SessionRecord]) -> str:
    stream = io.StringIO(newline="")
    export_csv(records, stream)
    return stream.getvalue()


def imported(text: str) -> List[SessionRecord]:
    return import_csv(io.StringIO(text, newline=""), "log.csv")


def test_fields_follow_the_record() -> None:
    assert CSV_FIELDS == SessionRecord.FIELDS


def test_export_writes_a_header_and_one_row_per_record() -> None:
    text = exported([make_record(1), make_record(2, completed=False, pain=None)])
    assert text.splitlines() == [
        HEADER,
        "session-00001,foot-basics,2026-01-02T07:01:00Z,2026-01-02T07:01:30Z,2026-01-02,+01:00,"
        "600.0,587.25,true,8,1,3,kiosk",
        "session-00002,foot-basics,2026-01-03T07:02:00Z,2026-01-03T07:02:30Z,2026-01-03,+01:00,"
        "600.0,587.25,false,8,1,,kiosk",
    ]


def test_an_empty_log_exports_just_the_header() -> None:
    assert exported([]).splitlines() == [HEADER]
    assert imported(exported([])) == []


def test_round_trip_gives_equal_records() -> None:
    records = [make_record(1), make_record(2, pain=None, completed=False, source="backfill"),
               make_record(3, routine='hip, "morning"', id="line\nbreak")]
    assert imported(exported(records)) == records


def test_import_accepts_columns_in_any_order_and_blank_lines() -> None:
    reordered = list(reversed(CSV_FIELDS))
    row = {"id": "a", "routine": "r", "started_utc": "2026-01-05T07:00:00+00:00",
           "ended_utc": "2026-01-05T07:05:00+00:00", "local_date": "2026-01-05",
           "utc_offset": "-05:00", "planned_s": "300", "active_s": "299.5", "completed": "TRUE",
           "steps_done": "4", "steps_skipped": "0", "pain": "", "source": "cli"}
    text = ",".join(reordered) + "\n\n" + ",".join(row[name] for name in reordered) + "\n"
    [record] = imported(text)
    assert record == SessionRecord(
        id="a", routine="r", started_utc="2026-01-05T07:00:00+00:00",
        ended_utc="2026-01-05T07:05:00+00:00", local_date="2026-01-05", utc_offset="-05:00",
        planned_s=300.0, active_s=299.5, completed=True, steps_done=4, steps_skipped=0,
        pain=None, source="cli")


def row_with(**changes: str) -> str:
    cells = exported([make_record(1)]).splitlines()[1].split(",")
    for name, value in changes.items():
        cells[CSV_FIELDS.index(name)] = value
    return ",".join(cells)


@pytest.mark.parametrize("changes, problem", [
    ({"planned_s": "ten"}, "column planned_s: 'ten' is not a number"),
    ({"active_s": "-1"}, "column active_s: '-1' is not a number of seconds >= 0"),
    ({"active_s": "nan"}, "column active_s: 'nan' is not a number of seconds >= 0"),
    ({"steps_done": "2.5"}, "column steps_done: '2.5' is not a whole number"),
    ({"steps_skipped": "-2"}, "column steps_skipped: '-2' is below 0"),
    ({"local_date": "31/01/2026"}, "column local_date: '31/01/2026' is not a date like 2026-01-31"),
    ({"started_utc": "yesterday"}, "column started_utc: 'yesterday' is not a date and time"),
    ({"ended_utc": ""}, "column ended_utc: '' is not a date and time"),
    ({"utc_offset": "CET"}, "column utc_offset: 'CET' is not a UTC offset like +01:00"),
    ({"completed": "yes"}, "column completed: 'yes' is not true or false"),
    ({"pain": "11"}, "column pain: '11' is not a pain score from 0 to 10"),
    ({"pain": "bad"}, "column pain: 'bad' is not a whole number"),
    ({"id": ""}, "column id: must not be empty"),
    ({"source": "phone"}, "session field 'source' must be one of kiosk, cli, backfill, not 'phone'"),
])
def test_a_bad_value_names_the_file_line_and_column(changes: Dict[str, str], problem: str) -> None:
    text = "\n".join([HEADER, row_with(), row_with(**changes), row_with(id="later", pain="bad")])
    with pytest.raises(CsvImportError) as raised:
        imported(text)
    assert str(raised.value).startswith(f"log.csv:3: {problem}")
    assert raised.value.line == 3


def test_line_numbers_count_lines_inside_quoted_fields() -> None:
    first = exported([make_record(1, routine="two\nlines")]).splitlines()
    text = "\n".join(first + [row_with(planned_s="x")])
    with pytest.raises(CsvImportError, match=r"^log\.csv:4: column planned_s"):
        imported(text)


def test_a_missing_header_column_is_reported_on_line_1() -> None:
    header = ",".join(name for name in CSV_FIELDS if name not in ("pain", "source"))
    with pytest.raises(CsvImportError, match=r"^log\.csv:1: the header lacks column pain, source$"):
        imported(header + "\n")


def test_an_unknown_header_column_is_reported() -> None:
    with pytest.raises(CsvImportError, match=r"^log\.csv:1: the header has unknown column 'notes'"):
        imported(HEADER + ",notes\n")


def test_a_repeated_header_column_is_reported() -> None:
    with pytest.raises(CsvImportError, match=r"^log\.csv:1: the header names a column twice"):
        imported(HEADER + ",pain\n")


def test_an_empty_file_is_reported() -> None:
    with pytest.raises(CsvImportError, match=r"^log\.csv:1: the file is empty"):
        imported("")


def test_a_short_row_is_reported() -> None:
    with pytest.raises(CsvImportError, match=r"^log\.csv:2: expected 13 fields, found 12$"):
        imported(HEADER + "\n" + row_with().rsplit(",", 1)[0] + "\n")


@pytest.mark.parametrize("bad_row", ['"a"b,', '"never closed'])
def test_malformed_quoting_is_reported(bad_row: str) -> None:
    with pytest.raises(CsvImportError, match=r"^log\.csv:2: not readable as CSV"):
        imported(HEADER + "\n" + bad_row)


def test_a_quote_inside_an_unquoted_cell_is_kept() -> None:
    [record] = imported(HEADER + "\n" + row_with(routine='hip"s'))
    assert record.routine == 'hip"s'


safe_text = st.text(
    st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=20)
moments = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1))


@st.composite
def session_records(draw: st.DrawFn) -> SessionRecord:
    started = draw(moments)
    return SessionRecord(
        id=draw(safe_text),
        routine=draw(safe_text),
        started_utc=started.isoformat() + "Z",
        ended_utc=draw(moments).isoformat() + "+00:00",
        local_date=draw(st.dates()).isoformat(),
        utc_offset=draw(st.from_regex(r"[+-][01]\d:[0-5]\d", fullmatch=True)),
        planned_s=draw(st.floats(min_value=0, max_value=1e9, allow_nan=False)),
        active_s=draw(st.floats(min_value=0, allow_nan=False, allow_infinity=False)),
        completed=draw(st.booleans()),
        steps_done=draw(st.integers(min_value=0, max_value=10**6)),
        steps_skipped=draw(st.integers(min_value=0, max_value=10**6)),
        pain=draw(st.none() | st.integers(min_value=0, max_value=10)),
        source=draw(st.sampled_from(SOURCES)),
    )


@settings(max_examples=200, deadline=None)
@given(records=st.lists(session_records(), max_size=5))
def test_any_records_survive_a_round_trip(records: List[SessionRecord]) -> None:
    assert imported(exported(records)) == records
