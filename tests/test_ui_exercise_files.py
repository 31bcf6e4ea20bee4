"""Problems with the exercise files, on screen: Settings, Exercise files lists each one."""

from __future__ import annotations

from pathlib import Path
from typing import List

import pytest
from kivy_harness import Kiosk, texts

from kiosk import paths
from kiosk.config import Settings
from kiosk.core.catalog import Library, load_library
from kiosk.core.yamldoc import Problem
from kiosk.ui.screens.exercise_files import NO_PROBLEMS, files_report, problems_summary, shortened_paths
from kiosk.ui.widgets import ELLIPSIS

BROKEN = "exercises:\n  - id: x\n    name: [unclosed\n"
"""A YAML syntax error: the loader reports it at line 4, where the file ends inside the list."""
GOOD = """exercises:
  - id: my-calf-stretch
    name: My calf stretch
    instructions: Stand facing a wall. Step one foot back and press the heel down.
    caption: Press the back heel down
    duration: 30
"""


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def library_with(folder: Path, **files: str) -> Library:
    """The shipped library and a folder of one's own holding `files` (name without .yaml: text)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    return load_library([paths.shipped_exercises_dir(), folder], paths.shipped_media_dir())


def shown_text(kiosk: Kiosk) -> str:
    """Every text on show on the Exercise files screen (the list's rows on screen included)."""
    kiosk.frames(2)
    return "\n".join(texts(kiosk.screen("exercise_files")))


def go_to_exercise_files(kiosk: Kiosk) -> None:
    kiosk.tap(kiosk.widget("home", "settings_button"))
    kiosk.advance(2)
    assert kiosk.controller.screen == "settings"
    kiosk.tap(kiosk.widget("settings", "exercise_files_button"))
    kiosk.advance(2)
    assert kiosk.controller.screen == "exercise_files"


def test_a_broken_file_is_named_on_home_and_listed_with_its_line_under_settings(tmp_path: Path,
                                                                                data_dir: Path) -> None:
    library = library_with(tmp_path / "mine", broken=BROKEN, good=GOOD)
    [problem] = library.problems
    assert Path(problem.path).name == "broken.yaml"
    kiosk = Kiosk(library, data_dir)
    try:
        notice = kiosk.root.ids.notice
        assert "broken.yaml" in notice.text and "Settings, Exercise files" in notice.text
        assert "validate" not in notice.text
        assert kiosk.widget("settings", "exercise_files_button").text == "Exercise files: 1 problem"

        go_to_exercise_files(kiosk)
        shown = shown_text(kiosk)
        assert f"broken.yaml, line {problem.line}" in shown
        assert problem.message in shown
        problem_row = [row for row in kiosk.widget("exercise_files", "rows").data if row.get("title")]
        assert [row["folder"] for row in problem_row] == [str(tmp_path / "mine")]
        # the folder in smaller print, with its middle left out where it is too long for its place
        assert any(line.endswith(f"{ELLIPSIS}/mine") for line in shown.splitlines())
        assert "18 exercises and 6 routines loaded from 5 files." in shown
        assert NO_PROBLEMS not in shown

        kiosk.tap(kiosk.widget("exercise_files", "back_button"))
        assert kiosk.controller.screen == "settings"
    finally:
        kiosk.close()


def test_a_clean_library_says_there_are_no_problems(tmp_path: Path, data_dir: Path) -> None:
    kiosk = Kiosk(library_with(tmp_path / "mine", good=GOOD), data_dir)
    try:
        assert kiosk.controller.notice == ""
        assert kiosk.widget("settings", "exercise_files_button").text == "Exercise files: all good"
        go_to_exercise_files(kiosk)
        shown = shown_text(kiosk)
        assert NO_PROBLEMS in shown
        assert "line" not in shown
        folders = [row["path"] for row in kiosk.widget("exercise_files", "rows").data if "path" in row]
        assert folders == [str(paths.shipped_exercises_dir()), str(tmp_path / "mine")]
        assert str(paths.shipped_exercises_dir()) in shown
    finally:
        kiosk.close()


def test_the_exercise_files_screen_goes_home_when_left_alone(tmp_path: Path, data_dir: Path) -> None:
    kiosk = Kiosk(library_with(tmp_path / "mine", broken=BROKEN), data_dir)
    try:
        go_to_exercise_files(kiosk)
        kiosk.advance(Settings().idle_timeout - 5)
        assert kiosk.controller.screen == "exercise_files"
        kiosk.advance(10)
        assert kiosk.controller.screen == "home"
    finally:
        kiosk.close()


def test_errors_come_first_and_a_long_list_scrolls(tmp_path: Path, data_dir: Path) -> None:
    missing_picture = GOOD + "    image: pictures/nowhere.png\n"
    many_errors = "exercises:\n" + "".join(f"  - id: e{n}\n    nmae: E\n" for n in range(12))
    library = library_with(tmp_path / "mine", a_warning=missing_picture, many=many_errors)
    assert library.warnings and len(library.errors) > 12
    kiosk = Kiosk(library, data_dir)
    try:
        go_to_exercise_files(kiosk)
        rows = kiosk.widget("exercise_files", "rows")
        titles: List[str] = [row["title"] for row in rows.data if row.get("viewclass") == "ProblemRow"]
        assert len(titles) == len(library.problems)
        assert titles[-1].startswith("a_warning.yaml")  # the warning after every error
        assert all(title.startswith("many.yaml") for title in titles[:-1])
        assert "a_warning.yaml" not in shown_text(kiosk)  # below the fold, for the person to scroll to
        rows.scroll_y = 0
        assert "a_warning.yaml" in shown_text(kiosk)
    finally:
        kiosk.close()


# --------------------------------------------------------------------------- what the screen is made from

def test_the_report_names_files_not_paths_and_folders_under_home_with_a_tilde(tmp_path: Path) -> None:
    home = tmp_path / "home"
    library = Library(exercises={}, routines={}, files=(home / "mine" / "a.yaml", home / "mine" / "sub" / "b.yaml"),
                      problems=(Problem("mine/a.yaml", 3, 1, "later", "warning"),
                                Problem("mine/sub/b.yaml", 9, 2, "first"),
                                Problem(str(home / "mine" / "a.yaml"), 5, 1, "second")))
    report = files_report(library, home=home, cwd=home)
    assert [(p.file, p.folder, p.line, p.error) for p in report.problems] == [
        ("a.yaml", "~/mine", 5, True), ("b.yaml", "~/mine/sub", 9, True), ("a.yaml", "~/mine", 3, False)]
    assert report.folders == ("~/mine",)  # the subfolder is part of the folder that was read
    assert report.problems_text == "Problems found: 2 errors and 1 warning"
    assert report.loaded_text == "0 exercises and 0 routines loaded from 2 files."


def test_the_settings_button_counts_the_problems() -> None:
    assert problems_summary(()) == "all good"
    assert problems_summary((Problem("a.yaml", 1, 1, "x"),)) == "1 problem"
    assert problems_summary((Problem("a.yaml", 1, 1, "x"), Problem("a.yaml", 2, 1, "y", "warning"))) == "2 problems"


def test_a_long_folder_keeps_its_first_part_and_its_end() -> None:
    assert shortened_paths("/tmp/a/b/mine") == ["/tmp/a/b/mine", f"/tmp/{ELLIPSIS}/b/mine", f"/tmp/{ELLIPSIS}/mine",
                                                f"{ELLIPSIS}/mine"]
    assert shortened_paths("~/x/mine") == ["~/x/mine", f"~/{ELLIPSIS}/mine", f"{ELLIPSIS}/mine"]
    assert shortened_paths("exercises") == ["exercises"]


def test_the_settings_files_problems_are_listed_too(tmp_path: Path, data_dir: Path) -> None:
    from kiosk.config import load_settings

    config = tmp_path / "config.yaml"
    config.write_text("weekly_goal: [5]\nvolume: loud\n", encoding="utf-8")
    settings, problems = load_settings(config)
    assert len(problems) == 2
    kiosk = Kiosk(library_with(tmp_path / "mine", good=GOOD), data_dir, settings=settings)
    try:
        kiosk.controller.settings_problems = problems  # as `kiosk run` hands them over
        go_to_exercise_files(kiosk)
        shown = shown_text(kiosk)
        assert "The settings file" in shown
        assert "config.yaml, line 1" in shown and "config.yaml, line 2" in shown
        assert "whole number" in shown
    finally:
        kiosk.close()
