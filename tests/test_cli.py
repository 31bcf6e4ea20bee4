"""The `kiosk` command as an admin uses it: in-process for detail, as a process for the real thing."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import List, Tuple

import pytest

from kiosk import paths
from kiosk.cli import main
from kiosk.core.timeline import build_timeline

NOW = dt.datetime(2026, 11, 26, 18, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))


def run(*argv: str, now: dt.datetime = NOW) -> Tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), out=out, err=err, now=lambda: now)
    return status, out.getvalue(), err.getvalue()


def run_process(*argv: str, cwd: Path, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "kiosk", *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def user_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "mine.yaml").write_text(
        "exercises:\n"
        "  - id: marching\n    name: Seated marching\n    instructions: Sit tall and lift one knee, then the other.\n"
        "    caption: Lift the knees in turn\n    duration: 30\n    tags: [hip, seated]\n"
        "routines:\n"
        "  - id: quick\n    name: Quick one\n    steps: [marching, toe-spreads]\n", encoding="utf-8")
    return folder


def test_validate_the_shipped_library() -> None:
    status, out, _ = run("validate")
    assert status == 0
    assert out.startswith("OK: ") and "routine" in out


def test_validate_reports_each_problem_with_its_place_and_exit_1(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("exercises:\n  - id: x\n    name: X\n    instructions: Go.\n    caption: Go\n"
                      "    duraton: 10\n", encoding="utf-8")
    status, out, _ = run("validate", str(broken))
    assert status == 1
    lines = out.splitlines()
    assert any(line.startswith(f"{broken}:6:5: unknown key 'duraton'") and "did you mean 'duration'" in line
               for line in lines)
    assert lines[-1].startswith("1 error, 0 warnings in 4 files")


def test_validate_a_missing_path_is_a_user_error(tmp_path: Path) -> None:
    status, _, err = run("validate", str(tmp_path / "nope.yaml"))
    assert status == 2 and "no such file" in err


def test_list_json_shape(user_dir: Path) -> None:
    status, out, _ = run("list", "--json", "--exercises", str(user_dir))
    assert status == 0
    data = json.loads(out)
    ids = {e["id"] for e in data["exercises"]}
    assert {"toe-spreads", "marching"} <= ids
    for exercise in data["exercises"]:
        assert {"id", "name", "image", "tags"} <= set(exercise)
        assert exercise["image"] is None or Path(exercise["image"]).is_file()
    routines = {r["id"]: r for r in data["routines"]}
    assert [r["id"] for r in data["routines"] if r["default"]] == ["daily-reset"]
    assert routines["quick"]["total_s"] > 0
    assert set(routines["quick"]) >= {"id", "name", "total_s", "default"}


def test_config_exercises_dirs_and_default_routine_are_used(tmp_path: Path, user_dir: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"exercises_dirs: [{user_dir}]\ndefault_routine: quick\n", encoding="utf-8")
    status, out, err = run("--config", str(config), "plan", "--json")
    assert status == 0, err
    assert json.loads(out)["routine"] == "quick"


def test_plan_json_matches_the_timeline(shipped_library) -> None:
    status, out, _ = run("plan", "--json")
    assert status == 0
    plan = json.loads(out)
    timeline = build_timeline(shipped_library.default_routine())
    assert plan["routine"] == timeline.routine.id
    assert plan["total_s"] == timeline.total_s
    assert len(plan["segments"]) == len(timeline.segments)
    first = plan["segments"][0]
    assert set(first) >= {"kind", "exercise", "side", "set", "start_s", "end_s", "cues"}
    assert first["kind"] == "lead_in" and first["start_s"] == 0
    assert first["cues"][0]["kind"] == "announce" and first["cues"][0]["text"].startswith("Get ready")
    assert all(a["end_s"] == b["start_s"] for a, b in zip(plan["segments"], plan["segments"][1:]))


def test_plan_of_unknown_routine_is_a_clear_error() -> None:
    status, out, err = run("plan", "no-such")
    assert status == 2 and out == ""
    assert err.startswith("kiosk: error: no routine 'no-such' (known: daily-reset")


def test_plan_text_shows_times_and_cues() -> None:
    status, out, _ = run("plan")
    assert status == 0
    assert "[00:00-00:10] lead_in" in out and "Well done" in out


def test_log_add_list_and_stats(data_dir: Path) -> None:
    for day in ("2026-11-24", "2026-11-25"):
        assert run("--data-dir", str(data_dir), "log", "add", "--date", day)[0] == 0
    status, out, _ = run("log", "add", "--data-dir", str(data_dir))
    assert status == 0 and "2026-11-26" in out
    status, out, _ = run("log", "list", "--json", "--data-dir", str(data_dir))
    records = json.loads(out)
    assert [r["local_date"] for r in records] == ["2026-11-24", "2026-11-25", "2026-11-26"]
    assert all(r["completed"] and r["source"] == "backfill" and r["routine"] == "daily-reset" for r in records)
    assert records[-1]["utc_offset"] == "+01:00" and records[-1]["started_utc"] == "2026-11-26T17:30:00Z"
    status, out, _ = run("stats", "--json", "--data-dir", str(data_dir))
    stats = json.loads(out)
    assert stats["current_daily_streak"] == 3 and stats["longest_daily_streak"] == 3
    assert stats["this_week"] == {"start": "2026-11-23", "days_done": 3}
    assert stats["weeks"][-1]["days"] == [False, True, True, True, False, False, False]
    for key in ("current_weekly_streak", "longest_weekly_streak", "weekly_goal"):
        assert key in stats


def test_stats_today_option_and_week_start_from_config(data_dir: Path, tmp_path: Path) -> None:
    run("--data-dir", str(data_dir), "log", "add", "--date", "2026-11-22")
    config = tmp_path / "c.yaml"
    config.write_text("week_start: sunday\nweekly_goal: 1\n", encoding="utf-8")
    status, out, _ = run("--data-dir", str(data_dir), "--config", str(config), "stats", "--json",
                         "--today", "2026-11-28")
    stats = json.loads(out)
    assert stats["this_week"] == {"start": "2026-11-22", "days_done": 1}
    assert stats["current_weekly_streak"] == 1 and stats["weekly_goal"] == 1
    assert stats["current_daily_streak"] == 0


def test_log_add_rejects_bad_and_future_dates(data_dir: Path) -> None:
    assert run("--data-dir", str(data_dir), "log", "add", "--date", "26/11/2026")[0] == 2
    status, _, err = run("--data-dir", str(data_dir), "log", "add", "--date", "2026-11-27")
    assert status == 2 and "in the future" in err
    status, _, err = run("--data-dir", str(data_dir), "log", "add", "--routine", "nope")
    assert status == 2 and "no routine 'nope'" in err


def test_export_then_import_into_a_new_card_and_again(data_dir: Path, tmp_path: Path) -> None:
    for day in ("2026-11-20", "2026-11-21"):
        run("--data-dir", str(data_dir), "log", "add", "--date", day)
    backup = tmp_path / "backup.csv"
    assert run("--data-dir", str(data_dir), "log", "export", "--csv", "-o", str(backup))[0] == 0
    new_card = tmp_path / "new-card"
    status, out, _ = run("--data-dir", str(new_card), "log", "import", str(backup))
    assert status == 0 and "Imported 2 sessions" in out
    status, out, _ = run("--data-dir", str(new_card), "log", "import", str(backup))
    assert "Imported 0 sessions" in out and "skipped 2" in out
    _, old, _ = run("--data-dir", str(data_dir), "log", "list", "--json")
    _, new, _ = run("--data-dir", str(new_card), "log", "list", "--json")
    assert json.loads(old) == json.loads(new)


def test_export_to_stdout_is_csv(data_dir: Path) -> None:
    run("--data-dir", str(data_dir), "log", "add", "--date", "2026-11-20")
    status, out, _ = run("--data-dir", str(data_dir), "log", "export", "--csv")
    header, row = out.splitlines()
    assert header.startswith("id,routine,started_utc") and ",2026-11-20," in row


def test_import_of_a_bad_csv_names_file_and_line(tmp_path: Path, data_dir: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("hello,world\n1,2\n", encoding="utf-8")
    status, _, err = run("--data-dir", str(data_dir), "log", "import", str(bad))
    assert status == 2 and f"{bad}:1:" in err
    assert not (data_dir / "sessions.json").exists() or json.loads(run("--data-dir", str(data_dir), "log", "list", "--json")[1]) == []


def test_corrupt_log_is_reported_on_stderr_and_kept(data_dir: Path) -> None:
    run("--data-dir", str(data_dir), "log", "add", "--date", "2026-11-20")
    run("--data-dir", str(data_dir), "log", "add", "--date", "2026-11-21")
    (data_dir / "sessions.json").write_text("{not json", encoding="utf-8")
    status, out, err = run("--data-dir", str(data_dir), "stats", "--json")
    assert status == 0
    assert "damaged" in err
    assert list(data_dir.glob("sessions.json.corrupt-*"))
    assert json.loads(out)["longest_daily_streak"] == 1  # the backup held the first session


def test_schema_command_prints_the_shipped_schema() -> None:
    status, out, _ = run("schema")
    shipped = (paths.shipped_exercises_dir() / "library.schema.json").read_text(encoding="utf-8")
    assert status == 0 and out == shipped


def test_no_command_prints_help() -> None:
    status, out, _ = run()
    assert status == 0 and "validate" in out and "stats" in out


def test_log_without_action_is_a_user_error() -> None:
    status, _, err = run("log")
    assert status == 2 and "add, list, export or import" in err


# ---------------------------------------------------------------- as a real process

def test_python_dash_m_kiosk_runs_from_any_folder(tmp_path: Path) -> None:
    result = run_process("validate", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK: ")


def test_environment_selects_data_dir_and_config(tmp_path: Path) -> None:
    config = tmp_path / "env-config.yaml"
    config.write_text("weekly_goal: 2\n", encoding="utf-8")
    env = {"KIOSK_DATA_DIR": str(tmp_path / "env-data"), "KIOSK_CONFIG": str(config)}
    assert run_process("log", "add", cwd=tmp_path, env_extra=env).returncode == 0
    assert (tmp_path / "env-data" / "sessions.json").is_file()
    stats = json.loads(run_process("stats", "--json", cwd=tmp_path, env_extra=env).stdout)
    assert stats["weekly_goal"] == 2


def test_default_data_dir_is_under_xdg_data_home(tmp_path: Path, isolated_home: Path) -> None:
    assert run_process("log", "add", cwd=tmp_path).returncode == 0
    assert (isolated_home / ".local/share/home-exercise-kiosk/sessions.json").is_file()


@pytest.mark.parametrize("argv", [
    ["plan", "missing-routine"],
    ["stats", "--today", "yesterday"],
    ["log", "import", "/no/such/file.csv"],
    ["validate", "/no/such/dir"],
    ["--config", "/dev/null/x.yaml", "stats"],
])
def test_user_errors_never_show_a_traceback(argv: List[str], tmp_path: Path) -> None:
    result = run_process(*argv, "--data-dir", str(tmp_path / "d"), cwd=tmp_path)
    assert "Traceback" not in result.stderr
    assert result.returncode in (0, 2), result.stderr


def test_admin_commands_do_not_import_kivy(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from kiosk.cli import main\n"
        "for argv in (['validate'], ['list'], ['plan'], ['stats'], ['log', 'list']):\n"
        "    assert main(argv + ['--data-dir', sys.argv[1]]) == 0, argv\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('kivy', 'pyttsx3'))\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "d")], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("spoil", ['"active_s":Infinity', '"planned_s":NaN', '"active_s":1e400',
                                   '"local_date":"2026-02-30"'])
@pytest.mark.parametrize("command", [["log", "list"], ["log", "list", "--json"], ["stats"],
                                     ["log", "export", "--csv"]])
def test_no_command_crashes_on_a_record_that_parses_but_is_impossible(
        data_dir: Path, spoil: str, command: list) -> None:
    for day in ("2026-11-20", "2026-11-21", "2026-11-22"):
        run("--data-dir", str(data_dir), "log", "add", "--date", day)
    log_path = data_dir / "sessions.json"
    tables = json.loads(log_path.read_text())
    last = json.dumps(tables["_default"]["3"], separators=(",", ":"))
    field = spoil.split(":")[0]
    spoiled = re.sub(f'{field}:[^,}}]+', spoil, last)
    assert spoiled != last
    log_path.write_text(log_path.read_text().replace(last, spoiled))
    status, out, err = run("--data-dir", str(data_dir), *command)
    assert status == 0 and "Traceback" not in err
    assert "damaged" in err and "kept as" in err
    status, out, _ = run("--data-dir", str(data_dir), "log", "list", "--json")
    assert [record["local_date"] for record in json.loads(out)] == ["2026-11-20", "2026-11-21"]
