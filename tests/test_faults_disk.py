"""A full, read-only or failing SD card: a refused write is one line and changes nothing,
reading still works, and the app keeps a session it could not save until the card takes it.

The card is a real small tmpfs (mounted here; CI runs as root): filled to the last page
for ENOSPC, remounted read-only for EROFS. Root passes every permission check and a tmpfs
never fails with EIO, so EACCES and EIO are injected instead (`RefusingLayer`), as is EROFS
for the app, whose open lock file keeps a real remount from succeeding.
"""

from __future__ import annotations

import builtins
import csv
import datetime as dt
import errno
import io
import json
import logging
import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Tuple

import kivy_harness  # noqa: F401  (before anything from kivy)
import pytest
from factories import make_record
from kivy_harness import Kiosk, visible
from test_faults_ui import go_home_from_done, one_tap_tiny_library, run_to_the_end

from kiosk.cli import main
from kiosk.config import load_settings
from kiosk.core.catalog import Library
from kiosk.core.model import SessionRecord
from kiosk.core.timeline import build_timeline
from kiosk.sessionlog.checkpoint import CHECKPOINT_NAME
from kiosk.sessionlog.records_csv import export_csv
from kiosk.sessionlog.store import LOG_NAME, SessionLog, parse_log, salvage_records
from kiosk.ui.controller import SAFETY_SEEN
from kiosk.ui.log_keeper import NOT_SAVED, NOT_SAVED_OTHER

NOW = dt.datetime(2026, 11, 26, 18, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
CARD_SIZE_KB = 1024
"""Room for `kiosk play`'s check (the log plus 256 KiB) while the card is not full."""
FULL_CARD = "Not saved yet: the SD card is full. It is saved as soon as there is room."
OLD_DAYS = ("2026-11-20", "2026-11-22", "2026-11-24")


# --------------------------------------------------------------------------- the card


class Card:
    """A tmpfs of its own standing in for the SD card; the data folder is one level down,
    the filler that makes it full sits beside it."""

    def __init__(self, mount_point: Path) -> None:
        self.mount_point = mount_point
        self.data_dir = mount_point / "data"
        self.filler = mount_point / "filler"

    def free_bytes(self) -> int:
        figures = os.statvfs(self.mount_point)
        return figures.f_bavail * figures.f_frsize

    @property
    def page(self) -> int:
        return os.statvfs(self.mount_point).f_frsize

    def fill(self, leave_pages: int = 0) -> None:
        """Take every free page but `leave_pages`: a write that needs more fails with ENOSPC."""
        left = leave_pages * self.page
        descriptor = os.open(self.filler, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            os.posix_fallocate(descriptor, os.fstat(descriptor).st_size, self.free_bytes() - left)
        finally:
            os.close(descriptor)
        assert self.free_bytes() == left, f"the card kept {self.free_bytes()} bytes free, not {left}"

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)

    def read_only(self) -> None:
        self._remount("ro")

    def writable(self) -> None:
        self._remount("rw")

    def _remount(self, mode: str) -> None:
        result = subprocess.run(["mount", "-o", f"remount,{mode}", str(self.mount_point)],
                                capture_output=True, text=True)
        assert result.returncode == 0, f"remount,{mode} of {self.mount_point}: {result.stderr.strip()}"


@pytest.fixture
def card(tmp_path: Path) -> Iterator[Card]:
    mount_point = tmp_path / "card"
    mount_point.mkdir()
    command = ["mount", "-t", "tmpfs", "-o", f"size={CARD_SIZE_KB}k,mode=0755", "tmpfs", str(mount_point)]
    try:
        result = subprocess.run(command, capture_output=True, text=True)
        problem = (result.stderr.strip() or f"exit status {result.returncode}") if result.returncode else ""
    except OSError as error:  # no mount command at all
        problem = str(error)
    if problem:
        pytest.fail(f"These tests need a real small tmpfs as the SD card, and `{' '.join(command)}` failed: "
                    f"{problem}. Run them as root (CI does).", pytrace=False)
    try:
        yield Card(mount_point)
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


class RefusingLayer:
    """Every write below `root` fails with `code`, as on a card that refuses them; reads pass.

    Covers what the kiosk writes with: `open`/`os.open` for writing, rename, link, unlink,
    mkdir and fsync (by the path behind the descriptor). `at_fsync_only` lets the bytes in
    and fails only their fsync, as a card that accepts writes but cannot commit them.
    """

    def __init__(self, root: Path, code: int, *, at_fsync_only: bool = False) -> None:
        self.root = os.path.abspath(root)
        self.code = code
        self.at_fsync_only = at_fsync_only
        self.active = False

    def start(self) -> None:
        self.active = True

    def stop(self) -> None:
        self.active = False

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        real_open, real_os_open, real_fsync = builtins.open, os.open, os.fsync

        def refusing_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            if any(letter in mode for letter in "wax+"):
                self._check(file)
            return real_open(file, mode, *args, **kwargs)

        def refusing_os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
            if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND):
                self._check(path)
            return real_os_open(path, flags, *args, **kwargs)

        def refusing_fsync(descriptor: Any) -> None:
            number = descriptor if isinstance(descriptor, int) else descriptor.fileno()
            if self.active and self._inside(os.readlink(f"/proc/self/fd/{number}")):
                raise OSError(self.code, os.strerror(self.code))
            real_fsync(descriptor)

        monkeypatch.setattr(builtins, "open", refusing_open)
        monkeypatch.setattr(io, "open", refusing_open)
        monkeypatch.setattr(os, "open", refusing_os_open)
        monkeypatch.setattr(os, "fsync", refusing_fsync)
        for name in ("replace", "rename", "link", "unlink", "remove", "mkdir", "rmdir"):
            monkeypatch.setattr(os, name, self._refusing(getattr(os, name)))

    def _refusing(self, real: Callable[..., Any]) -> Callable[..., Any]:
        def refusing(*paths: Any, **kwargs: Any) -> Any:
            for path in paths[:2]:
                self._check(path)
            return real(*paths, **kwargs)

        return refusing

    def _check(self, path: Any) -> None:
        if self.active and not self.at_fsync_only and self._inside(path):
            raise OSError(self.code, os.strerror(self.code), os.fsdecode(path))

    def _inside(self, path: Any) -> bool:
        if isinstance(path, int):
            return False
        full = os.path.abspath(os.fsdecode(path))
        return full == self.root or full.startswith(self.root + os.sep)


@dataclass
class Fault:
    """One way the card refuses writes, started once the test has set the folder up."""

    name: str
    code: int
    start: Callable[[], None]
    stop: Callable[[], None]

    @property
    def reason(self) -> str:
        return os.strerror(self.code)


CODES = {"full": errno.ENOSPC, "read-only": errno.EROFS, "EROFS injected": errno.EROFS,
         "EACCES": errno.EACCES, "EIO": errno.EIO, "EIO at fsync": errno.EIO}
CARD_FAULTS = ["full", "read-only", "EACCES", "EIO", "EIO at fsync"]
APP_FAULTS = ["full", "EROFS injected", "EACCES", "EIO", "EIO at fsync"]


@pytest.fixture
def fault(request: pytest.FixtureRequest, card: Card, monkeypatch: pytest.MonkeyPatch) -> Fault:
    name = request.param
    if name == "full":
        return Fault(name, CODES[name], card.fill, card.free)
    if name == "read-only":
        return Fault(name, CODES[name], card.read_only, card.writable)
    layer = RefusingLayer(card.mount_point, CODES[name], at_fsync_only=name.endswith("at fsync"))
    layer.install(monkeypatch)
    return Fault(name, CODES[name], layer.start, layer.stop)


def contents(folder: Path) -> Dict[str, bytes]:
    """Every file below `folder` by name, with its bytes: equal means nothing was changed or added."""
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def records_on_card(data_dir: Path) -> List[SessionRecord]:
    """The sessions in the log files, read without writing, recovering or repairing anything."""
    with SessionLog.open(data_dir, writable=False) as log:
        return log.records()


def ids_on_card(data_dir: Path) -> List[str]:
    return [record.id for record in records_on_card(data_dir)]


# --------------------------------------------------------------------------- the command line


def kiosk(capsys: pytest.CaptureFixture[str], data_dir: Path, *argv: str) -> Tuple[int, str, str]:
    capsys.readouterr()
    status = main(["--data-dir", str(data_dir), *argv], now=lambda: NOW)
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def card_with_sessions(card: Card, capsys: pytest.CaptureFixture[str]) -> Card:
    """The card with a log of a few sessions (so a backup and a lock file too)."""
    for day in OLD_DAYS:
        status, _, err = kiosk(capsys, card.data_dir, "log", "add", "--date", day)
        assert status == 0, err
    assert {LOG_NAME, LOG_NAME + ".bak", LOG_NAME + ".lock"} <= set(contents(card.data_dir))
    return card


def assert_refused_in_one_line(status: int, err: str, data_dir: Path, fault: Fault) -> None:
    assert status == 1, err
    assert "Traceback" not in err
    assert err.endswith("\n") and len(err.splitlines()) == 1, err
    assert err.startswith("kiosk: error: cannot write "), err
    assert str(data_dir) in err and fault.reason in err, err


def new_sessions_csv(folder: Path) -> Path:
    """An export of two sessions the log does not hold, from another card."""
    export = folder / "from-the-old-card.csv"
    with open(export, "w", newline="", encoding="utf-8") as stream:
        export_csv([make_record(dt.date(2026, 10, day)) for day in (3, 4)], stream)
    return export


@pytest.mark.parametrize("command", ["log add", "log import"])
@pytest.mark.parametrize("fault", CARD_FAULTS, indirect=True)
def test_a_write_command_on_a_refusing_card_is_one_line_exit_1_and_changes_nothing(
        card_with_sessions: Card, fault: Fault, command: str, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    data_dir = card_with_sessions.data_dir
    argv = ["log", "add", "--date", "2026-11-25"] if command == "log add" else \
        ["log", "import", str(new_sessions_csv(tmp_path))]
    before = contents(data_dir)
    fault.start()
    status, out, err = kiosk(capsys, data_dir, *argv)
    fault.stop()
    assert_refused_in_one_line(status, err, data_dir, fault)
    assert out == ""
    assert contents(data_dir) == before


@pytest.mark.parametrize("fault", CARD_FAULTS, indirect=True)
def test_play_refuses_before_the_session_starts_when_it_could_not_be_saved(
        card_with_sessions: Card, fault: Fault, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from kiosk import play as play_module

    played: List[Any] = []
    real_play = play_module.play_routine
    monkeypatch.setattr(play_module, "play_routine", lambda *a, **k: played.append(a) or real_play(*a, **k))
    data_dir = card_with_sessions.data_dir
    before = contents(data_dir)
    fault.start()
    status, out, err = kiosk(capsys, data_dir, "play", "--speed", "1000", "--no-voice")
    fault.stop()
    assert_refused_in_one_line(status, err, data_dir, fault)
    assert played == [] and out == "", "not one line of the session was played"
    assert contents(data_dir) == before, "nothing recorded, no checkpoint left"


def test_play_on_the_same_card_with_room_plays_and_records(card_with_sessions: Card,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """The refusals above are the card's doing, not the command's."""
    data_dir = card_with_sessions.data_dir
    status, out, err = kiosk(capsys, data_dir, "play", "--speed", "1000", "--no-voice")
    assert status == 0, err
    assert "recorded for" in out
    assert len(ids_on_card(data_dir)) == len(OLD_DAYS) + 1
    assert CHECKPOINT_NAME not in contents(data_dir)


def assert_reading_commands_show(data_dir: Path, capsys: pytest.CaptureFixture[str], ids: List[str]) -> None:
    """stats, log list and log export all answer (exit 0) with exactly these sessions."""
    status, out, err = kiosk(capsys, data_dir, "stats", "--json")
    assert status == 0 and "Traceback" not in err, err
    assert json.loads(out)["total_sessions"] == len(ids)

    status, out, err = kiosk(capsys, data_dir, "log", "list")
    assert status == 0 and "Traceback" not in err, err
    assert out.splitlines()[-1] == f"{len(ids)} sessions"
    status, out, err = kiosk(capsys, data_dir, "log", "list", "--json")
    assert status == 0, err
    assert sorted(record["id"] for record in json.loads(out)) == sorted(ids)

    status, out, err = kiosk(capsys, data_dir, "log", "export", "--csv")
    assert status == 0 and "Traceback" not in err, err
    assert sorted(row["id"] for row in csv.DictReader(io.StringIO(out))) == sorted(ids)


@pytest.mark.parametrize("fault", CARD_FAULTS, indirect=True)
def test_reading_commands_work_on_a_refusing_card_and_change_nothing(
        card_with_sessions: Card, fault: Fault, capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = card_with_sessions.data_dir
    ids = ids_on_card(data_dir)
    assert len(ids) == len(OLD_DAYS)
    before = contents(data_dir)
    fault.start()
    try:
        assert_reading_commands_show(data_dir, capsys, ids)
    finally:
        fault.stop()
    assert contents(data_dir) == before


def damage_the_log(data_dir: Path) -> List[str]:
    """Cut the log in half; return the ids a reader should still find (backup and whole records)."""
    path = data_dir / LOG_NAME
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 2])
    backup_ids = {record.id for record in parse_log(data_dir / (LOG_NAME + ".bak"),
                                                    (data_dir / (LOG_NAME + ".bak")).read_bytes()).records.values()}
    salvaged = {document["id"] for document in salvage_records(content[: len(content) // 2])[0]}
    return sorted(backup_ids | salvaged)


@pytest.mark.parametrize("fault", ["read-only", "EACCES", "EIO", "full"], indirect=True)
def test_reading_commands_read_a_damaged_log_on_a_card_that_cannot_be_written_and_change_nothing(
        card_with_sessions: Card, fault: Fault, capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = card_with_sessions.data_dir
    status, _, err = kiosk(capsys, data_dir, "log", "add", "--date", "2026-11-25")
    assert status == 0, err
    expected = damage_the_log(data_dir)
    assert len(expected) >= len(OLD_DAYS), "the backup alone holds the first three"
    before = contents(data_dir)
    fault.start()
    try:
        assert_reading_commands_show(data_dir, capsys, expected)
        _, _, err = kiosk(capsys, data_dir, "log", "list")
        assert "damaged" in err and "cannot be written" in err, err
    finally:
        fault.stop()
    after = contents(data_dir)
    assert {name: after.get(name) for name in before} == before, "every old file byte-identical"
    assert after == before, "no file set aside, repaired or created"


@pytest.mark.parametrize("fault", ["full"], indirect=True)
def test_reading_a_damaged_log_on_a_full_card_adds_no_file(
        card_with_sessions: Card, fault: Fault, capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = card_with_sessions.data_dir
    damage_the_log(data_dir)
    before = contents(data_dir)
    fault.start()
    try:
        status, _, err = kiosk(capsys, data_dir, "log", "list")
    finally:
        fault.stop()
    assert status == 0, err
    assert sorted(contents(data_dir)) == sorted(before)


def test_a_closed_pipe_is_still_quiet(card_with_sessions: Card) -> None:
    """`kiosk log list | head`: the handler for a refused write must not catch EPIPE as one."""

    class ClosedPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))

    err = io.StringIO()
    status = main(["--data-dir", str(card_with_sessions.data_dir), "log", "list"], out=ClosedPipe(), err=err,
                  now=lambda: NOW)
    assert status == 0 and err.getvalue() == ""


# --------------------------------------------------------------------------- the app


@pytest.fixture(scope="module")
def tiny_library(tmp_path_factory: pytest.TempPathFactory) -> Library:
    return one_tap_tiny_library(tmp_path_factory.mktemp("tiny"))


def settle_until(driver: Kiosk, condition: Callable[[], bool], what: str, timeout_s: float = 20.0) -> None:
    """Settle until `condition` holds. `wait_idle` can return just before a finished job has
    handed its result to Kivy's clock, so a single settle may come a frame too early."""
    deadline = time.monotonic() + timeout_s
    driver.settle()
    while not condition():
        assert time.monotonic() < deadline, f"not so after {timeout_s:.0f} s: {what}"
        driver.settle()


def not_saved_text(fault: Fault) -> str:
    return FULL_CARD if fault.code == errno.ENOSPC else NOT_SAVED.get(fault.code, NOT_SAVED_OTHER)


def open_app_on_the_card(library: Library, data_dir: Path) -> Kiosk:
    """The app on a log of two older sessions, the log already open when the card fails."""
    with SessionLog.open(data_dir) as log:
        for day in (dt.date(2026, 11, 21), dt.date(2026, 11, 23)):
            log.append(make_record(day, source="backfill"))
    driver = Kiosk(library, data_dir)
    assert driver.controller.log_keeper.is_open, "the log is open"
    assert driver.widget("home", "today").text == "Not done yet today"
    return driver


def assert_not_saved_yet_on_home(driver: Kiosk, text: str, record: SessionRecord) -> None:
    notice = driver.root.ids.notice
    assert driver.controller.screen == "home"
    assert driver.controller.notice == text
    assert notice.text.startswith(text) and visible(notice)
    assert driver.widget("home", "today").text == ("Done today" if record.completed else "Not done yet today")
    assert record.id in {r.id for r in driver.controller.log_keeper.records}, "kept in memory"
    assert driver.controller.stats.total_sessions == 3
    assert record.id not in ids_on_card(driver.controller.data_dir)


def assert_saved_once_and_the_notice_gone(driver: Kiosk, record: SessionRecord) -> None:
    assert ids_on_card(driver.controller.data_dir).count(record.id) == 1
    assert "Not saved yet" not in driver.controller.notice
    assert "Not saved yet" not in driver.root.ids.notice.text
    assert not (driver.controller.data_dir / CHECKPOINT_NAME).exists()
    assert driver.controller.stats.total_sessions == 3


@pytest.mark.parametrize("fault", APP_FAULTS, indirect=True)
def test_the_app_keeps_a_session_the_card_refused_and_saves_it_within_a_minute_of_room(
        tiny_library: Library, card: Card, fault: Fault) -> None:
    driver = open_app_on_the_card(tiny_library, card.data_dir)
    try:
        log_before = contents(card.data_dir)[LOG_NAME]
        fault.start()
        driver.advance(2)
        driver.tap(driver.widget("home", "start_button"))
        run_to_the_end(driver)
        go_home_from_done(driver)
        record = driver.controller.last_record
        assert record is not None and record.completed
        text = not_saved_text(fault)
        settle_until(driver, lambda: driver.controller.notice == text, f"the notice {text!r}")
        assert_not_saved_yet_on_home(driver, text, record)
        assert contents(card.data_dir)[LOG_NAME] == log_before

        fault.stop()
        driver.advance(61)  # the retry every minute, with no touch at all
        settle_until(driver, lambda: not driver.controller.notice.startswith("Not saved"), "the notice gone")
        assert_saved_once_and_the_notice_gone(driver, record)
        assert driver.widget("home", "today").text == "Done today"
    finally:
        fault.stop()
        driver.close()
    assert ids_on_card(card.data_dir).count(record.id) == 1, "closing saved nothing twice"


@pytest.mark.parametrize("fault", ["full"], indirect=True)
def test_a_session_stopped_on_a_full_card_is_kept_and_saved_at_the_next_screen_change(
        tiny_library: Library, card: Card, fault: Fault) -> None:
    driver = open_app_on_the_card(tiny_library, card.data_dir)
    try:
        fault.start()
        driver.advance(2)
        driver.tap(driver.widget("home", "start_button"))
        driver.advance(5)
        driver.tap(driver.widget("session", "stop_button"))
        driver.tap(driver.screen("session").ids.stop_dialog_holder.children[0].ids.confirm_stop)
        settle_until(driver, lambda: driver.controller.notice == FULL_CARD, "the full-card notice")
        driver.advance(2)
        record = driver.controller.last_record
        assert record is not None and not record.completed
        assert_not_saved_yet_on_home(driver, FULL_CARD, record)

        fault.stop()
        driver.tap(driver.widget("home", "streaks_button"))  # well before the minute is up
        settle_until(driver, lambda: not driver.controller.notice.startswith("Not saved"), "the notice gone")
        assert_saved_once_and_the_notice_gone(driver, record)
        [stored] = [r for r in records_on_card(card.data_dir) if r.id == record.id]
        assert not stored.completed and stored.steps_done == record.steps_done
    finally:
        driver.close()


def test_a_card_with_room_for_the_checkpoint_but_not_the_log_keeps_the_session_there(
        tiny_library: Library, card: Card) -> None:
    """Two free pages: enough to replace the one-page checkpoint, too few for the log's copy.
    The session is then in the checkpoint, and the next start with room records it once."""
    data_dir = card.data_dir
    this_year = dt.date.today().replace(month=1, day=1)  # no archive moves it out of the main log
    with SessionLog.open(data_dir) as log:
        for _ in range(60):
            log.append(make_record(this_year, source="backfill"))
    assert os.stat(data_dir / LOG_NAME).st_size > 3 * card.page, "a log too big for the two pages left"
    driver = Kiosk(tiny_library, data_dir)
    try:
        card.fill(leave_pages=2)
        driver.advance(2)
        driver.tap(driver.widget("home", "start_button"))
        run_to_the_end(driver)
        record = driver.controller.last_record
        assert record is not None and record.completed
        settle_until(driver, lambda: driver.controller.notice == FULL_CARD, "the full-card notice")
        checkpoint = json.loads((data_dir / CHECKPOINT_NAME).read_bytes())
        assert checkpoint["records"] == [record.to_dict()]
        assert record.id not in ids_on_card(data_dir)
    finally:
        driver.close()  # the kiosk is switched off before the card has room
    assert json.loads((data_dir / CHECKPOINT_NAME).read_bytes())["records"] == [record.to_dict()]

    card.free()
    again = Kiosk(tiny_library, data_dir)
    try:
        assert ids_on_card(data_dir).count(record.id) == 1
        assert not (data_dir / CHECKPOINT_NAME).exists()
        assert record.id in {r.id for r in again.controller.log_keeper.records}
    finally:
        again.close()
    assert ids_on_card(data_dir).count(record.id) == 1


def kiosk_problems(caplog: pytest.LogCaptureFixture) -> List[str]:
    """What the app logged as an error, or with a traceback: a refused write is neither."""
    return [record.getMessage() for record in caplog.records
            if record.name == "kiosk" and (record.levelno >= logging.ERROR or record.exc_info)]


def kiosk_warnings(caplog: pytest.LogCaptureFixture) -> List[str]:
    return [record.getMessage() for record in caplog.records
            if record.name == "kiosk" and record.levelno == logging.WARNING]


@pytest.mark.parametrize("fault", APP_FAULTS, indirect=True)
def test_a_setting_changed_on_a_refusing_card_applies_says_so_and_leaves_the_file_as_it_was(
        tiny_library: Library, card: Card, fault: Fault, caplog: pytest.LogCaptureFixture) -> None:
    config = card.mount_point / "config" / "config.yaml"
    driver = Kiosk(tiny_library, card.data_dir, config_path=config)
    try:
        driver.controller.change_setting("weekly_goal", 4)
        driver.settle()
        saved_settings = config.read_bytes()
        fault.start()
        driver.controller.change_setting("weekly_goal", 5)
        settle_until(driver, lambda: "Settings not saved" in driver.controller.notice, "the settings notice")
        fault.stop()
        assert config.read_bytes() == saved_settings
        assert driver.controller.settings.weekly_goal == 5, "the change applies at once"
        assert kiosk_problems(caplog) == []
        assert any(str(config) in line and fault.reason in line for line in kiosk_warnings(caplog))
        assert contents(config.parent) == {"config.yaml": saved_settings}, "no temp file left"

        driver.controller.change_setting("week_start", "sunday")
        settle_until(driver, lambda: "Settings not saved" not in driver.controller.notice, "the notice gone")
        assert load_settings(config)[0].weekly_goal == 5, "the next save takes every change"
    finally:
        fault.stop()
        driver.close()


@pytest.mark.parametrize("fault", APP_FAULTS, indirect=True)
def test_the_safety_note_acknowledged_on_a_refusing_card_leaves_no_marker_and_no_traceback(
        tiny_library: Library, card: Card, fault: Fault, caplog: pytest.LogCaptureFixture) -> None:
    card.data_dir.mkdir()
    driver = Kiosk(tiny_library, card.data_dir, first_start=True)
    try:
        assert driver.controller.screen == "safety"
        before = contents(card.data_dir)
        fault.start()
        driver.advance(2)
        driver.tap(driver.widget("safety", "understood"))
        driver.settle()
        fault.stop()
        assert driver.controller.screen == "home"
        assert contents(card.data_dir) == before, "no marker, not even an empty one"
        assert kiosk_problems(caplog) == []
        assert any(SAFETY_SEEN in line and fault.reason in line for line in kiosk_warnings(caplog))
    finally:
        fault.stop()
        driver.close()
    again = Kiosk(tiny_library, card.data_dir, first_start=True)
    try:
        assert again.controller.screen == "safety", "shown again, since it could not be remembered"
    finally:
        again.close()


def test_a_pain_rating_tapped_while_a_slow_card_is_still_saving_the_session_is_saved_too(
        tiny_library: Library, card: Card) -> None:
    driver = open_app_on_the_card(tiny_library, card.data_dir)
    card_answers = threading.Event()
    try:
        driver.advance(2)
        driver.tap(driver.widget("home", "start_button"))
        driver.controller.worker.run(lambda: card_answers.wait(20))  # the worker waits on the card
        driver.advance(build_timeline(driver.controller.timeline.routine).total_s + 3, step=0.25, draw_every=10)
        assert driver.controller.screen == "done"
        record = driver.controller.last_record
        assert record is not None and record.id not in ids_on_card(card.data_dir), "still being saved"
        driver.tap(next(b for b in driver.widget("done", "pain_buttons").children if b.value == 4))
        card_answers.set()
        settle_until(driver, lambda: not driver.controller.log_keeper.unsaved, "the session saved")
        driver.settle()
        assert driver.controller.last_record.pain == 4
        [stored] = [r for r in records_on_card(card.data_dir) if r.id == record.id]
        assert stored.pain == 4
    finally:
        card_answers.set()
        driver.close()
