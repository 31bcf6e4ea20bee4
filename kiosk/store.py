"""The session log on disk: the only code that touches `sessions.json`.

TinyDB's own JSONStorage rewrites the file in place, so a power cut mid-write can
leave a broken log and lose every streak. Here each write goes to a temp file that
is fsynced and renamed over the log, the previous version is kept as a backup, and a
damaged log is set aside (never deleted) and restored from that backup on open, with
every whole record that can still be read from the damaged files salvaged on top.
Appending also applies the clock rules of `clockcheck` under the lock.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import re
import threading
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import (
    Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple, Type, Union,
)

from tinydb import TinyDB
from tinydb.storages import MemoryStorage, Storage
from tinydb.table import Document, Table

from kiosk.atomic import fsync_directory
from kiosk.clockcheck import ClockReading, checked, newest_trusted_start, redated, reference_of, repairs
from kiosk.model import SessionRecord

LOG_NAME = "sessions.json"
SESSIONS_TABLE = "_default"
"""TinyDB's default table: a log opened with plain `TinyDB(path)` sees the same sessions."""

Tables = Dict[str, Dict[str, Any]]
StatKey = Tuple[int, int, int]


class CorruptLogError(Exception):
    """The log file exists but cannot be trusted: not JSON, or not shaped like our log."""

    def __init__(self, path: Union[str, Path], reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason


def replace_file_atomically(path: Path, content: bytes) -> None:
    """Write `content` as `path` so a crash leaves either the old file or the new, whole."""
    temp_path = _write_synced_temp(path, content)
    try:
        os.replace(temp_path, path)
    except BaseException:
        _remove_if_present(temp_path)
        raise
    fsync_directory(path.parent)


def _write_synced_temp(path: Path, content: bytes) -> Path:
    """Put `content` on disk beside `path`, ready to be renamed over it."""
    temp_path = _temp_path_for(path)
    try:
        with open(temp_path, "wb") as temp_file:
            temp_file.write(content)
            temp_file.flush()
            os.fsync(temp_file.fileno())
    except BaseException:
        _remove_if_present(temp_path)
        raise
    return temp_path


def _temp_path_for(path: Path) -> Path:
    """A hidden sibling of `path`: same folder, so the final rename stays atomic.

    One fixed name, since writers hold the log lock: a crash leaves one stray file, not many.
    """
    return path.with_name(f".{path.name}.tmp")


def parse_log(path: Path, content: bytes) -> Tables:
    """Decode a log file's bytes, or raise CorruptLogError saying what is wrong with them."""
    try:
        tables = json.loads(content.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise CorruptLogError(path, f"it is not UTF-8 text ({error})") from None
    except ValueError as error:
        raise CorruptLogError(path, f"it is not valid JSON ({error})") from None
    except RecursionError:
        raise CorruptLogError(path, "it is nested too deeply to be a log") from None
    if not isinstance(tables, dict):
        raise CorruptLogError(path, "it is not a JSON object of tables")
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
                    SessionRecord.from_dict(document)
                except ValueError as error:
                    raise CorruptLogError(path, f"document {doc_id} is not a session: {error}") from None
    return tables


class AtomicJSONStorage(Storage):
    """TinyDB storage that never rewrites the log in place.

    TinyDB reads the whole log before every write, so the parsed data is cached and
    keyed on the file's (inode, mtime, size): an unchanged file is not parsed again,
    while a file replaced by another process has a new inode and is re-read.
    The caller serialises access across processes (SessionLog holds a file lock).
    """

    def __init__(self, path: Union[str, Path]) -> None:
        super().__init__()
        self.path = Path(path)
        self.backup_path = self.path.with_name(self.path.name + ".bak")
        self._cached: Optional[Tuple[StatKey, Tables]] = None

    def read(self) -> Optional[Tables]:
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
        # TinyDB edits the dict read() returned before calling write(), so until
        # this write lands the cache no longer matches the file.
        self._cached = None
        content = json.dumps(data, separators=(",", ":"), ensure_ascii=False, check_circular=False)
        temp_path = _write_synced_temp(self.path, content.encode("utf-8"))
        try:
            self._keep_current_as_backup()
            os.replace(temp_path, self.path)
        except BaseException:
            _remove_if_present(temp_path)
            raise
        fsync_directory(self.path.parent)
        stat = os.stat(self.path)
        self._cached = ((stat.st_ino, stat.st_mtime_ns, stat.st_size), data)

    def forget_cache(self) -> None:
        """Drop the parsed copy, e.g. after an edit that failed half way through."""
        self._cached = None

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
        try:
            os.replace(backup_temp, self.backup_path)
        except BaseException:
            _remove_if_present(backup_temp)
            raise


class _LogLock:
    """An exclusive lock around each log operation, re-entrant within one thread.

    With a lock file it also excludes other processes (the CLI while the app runs).
    """

    def __init__(self, lock_path: Optional[Path]) -> None:
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._closed = False
        self._descriptor: Optional[int] = None
        if lock_path is not None:
            self._descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)

    def __enter__(self) -> None:
        self._thread_lock.acquire()
        if self._closed:
            self._thread_lock.release()
            raise ValueError("the session log is closed")
        if self._depth == 0 and self._descriptor is not None:
            try:
                fcntl.flock(self._descriptor, fcntl.LOCK_EX)
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


class SessionLog:
    """Every session the kiosk has recorded, for streaks, pain notes and export.

    Build one with `SessionLog.open(data_dir)` or `SessionLog.memory()`. Messages
    about repairs made while opening are in `notices` (in full) and `screen_notices`
    (short, for the UI to show).
    """

    def __init__(self, database: TinyDB, lock: _LogLock, path: Optional[Path] = None,
                 notices: Optional[List[str]] = None, screen_notices: Optional[List[str]] = None) -> None:
        self._database = database
        self._table: Table = database.table(SESSIONS_TABLE, cache_size=0)
        self._lock = lock
        self.path = path
        self.notices: List[str] = list(notices or [])
        """What a repair at opening did, in full: for stderr and the app's log."""
        self.screen_notices: List[str] = list(screen_notices if screen_notices is not None else self.notices)
        """The same in a short line each, for the person at the screen."""

    @classmethod
    def open(cls, data_dir: Path, *, now: Optional[Callable[[], dt.datetime]] = None) -> SessionLog:
        """Open (creating if needed) the log in `data_dir`, repairing a damaged file first."""
        data_dir = Path(data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        path = data_dir / LOG_NAME
        lock = _LogLock(data_dir / (LOG_NAME + ".lock"))
        try:
            with lock:
                storage = AtomicJSONStorage(path)
                notices, screen_notices = _repair_if_damaged(storage, now or _utc_now)
                storage.read()
                return cls(TinyDB(storage=lambda: storage), lock, path, notices, screen_notices)
        except BaseException:
            lock.close()
            raise

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
        """Store re-dated records in one write (the old start stays in `clock_repaired_from`)."""
        if not fixed:
            return
        by_id = {record.id: record.to_dict() for record in fixed}
        doc_ids = [int(doc_id) for doc_id, document in self._stored_documents().items()
                   if document.get("id") in by_id]

        def redate(document: Dict[str, Any]) -> None:
            replacement = by_id[document["id"]]
            document.clear()
            document.update(replacement)

        self._table.update(redate, doc_ids=doc_ids)

    def records(self) -> List[SessionRecord]:
        """All sessions, oldest first."""
        with self._lock:
            records = [SessionRecord.from_dict(document) for document in self._documents()]
        records.sort(key=lambda record: (record.started_utc, record.id))
        return records

    def get(self, record_id: str) -> Optional[SessionRecord]:
        """The session with this id, or None."""
        with self._lock:
            found = self._find(record_id)
            return None if found is None else SessionRecord.from_dict(found[1])

    def update_pain(self, record_id: str, pain: Optional[int]) -> SessionRecord:
        """Set (or clear, with None) the 0-10 pain score noted after a session."""
        if pain is not None and (isinstance(pain, bool) or not isinstance(pain, int)
                                 or not 0 <= pain <= 10):
            raise ValueError(f"pain must be a whole number from 0 to 10 or None, not {pain!r}")
        with self._editing():
            found = self._find(record_id)
            if found is None:
                raise KeyError(record_id)
            doc_id, document = found
            updated = dict(document, pain=pain)
            self._table.update({"pain": pain}, doc_ids=[doc_id])
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
        return len(new_documents), skipped

    def close(self) -> None:
        """Release the lock file; using the log afterwards raises ValueError."""
        self._lock.close()
        self._database.close()

    def __enter__(self) -> SessionLog:
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 traceback: Optional[TracebackType]) -> None:
        self.close()

    def _stored_documents(self) -> Mapping[str, Mapping[str, Any]]:
        """The documents by doc id as TinyDB holds them: read them, never change them.

        Scanning these directly is ~10x faster than a TinyDB Query over 20,000 documents.
        """
        tables = self._table.storage.read() or {}
        return tables.get(SESSIONS_TABLE, {})

    def _documents(self) -> Iterable[Mapping[str, Any]]:
        return self._stored_documents().values()

    def _find(self, record_id: str) -> Optional[Tuple[int, Mapping[str, Any]]]:
        for doc_id, document in self._stored_documents().items():
            if document.get("id") == record_id:
                return int(doc_id), document
        return None

    def _next_doc_id(self) -> int:
        """The id for a new document, from the file as it is now.

        TinyDB remembers its next id per process, which another process's insert
        makes stale; computing it under the lock avoids a clash.
        """
        return max((int(doc_id) for doc_id in self._stored_documents()), default=0) + 1

    @contextmanager
    def _editing(self) -> Iterator[None]:
        """Hold the lock for a read-modify-write; on failure re-read the file next time."""
        with self._lock:
            try:
                yield
            except BaseException:
                storage = self._table.storage
                if isinstance(storage, AtomicJSONStorage):
                    storage.forget_cache()
                raise


def _repair_if_damaged(storage: AtomicJSONStorage,
                       now: Callable[[], dt.datetime]) -> Tuple[List[str], List[str]]:
    """Set a damaged log aside, restore the backup and salvage what else can be read.

    Returns what was done twice: in full (paths, reasons) for stderr and the app's log,
    and in one short line for the screen.

    Runs under the log lock, before TinyDB reads or writes anything. The damaged files
    are kept (linked aside before the repaired log replaces them), so a crash part way
    through only means the repair runs again at the next start.
    """
    path, backup_path = storage.path, storage.backup_path
    try:
        size: Optional[int] = os.stat(path).st_size
    except FileNotFoundError:
        size = None
    if size:
        try:
            storage.read()
            return [], []
        except CorruptLogError as error:
            problem = f"was damaged ({error.reason})"
    elif _has_content(backup_path):
        problem = "was missing" if size is None else "was empty"
    else:
        return [], []

    stamp = _aside_stamp(now())
    message = f"The session log {path} {problem}"
    from_log: List[Dict[str, Any]] = []
    unreadable = 0
    if size:
        from_log, unreadable = salvage_records(path.read_bytes())
    log_aside = _keep_aside(path, stamp) if size is not None else None
    if log_aside is not None:
        message += f"; it was kept as {log_aside}"

    tables: Tables = {}
    backup_aside: Optional[Path] = None
    backup_problem = ""
    from_backup: List[Dict[str, Any]] = []
    if _has_content(backup_path):
        backup_content = backup_path.read_bytes()
        try:
            tables = parse_log(backup_path, backup_content)
        except CorruptLogError as error:
            backup_problem = error.reason
            from_backup, more_unreadable = salvage_records(backup_content)
            unreadable += more_unreadable
            backup_aside = _keep_aside(backup_path, stamp)
    backup_state = "damaged" if backup_aside is not None else "good" if tables else "none"
    restored = len(tables.get(SESSIONS_TABLE, {}))
    recovered = _merge_salvage(tables, from_backup + from_log)

    if tables:
        replace_file_atomically(path, json.dumps(tables, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
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
    return [message + _repair_summary(backup_state, backup_problem, backup_aside, restored, recovered, unreadable)], \
        [short]


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
    decoder = json.JSONDecoder()
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


def _merge_salvage(tables: Tables, salvaged: List[Dict[str, Any]]) -> int:
    """Put salvaged records into the restored tables, a salvaged copy replacing the backup's
    (it is newer); return how many were new or changed."""
    sessions = tables.setdefault(SESSIONS_TABLE, {})
    by_id = {document.get("id"): doc_id for doc_id, document in sessions.items()}
    next_doc_id = max((int(doc_id) for doc_id in sessions), default=0) + 1
    changed = 0
    for document in salvaged:
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
        os.replace(_write_synced_temp(aside, path.read_bytes()), aside)
    fsync_directory(path.parent)
    return aside


def _aside_stamp(moment: dt.datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc)
    return moment.strftime("%Y%m%dT%H%M%SZ")


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _has_content(path: Path) -> bool:
    try:
        return os.stat(path).st_size > 0
    except FileNotFoundError:
        return False


def _remove_if_present(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
