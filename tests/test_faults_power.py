"""Power cuts and damaged files: the log survives a process killed at any step, and every
damaged file found at start is kept aside, salvaged and reported.

A child appends sessions and stops before every step of the work (opening the log, taking
the lock, each read, write, fsync, rename, link and removal) until the test lets it go on;
the test SIGKILLs it at the step it chose, as a crash or the watchdog would. Killing by
step, not after a random delay, makes the outcome independent of the machine's speed:
every run kills at the same points. The fsync ordering that makes the same writes survive
a real power cut is checked in test_store.py; random-timing kills soak in bench/soak_power.py.
"""

from __future__ import annotations

import json
import os
import random
import select
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Set, Tuple

import pytest
from factories import numbered_record

from kiosk.cli import main as kiosk_main
from kiosk.sessionlog.store import LOG_NAME, SESSIONS_TABLE, SessionLog, salvage_records

REPO_ROOT = Path(__file__).resolve().parent.parent
HANG_S = 60.0
"""How long a child may go without a word before it counts as hung: only a real hang fails."""

FORK_SERVER = r'''
import builtins, fcntl, io, itertools, os, signal, socket, stat, sys, traceback
from kiosk.core.model import SessionRecord
from kiosk.sessionlog.store import SessionLog

data_dir, requests = sys.argv[1], socket.socket(fileno=int(sys.argv[2]))
folder = os.path.realpath(data_dir)
send, receive = os.write, os.read
report_fd = go_fd = -1


def step(line):
    """Tell the parent what comes next and wait for its go-ahead; it may SIGKILL us instead."""
    send(report_fd, (line + "\n").encode())
    if receive(go_fd, 1) == b"":
        os._exit(0)


def in_log_folder(target):
    try:
        path = os.readlink(f"/proc/self/fd/{target}") if isinstance(target, int) else os.path.realpath(target)
    except (OSError, TypeError):
        return False
    return path == folder or path.startswith(folder + os.sep)


def watch(module, function_name, kind_of):
    """Make `module.function_name` report a step (and wait) before it runs, when kind_of names one."""
    original = getattr(module, function_name)

    def watched(*args, **kwargs):
        kind = kind_of(*args)
        if kind:
            step("stage " + kind)
        return original(*args, **kwargs)

    setattr(module, function_name, watched)


def fsync_kind(file):
    fd = file if isinstance(file, int) else file.fileno()
    if not in_log_folder(fd):
        return None
    return "fsync-folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync-file"


def lock_kind(file, operation, *rest):
    return "lock" if operation & (fcntl.LOCK_SH | fcntl.LOCK_EX) else None


watch(os, "fsync", fsync_kind)
for function_name in ("replace", "rename"):
    watch(os, function_name, lambda source, target, *rest: "rename" if in_log_folder(target) else None)
watch(os, "link", lambda source, target, *rest: "link" if in_log_folder(target) else None)
for function_name in ("unlink", "remove"):
    watch(os, function_name, lambda path, *rest: "remove" if in_log_folder(path) else None)
watch(os, "write", lambda fd, data: "write" if fd != report_fd and in_log_folder(fd) else None)
watch(fcntl, "flock", lock_kind)
watch(fcntl, "lockf", lock_kind)


class WatchedFile:
    """A file opened for writing in the log folder: each write() is a step."""

    def __init__(self, file):
        self._file = file

    def write(self, data):
        step("stage write")
        return self._file.write(data)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self._file.close()

    def __getattr__(self, attribute):
        return getattr(self._file, attribute)


real_open = io.open


def watched_open(file, mode="r", *args, **kwargs):
    if not in_log_folder(file):
        return real_open(file, mode, *args, **kwargs)
    writing = any(flag in mode for flag in "wax+")
    if not writing:
        step("stage read")
    opened = real_open(file, mode, *args, **kwargs)
    return WatchedFile(opened) if writing else opened


builtins.open = io.open = watched_open


def append_for_ever(name):
    step("opening")
    with SessionLog.open(data_dir) as log:
        for notice in log.notices:
            send(report_fd, ("notice " + " ".join(notice.split()) + "\n").encode())
        step("opened")
        for number in itertools.count():
            record_id = f"{name}-{number}"
            year = 2025 + number % 2
            step("try " + record_id)
            log.append(SessionRecord.from_dict({
                "id": record_id, "routine": "power", "local_date": f"{year}-11-26",
                "started_utc": f"{year}-11-26T07:{number % 60:02d}:00Z", "completed": True}))
            step("done " + record_id)


signal.signal(signal.SIGCHLD, signal.SIG_IGN)
while True:
    name, (report_fd, go_fd), _, _ = socket.recv_fds(requests, 256, 2)
    if not name:
        os._exit(0)
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        requests.close()
        try:
            append_for_ever(name.decode())
        except BaseException:
            traceback.print_exc()
        os._exit(3)
    os.close(report_fd)
    os.close(go_fd)
    requests.send(str(pid).encode())
'''
"""The fork server: imports the log code once, wraps `os`, `fcntl` and `open` (in itself
and so in its children only), then forks one appender per request. Forking is ~50 times
cheaper than starting Python, which keeps the test quick on a busy machine.

An appender appends sessions (in two years, should the log keep a file per year) for ever.
It reports "opening", "opened", "try ID" and "done ID" around the public calls, and
"stage KIND" before each call it makes in the log's folder (read, write, fsync-file,
fsync-folder, rename, link, remove, lock), then waits for a byte from the parent."""


class ForkServer:
    """The parent's end of FORK_SERVER: hands it two pipe ends, gets back the appender's pid."""

    def __init__(self, data_dir: Path, stderr_path: Path) -> None:
        self._requests, server_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._requests.settimeout(HANG_S)
        self.stderr_path = stderr_path
        environment = dict(os.environ, PYTHONPATH=os.pathsep.join(
            filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])))
        with open(stderr_path, "wb") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-c", FORK_SERVER, str(data_dir), str(server_end.fileno())],
                pass_fds=(server_end.fileno(),), env=environment,
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr)
        server_end.close()

    def fork(self, name: str, report_write: int, go_read: int) -> int:
        socket.send_fds(self._requests, [name.encode()], [report_write, go_read])
        try:
            return int(self._requests.recv(64))
        except (socket.timeout, ValueError):
            pytest.fail(f"the fork server did not fork {name}:\n{self.stderr_path.read_text()[-3000:]}")

    def close(self) -> None:
        self._requests.close()
        try:
            self.process.wait(timeout=HANG_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Appender:
    """One child, stopped before a step it reported, that goes on only when told to."""

    def __init__(self, server: ForkServer, name: str) -> None:
        self.name = name
        self._server = server
        self._reports, report_write = os.pipe()
        go_read, self._go = os.pipe()
        self.pid = server.fork(name, report_write, go_read)
        os.close(report_write)
        os.close(go_read)
        self._unread = b""
        self._exited = False
        self._closed = False
        self.history: List[str] = []
        """Every step reported, in order; the last is the one it is stopped before."""
        self.notices: List[str] = []
        """What its SessionLog.open said it repaired: a kill must never leave anything to repair."""

    @property
    def stopped_at(self) -> str:
        return self.history[-1]

    def read_report(self) -> str:
        """Wait for the child's next step (it reports one, then waits for us)."""
        while True:
            line, newline, rest = self._unread.partition(b"\n")
            if newline:
                self._unread = rest
                report = line.decode()
                if report.startswith("notice "):
                    self.notices.append(report[len("notice "):])
                    continue
                self.history.append(report)
                return report
            chunk = self._read_chunk()
            if not chunk:
                self._exited = True
                pytest.fail(f"{self.name} exited after {self.history[-3:]}:\n"
                            f"{self._server.stderr_path.read_text()[-3000:]}")
            self._unread += chunk

    def _read_chunk(self) -> bytes:
        if not select.select([self._reports], [], [], HANG_S)[0]:
            pytest.fail(f"{self.name} said nothing for {HANG_S:.0f} s after {self.history[-3:]}: hung")
        return os.read(self._reports, 4096)

    def go_ahead(self) -> None:
        """Let the child take the step it is stopped before, without waiting for the next."""
        os.write(self._go, b"g")

    def step(self) -> str:
        self.go_ahead()
        return self.read_report()

    def step_until(self, wanted: Callable[[str], bool], what: str) -> None:
        for _ in range(MAX_STEPS):
            if wanted(self.stopped_at):
                return
            self.step()
        self.kill()
        pytest.fail(f"{self.name} took {MAX_STEPS} steps without reaching {what}: {self.history[-20:]}")

    def kill(self) -> None:
        """SIGKILL the child and wait until it is gone (its end of the report pipe closes with it)."""
        if not self._exited:
            self._exited = True
            # Still holding its end of our pipe, so the pid is still this child's, not a new process's.
            os.kill(self.pid, signal.SIGKILL)
            while self._read_chunk():
                pass
        if not self._closed:
            self._closed = True
            os.close(self._reports)
            os.close(self._go)


MAX_STEPS = 500
"""More steps than opening and a few appends take: reaching it means the child never got where it was sent."""


def kill_point(history: List[str]) -> str:
    """Where a child stopped before `history[-1]` was when killed: after which step it had taken."""
    stopped_at = history[-1]
    if stopped_at == "opening":
        return "before opening"
    if "opened" not in history:
        return "while opening"
    previous = history[-2]
    if stopped_at == "opened" or stopped_at.startswith("try "):
        return "between appends"
    if previous.startswith("try "):
        return "at the start of an append"
    return "after " + previous.split(" ", 1)[1]


def sessions_of(history: List[str], report: str) -> Set[str]:
    return {line.split(" ", 1)[1] for line in history if line.startswith(report + " ")}


class Kills:
    """What every child tried, what returned, what its open said, and where each was killed."""

    def __init__(self, server: ForkServer, data_dir: Path) -> None:
        self.server = server
        self.data_dir = data_dir
        self.started = 0
        self.children: List[Appender] = []
        self.tried: Set[str] = set()
        self.returned: Set[str] = set()
        self.killed_mid_append: Set[str] = set()
        self.notices: List[str] = []
        self.points: Counter[str] = Counter()
        self.points_while_another_waited: Counter[str] = Counter()

    def start(self, role: str) -> Appender:
        self.started += 1
        child = Appender(self.server, f"{role}{self.started}")
        self.children.append(child)  # before it can fail: whatever happens, the teardown kills it
        child.read_report()
        return child

    def kill(self, child: Appender, another_waited: bool = False) -> None:
        point = kill_point(child.history)
        child.kill()
        (self.points_while_another_waited if another_waited else self.points)[point] += 1
        self.tried |= sessions_of(child.history, "try")
        self.returned |= sessions_of(child.history, "done")
        if child.stopped_at.startswith("stage "):
            self.killed_mid_append |= sessions_of(child.history, "try") - sessions_of(child.history, "done")
        self.notices += child.notices

    def kill_the_rest(self) -> None:
        for child in self.children:
            child.kill()


def sweep(kills: Kills, role: str, begins: Callable[[Appender], bool], ends: Callable[[str], bool]) -> None:
    """Kill one fresh child at each step of a stretch of work in turn: at its first step, then a step later...

    Each child runs unhindered up to where the stretch `begins`; the sweep is over once a
    child is killed where it `ends`."""
    for steps_in in range(MAX_STEPS):
        child = kills.start(role)
        for _ in range(MAX_STEPS):
            if begins(child):
                break
            child.step()
        else:
            kills.kill(child)
            pytest.fail(f"{child.name} never began its {role}: {child.history[-20:]}")
        for _ in range(steps_in):
            if ends(child.stopped_at):
                break
            child.step()
        finished = ends(child.stopped_at)
        kills.kill(child)
        if finished:
            return
    pytest.fail(f"the {role} never ended within {MAX_STEPS} steps")


def waiting_for_a_lock(pid: int) -> bool:
    """Whether the kernel lists `pid` as blocked on a file lock (/proc/locks marks waiters with ->)."""
    with open("/proc/locks", encoding="ascii") as locks:
        return any("->" in fields and str(pid) in fields for fields in (line.split() for line in locks))


def wait_until_waiting_for_a_lock(child: Appender) -> None:
    deadline = time.monotonic() + HANG_S
    while not waiting_for_a_lock(child.pid):
        assert time.monotonic() < deadline, f"{child.name} never blocked on the lock: {child.history[-5:]}"
        time.sleep(0.001)  # polling the kernel's lock table; the condition itself is what ends the loop


def contend(kills: Kills) -> None:
    """Kill a child holding the lock at each of its steps in turn, while a second child waits for it.

    The waiter must then take the lock and finish its append."""
    for steps_held in range(MAX_STEPS):
        holder, waiter = kills.start("holder"), kills.start("waiter")
        for child in (holder, waiter):
            child.step_until(lambda report: report.startswith("try "), "its first append")
        holder.step_until(lambda report: report == "stage lock", "the lock")
        holder.step()
        for _ in range(steps_held):
            if holder.stopped_at.startswith("done "):
                break
            holder.step()
        if holder.stopped_at.startswith("done "):  # it has let go of the lock: nothing left to contend for
            kills.kill(holder)
            kills.kill(waiter)
            return
        waiter.step_until(lambda report: report == "stage lock", "the lock")
        waiter.go_ahead()
        wait_until_waiting_for_a_lock(waiter)
        kills.kill(holder, another_waited=True)
        waiter.read_report()
        waiter.step_until(lambda report: report.startswith("done "), "the end of its append")
        kills.kill(waiter)
    pytest.fail(f"the holder never finished its append within {MAX_STEPS} steps")


FREE_APPENDS_PER_ROUND = (0, 1, 2, 4)
"""Each round sweeps opening, then the append after this many that run unhindered: the first
round starts on an empty folder, so the very first write of a log is killed too."""

KILL_POINTS = ("while opening", "between appends", "after write", "after fsync-file", "after link",
               "after rename", "after fsync-folder")
"""Every stage a kill must land after, at least `KILLS_PER_POINT` times."""
KILLS_PER_POINT = 3
KILL_POINTS_WHILE_ANOTHER_WAITED = ("after write", "after fsync-file", "after link", "after rename")


def refuse_repeated_keys(pairs: List[Tuple[str, Any]]) -> Dict[str, Any]:
    keys = [key for key, _ in pairs]
    assert len(keys) == len(set(keys)), f"a key appears twice: {keys}"
    return dict(pairs)


def assert_every_visible_file_is_whole_json(data_dir: Path) -> None:
    """The log and its backup (whatever they are called) parse, with no key twice (json.loads
    would merge a repeated doc id silently). Hidden temp files and the empty lock are not the log."""
    for path in sorted(data_dir.rglob("*")):
        if path.is_file() and not path.name.startswith(".") and not path.name.endswith(".lock") \
                and path.stat().st_size > 0:
            try:
                json.loads(path.read_bytes(), object_pairs_hook=refuse_repeated_keys)
            except ValueError as error:
                raise AssertionError(f"{path.name} is not whole JSON after the kills: {error}") from None


@pytest.fixture
def kills(tmp_path: Path) -> Iterator[Kills]:
    data_dir = tmp_path / "data"
    server = ForkServer(data_dir, tmp_path / "appenders.stderr")
    tally = Kills(server, data_dir)
    try:
        yield tally
    finally:
        tally.kill_the_rest()
        server.close()


def test_appenders_killed_at_every_step_lose_nothing_that_returned_and_duplicate_nothing(kills: Kills) -> None:
    for round_number, free_appends in enumerate(FREE_APPENDS_PER_ROUND):
        sweep(kills, f"opening-{round_number}-", lambda child: True, lambda report: report == "opened")
        sweep(kills, f"append-{round_number}-",
              lambda child: sum(report.startswith("try ") for report in child.history) == free_appends + 1,
              lambda report: report.startswith("done "))
    contend(kills)

    with SessionLog.open(kills.data_dir) as log:
        opened_notices = log.notices
        stored = [record.id for record in log.records()]
    assert kills.notices == [] and opened_notices == [], \
        f"a kill left a log that needed repair: {(kills.notices + opened_notices)[:3]}"
    assert_every_visible_file_is_whole_json(kills.data_dir)
    twice = sorted(record_id for record_id, copies in Counter(stored).items() if copies > 1)
    lost = sorted(kills.returned - set(stored))
    invented = sorted(set(stored) - kills.tried)
    print(f"\n{sum(kills.points.values()) + sum(kills.points_while_another_waited.values())} kills, "
          f"{len(kills.returned)} appends returned, {len(kills.killed_mid_append)} killed mid-append "
          f"({len(kills.killed_mid_append & set(stored))} of them stored), {len(lost)} lost, {len(twice)} duplicated")
    print("killed:", dict(sorted(kills.points.items())))
    print("killed holding the lock while another waited:", dict(sorted(kills.points_while_another_waited.items())))
    assert not lost, f"appends that had returned are gone: {lost[:5]}"
    assert not twice, f"stored twice: {twice[:5]}"
    assert not invented, f"stored, yet nobody appended them: {invented[:5]}"

    thin = {point: kills.points[point] for point in KILL_POINTS if kills.points[point] < KILLS_PER_POINT}
    assert not thin, f"too few kills at {thin}; all kills: {dict(kills.points)}"
    missing = [point for point in KILL_POINTS_WHILE_ANOTHER_WAITED if not kills.points_while_another_waited[point]]
    assert not missing, f"no kill {missing} while another waited: {dict(kills.points_while_another_waited)}"
    assert kills.killed_mid_append & set(stored) and kills.killed_mid_append - set(stored), \
        "kills mid-append should land both before and after the new log is in place"


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
    return random.Random(7).randbytes(len(content))


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
    from kiosk.sessionlog import store

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
