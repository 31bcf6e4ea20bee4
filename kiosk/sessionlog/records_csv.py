"""Session records as CSV, so people can keep, edit and back-fill their log in a spreadsheet.

Pure: streams in, records out. Open files with `newline=""` as the csv module asks.

Fields this version does not know (a record's `extra`) travel as columns after the known
ones, so a log written by a newer version loses nothing on its way through this one:
- a column is named after its field, or `extra:` + the field name when the bare name could
  be mistaken for a known column (or is blank, padded, or itself starts with `extra:`);
- a cell holds the value as JSON, so a number stays a number and a list stays a list, except
  text that does not read as JSON, which is written as it is; an empty cell means the record
  has no such field;
- on import any column that is not a known one is such a field: its cells are read as JSON,
  and a cell that is not JSON is kept as text.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import re
from dataclasses import dataclass, replace
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, TextIO, Tuple

from kiosk.core.model import SessionRecord

CSV_FIELDS = SessionRecord.FIELDS
"""Column order of an export; an import needs every one of them, in any order."""
OPTIONAL_COLUMNS = SessionRecord.OPTIONAL_FIELDS
"""Optional columns after those: exported when any record has clock evidence or was cut
off, so a session saved under a wrong clock stays flagged on a new SD card."""
EXTRA_PREFIX = "extra:"
"""Marks a column of an unknown field whose bare name could not stand on its own."""

_REQUIRED_TEXT = ("id", "routine")
_OFFSET = re.compile(r"[+-]\d{2}:\d{2}\Z")


class CsvImportError(ValueError):
    """The first thing wrong with an import file, as `source:line: problem`."""

    def __init__(self, source_name: str, line: int, problem: str) -> None:
        super().__init__(f"{source_name}:{line}: {problem}")
        self.source_name = source_name
        self.line = line
        self.problem = problem


def export_csv(records: Iterable[SessionRecord], stream: TextIO) -> None:
    """Write a header row and one row per record.

    The clock columns are added only when some record has something in them; then one
    column per unknown field any record has, sorted by name, so nothing a newer version
    saved is lost.
    """
    records = list(records)
    columns = CSV_FIELDS
    if any(name in record.to_dict() for record in records for name in OPTIONAL_COLUMNS):
        columns = CSV_FIELDS + OPTIONAL_COLUMNS
    extra_names = sorted({name for record in records for name in record.extra})
    writer = csv.writer(stream)
    writer.writerow(list(columns) + [extra_column(name) for name in extra_names])
    for record in records:
        writer.writerow([_cell(getattr(record, name)) for name in columns]
                        + [_extra_cell(record.extra, name) for name in extra_names])


@dataclass(frozen=True)
class CsvRows:
    """What a file holds: the records of its good rows, and a problem for each bad row."""

    records: List[SessionRecord]
    bad_rows: List[CsvImportError]


def import_csv(stream: TextIO, source_name: str) -> List[SessionRecord]:
    """Read records written by `export_csv` (or by hand); raise CsvImportError on the first bad row."""
    rows = read_csv_rows(stream, source_name)
    if rows.bad_rows:
        raise rows.bad_rows[0]
    return rows.records


def read_csv_rows(stream: TextIO, source_name: str) -> CsvRows:
    """Read every row, good or bad: the records of the good ones, a CsvImportError for each bad one.

    A problem with the header is raised, as nothing else can be read without it. A bad row
    is named by the line it starts on. A row that is not CSV (a stray quote, or a quote
    never closed) is that line alone: reading goes on from the next physical line, so the
    rows a runaway quote would have swallowed are read as rows of their own and a good one
    among them is not lost. (A quoted cell that rightly spans lines in a row that is not CSV
    leaves its other lines to be named as bad rows too.)
    """
    lines = _Lines(stream)
    try:
        header = next(csv.reader(lines, strict=True), None)
    except csv.Error as error:
        raise CsvImportError(source_name, 1, f"not readable as CSV ({error})") from None
    if header is None:
        raise CsvImportError(source_name, 1, "the file is empty; expected a header row")
    columns, extra_columns = _check_header(header, source_name)
    records: List[SessionRecord] = []
    bad_rows: List[CsvImportError] = []
    reader = csv.reader(lines, strict=True)
    while True:
        row_start = lines.start_row()
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            problem = f"not readable as CSV ({_csv_problem(error, lines)})"
            bad_rows.append(CsvImportError(source_name, row_start, problem))
            lines.read_again_after_first()
            reader = csv.reader(lines, strict=True)  # afresh: nothing of the bad row is carried over
            continue
        if not row:
            continue
        try:
            records.append(_parse_row(row, len(header), columns, extra_columns, source_name, row_start))
        except CsvImportError as problem:
            bad_rows.append(problem)
    return CsvRows(records, bad_rows)


class _Lines:
    """The physical lines of a stream, as the csv module reads them, with a way back.

    It keeps the lines of the row being read, so that when that row is not CSV all its lines
    but the first can be read again.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = iter(stream)
        self._again: List[str] = []  # lines to read again, the next one last
        self._row: List[str] = []  # lines of the row being read
        self._before_row = 0  # lines before the row being read
        self.reached_end = False  # whether reading the row ran into the end of the stream

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self._again:
            line = self._again.pop()
        else:
            try:
                line = next(self._stream)
            except StopIteration:
                self.reached_end = True
                raise
        self._row.append(line)
        return line

    def start_row(self) -> int:
        """Begin a row; the line it starts on."""
        self._before_row += len(self._row)
        self._row = []
        self.reached_end = False
        return self._before_row + 1

    @property
    def row_lines(self) -> int:
        """How many lines of the row being read have been read."""
        return len(self._row)

    @property
    def last_line(self) -> int:
        """The last line read of the row being read."""
        return self._before_row + len(self._row)

    def read_again_after_first(self) -> None:
        """Take back every line of the row being read but its first; the next row starts after that."""
        self._again.extend(reversed(self._row[1:]))
        self._row = self._row[:1]


def _csv_problem(error: csv.Error, lines: _Lines) -> str:
    """What the csv module found wrong with a row, and where when it is not on the row's first line."""
    if lines.reached_end:  # in strict mode the end of the file is wrong only inside quotes
        return "a quote is never closed"
    if lines.row_lines > 1:
        return f"{error}, on line {lines.last_line}: a quoted cell of this row runs on to there"
    return str(error)


def extra_column(name: str) -> str:
    """The column of unknown field `name`: the bare name unless it could be read as another."""
    known = CSV_FIELDS + OPTIONAL_COLUMNS
    if name and name == name.strip() and name not in known and not name.startswith(EXTRA_PREFIX):
        return name
    return EXTRA_PREFIX + name


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _extra_cell(extra: Mapping[str, Any], name: str) -> str:
    if name not in extra:
        return ""
    value = extra[name]
    if isinstance(value, str) and value.strip() and _json_or_text(value) == value:
        return value  # plain text reads back as itself, so a spreadsheet shows it without quotes
    return json.dumps(value, ensure_ascii=False)


def _check_header(header: List[str], source_name: str) -> Tuple[Dict[str, int], Dict[str, int]]:
    """Where each known column is, and each unknown field's column, by field name."""
    columns: Dict[str, int] = {}
    extra_columns: Dict[str, int] = {}
    for index, cell in enumerate(header):
        if cell.strip() in CSV_FIELDS + OPTIONAL_COLUMNS:
            table, name = columns, cell.strip()
        elif cell.startswith(EXTRA_PREFIX):
            table, name = extra_columns, cell[len(EXTRA_PREFIX):]
        elif cell.strip():
            table, name = extra_columns, cell.strip()
        else:
            raise CsvImportError(source_name, 1, f"column {index + 1} of the header has no name")
        if name in table:
            raise CsvImportError(source_name, 1, f"the header names column {cell.strip()!r} twice")
        table[name] = index
    missing = [name for name in CSV_FIELDS if name not in columns]
    if missing:
        raise CsvImportError(source_name, 1, f"the header lacks column {', '.join(missing)}")
    return columns, extra_columns


def _parse_row(row: List[str], width: int, columns: Dict[str, int], extra_columns: Dict[str, int],
               source_name: str, line: int) -> SessionRecord:
    if len(row) != width:
        raise CsvImportError(source_name, line, f"expected {width} fields, found {len(row)}")
    data: Dict[str, Any] = {}
    for name in CSV_FIELDS + OPTIONAL_COLUMNS:
        if name not in columns:
            continue  # an optional clock column (only the required ones are checked in the header)
        cell = row[columns[name]]
        try:
            data[name] = _PARSERS.get(name, _text)(cell)
        except ValueError as error:
            raise CsvImportError(source_name, line, f"column {name}: {error}") from None
    for name in _REQUIRED_TEXT:
        if not data[name]:
            raise CsvImportError(source_name, line, f"column {name}: must not be empty")
    try:
        record = SessionRecord.from_dict(data)
    except ValueError as error:
        raise CsvImportError(source_name, line, str(error)) from None
    extra = {name: _json_or_text(row[index]) for name, index in extra_columns.items() if row[index].strip()}
    return replace(record, extra=extra) if extra else record


def _json_or_text(cell: str) -> Any:
    try:
        return json.loads(cell)
    except ValueError:
        return cell


def _text(cell: str) -> str:
    return cell


def _timestamp(cell: str) -> str:
    """Check a UTC time; 'Z' is accepted even where fromisoformat (before 3.11) rejects it."""
    try:
        dt.datetime.fromisoformat(cell[:-1] + "+00:00" if cell.endswith("Z") else cell)
    except ValueError:
        raise ValueError(f"{cell!r} is not a date and time like 2026-01-31T07:30:00Z") from None
    return cell


def _date(cell: str) -> str:
    try:
        dt.date.fromisoformat(cell)
    except ValueError:
        raise ValueError(f"{cell!r} is not a date like 2026-01-31") from None
    return cell


def _utc_offset(cell: str) -> str:
    if not _OFFSET.match(cell):
        raise ValueError(f"{cell!r} is not a UTC offset like +01:00")
    return cell


def _number(cell: str) -> float:
    try:
        return float(cell)
    except ValueError:
        raise ValueError(f"{cell!r} is not a number") from None


def _seconds(cell: str) -> float:
    value = _number(cell)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{cell!r} is not a number of seconds >= 0")
    return value


def _count(cell: str) -> int:
    try:
        value = int(cell)
    except ValueError:
        raise ValueError(f"{cell!r} is not a whole number") from None
    if value < 0:
        raise ValueError(f"{cell!r} is below 0")
    return value


def _flag(cell: str) -> bool:
    lowered = cell.strip().lower()
    if lowered not in ("true", "false"):
        raise ValueError(f"{cell!r} is not true or false")
    return lowered == "true"


def _monotonic(cell: str) -> Optional[float]:
    if not cell.strip():
        return None
    value = _number(cell)
    if not math.isfinite(value):
        raise ValueError(f"{cell!r} is not a finite number")
    return value


def _optional_flag(cell: str) -> bool:
    return _flag(cell) if cell.strip() else False


def _optional_timestamp(cell: str) -> str:
    return _timestamp(cell) if cell.strip() else ""


def _pain(cell: str) -> Optional[int]:
    if not cell.strip():
        return None
    value = _count(cell)
    if value > 10:
        raise ValueError(f"{cell!r} is not a pain score from 0 to 10")
    return value


_PARSERS: Dict[str, Callable[[str], Any]] = {
    "started_utc": _timestamp,
    "ended_utc": _timestamp,
    "local_date": _date,
    "utc_offset": _utc_offset,
    "planned_s": _seconds,
    "active_s": _seconds,
    "completed": _flag,
    "steps_done": _count,
    "steps_skipped": _count,
    "pain": _pain,
    "clock_monotonic_s": _monotonic,
    "clock_unverified": _optional_flag,
    "interrupted": _optional_flag,
    "clock_repaired_from": _optional_timestamp,
}
