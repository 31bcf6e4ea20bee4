from __future__ import annotations

import os
from pathlib import Path

import pytest

from kiosk.sessionlog import atomic


def test_replaces_the_whole_file_and_leaves_no_temp(tmp_path: Path) -> None:
    tmp_path = tmp_path / "folder"
    tmp_path.mkdir()
    target = tmp_path / "file.txt"
    target.write_bytes(b"old")
    atomic.write_atomically(target, b"new content")
    assert target.read_bytes() == b"new content"
    assert [p.name for p in tmp_path.iterdir()] == ["file.txt"]


def test_a_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tmp_path = tmp_path / "folder"
    tmp_path.mkdir()
    target = tmp_path / "file.txt"
    target.write_bytes(b"old")

    def broken_replace(source: str, destination: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        atomic.write_atomically(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["file.txt"]


def test_durable_writes_sync_file_and_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd) or real_fsync(fd))
    atomic.write_atomically(tmp_path / "a", b"x")
    assert len(synced) == 2
    synced.clear()
    atomic.write_atomically(tmp_path / "b", b"x", durable=False)
    assert synced == []


def test_a_fixed_temp_name_is_reused_and_a_failed_rename_leaves_no_temp(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    target, fixed = tmp_path / "log.json", tmp_path / ".log.json.tmp"
    fixed.write_bytes(b"left by a crash")
    atomic.write_atomically(target, b"one", temp=fixed)
    assert target.read_bytes() == b"one" and not fixed.exists()

    def refuse(source: object, destination: object) -> None:
        raise OSError("disk pulled out")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError):
        atomic.write_atomically(target, b"two")
    monkeypatch.undo()
    assert target.read_bytes() == b"one"
    assert not list(tmp_path.glob(".log.json*")), "no temp file is left behind"
