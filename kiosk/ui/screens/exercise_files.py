"""Exercise files: every problem of the library's files, on screen, for a kiosk with no keyboard.

`kiosk validate` prints the same problems over SSH; here each is its file's name, the line
and the message, errors first, with what did load and from which folders.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from kivy.clock import Clock
from kivy.core.text import Label as CoreLabel
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.core.catalog import Library
from kiosk.core.yamldoc import Problem
from kiosk.ui.screens.base import KioskScreen, load_kv
from kiosk.ui.widgets import ELLIPSIS, KLabel

NO_PROBLEMS = "No problems: every exercise file loaded."


@dataclass(frozen=True)
class ProblemLine:
    """One problem as the screen shows it: the file's name, its folder, the line, the message."""

    file: str
    folder: str
    line: int
    message: str
    error: bool


@dataclass(frozen=True)
class FilesReport:
    """What the Exercise files screen shows, computed once from the library."""

    problems: Tuple[ProblemLine, ...]
    folders: Tuple[str, ...]
    exercises: int
    routines: int
    files: int
    settings_problems: Tuple[ProblemLine, ...] = ()
    """The settings file's own problems: listed here too, the one place a touch-only user reads them."""

    @property
    def loaded_text(self) -> str:
        return (f"{counted(self.exercises, 'exercise')} and {counted(self.routines, 'routine')} "
                f"loaded from {counted(self.files, 'file')}.")

    @property
    def problems_text(self) -> str:
        if not self.problems:
            return NO_PROBLEMS
        errors = sum(1 for problem in self.problems if problem.error)
        warnings = len(self.problems) - errors
        parts = [counted(errors, "error")] if errors else []
        parts += [counted(warnings, "warning")] if warnings else []
        return "Problems found: " + " and ".join(parts)


def counted(count: int, thing: str) -> str:
    return f"{count} {thing}" + ("" if count == 1 else "s")


def problems_summary(problems: Sequence[Problem]) -> str:
    """"all good", "1 problem" or "3 problems": what the Settings button says."""
    return counted(len(problems), "problem") if problems else "all good"


def shown_folder(folder: Path, home: Path) -> str:
    """A folder as a person reads it: under the home folder it starts with ~."""
    try:
        inside = folder.relative_to(home)
    except ValueError:
        return str(folder)
    return "~" if inside == Path(".") else f"~/{inside}"


def shortened_paths(path: str) -> List[str]:
    """A folder's path, then shorter and shorter forms that keep its first part and its last ones.

    A folder is told apart by the end of its path: "/tmp/…/mine" says more than "/tmp/pyt…".
    """
    parts = path.split("/")
    head, rest = ("/".join(parts[:2]), parts[2:]) if path.startswith("/") else (parts[0], parts[1:])
    forms = [path]
    forms += [f"{head}/{ELLIPSIS}/" + "/".join(rest[-keep:]) for keep in range(len(rest) - 1, 0, -1)]
    if len(parts) > 1:
        forms.append(f"{ELLIPSIS}/{parts[-1]}")
    return forms


def folders_read(files: Sequence[Path]) -> Tuple[Path, ...]:
    """The folders the library's files came from, in loading order, a subfolder under its parent."""
    folders = list(dict.fromkeys(Path(os.path.abspath(path)).parent for path in files))
    return tuple(folder for folder in folders
                 if not any(other != folder and other in folder.parents for other in folders))


def files_report(library: Library, *, home: Optional[Path] = None, cwd: Optional[Path] = None,
                 settings_problems: Sequence[Problem] = ()) -> FilesReport:
    """The library's problems, errors first and then by file and line, and what loaded from where.

    A problem's path is as the loader printed it (relative to the working folder when under it);
    `cwd` and `home` make it a whole folder again, shown with ~ for the home folder."""
    home = home if home is not None else Path.home()
    cwd = cwd if cwd is not None else Path.cwd()

    def whole_path(problem: Problem) -> Path:
        return Path(os.path.normpath(cwd / problem.path))

    def line_of(problem: Problem) -> ProblemLine:
        path = whole_path(problem)
        return ProblemLine(file=path.name, folder=shown_folder(path.parent, home), line=problem.line,
                           message=problem.message, error=problem.severity != "warning")

    ordered = sorted(library.problems,
                     key=lambda p: (p.severity == "warning", str(whole_path(p)), p.line, p.col))
    return FilesReport(problems=tuple(line_of(problem) for problem in ordered),
                       folders=tuple(shown_folder(folder, home) for folder in folders_read(library.files)),
                       exercises=len(library.exercises), routines=len(library.routines),
                       files=len(library.files),
                       settings_problems=tuple(line_of(problem) for problem in settings_problems))


NOTE_HEIGHT = {"heading": 50, "good": 50, "folder": 36}
"""Heights of the notes above and below the problems, at scale 1."""
PROBLEM_HEIGHT = {False: 118, True: 176}
"""A problem's height at scale 1, landscape and portrait: a title, two or three lines of message,
and in portrait the folder on a line of its own."""


def report_rows(report: FilesReport, scale: float, portrait: bool) -> List[Dict[str, Any]]:
    """The RecycleView's data: what loaded, the problems (or that there are none), the folders."""

    def note(text: str, tone: str) -> Dict[str, Any]:
        return {"viewclass": "FilesNote", "text": text, "tone": tone, "scale": scale,
                "height": NOTE_HEIGHT[tone] * scale}

    rows = [note(report.loaded_text, "heading"), note(report.problems_text, "good" if not report.problems
                                                      else "heading")]
    def problem_row(problem: ProblemLine) -> Dict[str, Any]:
        return {"viewclass": "ProblemRow", "scale": scale, "portrait": portrait, "error": problem.error,
                "title": f"{problem.file}, line {problem.line}",
                "message": problem.message if problem.error else f"Warning: {problem.message}",
                "folder": problem.folder, "height": PROBLEM_HEIGHT[portrait] * scale}

    rows.extend(problem_row(problem) for problem in report.problems)
    if report.settings_problems:
        rows.append(note("The settings file (the default is used for each of these):", "heading"))
        rows.extend(problem_row(problem) for problem in report.settings_problems)
    rows.append(note("Folders read:", "heading"))
    rows.extend({"viewclass": "FolderNote", "path": folder, "scale": scale, "height": NOTE_HEIGHT["folder"] * scale}
                for folder in report.folders)
    return rows


class FolderLabel(KLabel):
    """A folder's path that, when too long for its box, leaves out parts from its middle."""

    path = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        self._choose = Clock.create_trigger(self._choose_form, -1)
        super().__init__(**kwargs)
        self.fbind("path", self._choose)
        self.fbind("width", self._choose)
        self.fbind("wanted_font_size", self._choose)
        self._choose()

    def _choose_form(self, *_args: Any) -> None:
        room = self.width - self.padding[0] - self.padding[2]
        measure = CoreLabel(font_size=self.wanted_font_size or self.font_size, font_name=self.font_name,
                            bold=self.bold).get_extents
        forms = shortened_paths(self.path) if self.path else [""]
        self.text = next((form for form in forms if measure(form)[0] <= room), forms[-1])


class FilesNote(KLabel):
    """A line of the list that is not a problem or a folder: what loaded, a heading."""

    scale = NumericProperty(1.0)
    tone = StringProperty("heading")


class FolderNote(FolderLabel):
    """A folder the library was read from, on a line of the list."""

    scale = NumericProperty(1.0)


class ProblemRow(BoxLayout):
    """One problem: the file's name and line, the message, and the folder in smaller print."""

    scale = NumericProperty(1.0)
    portrait = BooleanProperty(False)
    error = BooleanProperty(True)
    title = StringProperty("")
    message = StringProperty("")
    folder = StringProperty("")


class ExerciseFilesScreen(KioskScreen):
    report = ObjectProperty(None, allownone=True)
    """The FilesReport of the controller's library (which does not change while the kiosk runs)."""

    def on_controller(self, _screen: Any, controller: Any) -> None:
        self.report = files_report(controller.library, settings_problems=controller.settings_problems) \
            if controller is not None else None

    @staticmethod
    def rows(report: Optional[FilesReport], scale: float, portrait: bool) -> List[Dict[str, Any]]:
        return report_rows(report, scale, portrait) if report is not None else []


load_kv(__file__)
