"""Whole-file replacement: readers see the old file or the new one, never half of one."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

WRITE_ERRORS = (errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO, errno.EDQUOT)
"""What a full, read-only or failing SD card answers to a write."""


def fsync_directory(folder: Path) -> None:
    """Make a rename inside `folder` durable, not just the renamed file's bytes."""
    descriptor = os.open(str(folder), os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_atomically(path: Path, content: bytes, *, durable: bool = True) -> None:
    """Write `content` as `path` through a temporary sibling and a rename.

    `durable` also fsyncs the file and the folder, so the new content survives a power
    cut; a cache that can be rebuilt skips that cost.
    """
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=str(path.parent))
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
            if durable:
                stream.flush()
                os.fsync(stream.fileno())
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    if durable:
        fsync_directory(path.parent)
