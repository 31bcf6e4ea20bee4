"""`reminders:` and `reminder_volume` in config.yaml: a wrong entry costs only itself."""

from __future__ import annotations

from pathlib import Path
from typing import List, Tuple

import pytest
from factories import REMINDERS_EXAMPLE

from kiosk.config import Settings, load_settings, save_settings
from kiosk.core.reminders import WEEKDAY_KEYS, Reminder
from kiosk.core.yamldoc import Problem

ISSUE_EXAMPLE = REMINDERS_EXAMPLE

GOOD_BEFORE = '  - time: "07:00"\n'
GOOD_AFTER = '  - time: "21:15"\n    days: [sat, sun]\n    message: Evening stretch.\n'
GOOD = (Reminder("07:00"), Reminder("21:15", ("sat", "sun"), "Evening stretch."))


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, text: str) -> Tuple[Settings, List[Problem]]:
    settings, problems = load_settings(write(tmp_path / "config.yaml", text))
    return settings, list(problems)


def test_the_issue_example_loads_exactly(tmp_path: Path) -> None:
    settings, problems = load(tmp_path, ISSUE_EXAMPLE)
    assert problems == []
    assert settings.reminders == (
        Reminder("08:30", ("mon", "tue", "wed", "thu", "fri"), ""),
        Reminder("18:30", WEEKDAY_KEYS, "Time for your five minutes of feet and hips."))
    assert settings.reminder_volume == 0.6
    assert settings.reminders[0].days_text() == "weekdays" and settings.reminders[1].days_text() == "every day"


def test_the_defaults() -> None:
    assert Settings().reminders == () and Settings().reminder_volume == 0.6


@pytest.mark.parametrize("entry, line, col, message", [
    ('  - time: "25:00"\n', 3, 11, "'time' in reminder 2: '25:00' is not a time like 22:00"),
    ('  - time: "8.30"\n', 3, 11, "'time' in reminder 2: '8.30' is not a time like 22:00"),
    ("  - time:\n    days: [mon]\n", 3, 10, "'time' in reminder 2"),
    ("  - days: [mon]\n", 3, 5, "reminder 2 has no 'time'"),
    ("  - message: Hello.\n", 3, 5, "reminder 2 has no 'time'"),
    ('  - time: "09:00"\n    colour: red\n', 4, 5, "unknown key 'colour' in reminder 2"),
    ('  - time: "09:00"\n    day: [mon]\n', 4, 5, "unknown key 'day' in reminder 2"),
    ('  - time: "09:00"\n    days: [mon, funday]\n', 4, 11, "'days' in reminder 2: 'funday' is not a day"),
    ('  - time: "09:00"\n    days: mon\n', 4, 11, "'days' in reminder 2 must be a list of days"),
    ('  - "09:00"\n', 3, 5, "reminder 2 must be a mapping"),
    ("  - [time, \"09:00\"]\n", 3, 5, "reminder 2 must be a mapping"),
    ("  -\n", 3, 4, "reminder 2 must be a mapping"),
    ('  - time: "09:00"\n    message: ""\n', 4, 14, "'message' in reminder 2 must be text"),
    ('  - time: "09:00"\n    message: "   "\n', 4, 14, "'message' in reminder 2 must be text"),
    ('  - time: "09:00"\n    message:\n', 4, 13, "'message' in reminder 2 must be text"),
    ('  - time: "09:00"\n    message: [a, b]\n', 4, 14, "'message' in reminder 2 must be text"),
])
def test_a_wrong_entry_is_reported_where_it_is_and_left_out(tmp_path: Path, entry: str, line: int, col: int,
                                                            message: str) -> None:
    path = tmp_path / "config.yaml"
    settings, problems = load(tmp_path, "reminders:\n" + GOOD_BEFORE + entry + GOOD_AFTER + "reminder_volume: 0.4\n")
    assert settings.reminders == GOOD
    assert settings.reminder_volume == 0.4
    assert len(problems) == 1, problems
    text = str(problems[0])
    assert text.startswith(f"{path}:{line}:{col}: warning: {message}"), text
    assert text.endswith(" (left out)") and "using the default" not in text
    assert problems[0].severity == "warning" and problems[0].field == "reminders"


def test_every_wrong_entry_is_reported_and_the_rest_apply(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    settings, problems = load(tmp_path, (
        "reminders:\n"
        '  - time: "25:00"\n'          # 2
        '  - time: "08:30"\n'          # 3: kept
        "  - days: [mon]\n"            # 4
        '  - time: "09:00"\n'          # 5
        "    colour: red\n"            # 6
        '  - time: "10:00"\n'          # 7
        "    days: [mon, funday]\n"    # 8
        "  - just text\n"              # 9
        '  - time: "11:00"\n'          # 10
        '    message: ""\n'            # 11
        '  - time: "12:00"\n'          # 12: kept
        "    days: [Monday, TUE]\n"))  # 13
    assert settings.reminders == (Reminder("08:30"), Reminder("12:00", ("mon", "tue")))
    assert [(p.line, p.col) for p in problems] == [(2, 11), (4, 5), (6, 5), (8, 11), (9, 5), (11, 14)]
    assert all(str(p).startswith(f"{path}:{p.line}:{p.col}: warning: ") and str(p).endswith(" (left out)")
               for p in problems)
    assert [f"reminder {n}" in p.message for n, p in zip((1, 3, 4, 5, 6, 7), problems)] == [True] * 6


def nine(first_bad: bool = False) -> str:
    lines = ["reminders:"]
    for number in range(9):
        time = "99:00" if first_bad and number == 0 else f"{number + 1:02d}:00"
        lines.append(f'  - time: "{time}"')
    return "\n".join(lines) + "\n"


def test_more_than_eight_the_ninth_is_reported_and_eight_kept(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    settings, problems = load(tmp_path, nine())
    assert settings.reminders == tuple(Reminder(f"{number:02d}:00") for number in range(1, 9))
    assert [str(p) for p in problems] == [
        f"{path}:10:5: warning: at most 8 reminders: reminder 9 and any after it (left out)"]


def test_a_wrong_entry_does_not_count_towards_the_eight(tmp_path: Path) -> None:
    settings, problems = load(tmp_path, nine(first_bad=True))
    assert settings.reminders == tuple(Reminder(f"{number:02d}:00") for number in range(2, 10))
    assert len(problems) == 1 and problems[0].line == 2 and "'99:00' is not a time" in problems[0].message


@pytest.mark.parametrize("text, line, col", [
    ('reminders: "08:30"\n', 1, 12),
    ('reminders:\n  time: "08:30"\n', 2, 3),
    ("reminders: 3\n", 1, 12),
])
def test_reminders_that_are_not_a_list_are_a_warning_and_none_apply(tmp_path: Path, text: str, line: int,
                                                                     col: int) -> None:
    path = tmp_path / "config.yaml"
    settings, problems = load(tmp_path, text + "weekly_goal: 4\n")
    assert settings.reminders == () and settings.weekly_goal == 4
    assert len(problems) == 1 and problems[0].severity == "warning"
    assert str(problems[0]).startswith(f"{path}:{line}:{col}: warning: 'reminders' must be a list")


@pytest.mark.parametrize("text", ["reminders:\n", "reminders: []\n"])
def test_no_reminders(tmp_path: Path, text: str) -> None:
    settings, problems = load(tmp_path, text)
    assert settings.reminders == () and problems == []


@pytest.mark.parametrize("written, read", [
    ("8:30", "08:30"),     # YAML 1.1 reads 8:30 as the number 510 (sexagesimal): still half past eight
    ("18:30", "18:30"),    # the number 1110
    ("08:30", "08:30"),
    ('"8:30"', "08:30"),
    ("'07:05'", "07:05"),
    ("0:00", "00:00"),
    ("23:59", "23:59"),
])
def test_an_unquoted_time_reads_as_the_time_written(tmp_path: Path, written: str, read: str) -> None:
    settings, problems = load(tmp_path, f"reminders:\n  - time: {written}\n")
    assert problems == []
    assert settings.reminders == (Reminder(read),)


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    settings = Settings(reminders=(
        Reminder("08:30", ("mon", "tue", "wed", "thu", "fri")),
        Reminder("18:30", WEEKDAY_KEYS, "Time for your five minutes of feet and hips."),
        Reminder("07:05", ("sat", "sun"), 'Say "hips": now # not a comment'),
        Reminder("00:00"),
    ), reminder_volume=0.3)
    save_settings(path, settings)
    text = path.read_text(encoding="utf-8")
    loaded, problems = load_settings(path)
    assert problems == ()
    assert loaded == settings
    assert text.count("days:") == 2  # the every-day reminders leave the days out
    assert "Time for your five minutes of feet and hips." in text
    assert "reminder_volume: 0.3" in text


def test_an_every_day_reminder_is_saved_without_days(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    save_settings(path, Settings(reminders=(Reminder("18:30", WEEKDAY_KEYS, "Hips."),)))
    text = path.read_text(encoding="utf-8")
    assert "days" not in text and "Hips." in text and "reminder_volume" not in text
    assert load_settings(path)[0].reminders == (Reminder("18:30", WEEKDAY_KEYS, "Hips."),)


def test_a_reminder_with_no_day_survives_save_and_load(tmp_path: Path) -> None:
    """The Reminders screen can untick every day of a reminder (`toggle_reminder_day`; the card
    then says "no day"); the settings file it saves must load back to the same reminders, not
    report the reminder as wrong and drop it."""
    path = tmp_path / "config.yaml"
    settings = Settings(reminders=(Reminder("08:30", ()), Reminder("18:30")))
    assert settings.reminders[0].days_text() == "no day"
    save_settings(path, settings)
    loaded, problems = load_settings(path)
    assert [str(problem) for problem in problems] == []
    assert loaded.reminders == settings.reminders


@pytest.mark.parametrize("message", ["yes", "42", "null", "- list? [a]: {b}", "Zeit für Füße", "It's 08:30 # now"])
def test_a_message_that_looks_like_something_else_survives_save_and_load(tmp_path: Path, message: str) -> None:
    path = tmp_path / "config.yaml"
    settings = Settings(reminders=(Reminder("12:30", WEEKDAY_KEYS, message),))
    save_settings(path, settings)
    assert load_settings(path) == (settings, ())


def test_saving_the_defaults_writes_no_reminders(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    save_settings(path, Settings())
    assert "reminder" not in path.read_text(encoding="utf-8")


def test_the_issue_example_survives_a_save(tmp_path: Path) -> None:
    settings, _ = load(tmp_path, ISSUE_EXAMPLE)
    again = tmp_path / "again" / "config.yaml"
    save_settings(again, settings)
    assert load_settings(again) == (settings, ())


@pytest.mark.parametrize("written, volume", [("0", 0.0), ("0.0", 0.0), ("1", 1.0), ("1.0", 1.0), ("0.3", 0.3),
                                             ("0.9", 0.9)])
def test_reminder_volume_within_bounds(tmp_path: Path, written: str, volume: float) -> None:
    settings, problems = load(tmp_path, f"reminder_volume: {written}\n")
    assert problems == [] and settings.reminder_volume == volume


@pytest.mark.parametrize("written, says", [
    ("1.5", "the most allowed is 1"), ("-0.1", "must be at least 0"), ("loud", "must be a number"),
    ("[0.5]", ""), ("true", ""),
])
def test_reminder_volume_out_of_bounds_keeps_the_default(tmp_path: Path, written: str, says: str) -> None:
    path = tmp_path / "config.yaml"
    settings, problems = load(tmp_path, f"reminder_volume: {written}\nweekly_goal: 4\n")
    assert settings.reminder_volume == 0.6 and settings.weekly_goal == 4
    assert len(problems) == 1
    text = str(problems[0])
    assert text.startswith(f"{path}:1:18: warning: 'reminder_volume'") and says in text
    assert text.endswith("(using the default, 0.6)")
