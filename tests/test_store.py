"""The session log: behaviour on disk and in memory, plus what only the disk can get wrong."""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import re
import stat
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterator, List

import pytest
from factories import numbered_record
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.core.model import SessionRecord, utc_text
from kiosk.sessionlog import store
from kiosk.sessionlog.store import LOG_NAME, AtomicJSONStorage, CorruptLogError, SessionLog

REPO_ROOT = Path(store.__file__).resolve().parents[1]
FIXED_NOW = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
STAMP = "20260102T030405Z"


make_record = numbered_record


def ids(records: List[SessionRecord]) -> List[str]:
    return [record.id for record in records]


@pytest.fixture(params=["json", "memory"])
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SessionLog]:
    """Every behavioural test runs against the real file and against memory."""
    if request.param == "json":
        session_log = SessionLog.open(tmp_path / "data")
    else:
        session_log = SessionLog.memory()
    yield session_log
    session_log.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def open_log(data_dir: Path) -> SessionLog:
    return SessionLog.open(data_dir, now=lambda: FIXED_NOW)


def stored_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


# Behaviour, on both storages.

def test_a_new_log_is_empty(log: SessionLog) -> None:
    assert log.records() == []
    assert log.get("session-00001") is None
    assert log.notices == []


def test_records_come_back_oldest_first(log: SessionLog) -> None:
    for number in (3, 1, 2):
        log.append(make_record(number))
    assert ids(log.records()) == ["session-00001", "session-00002", "session-00003"]


def test_append_refuses_a_known_id(log: SessionLog) -> None:
    log.append(make_record(1))
    with pytest.raises(ValueError, match="session-00001"):
        log.append(make_record(1, routine="hip-basics"))
    assert log.records() == [make_record(1)]


def test_append_refuses_what_is_not_a_record(log: SessionLog) -> None:
    with pytest.raises(TypeError):
        log.append(make_record(1).to_dict())  # type: ignore[arg-type]


def test_get_finds_a_record_by_id(log: SessionLog) -> None:
    log.append(make_record(1))
    log.append(make_record(2, pain=None, completed=False))
    assert log.get("session-00002") == make_record(2, pain=None, completed=False)
    assert log.get("nope") is None


def test_fields_from_a_newer_version_survive(log: SessionLog) -> None:
    record = make_record(1, extra={"mood": "fine", "hr": [60, 72]})
    log.append(record)
    assert log.get(record.id) == record
    updated = log.update_pain(record.id, 7)
    assert updated.extra == {"mood": "fine", "hr": [60, 72]}
    assert log.records() == [updated]


@pytest.mark.parametrize("pain", [0, 10, None])
def test_update_pain_sets_or_clears_the_score(log: SessionLog, pain: Any) -> None:
    log.append(make_record(1, pain=5))
    log.append(make_record(2, pain=5))
    updated = log.update_pain("session-00001", pain, "2026-01-02T08:00:00Z")
    assert updated == replace(make_record(1, pain=pain), pain_noted_utc="2026-01-02T08:00:00Z")
    assert log.get("session-00001") == updated
    assert log.get("session-00002") == make_record(2, pain=5)


@pytest.mark.parametrize("pain", [-1, 11, 2.5, True, "3"])
def test_update_pain_refuses_a_score_outside_0_to_10(log: SessionLog, pain: Any) -> None:
    log.append(make_record(1))
    with pytest.raises(ValueError):
        log.update_pain("session-00001", pain)
    assert log.get("session-00001") == make_record(1)


def test_update_pain_of_an_unknown_session_is_a_key_error(log: SessionLog) -> None:
    with pytest.raises(KeyError):
        log.update_pain("nope", 3)


def test_import_adds_new_records_and_counts_skips_by_id_alone(log: SessionLog) -> None:
    log.append(make_record(1))
    same_id = make_record(1, routine="hip-basics", started_utc="2026-02-01T07:00:00Z")
    same_start = make_record(99, started_utc=make_record(2).started_utc)
    log.append(make_record(2))
    fresh = [make_record(3), make_record(4)]
    assert log.import_records([same_id, same_start, *fresh, make_record(3)]) == (3, 2)
    assert ids(log.records()) == ["session-00001", "session-00002", "session-00099",
                                  "session-00003", "session-00004"]


def test_importing_an_export_twice_adds_nothing_the_second_time(log: SessionLog) -> None:
    exported = [make_record(number) for number in range(5)]
    assert log.import_records(exported) == (5, 0)
    assert log.import_records(exported) == (0, 5)
    assert log.records() == exported


def test_import_then_append_gets_distinct_ids(log: SessionLog) -> None:
    log.import_records([make_record(1), make_record(2)])
    log.append(make_record(3))
    assert len(log.records()) == 3


def test_a_closed_log_refuses_to_be_used(log: SessionLog) -> None:
    with log as same:
        same.append(make_record(1))
    with pytest.raises(ValueError, match="closed"):
        log.append(make_record(2))
    with pytest.raises(ValueError, match="closed"):
        log.records()
    log.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(numbers=st.lists(st.integers(min_value=0, max_value=500), unique=True, max_size=12))
def test_records_equal_what_was_appended(log: SessionLog, numbers: List[int]) -> None:
    existing = {record.id for record in log.records()}
    added = [make_record(number) for number in numbers if f"session-{number:05d}" not in existing]
    for record in added:
        log.append(record)
    records = log.records()
    assert all(record in records for record in added)
    assert records == sorted(records, key=lambda record: (record.started_utc, record.id))


# Only the file can get these wrong.

def test_records_survive_closing_and_reopening(data_dir: Path) -> None:
    with open_log(data_dir) as log:
        log.append(make_record(1))
        log.update_pain("session-00001", 4)  # noted now, by the log's clock
    with open_log(data_dir) as log:
        assert log.records() == [replace(make_record(1, pain=4), pain_noted_utc=utc_text(FIXED_NOW))]
        assert log.notices == []


def test_the_file_is_compact_tinydb_json(data_dir: Path) -> None:
    with open_log(data_dir) as log:
        log.append(make_record(1))
    text = (data_dir / LOG_NAME).read_text(encoding="utf-8")
    assert json.loads(text) == {"_default": {"1": make_record(1).to_dict()}}
    assert ", " not in text and '": ' not in text


def test_the_backup_is_the_previous_version(data_dir: Path) -> None:
    with open_log(data_dir) as log:
        log.append(make_record(1))
        assert not (data_dir / (LOG_NAME + ".bak")).exists()
        log.append(make_record(2))
        assert stored_json(data_dir / (LOG_NAME + ".bak")) == {"_default": {"1": make_record(1).to_dict()}}
        log.update_pain("session-00002", 9)
        assert stored_json(data_dir / (LOG_NAME + ".bak")) == {
            "_default": {"1": make_record(1).to_dict(), "2": make_record(2).to_dict()}}


def failing_on_call(real: Callable[..., Any], failing_call: int) -> Callable[..., Any]:
    calls = {"count": 0}

    def maybe_fail(*args: Any, **kwargs: Any) -> Any:
        calls["count"] += 1
        if calls["count"] == failing_call:
            raise OSError("disk pulled out")
        return real(*args, **kwargs)

    return maybe_fail


@pytest.mark.parametrize("target, failing_call", [
    ("dumps", 1),    # before anything is written
    ("fsync", 1),    # the temp file cannot be made durable
    ("replace", 1),  # the backup cannot be swapped in
    ("replace", 2),  # the new log cannot be swapped in
])
def test_a_failed_write_leaves_the_old_log_and_backup_intact(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch, target: str, failing_call: int) -> None:
    log = open_log(data_dir)
    log.append(make_record(1))
    log.append(make_record(2))
    before = (data_dir / LOG_NAME).read_bytes()
    backup_before = (data_dir / (LOG_NAME + ".bak")).read_bytes()
    module = json if target == "dumps" else os
    monkeypatch.setattr(module, target, failing_on_call(getattr(module, target), failing_call))
    with pytest.raises(OSError, match="disk pulled out"):
        log.append(make_record(3))
    monkeypatch.undo()

    assert (data_dir / LOG_NAME).read_bytes() == before
    backup = (data_dir / (LOG_NAME + ".bak")).read_bytes()
    assert backup in (backup_before, before)
    json.loads(backup)
    assert sorted(path.name for path in data_dir.iterdir()) == [
        LOG_NAME, LOG_NAME + ".bak", LOG_NAME + ".lock"]
    assert log.records() == [make_record(1), make_record(2)]
    log.append(make_record(3))
    assert ids(log.records()) == ["session-00001", "session-00002", "session-00003"]
    log.close()


def test_a_write_that_never_starts_leaves_no_phantom_record(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """TinyDB edits the cached data before calling write(); a failure must drop that edit."""
    log = open_log(data_dir)
    log.append(make_record(1))

    def interrupted(self: AtomicJSONStorage, data: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(AtomicJSONStorage, "write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        log.append(make_record(2))
    with pytest.raises(KeyboardInterrupt):
        log.update_pain("session-00001", 9)
    assert log.records() == [make_record(1)]
    log.close()


def test_without_hard_links_the_backup_is_a_copy(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(source: Any, target: Any) -> None:
        raise OSError("this filesystem has no hard links")

    monkeypatch.setattr(os, "link", no_links)
    with open_log(data_dir) as log:
        log.append(make_record(1))
        log.append(make_record(2))
    assert stored_json(data_dir / (LOG_NAME + ".bak")) == {"_default": {"1": make_record(1).to_dict()}}
    assert sorted(path.name for path in data_dir.iterdir()) == [
        LOG_NAME, LOG_NAME + ".bak", LOG_NAME + ".lock"]


def test_a_temp_file_left_by_a_crash_is_reused(data_dir: Path) -> None:
    with open_log(data_dir) as log:
        log.append(make_record(1))
        (data_dir / f".{LOG_NAME}.tmp").write_text("half a write")
        log.append(make_record(2))
    assert sorted(path.name for path in data_dir.iterdir()) == [
        LOG_NAME, LOG_NAME + ".bak", LOG_NAME + ".lock"]


def test_each_write_fsyncs_the_folder(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = open_log(data_dir)
    synced_kinds: List[str] = []
    real_fsync = os.fsync

    def recording_fsync(descriptor: int) -> None:
        synced_kinds.append("folder" if stat.S_ISDIR(os.fstat(descriptor).st_mode) else "file")
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    log.append(make_record(1))
    assert synced_kinds == ["file", "folder"]
    log.close()


def test_an_unchanged_file_is_parsed_once(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parses: List[Path] = []
    real_parse = store.parse_log

    def counting_parse(path: Path, content: bytes) -> Any:
        parses.append(path)
        return real_parse(path, content)

    monkeypatch.setattr(store, "parse_log", counting_parse)
    with open_log(data_dir) as log:
        log.append(make_record(1))
    with open_log(data_dir) as log, open_log(data_dir) as other:
        assert len(parses) == 2  # one per open
        for number in range(2, 6):
            log.append(make_record(number))
        log.records()
        log.get("session-00003")
        assert len(parses) == 2
        other.append(make_record(6))
        assert len(log.records()) == 6  # the other writer's file is new, so it is read
        assert len(parses) == 4


def test_a_corrupt_log_is_kept_aside_and_the_backup_restored(data_dir: Path) -> None:
    with open_log(data_dir) as log:
        log.append(make_record(1))
        log.append(make_record(2))
    (data_dir / LOG_NAME).write_bytes(b'{"_default": {"1": {"id": "sess')

    with open_log(data_dir) as log:
        assert log.records() == [make_record(1)]
        aside = data_dir / f"{LOG_NAME}.corrupt-{STAMP}"
        assert aside.read_bytes() == b'{"_default": {"1": {"id": "sess'
        [notice] = log.notices
        assert str(data_dir / LOG_NAME) in notice
        assert str(aside) in notice
        assert "restored 1 session from the backup" in notice
        log.append(make_record(3))
        assert ids(log.records()) == ["session-00001", "session-00003"]


def test_a_corrupt_log_and_backup_are_both_kept_and_the_log_starts_empty(data_dir: Path) -> None:
    data_dir.mkdir()
    (data_dir / LOG_NAME).write_text("not json")
    (data_dir / (LOG_NAME + ".bak")).write_text('{"_default": ')

    with open_log(data_dir) as log:
        assert log.records() == []
        [notice] = log.notices
        assert "damaged too" in notice and "starts empty" in notice
        assert (data_dir / f"{LOG_NAME}.corrupt-{STAMP}").read_text() == "not json"
        assert (data_dir / f"{LOG_NAME}.bak.corrupt-{STAMP}").read_text() == '{"_default": '
        log.append(make_record(1))
        assert log.records() == [make_record(1)]


def test_a_corrupt_log_without_backup_is_kept_and_reported(data_dir: Path) -> None:
    data_dir.mkdir()
    (data_dir / LOG_NAME).write_text("[1, 2")
    with open_log(data_dir) as log:
        assert log.records() == []
        [notice] = log.notices
        assert "no backup" in notice
    assert (data_dir / f"{LOG_NAME}.corrupt-{STAMP}").read_text() == "[1, 2"


def test_damage_twice_in_one_second_keeps_both_copies(data_dir: Path) -> None:
    data_dir.mkdir()
    for content in ("first", "second"):
        (data_dir / LOG_NAME).write_text(content)
        open_log(data_dir).close()
    assert (data_dir / f"{LOG_NAME}.corrupt-{STAMP}").read_text() == "first"
    assert (data_dir / f"{LOG_NAME}.corrupt-{STAMP}-2").read_text() == "second"


GOOD_DOCUMENT = make_record(1).to_dict()


@pytest.mark.parametrize("content", [
    [],
    {"_default": []},
    {"_default": {"one": GOOD_DOCUMENT}},
    {"_default": {"1": "a string"}},
    {"_default": {"1": {"id": "session-1"}}},
    {"_default": {"1": dict(GOOD_DOCUMENT, pain=11)}},
    {"_default": {"1": dict(GOOD_DOCUMENT, local_date="Tuesday")}},
])
def test_wrong_shape_json_counts_as_corrupt(data_dir: Path, content: Any) -> None:
    data_dir.mkdir()
    (data_dir / LOG_NAME).write_text(json.dumps(content))
    with pytest.raises(CorruptLogError) as raised:
        AtomicJSONStorage(data_dir / LOG_NAME).read()
    assert raised.value.path == data_dir / LOG_NAME
    assert raised.value.reason in str(raised.value)

    with open_log(data_dir) as log:
        assert log.records() == []
        assert len(log.notices) == 1
    assert (data_dir / f"{LOG_NAME}.corrupt-{STAMP}").exists()


def test_invalid_utf8_counts_as_corrupt(data_dir: Path) -> None:
    data_dir.mkdir()
    (data_dir / LOG_NAME).write_bytes(b'{"_default": {"1": {"id": "\xff"}}}')
    with pytest.raises(CorruptLogError, match="UTF-8"):
        AtomicJSONStorage(data_dir / LOG_NAME).read()


def test_storage_reads_nothing_from_a_missing_or_empty_file(data_dir: Path) -> None:
    data_dir.mkdir()
    storage = AtomicJSONStorage(data_dir / LOG_NAME)
    assert storage.read() is None
    (data_dir / LOG_NAME).write_bytes(b"")
    assert storage.read() is None


def test_an_empty_file_without_backup_is_a_fresh_log(data_dir: Path) -> None:
    data_dir.mkdir()
    (data_dir / LOG_NAME).write_bytes(b"")
    with open_log(data_dir) as log:
        assert log.records() == []
        assert log.notices == []
        log.append(make_record(1))
    assert [path.name for path in data_dir.iterdir() if "corrupt" in path.name] == []


@pytest.mark.parametrize("log_state", ["empty", "missing"])
def test_an_empty_or_missing_log_with_a_backup_is_restored(data_dir: Path, log_state: str) -> None:
    with open_log(data_dir) as log:
        log.append(make_record(1))
        log.append(make_record(2))
    if log_state == "empty":
        (data_dir / LOG_NAME).write_bytes(b"")
    else:
        (data_dir / LOG_NAME).unlink()
    with open_log(data_dir) as log:
        assert log.records() == [make_record(1)]
        [notice] = log.notices
        assert f"was {log_state}" in notice
    assert (data_dir / f"{LOG_NAME}.corrupt-{STAMP}").exists() == (log_state == "empty")


def test_open_creates_the_data_folder(tmp_path: Path) -> None:
    with open_log(tmp_path / "a" / "b") as log:
        log.append(make_record(1))
    assert (tmp_path / "a" / "b" / LOG_NAME).exists()


def test_another_holder_of_the_lock_makes_append_wait(data_dir: Path) -> None:
    log = open_log(data_dir)
    descriptor = os.open(data_dir / (LOG_NAME + ".lock"), os.O_RDWR)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    appending = threading.Thread(target=log.append, args=(make_record(1),))
    appending.start()
    appending.join(timeout=0.3)
    assert appending.is_alive()
    fcntl.flock(descriptor, fcntl.LOCK_UN)
    os.close(descriptor)
    appending.join(timeout=10)
    assert log.records() == [make_record(1)]
    log.close()


CHILD_APPENDER = """
import sys
from pathlib import Path
from kiosk.core.model import SessionRecord
from kiosk.sessionlog.store import SessionLog


data_dir, prefix, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
with SessionLog.open(data_dir) as log:
    print("ready", flush=True)
    sys.stdin.readline()
    for number in range(count):
        log.append(SessionRecord.from_dict({
            "id": f"{prefix}-{number}", "routine": prefix, "local_date": "2026-01-01",
            "started_utc": f"2026-01-01T07:00:{number:02d}Z", "completed": True,
        }))
"""


def test_two_processes_appending_at_once_lose_nothing(data_dir: Path) -> None:
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(
        filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])))
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD_APPENDER, str(data_dir), "child", "50"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=environment)
    try:
        assert child.stdout is not None and child.stdin is not None
        assert child.stdout.readline().strip() == "ready"
        with open_log(data_dir) as log:
            child.stdin.write("go\n")
            child.stdin.flush()
            for number in range(50):
                log.append(make_record(number, id=f"parent-{number}", routine="parent"))
            assert child.wait(timeout=60) == 0
            records = log.records()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert len(records) == 100
    assert len(set(ids(records))) == 100
    stored = stored_json(data_dir / LOG_NAME)
    assert len(stored["_default"]) == 100


# Logs that parse but are wrong.

@pytest.mark.parametrize("content", [
    b"{}",
    b'{"_default": {}}',
    b'{"other": {}}',
])
def test_a_well_formed_log_that_lacks_the_backups_sessions_is_damaged_and_loses_nothing(
        data_dir: Path, content: bytes) -> None:
    with open_log(data_dir) as log:
        for number in range(1, 4):
            log.append(make_record(number))
    (data_dir / LOG_NAME).write_bytes(content)
    with open_log(data_dir) as log:
        assert ids(log.records()) == ["session-00001", "session-00002"]  # the backup's two
        [notice] = log.notices
        assert "damaged" in notice and "kept as" in notice
        log.append(make_record(9))
    # the next write rotated a whole log into the backup, never the empty one
    assert len(stored_json(data_dir / (LOG_NAME + ".bak"))["_default"]) == 2
    assert (data_dir / f"{LOG_NAME}.corrupt-{STAMP}").read_bytes() == content


def test_a_log_with_fewer_sessions_than_its_backup_keeps_both_sets(data_dir: Path) -> None:
    with open_log(data_dir) as log:
        for number in range(1, 5):
            log.append(make_record(number))
    edited = stored_json(data_dir / LOG_NAME)
    del edited["_default"]["1"]
    (data_dir / LOG_NAME).write_text(json.dumps(edited))
    with open_log(data_dir) as log:
        assert ids(log.records()) == [f"session-{n:05d}" for n in range(1, 5)]
        [notice] = log.notices
        assert "lacks 1 session that its backup holds" in notice


@pytest.mark.parametrize("field, value", [
    ("active_s", "Infinity"), ("planned_s", "NaN"), ("active_s", "-Infinity"),
    ("started_utc", '"2026-02-30T07:00:00Z"'), ("ended_utc", '"yesterday"'), ("steps_done", '"three"'),
])
def test_a_record_with_an_impossible_value_is_damage_and_the_rest_is_salvaged(
        data_dir: Path, field: str, value: str) -> None:
    with open_log(data_dir) as log:
        for number in range(1, 4):
            log.append(make_record(number))
    text = (data_dir / LOG_NAME).read_text()
    document = json.dumps(make_record(3).to_dict(), separators=(",", ":"))
    spoiled = re.sub(f'"{field}":[^,}}]+', f'"{field}":{value}', document)
    assert spoiled != document
    (data_dir / LOG_NAME).write_text(text.replace(document, spoiled))
    with open_log(data_dir) as log:
        assert ids(log.records()) == ["session-00001", "session-00002"]
        [notice] = log.notices
        assert "1 damaged record could not be read" in notice
    assert list(data_dir.glob(f"{LOG_NAME}.corrupt-*"))


# Ten years of sessions: one file per past year.

def year_record(number: int, year: int) -> SessionRecord:
    return make_record(number, local_date=f"{year}-06-{1 + number % 28:02d}",
                       started_utc=f"{year}-06-{1 + number % 28:02d}T07:00:00Z",
                       ended_utc=f"{year}-06-{1 + number % 28:02d}T07:05:00Z")


def test_past_years_move_to_their_own_files_and_read_back_as_one_log(data_dir: Path) -> None:
    records = [year_record(number, 2023 + number % 4) for number in range(40)]
    with open_log(data_dir) as log:  # "now" is 2026-01-02
        assert log.import_records(records) == (40, 0)
        assert sorted(p.name for p in data_dir.glob("sessions-*.json")) == [
            "sessions-2023.json", "sessions-2024.json", "sessions-2025.json"]
        assert {r["local_date"][:4] for r in stored_json(data_dir / LOG_NAME)["_default"].values()} == {"2026"}
        assert log.records() == sorted(records, key=lambda r: (r.started_utc, r.id))
        assert log.import_records(records) == (0, 40)
        log.update_pain(records[1].id, 7)  # 2024: rewritten in its own file
        log.append(make_record(99))
    with open_log(data_dir) as log:
        assert log.get(records[1].id).pain == 7  # type: ignore[union-attr]
        assert len(log.records()) == 41 and log.notices == []


def test_a_move_cut_short_leaves_the_session_in_two_files_and_the_next_open_finishes_it(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    older = year_record(1, 2024)
    with SessionLog.open(data_dir, now=lambda: dt.datetime(2024, 12, 31, tzinfo=dt.timezone.utc)) as log:
        log.append(older)
    real_remove = store.Table.remove
    monkeypatch.setattr(store.Table, "remove", lambda *args, **kwargs: (_ for _ in ()).throw(
        OSError("power cut after the archive was written")))
    with pytest.raises(OSError):
        open_log(data_dir)
    monkeypatch.setattr(store.Table, "remove", real_remove)
    assert stored_json(data_dir / "sessions-2024.json")["_default"]["1"]["id"] == older.id
    with open_log(data_dir) as log:
        assert log.records() == [older]
        assert log.notices == []
    assert stored_json(data_dir / LOG_NAME)["_default"] == {}


def test_another_process_archiving_is_seen_by_an_open_log(data_dir: Path) -> None:
    with SessionLog.open(data_dir, now=lambda: dt.datetime(2025, 6, 1, tzinfo=dt.timezone.utc)) as app:
        app.append(year_record(1, 2025))
        open_log(data_dir).close()  # a `kiosk` command in 2026 moves 2025 aside
        assert (data_dir / "sessions-2025.json").exists()
        assert ids(app.records()) == [year_record(1, 2025).id]
        app.update_pain(year_record(1, 2025).id, 3)
    with open_log(data_dir) as log:
        assert [r.pain for r in log.records()] == [3]


# A folder that cannot be written.

def test_a_read_only_open_reads_without_creating_or_changing_anything(data_dir: Path) -> None:
    with open_log(data_dir) as log:
        log.append(make_record(1))
        log.append(make_record(2))
    (data_dir / LOG_NAME).write_bytes(b"{broken")
    before = {path.name: path.read_bytes() for path in data_dir.iterdir()}
    with SessionLog.open(data_dir, now=lambda: FIXED_NOW, writable=False) as log:
        assert ids(log.records()) == ["session-00001"]
        assert "cannot be written" in log.notices[0]
        with pytest.raises(OSError):
            log.append(make_record(3))
    assert {path.name: path.read_bytes() for path in data_dir.iterdir()} == before
    with SessionLog.open(data_dir / "never-made", writable=False) as log:
        assert log.records() == []
    assert not (data_dir / "never-made").exists()
