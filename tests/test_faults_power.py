"""Power cuts and damaged files: the log survives a process killed at any moment, and
every damaged file found at start is kept aside, salvaged and reported.

SIGKILL ends a writer at a random instant, which is what a crash or the watchdog does;
the fsync ordering that makes the same writes survive a real power cut is checked in
test_store.py.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Dict, List, Set, Tuple

import pytest

from kiosk.cli import main as kiosk_main
from kiosk.store import LOG_NAME, SESSIONS_TABLE, SessionLog, salvage_records

from factories import numbered_record

REPO_ROOT = Path(__file__).resolve().parent.parent
LANES = 4
"""Killer processes running at once, all on one log: kills also land while another holds the lock."""
KILLS_PER_LANE = 130
MAX_KILL_DELAY_S = 0.025
"""A child is killed within this long of being forked: while opening, between appends, or mid-write."""

KILLER = r"""
import os, random, signal, sys, time
from pathlib import Path
from kiosk.model import SessionRecord
from kiosk.store import SessionLog

data_dir, lane, kills, seed, max_delay = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
rng = random.Random(seed)
for kill in range(kills):
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        try:
            with SessionLog.open(data_dir) as log:
                for notice in log.notices:
                    os.write(write_end, ("notice " + notice.replace("\n", " ") + "\n").encode())
                number = 0
                while True:
                    record_id = f"{lane}-{kill}-{number}"
                    os.write(write_end, f"try {record_id}\n".encode())
                    log.append(SessionRecord.from_dict({
                        "id": record_id, "routine": "power", "local_date": "2026-11-26",
                        "started_utc": f"2026-11-26T07:{number % 60:02d}:00Z", "completed": True,
                    }))
                    os.write(write_end, f"done {record_id}\n".encode())
                    number += 1
        finally:
            os._exit(3)
    os.close(write_end)
    time.sleep(rng.uniform(0, max_delay))  # the random moment of the power cut, not a wait for anything
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    with os.fdopen(read_end, "rb") as reports:
        sys.stdout.write(reports.read().decode())
    sys.stdout.write(f"killed {lane}-{kill}\n")
sys.stdout.flush()
"""


def run_killer_lane(data_dir: Path, lane: str, seed: int) -> List[str]:
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(
        filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])))
    result = subprocess.run(
        [sys.executable, "-c", KILLER, str(data_dir), lane, str(KILLS_PER_LANE), str(seed), str(MAX_KILL_DELAY_S)],
        capture_output=True, text=True, env=environment, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.splitlines()


def stored_documents(path: Path) -> List[Tuple[str, Dict[str, Any]]]:
    """The log's documents, refusing a doc id that appears twice (json.loads would hide it)."""
    def no_duplicates(pairs: List[Tuple[str, Any]]) -> Dict[str, Any]:
        keys = [key for key, _ in pairs]
        assert len(keys) == len(set(keys)), f"a key appears twice: {keys}"
        return dict(pairs)

    tables = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=no_duplicates)
    return list(tables[SESSIONS_TABLE].items())


def test_appenders_killed_at_random_moments_lose_nothing_that_returned_and_duplicate_nothing(
        tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    seed = random.randrange(1 << 30)
    with ThreadPoolExecutor(LANES) as pool:
        lanes = list(pool.map(lambda lane: run_killer_lane(data_dir, f"lane{lane}", seed + lane), range(LANES)))
    lines = [line for lane in lanes for line in lane]
    kills = [line for line in lines if line.startswith("killed ")]
    returned = {line.split()[1] for line in lines if line.startswith("done ")}
    tried = {line.split()[1] for line in lines if line.startswith("try ")}
    notices = [line for line in lines if line.startswith("notice ")]

    assert len(kills) >= 500, f"seed {seed}"
    assert notices == [], f"seed {seed}: a child found the log damaged: {notices[:3]}"
    in_flight = tried - returned
    print(f"{len(kills)} kills, {len(returned)} appends returned, {len(in_flight)} killed mid-append")
    assert len(returned) >= 100 and len(in_flight) >= 100, f"seed {seed}: kills should land at every stage"

    documents = stored_documents(data_dir / LOG_NAME)
    stored_ids = [document["id"] for _, document in documents]
    assert len(stored_ids) == len(set(stored_ids)), f"seed {seed}: a session was stored twice"
    assert returned <= set(stored_ids), f"seed {seed}: lost {sorted(returned - set(stored_ids))[:5]}"
    assert set(stored_ids) <= tried, f"seed {seed}: a session nobody appended"
    with SessionLog.open(data_dir) as log:
        assert log.notices == []
        assert {record.id for record in log.records()} == set(stored_ids)
    stored_documents(data_dir / (LOG_NAME + ".bak"))  # the backup parses too
    assert not list(data_dir.glob("*.corrupt-*"))


# --------------------------------------------------------------------------- damaged files at start


def good_log(data_dir: Path, count: int = 5) -> Tuple[bytes, bytes]:
    """A log of `count` sessions (the last one rated later) and its backup, as bytes."""
    with SessionLog.open(data_dir) as log:
        for number in range(count):
            log.append(numbered_record(number, pain=None))
        log.update_pain(numbered_record(count - 1).id, 4)
    return (data_dir / LOG_NAME).read_bytes(), (data_dir / (LOG_NAME + ".bak")).read_bytes()


GOOD = numbered_record(1).to_dict()


def truncated(content: bytes) -> bytes:
    return content[: len(content) * 2 // 3]


def random_bytes(content: bytes) -> bytes:
    return random.Random(7).randbytes(len(content)) if hasattr(random.Random, "randbytes") \
        else os.urandom(len(content))


DAMAGE: Dict[str, Callable[[bytes], bytes]] = {
    "truncated": truncated,
    "zero bytes": lambda content: b"",
    "random bytes": random_bytes,
    "a list": lambda content: b"[1, 2, 3]",
    "sessions not an object": lambda content: b'{"_default": [1, 2]}',
    "one record of the wrong shape": lambda content: json.dumps({SESSIONS_TABLE: {
        "1": GOOD, "2": {"id": "x", "completed": "maybe"}}}).encode(),
    "nested a million deep": lambda content: b"[" * 1_000_000,
    "not UTF-8 in the middle": lambda content: content[:40] + b"\xff\xfe" + content[42:],
}

BACKUP: Dict[str, Callable[[bytes], bytes]] = {
    "good backup": lambda backup: backup,
    "truncated backup": truncated,
    "random backup": random_bytes,
    "no backup": lambda backup: b"",
}


def damage(data_dir: Path, log_damage: str, backup_damage: str) -> Tuple[bytes, bytes]:
    content, backup = good_log(data_dir)
    (data_dir / LOG_NAME).write_bytes(DAMAGE[log_damage](content))
    damaged_backup = BACKUP[backup_damage](backup)
    if damaged_backup:
        (data_dir / (LOG_NAME + ".bak")).write_bytes(damaged_backup)
    else:
        (data_dir / (LOG_NAME + ".bak")).unlink()
    return content, backup


def whole_record_ids(content: bytes) -> Set[str]:
    return {document["id"] for document in salvage_records(content)[0]}


def expected_ids(log_damage: str, backup_damage: str, content: bytes, backup: bytes) -> Set[str]:
    """What a careful person could still read out of the two damaged files."""
    found = whole_record_ids(DAMAGE[log_damage](content)) | whole_record_ids(BACKUP[backup_damage](backup))
    return found


CASES = [(log_damage, backup_damage) for log_damage in DAMAGE for backup_damage in BACKUP
         if not (log_damage == "zero bytes" and backup_damage == "no backup")]
"""A zero-byte log without a backup holds nothing to lose: that is a fresh log, and quiet."""


@pytest.mark.parametrize("log_damage, backup_damage", CASES)
def test_kiosk_stats_starts_with_any_damaged_log_keeps_it_and_says_so(
        tmp_path: Path, log_damage: str, backup_damage: str, capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = tmp_path / "data"
    content, backup = damage(data_dir, log_damage, backup_damage)
    damaged_log = (data_dir / LOG_NAME).read_bytes()

    assert kiosk_main(["--data-dir", str(data_dir), "stats", "--json", "--today", "2026-01-31"]) == 0
    out, err = capsys.readouterr()
    json.loads(out)
    assert "kiosk: The session log" in err and "kept as" in err

    kept = sorted(data_dir.glob(f"{LOG_NAME}.corrupt-*"))
    assert kept and kept[0].read_bytes() == damaged_log, "the damaged log is kept, byte for byte"
    with SessionLog.open(data_dir) as log:
        assert log.notices == [], "the repair is done once"
        recovered = {record.id for record in log.records()}
    assert recovered == expected_ids(log_damage, backup_damage, content, backup)
    if backup_damage == "good backup":
        assert recovered >= whole_record_ids(backup)
    if log_damage in ("truncated", "one record of the wrong shape", "not UTF-8 in the middle"):
        assert recovered, "whole records in the damaged log are salvaged, never silently dropped"
    if not recovered:
        assert "starts empty" in err


def test_a_salvaged_record_is_the_newest_version_of_it(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    content, backup = good_log(data_dir, count=3)
    last = numbered_record(2).id
    (data_dir / LOG_NAME).write_bytes(content[:-2])  # the pain rating is in the log, not the backup
    with SessionLog.open(data_dir) as log:
        assert log.get(last) is not None and log.get(last).pain == 4  # type: ignore[union-attr]
        [notice] = log.notices
        assert "restored 3 sessions from the backup" in notice and "1 session recovered" in notice
        [short] = log.screen_notices
        assert str(data_dir) not in short and "3 sessions kept" in short


def test_damaged_log_and_backup_with_nothing_whole_start_empty_and_say_so(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / LOG_NAME).write_bytes(b'{"_default": {"1": {"id": "a", "rout')
    (data_dir / (LOG_NAME + ".bak")).write_bytes(b"\x00" * 100)
    with SessionLog.open(data_dir) as log:
        assert log.records() == []
        [notice] = log.notices
        assert "The log starts empty" in notice and "1 damaged record could not be read" in notice
    assert len(list(data_dir.glob("*.corrupt-*"))) == 2


def test_a_repair_cut_short_by_a_crash_runs_again_and_loses_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kiosk import store

    data_dir = tmp_path / "data"
    content, backup = damage(data_dir, "truncated", "truncated backup")
    salvageable = expected_ids("truncated", "truncated backup", content, backup)

    def power_cut(path: Path, data: bytes) -> None:
        raise OSError("simulated power cut before the repaired log was written")

    monkeypatch.setattr(store, "replace_file_atomically", power_cut)
    with pytest.raises(OSError):
        SessionLog.open(data_dir)
    monkeypatch.undo()
    with SessionLog.open(data_dir) as log:
        assert {record.id for record in log.records()} == salvageable
    assert len(list(data_dir.glob(f"{LOG_NAME}.corrupt-*"))) == 2  # one per attempt: evidence is never lost
