"""The session log on disk: the only code that touches `sessions.json`.

TinyDB's own JSONStorage rewrites the file in place, so a power cut mid-write can
leave a broken log and lose every streak. Here each write goes to a temp file that
is fsynced and renamed over the log, the previous version is kept as a backup, and a
damaged log is set aside (never deleted) and restored from that backup on open.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
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


def fsync_directory(folder: Path) -> None:
    """Make a rename inside `folder` durable, not just the renamed file's bytes."""
    descriptor = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


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
    about repairs made while opening are in `notices`, for the UI to show.
    """

    def __init__(self, database: TinyDB, lock: _LogLock, path: Optional[Path] = None,
                 notices: Optional[List[str]] = None) -> None:
        self._database = database
        self._table: Table = database.table(SESSIONS_TABLE, cache_size=0)
        self._lock = lock
        self.path = path
        self.notices: List[str] = list(notices or [])

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
                notices = _repair_if_damaged(storage, now or _utc_now)
                storage.read()
                return cls(TinyDB(storage=lambda: storage), lock, path, notices)
        except BaseException:
            lock.close()
            raise

    @classmethod
    def memory(cls) -> SessionLog:
        """A log that lives only in this process: for tests and dry runs."""
        return cls(TinyDB(storage=MemoryStorage), _LogLock(None))

    def append(self, record: SessionRecord) -> None:
        """Add one finished session; its id must be new."""
        if not isinstance(record, SessionRecord):
            raise TypeError(f"expected a SessionRecord, not {type(record).__name__}")
        with self._editing():
            if self._find(record.id) is not None:
                raise ValueError(f"a session with id {record.id!r} is already in the log")
            self._table.insert(Document(record.to_dict(), doc_id=self._next_doc_id()))

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

        A record is skipped when its id is already known, or when a session of the
        same routine started at the same moment, so importing an export twice adds nothing.
        """
        with self._editing():
            known_ids = set()
            known_starts = set()
            for document in self._documents():
                known_ids.add(document.get("id"))
                known_starts.add((document.get("routine"), document.get("started_utc")))
            new_documents = []
            skipped = 0
            next_doc_id = self._next_doc_id()
            for record in records:
                start = (record.routine, record.started_utc)
                if record.id in known_ids or start in known_starts:
                    skipped += 1
                    continue
                known_ids.add(record.id)
                known_starts.add(start)
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


def _repair_if_damaged(storage: AtomicJSONStorage, now: Callable[[], dt.datetime]) -> List[str]:
    """Set a damaged log aside and restore the backup; return what was done, for people.

    Runs under the log lock, before TinyDB reads or writes anything.
    """
    path, backup_path = storage.path, storage.backup_path
    try:
        size: Optional[int] = os.stat(path).st_size
    except FileNotFoundError:
        size = None
    if size:
        try:
            storage.read()
            return []
        except CorruptLogError as error:
            problem = f"was damaged ({error.reason})"
    elif _has_content(backup_path):
        problem = "was missing" if size is None else "was empty"
    else:
        return []

    stamp = _aside_stamp(now())
    message = f"The session log {path} {problem}"
    if size is not None:
        message += f"; it was kept as {_move_aside(path, stamp)}"

    if not _has_content(backup_path):
        return [message + ". There was no backup, so the log starts empty."]
    backup_content = backup_path.read_bytes()
    try:
        tables = parse_log(backup_path, backup_content)
    except CorruptLogError as error:
        backup_aside = _move_aside(backup_path, stamp)
        return [message + f". The backup was damaged too ({error.reason}); it was kept as "
                f"{backup_aside}. The log starts empty."]
    replace_file_atomically(path, backup_content)
    restored = len(tables.get(SESSIONS_TABLE, {}))
    sessions = "1 session" if restored == 1 else f"{restored} sessions"
    return [message + f"; restored {sessions} from the backup "
            "(the last change before the damage may be missing)."]


def _move_aside(path: Path, stamp: str) -> Path:
    """Rename a damaged file to a name no other file has; it is evidence, never deleted."""
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    counter = 1
    while aside.exists():
        counter += 1
        aside = path.with_name(f"{path.name}.corrupt-{stamp}-{counter}")
    os.rename(path, aside)
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
