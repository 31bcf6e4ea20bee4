"""CSV export and import of session records: round trips, and errors that point at the line."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any, Dict, List

import pytest
from factories import numbered_record
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.cli import main
from kiosk.core.model import SOURCES, SessionRecord
from kiosk.sessionlog.records_csv import (CSV_FIELDS, CsvImportError, CsvRows, export_csv, import_csv,
                                         read_csv_rows)
from kiosk.sessionlog.store import SessionLog

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


def test_a_repeated_header_column_is_reported() -> None:
    with pytest.raises(CsvImportError, match=r"^log\.csv:1: the header names column 'pain' twice"):
        imported(HEADER + ",pain\n")


def test_a_field_named_both_bare_and_prefixed_is_a_repeated_column() -> None:
    with pytest.raises(CsvImportError, match=r"^log\.csv:1: the header names column 'extra:notes' twice"):
        imported(HEADER + ",notes,extra:notes\n")


def test_a_header_column_without_a_name_is_reported() -> None:
    with pytest.raises(CsvImportError, match=r"^log\.csv:1: column 14 of the header has no name$"):
        imported(HEADER + ", \n")


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


MIXED_ROWS = [  # (line the row starts on, the row, its problem or None for a good row)
    (2, row_with(id="good-1"), None),
    (3, row_with(id="bad-number", planned_s="ten"), "column planned_s: 'ten' is not a number"),
    (4, row_with(id="good-2"), None),
    (5, row_with(id="bad-short").rsplit(",", 1)[0], "expected 13 fields, found 12"),
    (6, '"a"b,' + row_with(id="bad-quote").split(",", 1)[1], "not readable as CSV (',' expected after '\"')"),
    (7, row_with(id=""), "column id: must not be empty"),
    (8, row_with(id="bad-source", source="phone"),
     "session field 'source' must be one of kiosk, cli, backfill, not 'phone'"),
    (9, "", None),  # a blank line is no row
    (10, row_with(id="good-3", routine='"two\nlines"'), None),
    (12, row_with(id="bad-pain", pain="11"), "column pain: '11' is not a pain score from 0 to 10"),
    (13, row_with(id="good-4"), None),
]
MIXED_FILE = "\n".join([HEADER] + [row for _, row, _ in MIXED_ROWS]) + "\n"


def test_reading_every_row_gives_the_good_records_and_names_each_bad_row_by_its_line() -> None:
    rows = read_csv_rows(io.StringIO(MIXED_FILE, newline=""), "log.csv")
    assert [record.id for record in rows.records] == ["good-1", "good-2", "good-3", "good-4"]
    assert rows.records[2].routine == "two\nlines"
    assert [str(problem) for problem in rows.bad_rows] == [
        f"log.csv:{line}: {problem}" for line, _, problem in MIXED_ROWS if problem]
    assert [problem.line for problem in rows.bad_rows] == [3, 5, 6, 7, 8, 12]


def test_import_csv_refuses_a_file_with_bad_rows_at_its_first_bad_row() -> None:
    with pytest.raises(CsvImportError, match=r"^log\.csv:3: column planned_s: 'ten' is not a number$"):
        imported(MIXED_FILE)


def never_closed(record_id: str) -> str:
    """A row whose first cell opens a quote that nothing closes."""
    return '"never closed,' + row_with(id=record_id).split(",", 1)[1]


def read_rows(*rows: str, end: str = "\n") -> CsvRows:
    return read_csv_rows(io.StringIO("\n".join([HEADER, *rows]) + end, newline=""), "log.csv")


def test_the_rows_after_a_quote_never_closed_are_read_as_rows_of_their_own() -> None:
    rows = read_rows(row_with(id="good-1"), never_closed("x"), row_with(id="good-2"), row_with(id="good-3"))
    assert [record.id for record in rows.records] == ["good-1", "good-2", "good-3"]
    assert [str(problem) for problem in rows.bad_rows] == [
        "log.csv:3: not readable as CSV (a quote is never closed)"]


@pytest.mark.parametrize("end", ["\n", ""])
def test_a_quote_never_closed_in_the_last_row_leaves_out_that_row_alone(end: str) -> None:
    rows = read_rows(row_with(id="good-1"), row_with(id="good-2"), never_closed("x"), end=end)
    assert [record.id for record in rows.records] == ["good-1", "good-2"]
    assert [str(problem) for problem in rows.bad_rows] == [
        "log.csv:4: not readable as CSV (a quote is never closed)"]


def test_a_quote_closed_only_by_a_later_row_loses_no_good_row_and_later_lines_keep_their_numbers() -> None:
    rows = read_rows(row_with(id="good-1"),                       # line 2
                     never_closed("x"),                           # 3: its quote ends at line 5's first quote
                     row_with(id="good-2"),                       # 4
                     row_with(id="good-3", routine='"two\nlines"'),  # 5 and 6
                     never_closed("y"),                           # 7: never closed, to the end
                     row_with(id="good-4"),                       # 8
                     row_with(id="bad-pain", pain="11"),          # 9
                     row_with(id="good-5"))                       # 10
    assert [record.id for record in rows.records] == ["good-1", "good-2", "good-3", "good-4", "good-5"]
    assert rows.records[2].routine == "two\nlines"
    assert [str(problem) for problem in rows.bad_rows] == [
        ("log.csv:3: not readable as CSV "
         "(',' expected after '\"', on line 5: a quoted cell of this row runs on to there)"),
        "log.csv:7: not readable as CSV (a quote is never closed)",
        "log.csv:9: column pain: '11' is not a pain score from 0 to 10"]


def test_import_csv_refuses_a_file_with_a_quote_never_closed() -> None:
    with pytest.raises(CsvImportError, match=r"^log\.csv:3: not readable as CSV \(a quote is never closed\)$"):
        imported("\n".join([HEADER, row_with(id="good-1"), never_closed("x"), row_with(id="good-2")]) + "\n")


@pytest.mark.parametrize("text, problem", [
    ("", r"^log\.csv:1: the file is empty"),
    (HEADER.replace(",pain", "") + "\n" + row_with(), r"^log\.csv:1: the header lacks column pain$"),
    ('"id\n', r"^log\.csv:1: not readable as CSV"),
])
def test_a_bad_header_is_raised_even_when_reading_every_row(text: str, problem: str) -> None:
    with pytest.raises(CsvImportError, match=problem):
        read_csv_rows(io.StringIO(text, newline=""), "log.csv")


def exactly(records: List[SessionRecord]) -> List[str]:
    """Records as JSON text: unlike ==, tells 1 from 1.0 and True from 1."""
    return [json.dumps(record.to_dict(), sort_keys=True) for record in records]


UNKNOWN_FIELDS: Dict[str, Any] = {
    "mood": "calm, then tired", "rating": 4, "ratio": 0.5, "outdoors": True, "coach": None,
    "tags": ["left", 2, {"deep": [None, False]}], "device": {"name": "pi", "slots": [1, 2.5]},
    "quoted": '"already quoted"', "number_as_text": "42", "blank_text": "", "spaced": " padded ",
    "literal_true": "true", "unicode": "Fußgymnastik ✓",
}


def test_unknown_fields_of_every_json_type_survive_a_round_trip() -> None:
    records = [replace(make_record(1), extra=UNKNOWN_FIELDS), make_record(2)]
    back = imported(exported(records))
    assert back == records
    assert exactly(back) == exactly(records)


def test_unknown_fields_follow_the_known_columns_sorted_and_blank_where_absent() -> None:
    records = [replace(make_record(1), extra={"rating": 4, "mood": "calm"}),
               replace(make_record(2), extra={"coach": None})]
    header, first, second = exported(records).splitlines()
    assert header == HEADER + ",coach,mood,rating"
    assert first.endswith(",kiosk,,calm,4")
    assert second.endswith(",kiosk,null,,")


def test_a_field_that_could_pass_for_a_known_column_is_prefixed() -> None:
    """Without the prefix, `clock_boot_id` would be read as the clock column, `" pain"` as pain."""
    awkward = {"id": "other", "clock_boot_id": 7, " pain": 1, "": "nameless", "extra:x": [1],
               "notes ": "trailing"}
    record = replace(make_record(1), extra=awkward)
    header = exported([record]).splitlines()[0]
    assert header.endswith(',clock_repaired_from,interrupted,screen,pain_noted_utc,extra:,extra: pain,'
                           'extra:clock_boot_id,extra:extra:x,extra:id,extra:notes ')
    [back] = imported(exported([record]))
    assert back == record and back.id == "session-00001" and back.clock_boot_id == ""


def test_unknown_columns_written_by_hand_are_kept_as_json_or_text() -> None:
    known = dict(zip(CSV_FIELDS, row_with().split(",")))
    stream = io.StringIO(newline="")
    writer = csv.writer(stream)
    writer.writerow(["notes", *reversed(CSV_FIELDS), " score "])
    for notes, score in [("great session", "3"), ("", "[1, 2"), ("  ", '{"a": 1}')]:
        writer.writerow([notes, *(known[name] for name in reversed(CSV_FIELDS)), score])
    first, second, third = imported(stream.getvalue())
    assert first.extra == {"notes": "great session", "score": 3}
    assert second.extra == {"score": "[1, 2"}
    assert third.extra == {"score": {"a": 1}}
    assert replace(first, extra={}) == make_record(1)


def backfilled_same_day(day: dt.date, count: int) -> List[SessionRecord]:
    """What `kiosk log add --date` makes: every session of a past day starts at 12:00."""
    noon = dt.datetime.combine(day, dt.time(12, 0), tzinfo=dt.timezone(dt.timedelta(hours=1)))
    return [SessionRecord.create(routine="foot-basics", started=noon, ended=noon + dt.timedelta(minutes=10),
                                 planned_s=600.0, active_s=600.0, completed=True, source="backfill",
                                 steps_done=8)
            for _ in range(count)]


def thirty_sessions() -> List[SessionRecord]:
    records = [make_record(number) for number in range(1, 23)]
    records[3] = replace(records[3], extra=UNKNOWN_FIELDS)
    records += backfilled_same_day(dt.date(2026, 2, 10), 3)
    records += backfilled_same_day(dt.date(2026, 2, 11), 2)
    records += backfilled_same_day(dt.date(2026, 1, 5), 3)
    records[-1] = replace(records[-1], extra={"mood": "ok", "rating": 5})
    assert len(records) == 30 and len({record.id for record in records}) == 30
    return sorted(records, key=lambda record: (record.started_utc, record.id))


def test_all_thirty_sessions_come_back_into_an_empty_log(tmp_path: Path) -> None:
    records = thirty_sessions()
    with SessionLog.open(tmp_path / "new-card") as log:
        assert log.import_records(imported(exported(records))) == (30, 0)
        back = log.records()
    assert back == records
    assert exactly(back) == exactly(records)


def test_importing_the_export_twice_adds_nothing_the_second_time(tmp_path: Path) -> None:
    text = exported(thirty_sessions())
    with SessionLog.open(tmp_path / "new-card") as log:
        assert log.import_records(imported(text)) == (30, 0)
        assert log.import_records(imported(text)) == (0, 30)
        assert len(log.records()) == 30


def kiosk(*argv: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    now = dt.datetime(2026, 3, 1, 18, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    status = main(list(argv), out=out, err=err, now=lambda: now)
    assert status == 0, err.getvalue()
    return out.getvalue()


def test_the_kiosk_command_moves_every_session_to_a_new_card(tmp_path: Path) -> None:
    old_card, new_card, backup = tmp_path / "old-card", tmp_path / "new-card", tmp_path / "backup.csv"
    for day in ("2026-02-10", "2026-02-10", "2026-02-10", "2026-02-11"):
        kiosk("--data-dir", str(old_card), "log", "add", "--date", day)
    with SessionLog.open(old_card) as log:
        log.import_records(thirty_sessions()[:26])
        before = log.records()
    assert len(before) == 30
    kiosk("--data-dir", str(old_card), "log", "export", "--csv", "-o", str(backup))
    assert "Imported 30 sessions" in kiosk("--data-dir", str(new_card), "log", "import", str(backup))
    assert "Imported 0 sessions" in kiosk("--data-dir", str(new_card), "log", "import", str(backup))
    with SessionLog.open(new_card) as log:
        after = log.records()
    assert after == before
    assert exactly(after) == exactly(before)


safe_text = st.text(
    st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=20)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2**63, max_value=2**63) | st.floats(allow_nan=False)
    | st.text(st.characters(codec="utf-8", exclude_characters="\x00")),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8)
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
        extra=draw(st.dictionaries(st.text(st.characters(codec="utf-8", exclude_characters="\x00")),
                                   json_values, max_size=3)),
    )


@settings(max_examples=200, deadline=None)
@given(records=st.lists(session_records(), max_size=5))
def test_any_records_survive_a_round_trip(records: List[SessionRecord]) -> None:
    back = imported(exported(records))
    assert back == records
    assert exactly(back) == exactly(records)


def test_a_session_cut_off_by_a_power_cut_stays_marked_through_export_and_import(tmp_path: Path) -> None:
    cut_off = replace(make_record(4, completed=False), interrupted=True)
    plain = make_record(5)
    stream = io.StringIO()
    export_csv([cut_off, plain], stream)
    assert "interrupted" in stream.getvalue().splitlines()[0]
    stream.seek(0)
    assert import_csv(stream, "export.csv") == [cut_off, plain]


def test_the_screen_and_when_the_pain_was_noted_come_back_from_an_export() -> None:
    record = replace(make_record(1), pain=4, pain_noted_utc="2026-01-02T08:00:00Z", screen="Bedroom, upstairs")
    [back] = imported(exported([record]))
    assert back == record
