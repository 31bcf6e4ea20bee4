"""The running session on disk, so a pulled plug mid-session still leaves it in the log.

While a session runs, its record so far (and any finished record the log could not
take yet, on a full card) is written to a small file in the data folder, atomically
and durably. The next open of the log (`store.SessionLog.open`) records what such a
leftover file holds, exactly once, and removes it.

A session that is still running holds a lock on `session-checkpoint.lock`, so a
`kiosk` command over SSH never mistakes a live checkpoint for a leftover one.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence

from kiosk.core.model import SessionRecord
from kiosk.sessionlog.atomic import aside_stamp, fsync_directory, write_atomically

CHECKPOINT_NAME = "session-checkpoint.json"
LOCK_NAME = "session-checkpoint.lock"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Leftover:
    """What a checkpoint left by a process that is gone holds."""

    records: List[SessionRecord]
    problem: str = ""
    """Why some or all of it could not be read (the file is then kept aside), or empty."""


class CheckpointWriter:
    """Writes one running session's checkpoint; holds the liveness lock from the first save to `finish`."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self._lock_descriptor: Optional[int] = None

    def save(self, records: Sequence[SessionRecord]) -> None:
        """Replace the checkpoint with these records (the running one last). Raises OSError."""
        if self._lock_descriptor is None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(self.data_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            self._lock_descriptor = descriptor
        document = {"version": FORMAT_VERSION, "records": [record.to_dict() for record in records]}
        write_atomically(self.data_dir / CHECKPOINT_NAME,
                         json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))

    def finish(self) -> None:
        """The session is in the log: remove the checkpoint and let go of the lock."""
        try:
            discard(self.data_dir)
        finally:
            self.release()

    def release(self) -> None:
        """Let go of the lock, leaving any checkpoint for the next open of the log to record."""
        if self._lock_descriptor is not None:
            os.close(self._lock_descriptor)
            self._lock_descriptor = None


def leftover(data_dir: Path, now: Optional[dt.datetime] = None) -> Optional[Leftover]:
    """The checkpoint a session that is no longer running left, or None.

    None also when the session that wrote it is still running (it holds the lock).
    A file that cannot be read is kept aside under a new name and reported.
    """
    path = Path(data_dir) / CHECKPOINT_NAME
    if not path.exists() or _owner_is_running(Path(data_dir)):
        return None
    try:
        document = json.loads(path.read_bytes().decode("utf-8"))
        if not isinstance(document, dict) or not isinstance(document.get("records"), list):
            raise ValueError("it is not a checkpoint")
        records = [SessionRecord.from_dict(item) for item in document["records"]]
    except (OSError, ValueError, RecursionError) as error:
        aside = path.with_name(f"{path.name}.corrupt-{aside_stamp(now or _utc_now())}")
        os.replace(path, aside)
        fsync_directory(path.parent)
        return Leftover([], f"The checkpoint of a session cut off by a power cut could not be read "
                            f"({error}); it was kept as {aside}.")
    return Leftover(records)


def discard(data_dir: Path) -> None:
    """Remove the checkpoint once what it held is in the log."""
    path = Path(data_dir) / CHECKPOINT_NAME
    try:
        os.unlink(path)
    except FileNotFoundError:
        return
    fsync_directory(path.parent)


def _owner_is_running(data_dir: Path) -> bool:
    try:
        descriptor = os.open(data_dir / LOCK_NAME, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(descriptor)
    return False


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)
