from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path
from typing import Any, Dict

import pytest

from kiosk.config import RULES, SETTING_FIELDS, Settings, load_settings, save_settings


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_or_empty_file_gives_defaults(tmp_path: Path) -> None:
    assert load_settings(tmp_path / "absent.yaml") == (Settings(), ())
    assert load_settings(write(tmp_path / "c.yaml", "# nothing yet\n")) == (Settings(), ())


def test_every_setting_is_read(tmp_path: Path) -> None:
    path = write(tmp_path / "c.yaml",
                 "weekly_goal: 3\nweek_start: sunday\ndefault_routine: desk-break\n"
                 "exercises_dirs:\n  - mine\n  - /abs/other\n")
    settings, problems = load_settings(path)
    assert problems == ()
    assert settings.weekly_goal == 3
    assert settings.week_start == "sunday" and settings.week_start_index == 6
    assert settings.default_routine == "desk-break"
    assert settings.exercises_dirs == (str(tmp_path / "mine"), "/abs/other")


def test_bad_values_are_reported_with_line_and_the_rest_still_apply(tmp_path: Path) -> None:
    path = write(tmp_path / "c.yaml", "weekly_goal: nine\nweek_start: Mondey\nweekly_gaol: 4\ndefault_routine: desk-break\n")
    settings, problems = load_settings(path)
    messages = [str(p) for p in problems]
    assert messages[0].startswith(f"{path}:1:14: warning: 'weekly_goal'")
    assert any(m.startswith(f"{path}:2:13:") and "did you mean 'monday'" in m for m in messages)
    assert any(m.startswith(f"{path}:3:1:") and "did you mean 'weekly_goal'" in m for m in messages)
    assert all(p.severity == "warning" for p in problems)
    assert settings.weekly_goal == 5 and settings.week_start == "monday"
    assert settings.default_routine == "desk-break"


def test_out_of_range_goal_keeps_default(tmp_path: Path) -> None:
    settings, problems = load_settings(write(tmp_path / "c.yaml", "weekly_goal: 8\n"))
    assert settings.weekly_goal == 5
    assert str(problems[0]).startswith(f"{tmp_path / 'c.yaml'}:1:14:")


def test_broken_yaml_gives_defaults_and_says_where(tmp_path: Path) -> None:
    path = write(tmp_path / "c.yaml", "weekly_goal: 3\nweek_start: [monday\n")
    settings, problems = load_settings(path)
    assert settings == Settings()
    assert len(problems) == 1 and str(problems[0]).startswith(f"{path}:3:1: ")
    assert "using the default settings" in problems[0].message


def test_a_list_instead_of_a_mapping_is_reported(tmp_path: Path) -> None:
    settings, problems = load_settings(write(tmp_path / "c.yaml", "- weekly_goal\n"))
    assert settings == Settings() and str(problems[0]).startswith(f"{tmp_path / 'c.yaml'}:1:1:")
    assert problems[0].severity == "warning" and problems[0].message.endswith("; using the defaults")


def test_save_then_load_round_trips_and_writes_only_changes(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "config.yaml"
    chosen = Settings(weekly_goal=4, week_start="sunday", exercises_dirs=("/data/mine",))
    save_settings(path, chosen)
    assert load_settings(path) == (chosen, ())
    text = path.read_text()
    assert "default_routine" not in text and "weekly_goal: 4" in text
    assert [p.name for p in path.parent.iterdir()] == ["config.yaml"]


def test_the_field_table_covers_every_setting() -> None:
    assert [spec.name for spec in SETTING_FIELDS] == [f.name for f in fields(Settings)]


def test_voice_and_screen_settings_are_checked(tmp_path: Path) -> None:
    path = write(tmp_path / "c.yaml", "volume: 1.5\nrotation: 45\nvoice: maybe\nspeech_rate: 200\n"
                                      "idle_timeout: 30\nfullscreen: false\nrotation: 90\n")
    settings, problems = load_settings(path)
    assert [str(p) for p in problems] == [f"{path}:7:1: duplicate key 'rotation' (first at line 2); "
                                          "using the default settings"]
    path = write(tmp_path / "c.yaml", "volume: 1.5\nrotation: 45\nvoice: maybe\nspeech_rate: 200\n"
                                      "idle_timeout: 30\nfullscreen: false\nvoice_id: en-gb\n")
    settings, problems = load_settings(path)
    assert [(p.line, p.col) for p in problems] == [(1, 9), (2, 11), (3, 8)]
    assert "(using the default, true)" in problems[2].message
    assert (settings.volume, settings.rotation, settings.voice) == (0.8, 0, True)
    assert (settings.speech_rate, settings.idle_timeout, settings.fullscreen, settings.voice_id) == \
        (200, 30.0, False, "en-gb")


def test_night_schedule_settings(tmp_path: Path) -> None:
    path = write(tmp_path / "c.yaml", "night_mode: blank\nnight_start: '21:30'\nnight_end: 6:45\n")
    settings, problems = load_settings(path)
    assert problems == ()
    assert (settings.night_mode, settings.night_start, settings.night_end) == ("blank", "21:30", "06:45")
    path = write(tmp_path / "c.yaml", "night_mode: dark\nnight_start: 25:00\n")
    settings, problems = load_settings(path)
    assert [(p.line, p.col) for p in problems] == [(1, 13), (2, 14)]
    assert "did you mean" not in problems[1].message and "not a time like 22:00" in problems[1].message
    assert (settings.night_mode, settings.night_start) == ("off", "22:00")


def test_a_problem_names_its_setting_and_an_unknown_key_names_none(tmp_path: Path) -> None:
    path = write(tmp_path / "c.yaml", "weekly_goal: 9\nvolumne: 0.3\nexercises_dirs: {a: 1}\nnight_end: late\n")
    _, problems = load_settings(path)
    assert [(p.line, p.field) for p in problems] == [(1, "weekly_goal"), (2, ""), (3, "exercises_dirs"),
                                                    (4, "night_end")]
    assert problems[0].message.endswith("(using the default, 5)") and problems[1].message.endswith("(ignored)")
    assert problems[2].message.endswith("(using the default)")


@pytest.mark.parametrize("name", [name for name, rule in RULES.items() if rule.step is not None])
def test_every_value_the_screens_buttons_reach_is_one_the_file_accepts(tmp_path: Path, name: str) -> None:
    rule = RULES[name]
    assert rule.minimum is not None and rule.maximum is not None
    reached = [rule.stepped(rule.minimum, -1)]
    while reached[-1] < rule.maximum:
        reached.append(rule.stepped(reached[-1], 1))
    assert (reached[0], rule.stepped(reached[-1], 1)) == (rule.minimum, rule.maximum)
    assert getattr(Settings(), name) in reached
    for value in reached:
        chosen: Dict[str, Any] = {name: value}
        assert load_settings(write(tmp_path / "c.yaml", f"{name}: {value}\n")) == (replace(Settings(), **chosen), ())


def test_the_readmes_settings_list_is_the_defaults_with_their_bounds(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Settings")[1].split("```yaml\n")[1].split("```")[0]
    assert load_settings(write(tmp_path / "c.yaml", block)) == (Settings(), ())
    lines = {line.split(":")[0]: line for line in block.splitlines()}
    assert list(lines) == list(RULES)
    for name, rule in RULES.items():
        comment = lines[name].split("#", 1)[1]
        if rule.minimum is not None and rule.maximum is not None:
            low, high = f"{rule.minimum:g}", f"{rule.maximum:g}"
            assert f"{low}-{high}" in comment or f"{low} to {high}" in comment, name
        if rule.choices:
            assert rule.choices[0] in comment and rule.choices[-1] in comment, name
