"""`kiosk remind list` and `kiosk remind test` as an admin uses them: in-process for detail,
one real process for the time zone (TZ) and a real espeak-ng render for the sound."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
import wave
from array import array
from pathlib import Path
from typing import Any, Dict, List, Tuple
from zoneinfo import ZoneInfo

import pytest
from factories import REMINDERS_EXAMPLE

from kiosk import paths
from kiosk.cli import main
from kiosk.core.model import SessionRecord
from kiosk.config import load_settings
from kiosk.core.reminders import Day, key_of
from kiosk.sessionlog.store import SessionLog

BERLIN = ZoneInfo("Europe/Berlin")
NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=BERLIN)  # a Thursday morning, after the release date
CONFIG = REMINDERS_EXAMPLE
DEFAULT_TEXT = "Time for your foot and hip exercises."
EVENING_TEXT = "Time for your five minutes of feet and hips."
NO_REMINDERS = ("No reminders are set: add them on the Settings screen (Reminders) or under `reminders:` in "
                "the settings file.\n")


def run(*argv: str, now: dt.datetime = NOW) -> Tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), out=out, err=err, now=lambda: now)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(autouse=True)
def berlin(monkeypatch: pytest.MonkeyPatch) -> None:
    """`local_zone()` reads TZ: every in-process test runs in Berlin, whatever the machine's zone."""
    monkeypatch.setenv("TZ", "Europe/Berlin")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def config(tmp_path: Path, text: str = CONFIG, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def listed(data_dir: Path, config_path: Path, now_text: str) -> List[Dict[str, Any]]:
    status, out, err = run("remind", "list", "--json", "--now", now_text, "--data-dir", str(data_dir),
                           "--config", str(config_path))
    assert (status, err) == (0, "")
    return json.loads(out)


def brief(items: List[Dict[str, Any]]) -> List[Tuple[str, bool, str]]:
    return [(item["at"], item["plays"], item["why_not"]) for item in items]


# ---------------------------------------------------------------------------- remind list


def test_list_text(tmp_path: Path, data_dir: Path) -> None:
    status, out, err = run("remind", "list", "--now", "2026-11-26T07:00", "--data-dir", str(data_dir),
                           "--config", str(config(tmp_path)))
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "Reminders over the next 7 days, from Thu 26 Nov 07:00 (Europe/Berlin):"
    assert lines[1:4] == [
        f"  Thu 26 Nov 08:30  {'plays':<24} {DEFAULT_TEXT}",
        f"  Thu 26 Nov 18:30  {'plays':<24} {EVENING_TEXT}",
        f"  Fri 27 Nov 08:30  {'plays':<24} {DEFAULT_TEXT}",
    ]
    assert len(lines) == 1 + 5 + 7  # weekdays Thu-Wed (5) and every evening (7)
    assert not any(line.startswith("  Sat") and "08:30" in line for line in lines)


def test_list_without_now_uses_the_clock(tmp_path: Path, data_dir: Path) -> None:
    status, out, _ = run("remind", "list", "--data-dir", str(data_dir), "--config", str(config(tmp_path)))
    assert status == 0
    assert out.splitlines()[0] == "Reminders over the next 7 days, from Thu 26 Nov 10:00 (Europe/Berlin):"
    assert out.splitlines()[1].startswith("  Thu 26 Nov 08:30  plays now (late)")  # missed while off: 90 min ago
    assert out.splitlines()[2].startswith("  Thu 26 Nov 18:30  plays  ")


def test_list_json(tmp_path: Path, data_dir: Path) -> None:
    items = listed(data_dir, config(tmp_path), "2026-11-26T07:00")
    assert items[0] == {"at": "2026-11-26T08:30+01:00", "time": "08:30", "days": ["mon", "tue", "wed", "thu", "fri"],
                        "message": DEFAULT_TEXT, "plays": True, "why_not": "", "late": False}
    assert items[1] == {"at": "2026-11-26T18:30+01:00", "time": "18:30",
                        "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "message": EVENING_TEXT,
                        "plays": True, "why_not": "", "late": False}
    assert len(items) == 12 and all(item["plays"] for item in items)
    assert [item["at"] for item in items] == sorted(item["at"] for item in items)


def test_now_with_an_offset_is_shown_in_local_time(tmp_path: Path, data_dir: Path) -> None:
    items = listed(data_dir, config(tmp_path), "2026-11-26T06:00+00:00")  # 07:00 in Berlin
    assert items[0]["at"] == "2026-11-26T08:30+01:00"


def test_done_today_after_log_add(tmp_path: Path, data_dir: Path) -> None:
    status, out, _ = run("log", "add", "--data-dir", str(data_dir))
    assert status == 0 and "2026-11-26" in out
    items = listed(data_dir, config(tmp_path), "2026-11-26T12:00")
    assert brief(items)[:3] == [("2026-11-26T18:30+01:00", False, "done today"),
                                ("2026-11-27T08:30+01:00", True, ""), ("2026-11-27T18:30+01:00", True, "")]
    assert all(item["plays"] for item in items[1:])
    status, out, _ = run("remind", "list", "--now", "2026-11-26T12:00", "--data-dir", str(data_dir),
                         "--config", str(config(tmp_path)))
    assert status == 0
    assert out.splitlines()[1] == f"  Thu 26 Nov 18:30  {'silent: done today':<24} {EVENING_TEXT}"


def write_day(data_dir: Path, day: Day) -> None:
    """As the app keeps today's answers (kiosk.ui.reminder_section: json.dumps of Day.to_json)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "reminders.json").write_text(json.dumps(day.to_json()), encoding="utf-8")


def test_not_today_from_the_data_folder(tmp_path: Path, data_dir: Path) -> None:
    write_day(data_dir, Day(dt.date(2026, 11, 26)).answer(dt.datetime(2026, 11, 26, 8, 31, tzinfo=BERLIN),
                                                          not_today=True))
    items = listed(data_dir, config(tmp_path), "2026-11-26T12:00")
    assert brief(items)[:2] == [("2026-11-26T18:30+01:00", False, "not today"), ("2026-11-27T08:30+01:00", True, "")]
    assert all(item["plays"] for item in items[1:])
    tomorrow = listed(data_dir, config(tmp_path), "2026-11-27T07:00")  # yesterday's file: a new day
    assert all(item["plays"] for item in tomorrow)


def test_a_played_reminder_from_the_data_folder(tmp_path: Path, data_dir: Path) -> None:
    at = dt.datetime(2026, 11, 26, 18, 30, tzinfo=BERLIN)
    evening = load_settings(config(tmp_path))[0].reminders[1]
    played = Day(dt.date(2026, 11, 26), played=((key_of(evening), "first", at.astimezone(dt.timezone.utc).isoformat()),))
    write_day(data_dir, played)
    items = listed(data_dir, config(tmp_path), "2026-11-26T18:30")
    assert brief(items)[0] == ("2026-11-26T18:30+01:00", False, "already played")


@pytest.mark.parametrize("text", ["", "{", "not json", '{"date": "2026-11-26", "played": 3}'])
def test_a_garbled_reminders_file_is_a_new_day(tmp_path: Path, data_dir: Path, text: str) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "reminders.json").write_text(text, encoding="utf-8")
    assert all(item["plays"] for item in listed(data_dir, config(tmp_path), "2026-11-26T12:00"))


def timed_session(started: dt.datetime) -> SessionRecord:
    """A session this kiosk's clock timed (so it vouches for the clock), from another boot."""
    record = SessionRecord.create(routine="daily-reset", started=started, ended=started + dt.timedelta(minutes=5),
                                  planned_s=300.0, active_s=300.0, completed=True, source="kiosk")
    return SessionRecord.from_dict(dict(record.to_dict(), clock_monotonic_s=5.0, clock_boot_id="another-boot"))


def test_an_untrusted_clock_now_before_the_newest_session(tmp_path: Path, data_dir: Path) -> None:
    with SessionLog.open(data_dir) as log:
        log.append(timed_session(dt.datetime(2026, 11, 27, 9, 0, tzinfo=BERLIN)))
    items = listed(data_dir, config(tmp_path), "2026-11-26T12:00")
    assert items and all(not item["plays"] and item["why_not"] == "clock untrusted" for item in items)
    status, out, _ = run("remind", "list", "--now", "2026-11-26T12:00", "--data-dir", str(data_dir),
                         "--config", str(config(tmp_path)))
    assert status == 0
    assert out.splitlines()[1] == f"  Thu 26 Nov 18:30  {'silent: clock untrusted':<24} {EVENING_TEXT}"
    later = listed(data_dir, config(tmp_path), "2026-11-28T07:00")  # after it: believed again
    assert later and all(item["plays"] for item in later)


def test_an_untrusted_clock_before_the_release_date(tmp_path: Path, data_dir: Path) -> None:
    items = listed(data_dir, config(tmp_path), "2020-01-01T12:00")
    assert items and all(item["why_not"] == "clock untrusted" for item in items)


def test_no_reminders_says_so_kindly(tmp_path: Path, data_dir: Path) -> None:
    status, out, err = run("remind", "list", "--data-dir", str(data_dir), "--config",
                           str(config(tmp_path, "weekly_goal: 3\n")))
    assert (status, out, err) == (0, NO_REMINDERS, "")
    status, out, err = run("remind", "list", "--data-dir", str(data_dir))  # no settings file at all
    assert (status, out, err) == (0, NO_REMINDERS, "")
    status, out, _ = run("remind", "list", "--json", "--data-dir", str(data_dir))
    assert status == 0 and json.loads(out) == []


@pytest.mark.parametrize("bad", ["tomorrow", "2026-13-01T08:00", "26.11.2026 08:00"])
def test_a_bad_now_is_one_line_and_exit_2(tmp_path: Path, data_dir: Path, bad: str) -> None:
    for json_option in ([], ["--json"]):
        status, out, err = run("remind", "list", *json_option, "--now", bad, "--data-dir", str(data_dir),
                               "--config", str(config(tmp_path)))
        assert status == 2 and out == ""
        assert err == f"kiosk: error: --now {bad!r} is not a date and time like 2026-12-02T18:00\n"


# ---------------------------------------------------------------------------- a real process, a real TZ

DST_CONFIG = 'reminders:\n  - time: "02:30"\n'


def run_process(*argv: str, tz: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, TZ=tz)
    return subprocess.run([sys.executable, "-m", "kiosk", *argv], env=env, capture_output=True, text=True,
                          timeout=60)


def test_a_daylight_saving_week_in_berlin_in_a_real_process(tmp_path: Path, data_dir: Path) -> None:
    path = config(tmp_path, DST_CONFIG)
    result = run_process("remind", "list", "--now", "2026-03-26T12:00", "--data-dir", str(data_dir),
                         "--config", str(path), tz="Europe/Berlin")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Reminders over the next 7 days, from Thu 26 Mar 12:00 (Europe/Berlin):"
    shown = [line[2:18] for line in lines[1:]]
    assert shown == ["Fri 27 Mar 02:30", "Sat 28 Mar 02:30", "Sun 29 Mar 03:00", "Mon 30 Mar 02:30",
                     "Tue 31 Mar 02:30", "Wed 01 Apr 02:30", "Thu 02 Apr 02:30"]
    # March 2026 is before this version's release date: a clock showing it is not believed
    assert all("silent: clock untrusted" in line for line in lines[1:])

    result = run_process("remind", "list", "--json", "--now", "2027-03-25T12:00", "--data-dir", str(data_dir),
                         "--config", str(path), tz="Europe/Berlin")
    assert result.returncode == 0, result.stderr
    items = json.loads(result.stdout)
    assert brief(items) == [("2027-03-26T02:30+01:00", True, ""), ("2027-03-27T02:30+01:00", True, ""),
                            ("2027-03-28T03:00+02:00", True, ""), ("2027-03-29T02:30+02:00", True, ""),
                            ("2027-03-30T02:30+02:00", True, ""), ("2027-03-31T02:30+02:00", True, ""),
                            ("2027-04-01T02:30+02:00", True, "")]
    assert all(item["time"] == "02:30" for item in items)


def test_the_zone_comes_from_tz(tmp_path: Path, data_dir: Path) -> None:
    path = config(tmp_path, 'reminders:\n  - time: "01:30"\n')
    result = run_process("remind", "list", "--json", "--now", "2026-11-01T00:00", "--data-dir", str(data_dir),
                         "--config", str(path), tz="America/New_York")
    assert result.returncode == 0, result.stderr
    items = json.loads(result.stdout)
    assert items[0]["at"] == "2026-11-01T01:30-04:00"  # the first 01:30 of the fall-back night (EDT)
    assert items[1]["at"] == "2026-11-02T01:30-05:00"


# ---------------------------------------------------------------------------- remind test: the sound


def samples(path: Path) -> Tuple[Tuple[int, int, int], array]:
    with wave.open(str(path), "rb") as source:
        params = (source.getframerate(), source.getnchannels(), source.getsampwidth())
        data = array("h", source.readframes(source.getnframes()))
    if sys.byteorder == "big":
        data.byteswap()
    return params, data


CHIME = paths.shipped_media_dir() / "sounds" / "chime.wav"


def scaled(data: array, volume: float) -> List[int]:
    return [int(value * volume) for value in data]


def render(tmp_path: Path, volume: float, voice: bool = True, name: str = "") -> Tuple[Path, str]:
    settings = CONFIG.replace("reminder_volume: 0.6", f"reminder_volume: {volume}")
    if not voice:
        settings += "voice: false\n"
    path = config(tmp_path, settings, name=f"config-{volume}-{voice}.yaml")
    target = tmp_path / (name or f"reminder-{volume}-{voice}.wav")
    status, out, err = run("remind", "test", "--to", str(target), "--config", str(path))
    assert status == 0, err
    assert out == f"Saved {target}.\n"
    assert "no speech engine" not in err and "the chime alone" not in err, err
    return target, err


def test_the_reminder_sound_is_the_chime_then_the_spoken_message(tmp_path: Path) -> None:
    target, _ = render(tmp_path, 0.6)
    params, data = samples(target)
    assert params == (22050, 1, 2)
    _, chime = samples(CHIME)
    assert list(data[:len(chime)]) == scaled(chime, 0.6)
    gap = int(0.3 * 22050)
    assert list(data[len(chime):len(chime) + gap]) == [0] * gap
    phrase = data[len(chime) + gap:]
    assert len(phrase) >= 22050  # "Time for your foot and hip exercises." takes over a second
    assert max(abs(value) for value in phrase) > 2000
    loud = sum(1 for value in phrase if abs(value) > 300)
    assert loud >= 0.2 * len(phrase)  # speech, not a click in silence


def test_the_loudness_follows_reminder_volume(tmp_path: Path) -> None:
    quiet, _ = render(tmp_path, 0.3)
    loud, _ = render(tmp_path, 0.9)
    _, soft = samples(quiet)
    _, strong = samples(loud)
    assert len(soft) == len(strong)
    assert max(abs(v) for v in strong) == pytest.approx(3 * max(abs(v) for v in soft), abs=3)
    assert max(abs(a - 3 * b) for a, b in zip(strong, soft)) <= 3  # every sample, chime and words
    _, chime = samples(CHIME)
    assert max(abs(v) for v in soft) >= max(abs(v) for v in scaled(chime, 0.3))


def test_without_the_voice_it_is_the_chime_alone(tmp_path: Path) -> None:
    target, err = render(tmp_path, 0.6, voice=False)
    params, data = samples(target)
    assert params == (22050, 1, 2)
    _, chime = samples(CHIME)
    assert list(data) == scaled(chime, 0.6)
    assert err == ""


def test_a_target_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    target = tmp_path / "no-such-folder" / "deeper" / "reminder.wav"
    blocker = tmp_path / "no-such-folder"
    blocker.write_text("a file, not a folder", encoding="utf-8")
    status, out, err = run("remind", "test", "--to", str(target), "--config",
                           str(config(tmp_path, CONFIG + "voice: false\n")))
    assert status == 2 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith(f"kiosk: error: cannot write {target}: ")
