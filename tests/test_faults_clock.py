"""The Pi's clock: wrong at boot, jumping mid-session, daylight saving and time zones.

Injected clocks first (pure rules, the runner, the log), then the real command line
under libfaketime.
"""

from __future__ import annotations

import datetime as dt
import glob
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest
from factories import make_exercise, make_record, make_routine, make_step
from test_runner import FakeClock as Clock

from kiosk.core.clockcheck import (
    RELEASE_DATE,
    ClockReading,
    checked,
    newest_trusted_start,
    read_boot_id,
    redated,
    repairs,
    wall_problem,
)
from kiosk.core.model import SessionRecord
from kiosk.core.runner import SessionRunner
from kiosk.core.session import State
from kiosk.core.speaker import SilentSpeaker
from kiosk.core.streaks import compute_stats
from kiosk.core.timeline import build_timeline
from kiosk.play import play_session
from kiosk.sessionlog.store import SessionLog

UTC = dt.timezone.utc
BOOT = "boot-a"
SYNCED = dt.datetime(2026, 11, 26, 18, 0, tzinfo=UTC)
"""The true time at the moment of the trusted reading in these tests."""


def zone(name: str) -> dt.tzinfo:
    """The zone, or a failure saying what is missing: skipping would hide every daylight-saving test."""
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:
        pytest.fail(f"no time zone data for {name}: apt-get install tzdata")


def timed(started: dt.datetime, monotonic_s: float, boot: str = BOOT, minutes: float = 5.0,
          unverified: bool = False, **overrides: Any) -> SessionRecord:
    """A session timed here: as the runner makes it, with its monotonic start and boot."""
    record = SessionRecord.create(routine="daily-reset", started=started,
                                  ended=started + dt.timedelta(minutes=minutes), planned_s=minutes * 60,
                                  active_s=minutes * 60, completed=True, source="kiosk", **overrides)
    return SessionRecord.from_dict(dict(record.to_dict(), clock_monotonic_s=monotonic_s, clock_boot_id=boot,
                                        clock_unverified=unverified))


# --------------------------------------------------------------------------- the rules, pure


def test_a_wall_clock_before_the_release_date_or_the_newest_session_is_implausible() -> None:
    assert wall_problem(RELEASE_DATE - dt.timedelta(seconds=1), None) is not None
    assert "1970-01-01" in str(wall_problem(dt.datetime(1970, 1, 1, tzinfo=UTC), None))
    assert wall_problem(RELEASE_DATE, None) is None
    newest = dt.datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    assert "earlier than the newest session" in str(wall_problem(newest - dt.timedelta(minutes=1), newest))
    assert wall_problem(newest, newest) is None


def test_only_trusted_sessions_timed_here_set_the_newest_start() -> None:
    day = dt.datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    typed_in = make_record(dt.date(2027, 1, 1))  # a backfill far ahead: a person's typing, not this clock
    flagged = timed(day + dt.timedelta(days=30), 50.0, unverified=True)
    trusted = timed(day, 40.0)
    assert newest_trusted_start([typed_in, flagged, trusted]) == day
    assert newest_trusted_start([trusted.to_dict(), typed_in.to_dict()]) == day  # stored dicts work too
    assert newest_trusted_start([typed_in]) is None


def test_checked_flags_an_implausible_start_and_leaves_the_rest_alone() -> None:
    at_1970 = timed(dt.datetime(1970, 1, 1, 0, 1, tzinfo=UTC), 60.0)
    assert checked(at_1970, None).clock_unverified
    fine = timed(SYNCED, 60.0)
    assert checked(fine, None) == fine
    behind = timed(SYNCED - dt.timedelta(hours=3), 60.0)
    assert checked(behind, SYNCED).clock_unverified
    backfill = make_record(dt.date(2020, 1, 1))
    assert checked(backfill, SYNCED) == backfill  # not timed here: nothing to judge


def test_redating_uses_the_same_boots_monotonic_time_and_keeps_the_length() -> None:
    wrong = timed(dt.datetime(1970, 1, 1, 0, 2, tzinfo=UTC), monotonic_s=100.0, unverified=True, pain=3)
    reading = ClockReading(SYNCED, monotonic_s=100.0 + 7200.0, boot_id=BOOT)  # two hours later, synced
    fixed = redated(wrong, reading, zone=UTC)
    assert fixed is not None
    assert fixed.started_utc == "2026-11-26T16:00:00Z"
    assert fixed.ended_utc == "2026-11-26T16:05:00Z"
    assert (fixed.local_date, fixed.utc_offset) == ("2026-11-26", "+00:00")
    assert not fixed.clock_unverified and fixed.clock_repaired_from == "1970-01-01T00:02:00Z"
    assert (fixed.id, fixed.pain, fixed.active_s) == (wrong.id, 3, wrong.active_s)


def test_the_repaired_local_date_follows_the_local_zone() -> None:
    tokyo = zone("Asia/Tokyo")
    wrong = timed(dt.datetime(1970, 1, 1, tzinfo=UTC), monotonic_s=0.0, unverified=True)
    fixed = redated(wrong, ClockReading(dt.datetime(2026, 11, 26, 15, 30, tzinfo=UTC), 60.0, BOOT), zone=tokyo)
    assert fixed is not None and (fixed.local_date, fixed.utc_offset) == ("2026-11-27", "+09:00")


@pytest.mark.parametrize("case", ["other boot", "unknown boot", "reading before the session", "not flagged",
                                  "repair would land before the release"])
def test_what_cannot_be_redated_stays_as_it_is(case: str) -> None:
    wrong = timed(dt.datetime(1970, 1, 1, tzinfo=UTC), monotonic_s=100.0, unverified=True)
    reading = ClockReading(SYNCED, 500.0, BOOT)
    if case == "other boot":
        reading = ClockReading(SYNCED, 500.0, "boot-b")
    elif case == "unknown boot":
        wrong = timed(dt.datetime(1970, 1, 1, tzinfo=UTC), 100.0, boot="", unverified=True)
        reading = ClockReading(SYNCED, 500.0, "")
    elif case == "reading before the session":
        reading = ClockReading(SYNCED, 50.0, BOOT)
    elif case == "not flagged":
        wrong = timed(SYNCED - dt.timedelta(hours=1), 100.0)
    else:
        reading = ClockReading(RELEASE_DATE + dt.timedelta(days=1), 100.0 + 3 * 86400, BOOT)
    assert redated(wrong, reading) is None


def test_an_implausible_reading_repairs_nothing() -> None:
    wrong = timed(dt.datetime(1970, 1, 1, tzinfo=UTC), 100.0, unverified=True)
    assert repairs([wrong], ClockReading(dt.datetime(1971, 1, 1, tzinfo=UTC), 200.0, BOOT), None) == []
    assert repairs([wrong], ClockReading(SYNCED, 200.0, BOOT), SYNCED + dt.timedelta(days=1)) == []
    assert len(repairs([wrong], ClockReading(SYNCED, 200.0, BOOT), SYNCED)) == 1


def test_the_boot_id_is_read_from_the_kernel_or_is_empty(tmp_path: Path) -> None:
    real = read_boot_id()
    if Path("/proc/sys/kernel/random/boot_id").exists():
        assert len(real) == 36 and real.count("-") == 4
    assert read_boot_id(tmp_path / "missing") == ""


# --------------------------------------------------------------------------- the runner


def long_timeline() -> Any:
    """Ten minutes of work after the lead-in: a stop at a few minutes is still mid-session."""
    return build_timeline(make_routine([make_step(make_exercise(duration_s=600.0))]))


def run_session(wall: List[dt.datetime], clock: Clock, seconds: float, jump: Optional[dt.timedelta] = None,
                boot: str = BOOT) -> SessionRecord:
    """A session stopped after `seconds`; the wall clock jumps by `jump` half way through."""
    runner = SessionRunner(long_timeline(), clock=clock, speaker=SilentSpeaker(),
                           wall=lambda: wall[0], boot_id=boot)
    runner.start()
    for step in range(int(seconds)):
        clock.now += 1.0
        wall[0] += dt.timedelta(seconds=1)
        if jump is not None and step == int(seconds) // 2:
            wall[0] += jump
        runner.tick()
    runner.stop()
    assert runner.state is State.STOPPED
    return runner.record()


@pytest.mark.parametrize("jump", [dt.timedelta(days=-20000), dt.timedelta(hours=-1), dt.timedelta(hours=3),
                                  dt.timedelta(days=400)])
def test_a_clock_jump_during_a_session_does_not_change_its_length(jump: dt.timedelta) -> None:
    start = dt.datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    record = run_session([start], Clock(), 90, jump=jump)
    assert record.active_s == 90
    assert record.started_utc == "2026-11-26T09:00:00Z" and record.ended_utc == "2026-11-26T09:01:30Z"
    assert not record.clock_unverified


def test_the_runner_saves_the_monotonic_start_and_boot_and_flags_a_clock_before_the_release() -> None:
    clock = Clock()
    record = run_session([dt.datetime(1970, 1, 1, 0, 0, 5, tzinfo=UTC)], clock, 30)
    assert record.clock_monotonic_s == 1000.0 and record.clock_boot_id == BOOT
    assert record.clock_unverified and record.local_date == "1970-01-01"
    stored = SessionRecord.from_dict(json.loads(json.dumps(record.to_dict())))
    assert stored == record


def test_the_runner_flags_a_start_behind_the_newest_session_it_is_told_of() -> None:
    newest = dt.datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
    runner = SessionRunner(long_timeline(), clock=Clock(), speaker=SilentSpeaker(),
                           wall=lambda: newest - dt.timedelta(minutes=20), boot_id=BOOT, newest_start=newest)
    runner.start()
    runner.stop()
    assert runner.record().clock_unverified


def test_the_player_gives_the_runner_this_machines_boot_id() -> None:
    clock = Clock()

    def sleep(seconds: float) -> None:
        clock.now += seconds

    runner, _ = play_session(build_timeline(make_routine()), clock=clock, speaker=SilentSpeaker(),
                             out=io.StringIO(), sleep=sleep, wall=lambda: SYNCED)
    assert runner.record().clock_boot_id == read_boot_id()


# --------------------------------------------------------------------------- the log: a Pi's life


def test_a_pi_through_power_cuts_and_late_clocks_drops_nothing_and_counts_each_day_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    today = dt.date(2026, 11, 26)
    monday = dt.datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    with SessionLog.open(data_dir) as log:
        # Boot A, network up: Monday and Tuesday on a good clock.
        log.append(timed(monday, 10_000.0, boot="A"))
        log.append(timed(monday + dt.timedelta(days=1), 96_400.0, boot="A"))
        # Power cut; boot B at 1970 with no network: Wednesday's session is saved, flagged.
        wednesday = log.append(timed(dt.datetime(1970, 1, 1, 0, 3, tzinfo=UTC), 200.0, boot="B"))
        assert wednesday.clock_unverified
        stats = compute_stats(log.records(), dt.date(2026, 11, 25))
        assert stats.current_daily_streak == 2 and not stats.done_today
        # fake-hwclock style: still boot B, the clock now says Tuesday 08:00 (behind the newest session).
        behind = log.append(timed(monday + dt.timedelta(hours=23), 3800.0, boot="B"))
        assert behind.clock_unverified
        # NTP syncs on Wednesday 18:00 (boot B has been up 3 h): the next session dates both again.
        synced = dt.datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
        log.append(timed(synced, 10_800.0, boot="B"))
        by_id = {record.id: record for record in log.records()}
        assert by_id[wednesday.id].started_utc == "2026-11-25T15:03:20Z"
        assert by_id[behind.id].started_utc == "2026-11-25T16:03:20Z"
        assert by_id[wednesday.id].clock_repaired_from == "1970-01-01T00:03:00Z"
        # Power cut again; boot C comes up at 1970, and a session is saved; then another power cut.
        lost_boot = log.append(timed(dt.datetime(1970, 1, 1, 0, 1, tzinfo=UTC), 60.0, boot="C"))
        # Boot D, synced at once: boot C's session can never be dated, but it is still there.
        log.append(timed(dt.datetime(2026, 11, 26, 8, 0, tzinfo=UTC), 500.0, boot="D"))
        records = log.records()
    assert len(records) == 7
    assert [r.id for r in records if r.clock_unverified] == [lost_boot.id]
    stats = compute_stats(records, today)
    assert stats.current_daily_streak == 4  # Monday .. Thursday, Wednesday counted once for three sessions
    assert stats.completed_sessions == 6  # the undatable one is in the log, not in a made-up day


def test_repair_clock_dates_a_flagged_session_when_the_clock_is_trusted_and_no_earlier(tmp_path: Path) -> None:
    with SessionLog.open(tmp_path / "data") as log:
        log.append(timed(dt.datetime(2026, 11, 20, 9, 0, tzinfo=UTC), 5.0, boot="A"))
        flagged = log.append(timed(dt.datetime(1970, 1, 1, tzinfo=UTC), 100.0, boot="B"))
        assert log.repair_clock(ClockReading(dt.datetime(1970, 1, 1, 1, tzinfo=UTC), 3700.0, "B")) == []
        assert log.repair_clock(ClockReading(dt.datetime(2026, 11, 19, tzinfo=UTC), 3700.0, "B")) == []
        assert log.repair_clock(ClockReading(SYNCED, 3700.0, "other")) == []
        [fixed] = log.repair_clock(ClockReading(SYNCED, 3700.0, "B"), zone=UTC)
        assert fixed.id == flagged.id and fixed.started_utc == "2026-11-26T17:00:00Z"
        assert log.get(flagged.id) == fixed
        assert log.repair_clock(ClockReading(SYNCED, 3800.0, "B")) == []  # once only


def test_flags_and_repairs_survive_a_csv_round_trip(tmp_path: Path) -> None:
    import io

    from kiosk.sessionlog.records_csv import export_csv, import_csv

    flagged = timed(dt.datetime(1970, 1, 1, tzinfo=UTC), 100.0, unverified=True)
    repaired = redated(flagged, ClockReading(SYNCED, 200.0, BOOT), zone=UTC)
    plain = make_record(dt.date(2026, 11, 1))
    stream = io.StringIO(newline="")
    export_csv([flagged, repaired, plain], stream)  # type: ignore[list-item]
    assert import_csv(io.StringIO(stream.getvalue(), newline=""), "x.csv") == [flagged, repaired, plain]


# --------------------------------------------------------------------------- daylight saving and time zones


def at(day: str, clock: str, zone_name: str, fold: int = 0) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=zone(zone_name), fold=fold)


def session_at(started: dt.datetime) -> SessionRecord:
    return SessionRecord.create(routine="r", started=started, ended=started + dt.timedelta(minutes=5),
                                planned_s=300, active_s=300, completed=True, source="kiosk")


def test_the_spring_forward_night_neither_breaks_a_streak_nor_adds_a_day() -> None:
    records = [session_at(at("2027-03-27", "23:50", "Europe/Berlin")),   # CET
               session_at(at("2027-03-28", "03:10", "Europe/Berlin")),   # an hour after 02:00 became 03:00
               session_at(at("2027-03-29", "00:05", "Europe/Berlin"))]   # CEST, 24 h 15 min later by the clock
    assert [r.utc_offset for r in records] == ["+01:00", "+02:00", "+02:00"]
    stats = compute_stats(records, dt.date(2027, 3, 29))
    assert stats.current_daily_streak == 3 and stats.completed_sessions == 3


def test_the_repeated_hour_in_autumn_counts_its_day_once() -> None:
    first = session_at(at("2027-10-31", "02:30", "Europe/Berlin", fold=0))   # CEST
    second = session_at(at("2027-10-31", "02:30", "Europe/Berlin", fold=1))  # CET, an hour later
    assert (first.utc_offset, second.utc_offset) == ("+02:00", "+01:00")
    assert first.started_utc < second.started_utc
    stats = compute_stats([first, second], dt.date(2027, 10, 31))
    assert stats.current_daily_streak == 1 and stats.completed_sessions == 2
    assert stats.weeks[-1].days_done == 1


def test_flying_west_keeps_the_streak_that_utc_dates_would_break() -> None:
    records = [session_at(at("2026-12-01", "23:30", "Europe/Berlin")),      # 22:30 UTC on the 1st
               session_at(at("2026-12-02", "20:00", "America/New_York"))]   # 01:00 UTC on the 3rd
    assert [r.local_date for r in records] == ["2026-12-01", "2026-12-02"]
    assert compute_stats(records, dt.date(2026, 12, 2)).current_daily_streak == 2


def test_flying_east_does_not_count_a_day_twice() -> None:
    records = [session_at(at("2026-12-01", "07:00", "America/New_York")),  # 12:00 UTC
               session_at(at("2026-12-01", "22:00", "Europe/Berlin"))]     # 21:00 UTC, same local day
    stats = compute_stats(records, dt.date(2026, 12, 1))
    assert stats.current_daily_streak == 1 and stats.weeks[-1].days_done == 1


def test_a_session_across_the_spring_change_keeps_its_day_and_its_length() -> None:
    berlin = zone("Europe/Berlin")
    start = dt.datetime(2027, 3, 28, 0, 58, 30, tzinfo=UTC)  # 01:58:30 CET; at 01:00 UTC it is 03:00 CEST
    wall = [start.astimezone(berlin)]
    clock = Clock()

    def local_wall() -> dt.datetime:
        return wall[0].astimezone(berlin)

    runner = SessionRunner(long_timeline(), clock=clock, speaker=SilentSpeaker(), wall=local_wall,
                           boot_id=BOOT)
    runner.start()
    clock.now += 120
    wall[0] += dt.timedelta(seconds=120)
    runner.tick()
    runner.stop()
    record = runner.record()
    assert (record.local_date, record.utc_offset, record.active_s) == ("2027-03-28", "+01:00", 120)
    assert record.ended_utc == "2027-03-28T01:00:30Z"


# --------------------------------------------------------------------------- libfaketime on the real command line

def libfaketime() -> str:
    """The library to preload; without it these tests fail saying so, since a skip would pass unseen."""
    found = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1") + glob.glob("/usr/lib/faketime/libfaketime.so.1"))
    if not found:
        pytest.fail("libfaketime is not installed: apt-get install libfaketime (bash .ci/setup test does)")
    return found[0]


ONE_SECOND_LIBRARY = """\
exercises:
  - id: one-lift
    name: One lift
    instructions: Lift.
    caption: Lift
    duration: 1
routines:
  - id: one-second
    name: One second
    lead_in: 0
    steps:
      - one-lift
"""
"""A session that takes one real second, played at real speed: `--speed` would scale the
monotonic start saved with each session by as much as the speed times the start-up delay,
so sessions from separate runs could not be compared on a busy machine. (With no lead-in
the loader warns that the first phrase has no room; nothing is said with --no-voice.)"""

SLEEP_SHIM = "import select, time\ntime.sleep = lambda seconds: select.select([], [], [], seconds)\n"
"""libfaketime 0.9.10 with DONT_FAKE_MONOTONIC breaks Python 3.11's time.sleep (an absolute
CLOCK_MONOTONIC clock_nanosleep gets a bad deadline: wolfcw/libfaketime#426). A relative
select() is unaffected, so the faked process sleeps with that instead."""


@pytest.fixture
def cli(tmp_path: Path) -> Any:
    library = tmp_path / "library"
    library.mkdir()
    (library / "one-second.yaml").write_text(ONE_SECOND_LIBRARY, encoding="utf-8")
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(SLEEP_SHIM, encoding="utf-8")
    repo = Path(__file__).resolve().parent.parent

    def run(*argv: str, faketime: Optional[str] = None, tz: str = "UTC") -> subprocess.CompletedProcess:
        env = dict(os.environ, TZ=tz, XDG_CACHE_HOME=str(tmp_path / "cache"),
                   PYTHONPATH=os.pathsep.join(filter(None, [str(repo), os.environ.get("PYTHONPATH")])))
        if faketime is not None:
            env.update(LD_PRELOAD=libfaketime(), FAKETIME=faketime, DONT_FAKE_MONOTONIC="1",
                       PYTHONPATH=os.pathsep.join([str(shim), env["PYTHONPATH"]]))
        result = subprocess.run([sys.executable, "-m", "kiosk", "--data-dir", str(tmp_path / "data"),
                                 "--exercises", str(library), *argv], capture_output=True, text=True, env=env,
                                timeout=60)
        assert "Traceback" not in result.stderr, result.stderr
        return result

    return run


def play(cli: Any, **fake: str) -> None:
    result = cli("play", "one-second", "--no-voice", **fake)
    assert result.returncode == 0, result.stderr


def logged(cli: Any) -> List[Dict[str, Any]]:
    """The log as `kiosk log list --json` prints it (which may itself date flagged sessions)."""
    return json.loads(cli("log", "list", "--json").stdout)


def stored(tmp_path: Path) -> List[Dict[str, Any]]:
    """The log as it is on disk, read without any command that could repair it, oldest monotonic first."""
    with SessionLog.open(tmp_path / "data") as log:
        return sorted((r.to_dict() for r in log.records()), key=lambda r: r["clock_monotonic_s"])


def stats(cli: Any, today: dt.date) -> Dict[str, Any]:
    return json.loads(cli("stats", "--json", "--today", today.isoformat()).stdout)


def test_a_session_played_under_a_1999_clock_is_flagged_then_dated_by_the_next(cli: Any, tmp_path: Path) -> None:
    play(cli, faketime="@1999-12-31 23:00:00")
    [flagged] = stored(tmp_path)
    assert flagged["clock_unverified"] is True and flagged["local_date"] == "1999-12-31"
    assert flagged["started_utc"].startswith("1999-12-31T23:0")  # the fake clock ran on while Python started
    assert flagged["clock_boot_id"] == read_boot_id() and flagged["clock_monotonic_s"] > 0
    today = dt.datetime.now(UTC).date()
    assert compute_stats([SessionRecord.from_dict(flagged)], today).completed_sessions == 0

    play(cli)  # the real clock, same boot
    first, second = stored(tmp_path)
    assert first["id"] == flagged["id"] and "clock_unverified" not in first
    assert first["clock_repaired_from"] == flagged["started_utc"]
    repaired = dt.datetime.fromisoformat(first["started_utc"].replace("Z", "+00:00"))
    started_second = dt.datetime.fromisoformat(second["started_utc"].replace("Z", "+00:00"))
    gap = second["clock_monotonic_s"] - first["clock_monotonic_s"]
    assert abs((started_second - repaired).total_seconds() - gap) <= 1.0
    figures = stats(cli, started_second.date())
    assert figures["completed_sessions"] == 2 and figures["current_daily_streak"] == 1


def test_a_clock_an_hour_behind_the_newest_session_is_flagged_then_dated(cli: Any, tmp_path: Path) -> None:
    play(cli)
    play(cli, faketime="-1h")  # fake-hwclock after a power cut: plausible, but behind the log
    records = stored(tmp_path)
    assert [r.get("clock_unverified", False) for r in records] == [False, True]
    play(cli)
    records = stored(tmp_path)
    assert [r.get("clock_unverified", False) for r in records] == [False, False, False]
    starts = [r["started_utc"] for r in records]
    assert starts == sorted(starts) and records[1]["clock_repaired_from"]


def test_daylight_saving_and_a_flight_on_the_real_command_line(cli: Any) -> None:
    play(cli, faketime="@2027-03-27 22:30:00", tz="Europe/Berlin")
    play(cli, faketime="@2027-03-28 22:30:00", tz="Europe/Berlin")  # the clocks went forward in between
    play(cli, faketime="@2027-03-29 20:00:00", tz="America/New_York")  # flew west: already the 30th in UTC
    play(cli, faketime="@2027-03-29 23:00:00", tz="America/New_York")  # the same local day again
    records = logged(cli)
    assert [(r["local_date"], r["utc_offset"]) for r in records] == [
        ("2027-03-27", "+01:00"), ("2027-03-28", "+02:00"), ("2027-03-29", "-04:00"), ("2027-03-29", "-04:00")]
    assert not any(r.get("clock_unverified") for r in records)
    figures = stats(cli, dt.date(2027, 3, 29))
    assert figures["current_daily_streak"] == 3 and figures["completed_sessions"] == 4


def test_kiosk_stats_dates_a_session_saved_under_a_wrong_clock_once_the_clock_is_right(
        cli: Any, tmp_path: Path) -> None:
    play(cli, faketime="@1999-12-31 23:00:00")
    [flagged] = stored(tmp_path)
    result = cli("stats", "--json")
    assert "dated 1 session saved while the clock was wrong" in result.stderr
    figures = json.loads(result.stdout)
    assert figures["completed_sessions"] == 1 and figures["done_today"]
    [record] = logged(cli)
    assert record["clock_repaired_from"] == flagged["started_utc"] and flagged["started_utc"].startswith("1999-12-31")
