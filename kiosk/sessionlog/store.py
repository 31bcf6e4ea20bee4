"""The session log on disk: the only code that touches `sessions.json` and its yearly archives.

TinyDB's own JSONStorage rewrites the file in place, so a power cut mid-write can
leave a broken log and lose every streak. Here each write goes to a temp file that
is fsynced and renamed over the log, the previous version is kept as a backup, and a
damaged log is set aside (never deleted) and restored from that backup on open, with
every whole record that can still be read from the damaged files salvaged on top.
A log that parses but holds fewer sessions than its backup is damaged too: a backup
holding sessions is never replaced by a file that lacks them.

Sessions of past years move to one archive file per year (`sessions-2025.json`), so an
append rewrites only the current sessions, not ten years of them. Every file has the
same TinyDB shape, backup and repair; a session's identity is its id across all of them.

Appending also applies the clock rules of `clockcheck` under the lock, and opening
turns a checkpoint left by a session cut off mid-way into a recorded session.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import json
import os
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import (
    Any,
    Callable,
    Dict,
    Iterable,
    Iterator,
    List,
    Mapping,
    Optional,
    Set,
    Tuple,
    Type,
    Union,
)

from tinydb import TinyDB
from tinydb.storages import MemoryStorage, Storage
from tinydb.table import Document, Table

from kiosk.core.clockcheck import ClockReading, checked, newest_trusted_start, redated, reference_of, repairs
from kiosk.core.household import merged
from kiosk.core.model import SessionRecord, clock_text, parse_utc, utc_text
from kiosk.sessionlog import checkpoint
from kiosk.sessionlog.atomic import (
    WRITE_ERRORS,
    aside_stamp,
    fsync_directory,
    replace_with,
    write_atomically,
    write_temp,
)
from kiosk.sessionlog.atomic import (
    remove_if_present as _remove_if_present,
)

LOG_NAME = "sessions.json"
LOCK_NAME = LOG_NAME + ".lock"
ARCHIVE_PATTERN = re.compile(r"sessions-(\d{4})\.json\Z")
SESSIONS_TABLE = "_default"
"""TinyDB's default table: a log opened with plain `TinyDB(path)` sees the same sessions."""

Tables = Dict[str, Dict[str, Any]]
StatKey = Tuple[int, int, int]


def archive_name(year: int) -> str:
    return f"sessions-{year:04d}.json"


class CorruptLogError(Exception):
    """The log file exists but cannot be trusted: not JSON, or not shaped like our log."""

    def __init__(self, path: Union[str, Path], reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason


def replace_file_atomically(path: Path, content: bytes) -> None:
    """Write `content` as `path` so a crash leaves either the old file or the new, whole."""
    write_atomically(path, content, temp=_temp_path_for(path))


def _write_synced_temp(path: Path, content: bytes) -> Path:
    """Put `content` on disk beside `path`, ready to be renamed over it."""
    return write_temp(path, content, temp=_temp_path_for(path))


def _temp_path_for(path: Path) -> Path:
    """A hidden sibling of `path`: same folder, so the final rename stays atomic.

    One fixed name, since writers hold the log lock: a crash leaves one stray file, not many.
    """
    return path.with_name(f".{path.name}.tmp")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a session can hold")


def _json_loads(text: str) -> Any:
    """json.loads without NaN and Infinity, which no session field may hold."""
    return json.loads(text, parse_constant=_refuse_constant)


class ParsedTables(Dict[str, Dict[str, Any]]):
    """A log's tables with each session already checked and built, so nothing is validated twice."""

    records: Dict[str, SessionRecord]


def parse_log(path: Path, content: bytes) -> Tables:
    """Decode a log file's bytes, or raise CorruptLogError saying what is wrong with them.

    Every session is checked here, once; the records built on the way are kept on the
    result (`ParsedTables.records`) for `SessionLog.records`.
    """
    try:
        raw = _json_loads(content.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise CorruptLogError(path, f"it is not UTF-8 text ({error})") from None
    except ValueError as error:
        raise CorruptLogError(path, f"it is not valid JSON ({error})") from None
    except RecursionError:
        raise CorruptLogError(path, "it is nested too deeply to be a log") from None
    if not isinstance(raw, dict):
        raise CorruptLogError(path, "it is not a JSON object of tables")
    if SESSIONS_TABLE not in raw:
        raise CorruptLogError(path, "it has no table of sessions")
    tables = ParsedTables(raw)
    tables.records = {}
    for table_name, documents in tables.items():
        if not isinstance(documents, dict):
            raise CorruptLogError(path, f"table {table_name!r} is not an object of documents")
        for doc_id, document in documents.items():
            if not (doc_id.isascii() and doc_id.isdigit()):
                raise CorruptLogError(path, f"table {table_name!r} has a non-numeric id {doc_id!r}")
            if not isinstance(document, dict):
                raise CorruptLogError(path, f"document {doc_id} in {table_name!r} is not an object")
            if table_name == SESSIONS_TABLE:
                try:
                    tables.records[doc_id] = SessionRecord.from_dict(document)
                except ValueError as error:
                    raise CorruptLogError(path, f"document {doc_id} is not a session: {error}") from None
    return tables


def _session_ids(content: bytes) -> Optional[Set[str]]:
    """The session ids in a file's bytes, or None if it does not parse (a cheap look, no checks)."""
    try:
        tables = _json_loads(content.decode("utf-8"))
        documents = tables[SESSIONS_TABLE]
        return {document["id"] for document in documents.values()}
    except (ValueError, RecursionError, TypeError, KeyError, AttributeError):
        return None


class AtomicJSONStorage(Storage):
    """TinyDB storage that never rewrites the log in place.

    TinyDB reads the whole log before every write, so the parsed data is cached and
    keyed on the file's (inode, mtime, size): an unchanged file is not parsed again,
    while a file replaced by another process has a new inode and is re-read.
    The caller serialises access across processes (SessionLog holds a file lock).
    A storage opened read-only refuses to write; a repair it could not save is pinned
    in memory instead.
    """

    def __init__(self, path: Union[str, Path], *, writable: bool = True) -> None:
        super().__init__()
        self.path = Path(path)
        self.backup_path = self.path.with_name(self.path.name + ".bak")
        self.writable = writable
        self._cached: Optional[Tuple[StatKey, Tables]] = None
        self._records: Optional[Tuple[Tables, Dict[str, SessionRecord]]] = None
        self._pinned: Optional[Tables] = None

    def read(self) -> Optional[Tables]:
        if self._pinned is not None:
            return self._pinned
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            self._cached = None
            return None
        if stat.st_size == 0:
            self._cached = None
            return None
        key = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if self._cached is not None and self._cached[0] == key:
            return self._cached[1]
        tables = parse_log(self.path, self.path.read_bytes())
        self._cached = (key, tables)
        return tables

    def write(self, data: Tables) -> None:
        if not self.writable:
            raise OSError(errno.EROFS, "the session log was opened read-only", str(self.path))
        # TinyDB edits the dict read() returned before calling write(), so until
        # this write lands the cache no longer matches the file.
        self._cached = None
        self._records = None
        content = json.dumps(data, separators=(",", ":"), ensure_ascii=False, check_circular=False)
        temp_path = _write_synced_temp(self.path, content.encode("utf-8"))
        try:
            self._keep_current_as_backup()
        except BaseException:
            _remove_if_present(temp_path)
            raise
        replace_with(temp_path, self.path)
        stat = os.stat(self.path)
        self._cached = ((stat.st_ino, stat.st_mtime_ns, stat.st_size), dict(data))

    def pin(self, tables: Tables) -> None:
        """Serve these tables instead of the file: a repair that a read-only folder cannot save."""
        self._pinned = tables

    def session_records(self) -> Dict[str, SessionRecord]:
        """The file's sessions by doc id, built once per version of the file."""
        tables = self.read() or {}
        if self._records is not None and self._records[0] is tables:
            return self._records[1]
        if isinstance(tables, ParsedTables):
            built = dict(tables.records)
        else:
            built = {doc_id: SessionRecord.from_dict(document)
                     for doc_id, document in tables.get(SESSIONS_TABLE, {}).items()}
        self._records = (tables, built)
        return built

    def forget_cache(self) -> None:
        """Drop the parsed copy, e.g. after an edit that failed half way through."""
        self._cached = None
        self._records = None

    def refresh_backup(self) -> None:
        """Make the backup the current log (after sessions moved out to archives)."""
        self._keep_current_as_backup()
        fsync_directory(self.path.parent)

    def _keep_current_as_backup(self) -> None:
        """Point the backup at the current log without a moment where either is missing."""
        try:
            if os.stat(self.path).st_size == 0:
                return
        except FileNotFoundError:
            return
        backup_temp = _temp_path_for(self.backup_path)
        _remove_if_present(backup_temp)
        try:
            os.link(self.path, backup_temp)
        except OSError:
            # Filesystems without hard links (FAT on a USB stick) get a real copy.
            backup_temp = _write_synced_temp(self.backup_path, self.path.read_bytes())
        replace_with(backup_temp, self.backup_path, durable=False)  # the log's rename syncs the folder


class _LogLock:
    """An exclusive lock around each log operation, re-entrant within one thread.

    With a lock file it also excludes other processes (the CLI while the app runs). A
    read-only log takes a shared lock on the file if it exists, and creates nothing.
    """

    def __init__(self, lock_path: Optional[Path], *, writable: bool = True) -> None:
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._closed = False
        self._descriptor: Optional[int] = None
        self._mode = fcntl.LOCK_EX if writable else fcntl.LOCK_SH
        if lock_path is not None:
            if writable:
                self._descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
            else:
                try:
                    self._descriptor = os.open(lock_path, os.O_RDONLY)
                except OSError:
                    self._descriptor = None  # no writer has ever run here, or it cannot be read

    def __enter__(self) -> None:
        self._thread_lock.acquire()
        if self._closed:
            self._thread_lock.release()
            raise ValueError("the session log is closed")
        if self._depth == 0 and self._descriptor is not None:
            try:
                fcntl.flock(self._descriptor, self._mode)
            except BaseException:
                self._thread_lock.release()
                raise
        self._depth += 1

    def __exit__(self, *exc_info: object) -> None:
        self._depth -= 1
        if self._depth == 0 and self._descriptor is not None:
            fcntl.flock(self._descriptor, fcntl.LOCK_UN)
        self._thread_lock.release()

    def close(self) -> None:
        with self._thread_lock:
            self._closed = True
            if self._descriptor is not None:
                os.close(self._descriptor)
                self._descriptor = None


@dataclass
class _Found:
    """Where a session is stored: the file's storage (None: the main log) and its doc id."""

    storage: Optional[AtomicJSONStorage]
    doc_id: str
    document: Mapping[str, Any]


@dataclass
class OpenReport:
    """What opening the log did that the person should hear about."""

    notices: List[str] = field(default_factory=list)
    screen_notices: List[str] = field(default_factory=list)


class SessionLog:
    """Every session the kiosk has recorded, for streaks, pain notes and export.

    Build one with `SessionLog.open(data_dir)` or `SessionLog.memory()`. Messages
    about repairs made while opening are in `notices` (in full) and `screen_notices`
    (short, for the UI to show); a session recovered from a checkpoint is `recovered`.
    """

    def __init__(self, database: TinyDB, lock: _LogLock, path: Optional[Path] = None,
                 notices: Optional[List[str]] = None, screen_notices: Optional[List[str]] = None, *,
                 archives: Optional[Dict[int, AtomicJSONStorage]] = None,
                 now: Optional[Callable[[], dt.datetime]] = None, writable: bool = True) -> None:
        self._database = database
        self._table: Table = database.table(SESSIONS_TABLE, cache_size=0)
        self._lock = lock
        self._archives: Dict[int, AtomicJSONStorage] = dict(archives or {})
        self._now = now or _utc_now
        self.path = path
        self.writable = writable
        """False when the data folder could not be written: reading works, every change raises OSError."""
        self.notices: List[str] = list(notices or [])
        """What a repair at opening did, in full: for stderr and the app's log."""
        self.screen_notices: List[str] = list(screen_notices if screen_notices is not None else self.notices)
        """The same in a short line each, for the person at the screen."""
        self.recovered: Optional[SessionRecord] = None
        """A session cut off by a crash or power cut, recorded from its checkpoint while opening."""

    @classmethod
    def open(cls, data_dir: Path, *, now: Optional[Callable[[], dt.datetime]] = None,
             writable: bool = True) -> SessionLog:
        """Open (creating if needed) the log in `data_dir`, repairing a damaged file first.

        `writable=False` opens a folder that cannot be written (a read-only or full SD
        card) for reading: nothing is created, repaired on disk or recovered.
        """
        data_dir = Path(data_dir)
        if writable:
            data_dir.mkdir(parents=True, exist_ok=True)
        clock = now or _utc_now
        path = data_dir / LOG_NAME
        lock = _LogLock(data_dir / LOCK_NAME, writable=writable)
        try:
            with lock:
                report = OpenReport()
                archives = {year: AtomicJSONStorage(data_dir / archive_name(year), writable=writable)
                            for year in _archive_years(data_dir)}
                for storage in archives.values():
                    _repair_if_damaged(storage, clock, set(), report)
                archived_ids = {record.id for storage in archives.values()
                                for record in storage.session_records().values()}
                storage = AtomicJSONStorage(path, writable=writable)
                _repair_if_damaged(storage, clock, archived_ids, report)
                storage.read()
                log = cls(TinyDB(storage=lambda: storage), lock, path, report.notices, report.screen_notices,
                          archives=archives, now=clock, writable=writable)
                if writable:
                    log._archive_past_years()
                    log.recovered = log._recover_checkpoint(data_dir)
                    if log.recovered is not None:
                        log.screen_notices.append(
                            f"Your last session was cut off: {clock_text(log.recovered.active_s)} saved.")
                return log
        except BaseException:
            lock.close()
            raise

    @classmethod
    def open_for_reading(cls, data_dir: Path, *, now: Optional[Callable[[], dt.datetime]] = None) -> SessionLog:
        """Open for writing if the folder allows it, else read-only (a full or read-only SD card)."""
        try:
            return cls.open(data_dir, now=now)
        except OSError as error:
            if error.errno not in WRITE_ERRORS:
                raise
            log = cls.open(data_dir, now=now, writable=False)
            log.notices.append(f"The data folder {data_dir} cannot be written ({error.strerror}); "
                               "the log was read without changing anything.")
            return log

    @classmethod
    def memory(cls) -> SessionLog:
        """A log that lives only in this process: for tests and dry runs."""
        return cls(TinyDB(storage=MemoryStorage), _LogLock(None))

    def append(self, record: SessionRecord) -> SessionRecord:
        """Add one finished session; its id must be new. Returns the record as stored.

        A session timed here that starts before the newest trusted one is stored flagged
        unverified (the clock must have been wrong); a trusted one dates again the
        unverified sessions of its own boot. The check runs under the lock, so it holds
        for every process that writes.
        """
        if not isinstance(record, SessionRecord):
            raise TypeError(f"expected a SessionRecord, not {type(record).__name__}")
        with self._editing():
            if self._find(record.id) is not None:
                raise ValueError(f"a session with id {record.id!r} is already in the log")
            stored = record
            if record.clock_monotonic_s is not None and not record.clock_unverified:
                stored = checked(record, newest_trusted_start(self._documents()))
            self._table.insert(Document(stored.to_dict(), doc_id=self._next_doc_id()))
            reference = reference_of(stored)
            if reference is not None:
                candidates = self._unverified_of_boot(reference.boot_id)
                self._write_repairs([fixed for fixed in (redated(candidate, reference) for candidate in candidates)
                                     if fixed is not None])
        return stored

    def repair_clock(self, reading: ClockReading, zone: Optional[dt.tzinfo] = None) -> List[SessionRecord]:
        """Date again the unverified sessions of this reading's boot; return them as now stored.

        Nothing happens unless the reading itself is plausible. Call it when the app
        starts and now and then (the clock may have been synced since the last session).
        """
        if not self.writable:
            return []
        with self._editing():
            candidates = self._unverified_of_boot(reading.boot_id)
            if not candidates:
                return []
            fixed = repairs(candidates, reading, newest_trusted_start(self._documents()), zone)
            self._write_repairs(fixed)
        return fixed

    def _unverified_of_boot(self, boot_id: str) -> List[SessionRecord]:
        if not boot_id:
            return []
        return [SessionRecord.from_dict(document) for document in self._documents()
                if document.get("clock_unverified") is True and document.get("clock_boot_id") == boot_id]

    def _write_repairs(self, fixed: List[SessionRecord]) -> None:
        """Store re-dated records (the old start stays in `clock_repaired_from`)."""
        self._replace_documents([record.to_dict() for record in fixed])

    def _replace_documents(self, replacements: List[Dict[str, Any]]) -> None:
        """Put changed sessions back where each is stored (the main log or its year's archive),
        one write per file."""
        in_main: Dict[int, Dict[str, Any]] = {}
        by_archive: Dict[int, Tuple[AtomicJSONStorage, Dict[str, Dict[str, Any]]]] = {}
        for replacement in replacements:
            found = self._find(replacement["id"])
            if found is None:
                raise KeyError(replacement["id"])
            if found.storage is None:
                in_main[int(found.doc_id)] = replacement
            else:
                by_archive.setdefault(id(found.storage), (found.storage, {}))[1][found.doc_id] = replacement
        if in_main:
            by_session_id = {replacement["id"]: replacement for replacement in in_main.values()}

            def replace_all(document: Dict[str, Any]) -> None:
                replacement = by_session_id[document["id"]]
                document.clear()
                document.update(replacement)

            self._table.update(replace_all, doc_ids=list(in_main))
        for storage, changed in by_archive.values():
            tables = storage.read() or {}
            updated = {name: dict(documents) for name, documents in tables.items()}
            updated[SESSIONS_TABLE].update(changed)
            storage.write(updated)

    def records(self) -> List[SessionRecord]:
        """All sessions, oldest first."""
        with self._lock:
            self._refresh_archives()
            by_id: Dict[str, SessionRecord] = {}
            for storage in self._storages():
                for record in storage.session_records().values():
                    by_id[record.id] = record  # the main log comes last: its copy is the newest
        records = list(by_id.values())
        records.sort(key=lambda record: (record.started_utc, record.id))
        return records

    def get(self, record_id: str) -> Optional[SessionRecord]:
        """The session with this id, or None."""
        with self._lock:
            self._refresh_archives()
            found = self._find(record_id)
            return None if found is None else SessionRecord.from_dict(found.document)

    def update_pain(self, record_id: str, pain: Optional[int], noted_utc: str = "") -> SessionRecord:
        """Set (or clear, with None) the 0-10 pain score noted after a session, and when it was
        noted (between screens the later rating wins; empty: now)."""
        if pain is not None and (isinstance(pain, bool) or not isinstance(pain, int)
                                 or not 0 <= pain <= 10):
            raise ValueError(f"pain must be a whole number from 0 to 10 or None, not {pain!r}")
        noted = utc_text(parse_utc(noted_utc)) if noted_utc else ""  # ValueError before anything is written
        with self._editing():
            found = self._find(record_id)
            if found is None:
                raise KeyError(record_id)
            noted = noted or utc_text(self._now())
            updated = dict(found.document, pain=pain, pain_noted_utc=noted)
            if found.storage is None:
                self._table.update({"pain": pain, "pain_noted_utc": noted}, doc_ids=[int(found.doc_id)])
            else:
                self._replace_documents([updated])
        return SessionRecord.from_dict(updated)

    def import_records(self, records: Iterable[SessionRecord]) -> Tuple[int, int]:
        """Add sessions from elsewhere in one write; return (added, skipped).

        A session's identity is its id: a record is skipped only when its id is already
        in the log, so importing an export twice adds nothing, while two sessions
        back-filled for the same day (same routine, same start) both stay.
        """
        with self._editing():
            known_ids = {document.get("id") for document in self._documents()}
            new_documents = []
            skipped = 0
            next_doc_id = self._next_doc_id()
            for record in records:
                if record.id in known_ids:
                    skipped += 1
                    continue
                known_ids.add(record.id)
                new_documents.append(Document(record.to_dict(), doc_id=next_doc_id))
                next_doc_id += 1
            if new_documents:
                self._table.insert_multiple(new_documents)
                self._archive_past_years()
        return len(new_documents), skipped

    def merge_records(self, records: Iterable[SessionRecord]) -> List[SessionRecord]:
        """Take the household's sessions from other screens, in one write; return what changed.

        A new id is added once, however often it arrives; a known one changes only as
        `household.merged` allows (a later pain rating, a trusted dating).
        """
        with self._editing():
            stored = {document.get("id"): document for document in self._documents()}
            added: Dict[str, SessionRecord] = {}
            replaced: Dict[str, SessionRecord] = {}
            for record in records:
                local = added.get(record.id) or replaced.get(record.id)
                if local is None and record.id in stored:
                    local = SessionRecord.from_dict(stored[record.id])
                result = merged(local, record)
                if result is None:
                    continue
                if local is None or record.id in added:
                    added[record.id] = result
                else:
                    replaced[record.id] = result
            if replaced:
                self._replace_documents([record.to_dict() for record in replaced.values()])
            if added:
                next_doc_id = self._next_doc_id()
                self._table.insert_multiple(Document(record.to_dict(), doc_id=next_doc_id + number)
                                            for number, record in enumerate(added.values()))
                self._archive_past_years()
        return list(added.values()) + list(replaced.values())

    def close(self) -> None:
        """Release the lock file; using the log afterwards raises ValueError."""
        self._lock.close()
        self._database.close()

    def __enter__(self) -> SessionLog:
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 traceback: Optional[TracebackType]) -> None:
        self.close()

    # ------------------------------------------------------------------ files

    def _refresh_archives(self) -> None:
        """Pick up archive files another process made since this log was opened (under the lock)."""
        main = self._main_storage()
        if main is None:
            return
        for year in _archive_years(main.path.parent):
            if year not in self._archives:
                self._archives[year] = AtomicJSONStorage(main.path.with_name(archive_name(year)),
                                                         writable=self.writable)

    def _main_storage(self) -> Optional[AtomicJSONStorage]:
        storage = self._table.storage
        return storage if isinstance(storage, AtomicJSONStorage) else None

    def _storages(self) -> List[Any]:
        """Every file's storage, archives oldest first and the main log last."""
        return [self._archives[year] for year in sorted(self._archives)] + [_MainView(self)]

    def _archive_past_years(self) -> None:
        """Move sessions of years before this one from the main log to their year's archive.

        Each archive is written (durably, with its backup) before the main log drops the
        sessions, so a crash in between leaves a session in two files, never in none; the
        copies share an id, the main log's wins, and the next open finishes the move.
        Best effort: on a full card the sessions simply stay in the main log.
        """
        main = self._main_storage()
        if main is None or not self.writable:
            return
        this_year = self._now().year
        moving: Dict[int, Dict[str, Dict[str, Any]]] = {}
        for doc_id, document in self._stored_documents().items():
            year = int(str(document.get("local_date", "0000"))[:4] or 0)
            if 0 < year < this_year:
                moving.setdefault(year, {})[doc_id] = dict(document)
        if not moving:
            return
        try:
            for year, documents in sorted(moving.items()):
                storage = self._archives.get(year)
                if storage is None:
                    storage = AtomicJSONStorage(main.path.with_name(archive_name(year)))
                    self._archives[year] = storage
                archived: Tables = {SESSIONS_TABLE: dict((storage.read() or {}).get(SESSIONS_TABLE, {}))}
                _merge_by_id(archived, list(documents.values()))  # the main log's copy wins
                storage.write(archived)
            self._table.remove(doc_ids=[int(doc_id) for documents in moving.values() for doc_id in documents])
            # The moved sessions are safe in their archives (and the archives' backups), so the
            # main backup may follow the smaller log: opening then never re-reads ten years.
            main.refresh_backup()
        except OSError as error:
            if error.errno not in WRITE_ERRORS:
                raise
            main.forget_cache()

    def _recover_checkpoint(self, data_dir: Path) -> Optional[SessionRecord]:
        """Record, exactly once, the sessions a crash or power cut left in a checkpoint.

        The checkpoint is removed only after its sessions are in the log; a crash between
        the two finds their ids already there next time and only removes the file.
        Returns the session that was cut off, if one was.
        """
        found = checkpoint.leftover(data_dir, self._now())
        if found is None:
            return None
        if found.problem:
            self.notices.append(found.problem)
            self.screen_notices.append("A session cut off by a power cut could not be read back. "
                                       "Its file was kept for a look later.")
        cut_off: Optional[SessionRecord] = None
        for record in found.records:
            if self._find(record.id) is None:
                stored = self.append(record)
                if stored.interrupted:
                    cut_off = stored
        checkpoint.discard(data_dir)
        return cut_off

    def _stored_documents(self) -> Mapping[str, Mapping[str, Any]]:
        """The main log's documents by doc id as TinyDB holds them: read them, never change them.

        Scanning these directly is ~10x faster than a TinyDB Query over 20,000 documents.
        """
        tables = self._table.storage.read() or {}
        return tables.get(SESSIONS_TABLE, {})

    def _documents(self) -> Iterable[Mapping[str, Any]]:
        """Every stored session document, archives first; a session in two files comes twice."""
        for year in sorted(self._archives):
            yield from ((self._archives[year].read() or {}).get(SESSIONS_TABLE, {})).values()
        yield from self._stored_documents().values()

    def _find(self, record_id: str) -> Optional[_Found]:
        for doc_id, document in self._stored_documents().items():
            if document.get("id") == record_id:
                return _Found(None, doc_id, document)
        for year in sorted(self._archives, reverse=True):
            storage = self._archives[year]
            for doc_id, document in ((storage.read() or {}).get(SESSIONS_TABLE, {})).items():
                if document.get("id") == record_id:
                    return _Found(storage, doc_id, document)
        return None

    def _next_doc_id(self) -> int:
        """The id for a new document, from the file as it is now.

        TinyDB remembers its next id per process, which another process's insert
        makes stale; computing it under the lock avoids a clash.
        """
        return max((int(doc_id) for doc_id in self._stored_documents()), default=0) + 1

    @contextmanager
    def _editing(self) -> Iterator[None]:
        """Hold the lock for a read-modify-write; on failure re-read the files next time."""
        with self._lock:
            try:
                self._refresh_archives()
                yield
            except BaseException:
                for storage in [self._main_storage(), *self._archives.values()]:
                    if storage is not None:
                        storage.forget_cache()
                raise


class _MainView:
    """The main log's sessions for `SessionLog.records`, whichever storage TinyDB has."""

    def __init__(self, log: SessionLog) -> None:
        self._log = log

    def session_records(self) -> Dict[str, SessionRecord]:
        storage = self._log._main_storage()
        if storage is not None:
            return storage.session_records()
        return {doc_id: SessionRecord.from_dict(document)
                for doc_id, document in self._log._stored_documents().items()}


def _archive_years(data_dir: Path) -> List[int]:
    try:
        names = os.listdir(data_dir)
    except FileNotFoundError:
        return []
    return sorted(int(match.group(1)) for match in map(ARCHIVE_PATTERN.match, names) if match)


def _repair_if_damaged(storage: AtomicJSONStorage, now: Callable[[], dt.datetime],
                       known_elsewhere: Set[str], report: OpenReport) -> None:
    """Set a damaged log aside, restore the backup and salvage what else can be read.

    A log is damaged when it does not parse, or parses but lacks sessions its backup
    holds (and no other file of the log has them). Adds what was done to `report` twice:
    in full (paths, reasons) for stderr and the app's log, and in one short line for
    the screen.

    Runs under the log lock, before TinyDB reads or writes anything. The damaged files
    are kept (linked aside before the repaired log replaces them), so a crash part way
    through only means the repair runs again at the next start. A storage that cannot
    write gets the repaired tables pinned in memory, and the files stay as they are.
    """
    path, backup_path = storage.path, storage.backup_path
    try:
        size: Optional[int] = os.stat(path).st_size
    except FileNotFoundError:
        size = None
    if size:
        try:
            tables_now = storage.read()
            problem = _missing_from_backup(storage, tables_now, known_elsewhere)
            if problem is None:
                return
        except CorruptLogError as error:
            problem = f"was damaged ({error.reason})"
    elif _has_content(backup_path):
        problem = "was missing" if size is None else "was empty"
    else:
        return
    storage.forget_cache()

    stamp = aside_stamp(now())
    message = f"The session log {path} {problem}"
    from_log: List[Dict[str, Any]] = []
    unreadable = 0
    if size:
        from_log, unreadable = salvage_records(path.read_bytes())
    log_aside = _keep_aside(path, stamp) if size is not None and storage.writable else None
    if log_aside is not None:
        message += f"; it was kept as {log_aside}"

    tables: Tables = {}
    backup_aside: Optional[Path] = None
    backup_damaged = False
    backup_problem = ""
    from_backup: List[Dict[str, Any]] = []
    if _has_content(backup_path):
        backup_content = backup_path.read_bytes()
        try:
            tables = {name: dict(documents) for name, documents in parse_log(backup_path, backup_content).items()}
        except CorruptLogError as error:
            backup_problem = error.reason
            backup_damaged = True
            from_backup, more_unreadable = salvage_records(backup_content)
            unreadable += more_unreadable
            if storage.writable:
                backup_aside = _keep_aside(backup_path, stamp)
    backup_state = "damaged" if backup_damaged else "good" if tables else "none"
    restored = len(tables.get(SESSIONS_TABLE, {}))
    recovered = _merge_by_id(tables, from_backup + from_log)

    if not storage.writable:
        storage.pin(tables or {SESSIONS_TABLE: {}})
        message += ". The data folder cannot be written, so the files were left as they are and the " \
                   "repair is used for this read only"
    elif tables:
        try:
            replace_file_atomically(path, json.dumps(tables, separators=(",", ":"),
                                                     ensure_ascii=False).encode("utf-8"))
        except OSError as error:
            if error.errno in WRITE_ERRORS:
                # A card that refuses the repair leaves no new names behind either: the
                # read-only reading that follows keeps every file as it was.
                for aside in (log_aside, backup_aside):
                    if aside is not None:
                        _remove_if_present(aside)
            raise
    elif path.exists():
        os.unlink(path)  # kept aside above
        fsync_directory(path.parent)
    if backup_aside is not None:
        _remove_if_present(backup_path)  # kept aside above
        fsync_directory(path.parent)
    kept = len(tables.get(SESSIONS_TABLE, {}))
    short = f"The session log {problem.split(' (')[0]} and has been repaired: {_sessions(kept)} kept"
    if unreadable:
        short += f", {unreadable} damaged {'one' if unreadable == 1 else 'ones'} could not be read"
    short += ". The damaged file was kept for a look later."
    report.notices.append(
        message + _repair_summary(backup_state, backup_problem, backup_aside, restored, recovered, unreadable))
    report.screen_notices.append(short)


def _missing_from_backup(storage: AtomicJSONStorage, tables: Optional[Tables],
                         known_elsewhere: Set[str]) -> Optional[str]:
    """Why a log that parses is still damaged: its backup holds sessions it lacks. None if not.

    The backup is about the size of the log (archiving moves it along), so reading its
    ids at every open is cheap.
    """
    if not _has_content(storage.backup_path):
        return None
    documents = (tables or {}).get(SESSIONS_TABLE, {})
    backup_ids = _session_ids(storage.backup_path.read_bytes())
    if not backup_ids:
        return None
    present = {document.get("id") for document in documents.values()}
    missing = backup_ids - present - known_elsewhere
    if not missing:
        return None
    return f"was damaged (it lacks {_sessions(len(missing))} that its backup holds)"


def _repair_summary(backup_state: str, backup_problem: str, backup_aside: Optional[Path], restored: int,
                    recovered: int, unreadable: int) -> str:
    """The rest of the repair notice: what the backup gave, what was salvaged, what was not."""
    if backup_state == "damaged":
        text = f". The backup was damaged too ({backup_problem}); it was kept as {backup_aside}"
    elif backup_state == "good":
        text = f"; restored {_sessions(restored)} from the backup"
    else:
        text = ". There was no backup"
    if recovered:
        source = "the damaged files" if backup_state == "damaged" else "the damaged log"
        text += f". {_sessions(recovered).capitalize()} recovered from {source}."
    elif backup_state == "good":
        text += " (the last change before the damage may be missing)."
    elif backup_state == "damaged":
        text += ". The log starts empty."
    else:
        text += ", so the log starts empty."
    if unreadable:
        noun = "record" if unreadable == 1 else "records"
        text += f" {unreadable} damaged {noun} could not be read; only the kept copy has what is left of them."
    return text


_DOCUMENT_START = re.compile(r'"[0-9]+"\s*:\s*\{')
"""Where a stored document starts: its numeric TinyDB id, then an object."""


def salvage_records(content: bytes) -> Tuple[List[Dict[str, Any]], int]:
    """Every whole, valid session record in a damaged log's bytes, and how many pieces that
    looked like records were not; a later copy of an id wins (it is the newer).

    Linear: each candidate is decoded once, and text inside a record already read is skipped.
    """
    text = content.decode("utf-8", errors="replace")
    decoder = json.JSONDecoder(parse_constant=_refuse_constant)
    found: Dict[str, Dict[str, Any]] = {}
    unreadable = 0
    read_up_to = 0
    for match in _DOCUMENT_START.finditer(text):
        start = match.end() - 1
        if start < read_up_to:
            continue
        try:
            document, end = decoder.raw_decode(text, start)
            if "\ufffd" in text[start:end]:
                raise ValueError("a byte of it is not UTF-8")
            SessionRecord.from_dict(document)
        except (ValueError, RecursionError):
            unreadable += 1
            continue
        found[document["id"]] = document
        read_up_to = end
    return list(found.values()), unreadable


def _merge_by_id(tables: Tables, newer: List[Dict[str, Any]]) -> int:
    """Put `newer` session documents into `tables`, each replacing the copy with its id (salvage
    over a restored backup, sessions moving into their year's archive); return how many
    were new or changed."""
    sessions = tables.setdefault(SESSIONS_TABLE, {})
    by_id = {document.get("id"): doc_id for doc_id, document in sessions.items()}
    next_doc_id = max((int(doc_id) for doc_id in sessions), default=0) + 1
    changed = 0
    for document in newer:
        doc_id = by_id.get(document["id"])
        if doc_id is not None:
            if sessions[doc_id] != document:
                sessions[doc_id] = document
                changed += 1
            continue
        sessions[str(next_doc_id)] = document
        by_id[document["id"]] = str(next_doc_id)
        next_doc_id += 1
        changed += 1
    if not sessions:
        del tables[SESSIONS_TABLE]
    return changed


def _sessions(count: int) -> str:
    return "1 session" if count == 1 else f"{count} sessions"


def _keep_aside(path: Path, stamp: str) -> Path:
    """Give a damaged file a second name no other file has; it is evidence, never deleted.

    A hard link (or, without them, a synced copy) leaves the original in place until
    the repaired file replaces it.
    """
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    counter = 1
    while aside.exists():
        counter += 1
        aside = path.with_name(f"{path.name}.corrupt-{stamp}-{counter}")
    try:
        os.link(path, aside)
    except OSError:
        replace_with(_write_synced_temp(aside, path.read_bytes()), aside, durable=False)
    fsync_directory(path.parent)
    return aside


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _has_content(path: Path) -> bool:
    try:
        return os.stat(path).st_size > 0
    except FileNotFoundError:
        return False
