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


def two_sessions_exported(data_dir: Path, tmp_path: Path) -> Path:
    """Two sessions back-filled into `data_dir`, exported as CSV; the file's path."""
    for day in ("2026-11-20", "2026-11-21"):
        run("--data-dir", str(data_dir), "log", "add", "--date", day)
    backup = tmp_path / "backup.csv"
    assert run("--data-dir", str(data_dir), "log", "export", "--csv", "-o", str(backup))[0] == 0
    return backup


def test_export_then_import_into_a_new_card_and_again(data_dir: Path, tmp_path: Path) -> None:
    backup = two_sessions_exported(data_dir, tmp_path)
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


# --------------------------------------------------------------------------- the plan's JSON Schema

PLAN_SCHEMA_FILE = paths.shipped_exercises_dir() / "plan.schema.json"

EVERY_KIND_LIBRARY = """\
exercises:
  - id: every-kind
    name: Every kind
    instructions: Stand tall.
    caption: Stand tall
    duration: 30
    sides: both
    switch: 5
    sets: 2
    rest: 8
    cues:
      - at: 50%
        say: Halfway there.
      - at: 5
        say: Breathe out.
  - id: counted
    name: Counted
    instructions: Lift and lower.
    caption: Lift and lower
    reps: 4
    seconds_per_rep: 4
routines:
  - id: everything
    name: Everything
    steps: [every-kind, counted]
  - id: straight-in
    name: Straight in
    lead_in: 0
    steps:
      - exercise: every-kind
        sides: none
        sets: 1
"""

SCHEMA_KEYWORDS = {"$schema", "title", "description", "$defs", "$ref", "type", "properties", "required",
                   "additionalProperties", "items", "minItems", "minimum", "minLength", "enum", "const",
                   "oneOf"}
"""The subset of JSON Schema the plan's schema uses, and all that `schema_errors` checks (jsonschema
is no dependency of the tests)."""


def schema_errors(value: object, schema: dict, root: dict, where: str = "plan") -> List[str]:
    """Every way `value` breaks `schema`, for the keywords of SCHEMA_KEYWORDS (as draft 2020-12 means them)."""
    if "$ref" in schema:
        return schema_errors(value, root["$defs"][schema["$ref"].rsplit("/", 1)[1]], root, where)
    errors: List[str] = []
    types = schema.get("type")
    if types is not None:
        kinds = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}

        def fits(kind: str) -> bool:
            if kind in ("integer", "number"):
                return not isinstance(value, bool) and isinstance(value, int if kind == "integer" else (int, float))
            return isinstance(value, kinds[kind])

        if not any(fits(kind) for kind in ([types] if isinstance(types, str) else types)):
            return [f"{where}: {value!r} is not {types}"]
    if "const" in schema and value != schema["const"]:
        errors.append(f"{where}: {value!r} is not {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{where}: {value!r} not in {schema['enum']}")
    if "oneOf" in schema:
        matching = [option for option in schema["oneOf"] if not schema_errors(value, option, root, where)]
        if len(matching) != 1:
            errors.append(f"{where}: {value!r} matches {len(matching)} of oneOf")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value < schema.get("minimum", value):
        errors.append(f"{where}: {value} is below {schema['minimum']}")
    if isinstance(value, str) and len(value) < schema.get("minLength", 0):
        errors.append(f"{where}: too short")
    if isinstance(value, dict):
        errors += [f"{where}: missing {key}" for key in schema.get("required", []) if key not in value]
        properties = schema.get("properties", {})
        for key, item in value.items():
            if key in properties:
                errors += schema_errors(item, properties[key], root, f"{where}.{key}")
            elif schema.get("additionalProperties") is False:
                errors.append(f"{where}: unknown key {key}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            errors.append(f"{where}: too few items")
        for index, item in enumerate(value):
            errors += schema_errors(item, schema.get("items", {}), root, f"{where}[{index}]")
    return errors


def keywords(schema: object) -> set:
    """Every keyword used anywhere in a schema (the names under properties are not keywords)."""
    found = set()
    if isinstance(schema, dict):
        for key, value in schema.items():
            found.add(key)
            if key in ("properties", "$defs"):
                for sub in value.values():
                    found |= keywords(sub)
            elif key in ("items", "oneOf"):
                for sub in (value if isinstance(value, list) else [value]):
                    found |= keywords(sub)
    return found


def plan_schema() -> dict:
    status, out, _ = run("schema", "--plan")
    assert status == 0
    return json.loads(out)


def consts(definition: dict) -> List[str]:
    return [option["const"] for option in definition["oneOf"]]


@pytest.fixture
def every_kind_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "every-kind"
    folder.mkdir()
    (folder / "every-kind.yaml").write_text(EVERY_KIND_LIBRARY, encoding="utf-8")
    return folder


def test_the_committed_plan_schema_is_what_schema_plan_prints() -> None:
    status, out, _ = run("schema", "--plan")
    assert status == 0
    assert PLAN_SCHEMA_FILE.read_text(encoding="utf-8") == out, \
        "run `kiosk schema --plan > exercises/plan.schema.json`"


@pytest.mark.parametrize("schema_file", [PLAN_SCHEMA_FILE, paths.shipped_exercises_dir() / "library.schema.json"])
def test_the_readme_links_to_the_committed_schema_file(schema_file: Path) -> None:
    readme = Path(__file__).resolve().parent.parent / "README.md"
    targets = re.findall(r"\]\(([^)\s]*" + re.escape(schema_file.name) + r")\)", readme.read_text(encoding="utf-8"))
    assert targets, f"the README has no link to {schema_file.name}"
    for target in targets:
        linked = readme.parent / target
        assert linked.is_file() and linked.samefile(schema_file), f"the README links to {target}, not {schema_file}"


def test_the_plan_schema_uses_only_what_the_test_checker_checks() -> None:
    schema = plan_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert keywords(schema) <= SCHEMA_KEYWORDS


def test_the_plan_schema_names_every_segment_kind_and_every_cue_kind() -> None:
    from kiosk.core.timeline import PRIORITY, SEGMENT_KINDS

    defs = plan_schema()["$defs"]
    assert consts(defs["segment"]["properties"]["kind"]) == list(SEGMENT_KINDS)
    assert sorted(consts(defs["cue"]["properties"]["kind"])) == sorted(PRIORITY)
    for definition in (defs["segment"]["properties"]["kind"], defs["cue"]["properties"]["kind"]):
        assert all(option["description"] for option in definition["oneOf"])


def test_plan_json_of_every_routine_satisfies_the_plan_schema_and_uses_all_of_it(
        shipped_library, every_kind_dir: Path) -> None:
    schema = plan_schema()
    plans = []
    for routine_id in sorted(shipped_library.routines):
        status, out, err = run("plan", routine_id, "--json")
        assert status == 0, err
        plans.append(json.loads(out))
    for routine_id in ("everything", "straight-in"):
        status, out, err = run("--exercises", str(every_kind_dir), "plan", routine_id, "--json")
        assert status == 0, err
        plans.append(json.loads(out))
    for plan in plans:
        assert schema_errors(plan, schema, schema, plan["routine"]) == []
        segments = plan["segments"]
        assert segments[0]["start_s"] == 0 and segments[-1]["end_s"] == plan["total_s"]
        assert all(a["end_s"] == b["start_s"] for a, b in zip(segments, segments[1:]))
        for segment in segments:
            for cue in segment["cues"]:
                assert segment["start_s"] <= cue["at_s"] < segment["end_s"] or \
                    (cue["kind"] == "done" and cue["at_s"] == plan["total_s"] == segment["end_s"])
    defs = schema["$defs"]
    assert {s["kind"] for plan in plans for s in plan["segments"]} == set(consts(defs["segment"]["properties"]["kind"]))
    assert {c["kind"] for plan in plans for s in plan["segments"] for c in s["cues"]} == \
        set(consts(defs["cue"]["properties"]["kind"]))


def test_plan_json_sides_sets_and_steps_are_as_the_readme_says(every_kind_dir: Path) -> None:
    status, out, _ = run("--exercises", str(every_kind_dir), "plan", "everything", "--json")
    assert status == 0
    segments = json.loads(out)["segments"]
    first_step = [(s["kind"], s["side"], s["set"], s["sets"]) for s in segments if s["step"] == 1]
    assert first_step == [
        ("lead_in", "right", 1, 2),
        ("work", "right", 1, 2), ("set_rest", "right", 2, 2), ("work", "right", 2, 2),
        ("switch", "left", 1, 2),
        ("work", "left", 1, 2), ("set_rest", "left", 2, 2), ("work", "left", 2, 2),
    ]
    second_step = [(s["kind"], s["exercise"], s["side"]) for s in segments if s["step"] == 2]
    assert second_step == [("rest", "counted", None), ("work", "counted", None)]
    assert [c["text"] for c in segments[-1]["cues"] if c["kind"] == "rep"] == ["2", "3", "4"]
    status, out, _ = run("--exercises", str(every_kind_dir), "plan", "straight-in", "--json")
    segments = json.loads(out)["segments"]
    assert [(s["kind"], s["side"], s["set"]) for s in segments] == [("work", None, 1)]
    assert segments[0]["cues"][0]["kind"] == "announce" and segments[0]["cues"][0]["at_s"] == 0


@pytest.mark.parametrize("spoil, problem", [
    (lambda plan: plan["segments"][0].update(kind="warm_up"), "matches 0 of oneOf"),
    (lambda plan: plan["segments"][0].update(side="both"), "not in"),
    (lambda plan: plan["segments"][0].pop("side"), "missing side"),
    (lambda plan: plan["segments"][0].update(set=0), "below 1"),
    (lambda plan: plan["segments"][0]["cues"][0].update(kind="shout"), "matches 0 of oneOf"),
    (lambda plan: plan["segments"][0]["cues"][0].update(at_s=-1), "below 0"),
    (lambda plan: plan.update(extra=1), "unknown key extra"),
    (lambda plan: plan.update(segments=[]), "too few items"),
])
def test_the_checker_catches_a_plan_that_breaks_the_schema(spoil, problem: str) -> None:
    schema = plan_schema()
    plan = json.loads(run("plan", "--json")[1])
    assert schema_errors(plan, schema, schema) == []
    spoil(plan)
    assert any(problem in error for error in schema_errors(plan, schema, schema))


# --------------------------------------------------------------------------- import --skip-bad

def mixed_csv(tmp_path: Path) -> Tuple[Path, List[str], List[str]]:
    """A CSV of three good rows and four bad ones of different kinds; its good ids and its bad-row lines."""
    from factories import numbered_record

    from kiosk.sessionlog.records_csv import CSV_FIELDS, export_csv

    stream = io.StringIO(newline="")
    export_csv([numbered_record(n) for n in (1, 2, 3)], stream)
    header, good_1, good_2, good_3 = stream.getvalue().splitlines()

    def spoiled(row: str, **changes: str) -> str:
        cells = row.split(",")
        for name, value in changes.items():
            cells[CSV_FIELDS.index(name)] = value
        return ",".join(cells)

    path = tmp_path / "mixed.csv"
    lines = [header, good_1,
             spoiled(good_1, id="bad-number", planned_s="ten"),
             good_2,
             spoiled(good_1, id="bad-short").rsplit(",", 1)[0],
             '"a"b,' + good_1.split(",", 1)[1],
             good_3,
             spoiled(good_1, id="bad-pain", pain="11")]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    bad_rows = [f"{path}:3: column planned_s: 'ten' is not a number",
                f"{path}:5: expected 13 fields, found 12",
                f"{path}:6: not readable as CSV (',' expected after '\"')",
                f"{path}:8: column pain: '11' is not a pain score from 0 to 10"]
    return path, ["session-00001", "session-00002", "session-00003"], bad_rows


def logged_ids(data_dir: Path) -> List[str]:
    status, out, _ = run("--data-dir", str(data_dir), "log", "list", "--json")
    assert status == 0
    return [record["id"] for record in json.loads(out)]


def test_import_with_a_bad_row_imports_nothing_names_every_bad_row_and_exits_2(
        tmp_path: Path, data_dir: Path) -> None:
    path, _, bad_rows = mixed_csv(tmp_path)
    status, out, err = run("--data-dir", str(data_dir), "log", "import", str(path))
    assert status == 2 and out == ""
    assert err.splitlines() == bad_rows + [
        f"kiosk: error: 4 bad rows in {path}; nothing was imported (--skip-bad imports the other 3 rows)"]
    assert logged_ids(data_dir) == []


def test_import_skip_bad_imports_the_good_rows_once_names_the_bad_ones_and_exits_3(
        tmp_path: Path, data_dir: Path) -> None:
    path, good_ids, bad_rows = mixed_csv(tmp_path)
    status, out, err = run("--data-dir", str(data_dir), "log", "import", str(path), "--skip-bad")
    assert status == 3
    assert err.splitlines() == bad_rows
    assert out == f"Imported 3 sessions from {path}; skipped 0 already in the log; left out 4 bad rows.\n"
    assert sorted(logged_ids(data_dir)) == good_ids
    status, out, err = run("--data-dir", str(data_dir), "log", "import", str(path), "--skip-bad")
    assert status == 3 and err.splitlines() == bad_rows
    assert out == f"Imported 0 sessions from {path}; skipped 3 already in the log; left out 4 bad rows.\n"
    assert sorted(logged_ids(data_dir)) == good_ids


def test_import_skip_bad_of_a_clean_file_exits_0_and_of_a_bad_header_imports_nothing(
        tmp_path: Path, data_dir: Path) -> None:
    path, good_ids, _ = mixed_csv(tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines()
    clean = tmp_path / "clean.csv"
    clean.write_text("\n".join(lines[i] for i in (0, 1, 3, 6)) + "\n", encoding="utf-8")
    status, out, err = run("--data-dir", str(data_dir), "log", "import", str(clean), "--skip-bad")
    assert status == 0 and err == ""
    assert out == f"Imported 3 sessions from {clean}; skipped 0 already in the log.\n"
    headless = tmp_path / "headless.csv"
    headless.write_text("\n".join(lines[1:]) + "\n", encoding="utf-8")
    status, out, err = run("--data-dir", str(data_dir), "log", "import", str(headless), "--skip-bad")
    assert status == 2 and out == "" and err.startswith(f"kiosk: error: {headless}:1: the header lacks column")
    assert sorted(logged_ids(data_dir)) == good_ids


def test_import_of_only_bad_rows_says_no_row_is_good(tmp_path: Path, data_dir: Path) -> None:
    path, _, bad_rows = mixed_csv(tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines()
    only_bad = tmp_path / "only-bad.csv"
    only_bad.write_text("\n".join([lines[0], lines[2]]) + "\n", encoding="utf-8")
    status, _, err = run("--data-dir", str(data_dir), "log", "import", str(only_bad))
    assert status == 2
    assert err.splitlines() == [f"{only_bad}:2: column planned_s: 'ten' is not a number",
                                f"kiosk: error: 1 bad row in {only_bad}; nothing was imported (no row is good)"]


def test_import_skip_bad_reads_on_after_a_quote_never_closed(tmp_path: Path, data_dir: Path) -> None:
    """The rows after a quote that is never closed are rows of their own, not part of the bad one."""
    path, good_ids, _ = mixed_csv(tmp_path)
    header, good_1, _, good_2, _, _, good_3, _ = path.read_text(encoding="utf-8").splitlines()
    runaway = tmp_path / "runaway.csv"
    runaway.write_text("\n".join([header, good_1, '"never closed,' + good_1.split(",", 1)[1], good_2, good_3])
                       + "\n", encoding="utf-8")
    status, out, err = run("--data-dir", str(data_dir), "log", "import", str(runaway))
    assert status == 2 and out == ""
    assert err.splitlines() == [
        f"{runaway}:3: not readable as CSV (a quote is never closed)",
        f"kiosk: error: 1 bad row in {runaway}; nothing was imported (--skip-bad imports the other 3 rows)"]
    assert logged_ids(data_dir) == []
    status, out, err = run("--data-dir", str(data_dir), "log", "import", str(runaway), "--skip-bad")
    assert status == 3
    assert err.splitlines() == [f"{runaway}:3: not readable as CSV (a quote is never closed)"]
    assert out == f"Imported 3 sessions from {runaway}; skipped 0 already in the log; left out 1 bad row.\n"
    assert sorted(logged_ids(data_dir)) == good_ids


def test_import_skip_bad_of_a_quote_never_closed_in_the_last_row_imports_the_rows_before_it(
        tmp_path: Path, data_dir: Path) -> None:
    path, good_ids, _ = mixed_csv(tmp_path)
    header, good_1 = path.read_text(encoding="utf-8").splitlines()[:2]
    last = tmp_path / "last.csv"
    last.write_text("\n".join([header, good_1, '"never closed,' + good_1.split(",", 1)[1]]) + "\n",
                    encoding="utf-8")
    status, out, err = run("--data-dir", str(data_dir), "log", "import", str(last), "--skip-bad")
    assert status == 3
    assert err.splitlines() == [f"{last}:3: not readable as CSV (a quote is never closed)"]
    assert out == f"Imported 1 session from {last}; skipped 0 already in the log; left out 1 bad row.\n"
    assert logged_ids(data_dir) == good_ids[:1]


def test_import_accepts_the_byte_order_mark_a_spreadsheet_saves(tmp_path: Path, data_dir: Path) -> None:
    backup = two_sessions_exported(data_dir, tmp_path)
    with_bom = tmp_path / "from-a-spreadsheet.csv"
    with_bom.write_bytes(b"\xef\xbb\xbf" + backup.read_bytes())
    new_card = tmp_path / "new-card"
    status, out, err = run("--data-dir", str(new_card), "log", "import", str(with_bom))
    assert (status, err) == (0, "")
    assert out == f"Imported 2 sessions from {with_bom}; skipped 0 already in the log.\n"
    _, old, _ = run("--data-dir", str(data_dir), "log", "list", "--json")
    _, new, _ = run("--data-dir", str(new_card), "log", "list", "--json")
    assert json.loads(new) == json.loads(old) and len(json.loads(new)) == 2


# --------------------------------------------------------------------------- play --speed

def test_a_sped_up_play_is_recorded_as_a_real_session_of_the_routine_length(
        tmp_path: Path, data_dir: Path) -> None:
    """What the README says of `kiosk play --speed`: it counts, so try routines in a scratch --data-dir."""
    from voice_fakes import write_tiny_library

    library = write_tiny_library(tmp_path / "library")
    status, out, err = run("--data-dir", str(data_dir), "--exercises", str(library),
                           "play", "tiny", "--no-voice", "--speed", "40")
    assert status == 0, err
    assert "Well done: Tiny recorded" in out
    status, listing, _ = run("--data-dir", str(data_dir), "log", "list", "--json")
    [record] = json.loads(listing)
    total = json.loads(run("--exercises", str(library), "plan", "tiny", "--json")[1])["total_s"]
    assert (record["completed"], record["source"], record["local_date"]) == (True, "cli", "2026-11-26")
    assert record["planned_s"] == total and record["active_s"] == pytest.approx(total, abs=0.5)
    started, ended = (dt.datetime.fromisoformat(record[key].replace("Z", "+00:00"))
                      for key in ("started_utc", "ended_utc"))
    assert (ended - started).total_seconds() == pytest.approx(total, abs=1)
    status, stats, _ = run("--data-dir", str(data_dir), "stats", "--json")
    assert json.loads(stats)["done_today"] is True
