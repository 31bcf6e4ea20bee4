"""Whole-file replacement: readers see the old file or the new one, never half of one."""

from __future__ import annotations

import datetime as dt
import errno
import os
import tempfile
from pathlib import Path
from typing import Optional

WRITE_ERRORS = (errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO, errno.EDQUOT)
"""What a full, read-only or failing SD card answers to a write."""


def fsync_directory(folder: Path) -> None:
    """Make a rename inside `folder` durable, not just the renamed file's bytes."""
    descriptor = os.open(str(folder), os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_temp(path: Path, content: bytes, *, durable: bool = True, temp: Optional[Path] = None) -> Path:
    """Put `content` in a sibling of `path` (same folder, so a rename over `path` is atomic).

    `temp` names the sibling (a writer holding a lock can use one fixed name, so a crash
    leaves one stray file, not many); else a fresh hidden name. `durable` fsyncs it.
    """
    if temp is None:
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=str(path.parent))
        temp = Path(name)
        stream = os.fdopen(handle, "wb")
    else:
        stream = open(temp, "wb")
    try:
        with stream:
            stream.write(content)
            if durable:
                stream.flush()
                os.fsync(stream.fileno())
    except BaseException:
        remove_if_present(temp)
        raise
    return temp


def replace_with(temp: Path, path: Path, *, durable: bool = True) -> None:
    """Rename a finished `temp` over `path`; `durable` also makes the rename survive a power cut."""
    try:
        os.replace(temp, path)
    except BaseException:
        remove_if_present(temp)
        raise
    if durable:
        fsync_directory(path.parent)


def write_atomically(path: Path, content: bytes, *, durable: bool = True, temp: Optional[Path] = None) -> None:
    """Write `content` as `path` through a temporary sibling and a rename.

    `durable` also fsyncs the file and the folder, so the new content survives a power
    cut; a cache that can be rebuilt skips that cost.
    """
    replace_with(write_temp(path, content, durable=durable, temp=temp), path, durable=durable)


def aside_stamp(moment: dt.datetime) -> str:
    """The UTC time in the name of a damaged file kept aside (`sessions.json.corrupt-20260102T030405Z`)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc)
    return moment.strftime("%Y%m%dT%H%M%SZ")


def remove_if_present(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
