"""The household's sessions merged into this screen's log, and pain ratings with their time."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
from factories import numbered_record

from test_store import FIXED_NOW, open_log, stored_json

from kiosk.core.model import SessionRecord
from kiosk.sessionlog import store
from kiosk.sessionlog.store import LOG_NAME, SessionLog

NOW_TEXT = "2026-01-02T03:04:05Z"
T1, T2, T3 = "2026-01-02T08:00:00Z", "2026-01-02T09:00:00Z", "2026-01-02T10:00:00Z"


@pytest.fixture(params=["json", "memory"])
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SessionLog]:
    """Every behavioural test runs against the real file and against memory; the file's
    clock is FIXED_NOW, so a rating noted now has a known time."""
    if request.param == "json":
        session_log = SessionLog.open(tmp_path / "data", now=lambda: FIXED_NOW)
    else:
        session_log = SessionLog.memory()
    yield session_log
    session_log.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def by_id(records: List[SessionRecord]) -> Dict[str, SessionRecord]:
    return {record.id: record for record in records}


def year_record(number: int, year: int, **changes: Any) -> SessionRecord:
    return numbered_record(number, local_date=f"{year}-06-{1 + number % 28:02d}",
                           started_utc=f"{year}-06-{1 + number % 28:02d}T07:00:00Z",
                           ended_utc=f"{year}-06-{1 + number % 28:02d}T07:05:00Z", **changes)


def assert_no_duplicates(records: List[SessionRecord]) -> None:
    ids = [record.id for record in records]
    assert len(ids) == len(set(ids)), ids


# ---------------------------------------------------------------------------- adding

def test_a_new_session_is_added_once_however_often_it_comes(log: SessionLog) -> None:
    heard = [numbered_record(1, screen="Kitchen"), numbered_record(2, screen="Kitchen")]
    assert log.merge_records(heard) == heard
    assert log.merge_records(heard) == []
    assert log.merge_records(list(reversed(heard))) == []
    assert log.records() == heard
    assert_no_duplicates(log.records())


def test_copies_of_one_new_session_in_one_batch_are_added_once(log: SessionLog) -> None:
    copy = numbered_record(1)
    assert log.merge_records([copy, copy, dataclasses.replace(copy)]) == [copy]
    assert log.records() == [copy]


def test_a_batch_may_be_any_iterable(log: SessionLog) -> None:
    assert log.merge_records(numbered_record(number) for number in (1, 2)) == \
        [numbered_record(1), numbered_record(2)]
    assert log.merge_records(iter([])) == []


def test_only_what_changed_is_returned(log: SessionLog) -> None:
    log.append(numbered_record(1, pain=3, pain_noted_utc=T1))
    log.append(numbered_record(2, pain=3, pain_noted_utc=T1))
    heard = [numbered_record(1, pain=3, pain_noted_utc=T1),   # the same
             numbered_record(2, pain=8, pain_noted_utc=T2),   # rated again later
             numbered_record(3)]                               # new
    changed = log.merge_records(heard)
    assert by_id(changed) == {"session-00002": heard[1], "session-00003": heard[2]}
    assert len(changed) == 2
    assert log.records() == heard
    assert log.merge_records(heard) == []


def test_a_merge_of_nothing_new_writes_nothing(data_dir: Path) -> None:
    with open_log(data_dir) as log:
        log.append(numbered_record(1, pain=3, pain_noted_utc=T2))
        log.append(numbered_record(2))  # the second write leaves a backup
        before = (data_dir / LOG_NAME).stat()
        backup = (data_dir / (LOG_NAME + ".bak")).read_bytes()
        assert log.merge_records([numbered_record(1, pain=3, pain_noted_utc=T2),
                                  numbered_record(1, pain=9, pain_noted_utc=T1)]) == []
        after = (data_dir / LOG_NAME).stat()
        assert (after.st_ino, after.st_mtime_ns, after.st_size) == (before.st_ino, before.st_mtime_ns, before.st_size)
        assert (data_dir / (LOG_NAME + ".bak")).read_bytes() == backup


def test_new_sessions_of_this_year_are_added_in_one_write(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_log(data_dir) as log:
        writes: List[Path] = []
        real_write = store.AtomicJSONStorage.write

        def counted(storage: store.AtomicJSONStorage, data: Any) -> None:
            writes.append(storage.path)
            real_write(storage, data)

        monkeypatch.setattr(store.AtomicJSONStorage, "write", counted)
        assert len(log.merge_records([numbered_record(number) for number in range(1, 30)])) == 29
        assert writes == [data_dir / LOG_NAME]


# ---------------------------------------------------------------------------- pain ratings between screens

def test_a_later_pain_rating_replaces_the_stored_one(log: SessionLog) -> None:
    log.append(numbered_record(1, pain=3, pain_noted_utc=T1))
    later = numbered_record(1, pain=7, pain_noted_utc=T2)
    assert log.merge_records([later]) == [later]
    assert log.get("session-00001") == later
    assert log.records() == [later]


def test_an_older_pain_rating_does_not(log: SessionLog) -> None:
    log.append(numbered_record(1, pain=3, pain_noted_utc=T2))
    assert log.merge_records([numbered_record(1, pain=7, pain_noted_utc=T1)]) == []
    assert log.merge_records([numbered_record(1, pain=7)]) == []
    assert log.get("session-00001") == numbered_record(1, pain=3, pain_noted_utc=T2)


def test_the_latest_of_several_copies_in_one_batch_wins(log: SessionLog) -> None:
    log.append(numbered_record(1, pain=1, pain_noted_utc=T1))
    heard = [numbered_record(1, pain=5, pain_noted_utc=T2), numbered_record(1, pain=9, pain_noted_utc=T3),
             numbered_record(1, pain=0, pain_noted_utc=T1)]
    assert log.merge_records(heard) == [heard[1]]
    assert log.records() == [heard[1]]


def test_the_latest_of_several_copies_of_a_new_session_wins(log: SessionLog) -> None:
    heard = [numbered_record(1, pain=5, pain_noted_utc=T2), numbered_record(1, pain=9, pain_noted_utc=T3),
             numbered_record(1, pain=0, pain_noted_utc=T1)]
    assert log.merge_records(heard) == [heard[1]]
    assert log.records() == [heard[1]]


def test_a_trusted_dating_replaces_an_unverified_one(log: SessionLog) -> None:
    unverified = numbered_record(1, started_utc="2020-01-01T00:00:00Z", ended_utc="2020-01-01T00:00:30Z",
                                 local_date="2020-01-01", clock_unverified=True, clock_monotonic_s=5.0,
                                 clock_boot_id="boot-1")
    assert log.import_records([unverified]) == (1, 0)
    trusted = numbered_record(1, clock_monotonic_s=5.0, clock_boot_id="boot-1",
                              clock_repaired_from="2020-01-01T00:00:00Z")
    assert log.merge_records([trusted]) == [trusted]
    assert log.records() == [trusted]


def test_a_rating_made_here_later_is_kept_against_an_older_one_from_elsewhere(log: SessionLog) -> None:
    log.append(numbered_record(1, pain=3, pain_noted_utc=T1))
    log.update_pain("session-00001", None, noted_utc=T3)  # cleared here, last
    assert log.merge_records([numbered_record(1, pain=6, pain_noted_utc=T2)]) == []
    stored = log.get("session-00001")
    assert stored is not None and (stored.pain, stored.pain_noted_utc) == (None, T3)


# ---------------------------------------------------------------------------- archives and the disk

def test_a_session_in_a_past_years_archive_is_rated_in_its_own_file(data_dir: Path) -> None:
    old = year_record(1, 2024, pain=2, pain_noted_utc="2024-06-02T08:00:00Z")
    with open_log(data_dir) as log:  # "now" is 2026
        assert log.import_records([old, numbered_record(2)]) == (2, 0)
        assert (data_dir / "sessions-2024.json").exists()
        later = dataclasses.replace(old, pain=6, pain_noted_utc=T1)
        assert log.merge_records([later]) == [later]
        assert log.merge_records([later, old]) == []
        assert log.records() == [later, numbered_record(2)]
    archived = stored_json(data_dir / "sessions-2024.json")["_default"]
    assert [document["pain"] for document in archived.values()] == [6]
    assert [document["id"] for document in stored_json(data_dir / LOG_NAME)["_default"].values()] == \
        ["session-00002"]
    with open_log(data_dir) as log:
        assert log.records() == [later, numbered_record(2)]
        assert log.notices == []


def test_a_new_session_of_a_past_year_goes_to_its_archive(data_dir: Path) -> None:
    old = year_record(3, 2025, screen="Kitchen")
    with open_log(data_dir) as log:
        assert log.merge_records([old, numbered_record(1)]) == [old, numbered_record(1)]
        assert log.merge_records([old]) == []
        assert log.records() == [old, numbered_record(1)]
    assert [document["id"] for document in stored_json(data_dir / "sessions-2025.json")["_default"].values()] == \
        [old.id]
    assert [document["id"] for document in stored_json(data_dir / LOG_NAME)["_default"].values()] == \
        ["session-00001"]


def test_merged_sessions_survive_closing_and_reopening(data_dir: Path) -> None:
    heard = [numbered_record(1, screen="Kitchen", pain=4, pain_noted_utc=T1), numbered_record(2),
             year_record(3, 2024, pain=1, pain_noted_utc=T1)]
    with SessionLog.open(data_dir, now=lambda: FIXED_NOW) as log:
        log.merge_records(heard)
        expected = log.records()
    with SessionLog.open(data_dir, now=lambda: FIXED_NOW) as log:
        assert log.records() == expected
        assert sorted(record.id for record in expected) == sorted(record.id for record in heard)
        assert log.notices == []
        assert log.merge_records(heard) == []
        later = numbered_record(1, screen="Kitchen", pain=9, pain_noted_utc=T2)
        assert log.merge_records([later]) == [later]
    with SessionLog.open(data_dir, now=lambda: FIXED_NOW) as log:
        assert log.get("session-00001") == later
        assert_no_duplicates(log.records())
        assert len(log.records()) == 3 and log.notices == []


# ---------------------------------------------------------------------------- update_pain with its time

def test_update_pain_stores_when_the_rating_was_given(log: SessionLog) -> None:
    log.append(numbered_record(1, pain=None))
    updated = log.update_pain("session-00001", 6, noted_utc=T2)
    assert (updated.pain, updated.pain_noted_utc) == (6, T2)
    assert log.get("session-00001") == updated
    assert updated == numbered_record(1, pain=6, pain_noted_utc=T2)


def test_update_pain_without_a_time_stores_now(data_dir: Path) -> None:
    with open_log(data_dir) as log:
        log.append(numbered_record(1))
        updated = log.update_pain("session-00001", 4)
        assert updated.pain_noted_utc == NOW_TEXT
        cleared = log.update_pain("session-00001", None)
        assert (cleared.pain, cleared.pain_noted_utc) == (None, NOW_TEXT)
    assert [document.get("pain_noted_utc") for document in stored_json(data_dir / LOG_NAME)["_default"].values()] \
        == [NOW_TEXT]
    with open_log(data_dir) as log:
        assert log.get("session-00001") == cleared and log.notices == []


def test_update_pain_of_an_archived_session_stores_its_time_too(data_dir: Path) -> None:
    old = year_record(1, 2024)
    with open_log(data_dir) as log:
        log.import_records([old])
        assert log.update_pain(old.id, 5).pain_noted_utc == NOW_TEXT
    [document] = stored_json(data_dir / "sessions-2024.json")["_default"].values()
    assert (document["pain"], document["pain_noted_utc"]) == (5, NOW_TEXT)


@pytest.mark.parametrize("noted", ["yesterday", "2026-13-01T00:00:00Z", "10:00"])
def test_update_pain_refuses_a_time_that_is_not_one_and_leaves_the_log_whole(data_dir: Path, noted: str) -> None:
    with open_log(data_dir) as log:
        log.append(numbered_record(1))
        with pytest.raises(ValueError):
            log.update_pain("session-00001", 4, noted_utc=noted)
        assert log.records() == [numbered_record(1)]
    with open_log(data_dir) as log:
        assert log.notices == [] and log.records() == [numbered_record(1)]
