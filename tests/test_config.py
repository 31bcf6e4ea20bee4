from __future__ import annotations

from pathlib import Path

from kiosk.config import SETTING_FIELDS, Settings, load_settings, save_settings
from dataclasses import fields


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
