"""Settings: `config.yaml`, every key optional, a bad key never costs the others.

A wrong value is reported as `path:line:col: ...` and its default is used; the file
is read through the same safe YAML door as the library.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from . import yamldoc
from .atomic import write_atomically
from .catalog import FieldSpec, Report, check_keys, read_value
from .night import NIGHT_MODES, parse_clock
from .streaks import WEEKDAYS, parse_week_start
from .yamldoc import Mapping, Problem, Scalar, YamlError


@dataclass(frozen=True)
class Settings:
    weekly_goal: int = 5
    """Days a week with a completed session that make a good week (1-7)."""
    week_start: str = "monday"
    """First day of the week for the weekly goal and the grid."""
    default_routine: str = ""
    """Id of the one-tap routine; empty means the routine marked `default: true`."""
    exercises_dirs: Tuple[str, ...] = ()
    """Extra folders of your own exercise and routine files, loaded after the shipped ones."""
    voice: bool = True
    """Speak the guidance; off means captions and beeps only."""
    voice_id: str = ""
    """Which voice (see `kiosk voices`); empty means the system's default voice."""
    speech_rate: int = 160
    """Words per minute."""
    volume: float = 0.8
    """Loudness of voice and beeps, 0 to 1."""
    beeps: bool = True
    """Beeps in the last 3 seconds of each timed segment, and a chime at the end."""
    idle_timeout: float = 120.0
    """Seconds without a touch before the screen goes back Home (never during a session)."""
    rotation: int = 0
    """Turn the picture by 0, 90, 180 or 270 degrees (90 or 270 for a portrait screen)."""
    fullscreen: bool = True
    """Fill the screen; `kiosk run --windowed` overrides it for development."""
    night_mode: str = "off"
    """At night the idle Home screen goes dark: off, dim or blank. A tap wakes it."""
    night_start: str = "22:00"
    night_end: str = "07:00"

    @property
    def week_start_index(self) -> int:
        return parse_week_start(self.week_start)


SETTING_FIELDS: Tuple[FieldSpec, ...] = (
    FieldSpec("weekly_goal", "count", "Days a week that make a good week.", minimum=1, maximum=7, default=5),
    FieldSpec("week_start", "choice", "First day of the week.", choices=WEEKDAYS, default="monday"),
    FieldSpec("default_routine", "id", "Id of the one-tap routine (default: the one marked default: true)."),
    FieldSpec("exercises_dirs", "paths", "Folders with your own exercise and routine files."),
    FieldSpec("voice", "bool", "Speak the guidance (off: captions and beeps only).", default=True),
    FieldSpec("voice_id", "text", "Which voice, from `kiosk voices` (default: the system's)."),
    FieldSpec("speech_rate", "count", "Words per minute.", minimum=80, maximum=300, default=160),
    FieldSpec("volume", "number", "Loudness of voice and beeps, 0 to 1.", minimum=0, maximum=1, default=0.8),
    FieldSpec("beeps", "bool", "Count-down beeps and the end chime.", default=True),
    FieldSpec("idle_timeout", "seconds", "Seconds without a touch before going back Home.",
              minimum=10, maximum=3600, default=120.0),
    FieldSpec("rotation", "count", "Turn the picture: 0, 90, 180 or 270.", choices=("0", "90", "180", "270"),
              minimum=0, maximum=270, default=0),
    FieldSpec("fullscreen", "bool", "Fill the screen.", default=True),
    FieldSpec("night_mode", "choice", "At night the idle screen goes dark.", choices=NIGHT_MODES, default="off"),
    FieldSpec("night_start", "clock", "When the night starts, like 22:00.", default="22:00"),
    FieldSpec("night_end", "clock", "When the night ends, like 07:00.", default="07:00"),
)


def load_settings(path: Path) -> Tuple[Settings, Tuple[Problem, ...]]:
    """Read the settings file; a missing file is all defaults, a broken one is reported."""
    if not path.exists():
        return Settings(), ()
    problems: List[Problem] = []
    try:
        document = yamldoc.read_document(path)
    except YamlError as error:
        message = error.problem.message
        if message == "file is empty":
            return Settings(), ()
        return Settings(), (replace(error.problem, message=f"{message}; using the default settings"),)
    report = Report(str(path), problems)
    if not isinstance(document, Mapping):
        report.error(document, "the settings file must be a mapping of `key: value` lines; using the defaults")
        return Settings(), _as_warnings(problems)
    check_keys(document, SETTING_FIELDS, "the settings", report)
    values: Dict[str, Any] = {}
    for spec in SETTING_FIELDS:
        if spec.name not in document.entries:
            continue
        node = document.entries[spec.name][1]
        if spec.kind == "clock":
            text = node.raw if isinstance(node, Scalar) else ""
            try:
                values[spec.name] = parse_clock(text).strftime("%H:%M")
            except ValueError as error:
                report.error(node, f"{spec.name!r} in the settings: {error}")
            continue
        if spec.kind == "paths":
            folders = _read_paths(node, path.parent, report)
            if folders is not None:
                values[spec.name] = folders
            continue
        if isinstance(node, Scalar) and (node.value is None or node.value == ""):
            continue
        value = read_value(spec, node, "the settings", report)
        if value is not None:
            values[spec.name] = value
    return Settings(**values), _as_warnings(problems)


def _as_warnings(problems: List[Problem]) -> Tuple[Problem, ...]:
    """Settings problems never stop the kiosk: a bad key is ignored, a bad value keeps its default."""
    defaults = {spec.name: spec.default for spec in SETTING_FIELDS}
    softened = []
    for problem in sorted(problems):
        if problem.message.startswith("unknown key"):
            message = problem.message + " (ignored)"
        else:
            name = next((key for key in defaults if problem.message.startswith(repr(key))), None)
            default = defaults[name] if name else None
            shown = str(default).lower() if isinstance(default, bool) else default
            fallback = f", {shown}" if default is not None else ""
            message = problem.message + f" (using the default{fallback})"
        softened.append(replace(problem, severity="warning", message=message))
    return tuple(softened)


def _read_paths(node: yamldoc.AnyNode, base: Path, report: Report) -> Optional[Tuple[str, ...]]:
    items = node.items if isinstance(node, yamldoc.Sequence) else [node]
    folders: List[str] = []
    for item in items:
        if not isinstance(item, Scalar) or not isinstance(item.value, str) or not item.value.strip():
            report.error(item, "'exercises_dirs' must be a list of folder paths")
            return None
        folder = Path(item.value.strip()).expanduser()
        folders.append(str(folder if folder.is_absolute() else (base / folder)))
    return tuple(folders)


def save_settings(path: Path, settings: Settings) -> None:
    """Write the settings atomically (temp file, fsync, rename), keeping only non-defaults."""
    defaults = asdict(Settings())
    data = {key: (list(value) if isinstance(value, tuple) else value)
            for key, value in asdict(settings).items() if value != defaults[key]}
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "# home-exercise-kiosk settings; see README.md for every key.\n" + (yamldoc.dump(data) if data else "")
    write_atomically(path, text.encode("utf-8"))


def settings_json(settings: Settings) -> Dict[str, Any]:
    data = asdict(settings)
    data["exercises_dirs"] = list(settings.exercises_dirs)
    return data

