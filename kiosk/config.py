"""Settings: `config.yaml`, every key optional, a bad key never costs the others.

A wrong value is reported as `path:line:col: ...` and its default is used; the file
is read through the same safe YAML door as the library.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, TypeVar

from kiosk.core import yamldoc
from kiosk.core.catalog import FieldSpec, Report, check_keys, read_value
from kiosk.core.night import NIGHT_MODES, parse_clock
from kiosk.core.reminders import MAX_REMINDERS, WEEKDAY_KEYS, Reminder, parse_days
from kiosk.core.streaks import DAYS_PER_WEEK, DEFAULT_WEEKLY_GOAL, WEEKDAYS, parse_week_start
from kiosk.core.yamldoc import Mapping, Problem, Scalar, YamlError
from kiosk.sessionlog.atomic import write_atomically


@dataclass(frozen=True)
class Rule:
    """What one setting may hold, beyond its type and default (which its `Settings` field gives)."""

    kind: str
    """How the file is read: a `FieldSpec` kind, or `clock` / `paths`, which this module reads."""
    description: str
    minimum: Optional[float] = None
    maximum: Optional[float] = None
    choices: Tuple[str, ...] = ()
    step: Optional[float] = None
    """How far the Settings screen's - and + buttons move it; None: the screen has no such buttons."""
    reloads: str = ""
    """What the running app rebuilds when it changes: `speaker`, `stats`, `library`, `phrases`
    (renders what the voice will say) or nothing."""

    def stepped(self, value: float, direction: int) -> float:
        """One press of - (direction -1) or +: a step towards the bound, never past it."""
        if self.step is None or self.minimum is None or self.maximum is None:
            raise ValueError(f"a {self.kind} setting without a step and bounds has no - and + buttons")
        moved = min(self.maximum, max(self.minimum, value + direction * self.step))
        return int(moved) if self.kind == "count" else round(moved, 2)


T = TypeVar("T")


def _setting(default: T, kind: str, description: str, **rule: Any) -> T:
    """A `Settings` field whose type checkers see its default, and whose rule rides in its metadata."""
    return field(default=default, metadata={"rule": Rule(kind, description, **rule)})


@dataclass(frozen=True)
class MqttSettings:
    """The `mqtt:` section: Home Assistant and the household's shared log. Off without a host."""

    host: str = ""
    port: int = 1883
    username: str = ""
    password_file: str = ""
    """A file holding the password (the password itself never goes in config.yaml)."""
    tls: bool = False
    ca_file: str = ""
    """The broker's CA certificate; empty with `tls: true` means the system's CAs."""
    cert_file: str = ""
    key_file: str = ""
    client_id: str = ""
    """Empty: made from the machine (host name and machine id), so two Pis never share one."""
    discovery_prefix: str = "homeassistant"
    base_topic: str = "home-exercise-kiosk"
    display_name: str = ""
    """This screen's name in Home Assistant and on Streaks ("Living room"); empty: the host name."""

    @property
    def enabled(self) -> bool:
        return bool(self.host)

    def __str__(self) -> str:
        return f"{self.host}:{self.port}" if self.enabled else "off"


MQTT_FIELDS: Tuple[FieldSpec, ...] = (
    FieldSpec("host", "text", "The broker's host name or address; without it MQTT is off."),
    FieldSpec("port", "count", "The broker's port (1883, or 8883 with TLS).", minimum=1, maximum=65535,
              default=1883),
    FieldSpec("username", "text", "The user name the broker knows this screen by."),
    FieldSpec("password_file", "text", "A file holding the password, relative to config.yaml."),
    FieldSpec("tls", "bool", "Connect with TLS.", default=False),
    FieldSpec("ca_file", "text", "The broker's CA certificate (TLS); empty: the system's."),
    FieldSpec("cert_file", "text", "A client certificate (TLS), with key_file."),
    FieldSpec("key_file", "text", "The client certificate's key."),
    FieldSpec("client_id", "text", "The MQTT client id; empty: made from the machine."),
    FieldSpec("discovery_prefix", "text", "Home Assistant's discovery prefix.", default="homeassistant"),
    FieldSpec("base_topic", "text", "Where the kiosks of one home publish.", default="home-exercise-kiosk"),
    FieldSpec("display_name", "text", "This screen's name, like Living room; empty: the host name."),
)
MQTT_FILES = ("password_file", "ca_file", "cert_file", "key_file")
"""Paths in the section: read relative to the settings file's folder."""


VOICE_ENGINES = ("pyttsx3", "piper")


@dataclass(frozen=True)
class Settings:
    """The settings table: a field's type, default and `Rule` are written here and nowhere else.

    The file reader and the Settings screen's buttons are made from it; a test holds the README to it.
    """

    weekly_goal: int = _setting(
        DEFAULT_WEEKLY_GOAL, "count", "Days a week with a completed session that make a good week.",
        minimum=1, maximum=DAYS_PER_WEEK, step=1, reloads="stats")
    week_start: str = _setting(
        "monday", "choice", "First day of the week for the weekly goal and the grid.",
        choices=WEEKDAYS, reloads="stats")
    default_routine: str = _setting(
        "", "id", "Id of the one-tap routine; empty means the routine marked `default: true`.",
        reloads="library")
    exercises_dirs: Tuple[str, ...] = _setting(
        (), "paths", "Extra folders of your own exercise and routine files, loaded after the shipped ones.")
    voice: bool = _setting(
        True, "bool", "Speak the guidance; off means captions and beeps only.",
        reloads="speaker")
    voice_id: str = _setting(
        "", "text", "Which voice (see `kiosk voices`); empty means the system's default voice.",
        reloads="speaker")
    voice_engine: str = _setting(
        "pyttsx3", "choice", "The voice: pyttsx3 (espeak-ng, the default) or piper (a natural neural voice, "
        "the [piper] extra and a voice model).",
        choices=VOICE_ENGINES, reloads="speaker")
    piper_voice: str = _setting(
        "", "file", "The Piper voice model, an .onnx file with its .onnx.json (see `kiosk voices`).",
        reloads="speaker")
    piper_speaker: str = _setting(
        "", "speaker", "For a Piper voice of several speakers: the speaker's number or name; empty: the first.",
        reloads="speaker")
    speech_rate: int = _setting(
        160, "count", "Words per minute.",
        minimum=80, maximum=300, step=20, reloads="speaker")
    volume: float = _setting(
        0.8, "number", "Loudness of voice and beeps, 0 to 1.",
        minimum=0.0, maximum=1.0, step=0.1, reloads="speaker")
    beeps: bool = _setting(
        True, "bool", "Beeps in the last 3 seconds of each timed segment, and a chime at the end.",
        reloads="speaker")
    idle_timeout: float = _setting(
        120.0, "seconds", "Seconds without a touch before the screen goes back Home (never during a session).",
        minimum=10, maximum=3600)
    rotation: int = _setting(
        0, "count", "Turn the picture by 0, 90, 180 or 270 degrees (90 or 270 for a portrait screen).",
        choices=("0", "90", "180", "270"))
    fullscreen: bool = _setting(
        True, "bool", "Fill the screen; `kiosk run --windowed` overrides it for development.")
    night_mode: str = _setting(
        "off", "choice", "At night the idle Home screen goes dark: off, dim or blank. A tap wakes it.",
        choices=NIGHT_MODES)
    night_start: str = _setting("22:00", "clock", "When the night starts, like 22:00.")
    night_end: str = _setting("07:00", "clock", "When the night ends, like 07:00.")
    reminders: Tuple[Reminder, ...] = _setting(
        (), "reminders", f"Up to {MAX_REMINDERS} times a day to chime, say a message and show the reminder card.",
        reloads="phrases")
    reminder_volume: float = _setting(
        0.6, "number", "Loudness of a reminder's chime and message, 0 to 1.",
        minimum=0.0, maximum=1.0, step=0.1, reloads="speaker")
    mqtt: MqttSettings = _setting(
        MqttSettings(), "section", "Home Assistant and other screens of the home over MQTT; off when absent.")

    @property
    def week_start_index(self) -> int:
        return parse_week_start(self.week_start)


RULES: Dict[str, Rule] = {spec.name: spec.metadata["rule"] for spec in fields(Settings)}
"""Setting name -> its rule, in the order of the settings file."""

SETTING_FIELDS: Tuple[FieldSpec, ...] = tuple(
    FieldSpec(spec.name, rule.kind, rule.description, minimum=rule.minimum, maximum=rule.maximum,
              choices=rule.choices, default=spec.default)
    for spec, rule in zip(fields(Settings), RULES.values()))
"""The same table in the form the catalog's reader checks keys and values with."""


def load_settings(path: Path) -> Tuple[Settings, Tuple[Problem, ...]]:
    """Read the settings file; a missing file is all defaults, a broken one is reported."""
    if not path.exists():
        return Settings(), ()
    try:
        document = yamldoc.read_document(path)
    except YamlError as error:
        message = error.problem.message
        if message == "file is empty":
            return Settings(), ()
        return Settings(), (replace(error.problem, message=f"{message}; using the default settings"),)
    if not isinstance(document, Mapping):
        return Settings(), (Problem(str(path), document.line, document.col, "the settings file must be a mapping "
                                    "of `key: value` lines; using the defaults", "warning"),)
    problems: List[Problem] = []
    report = Report(str(path), problems)
    check_keys(document, SETTING_FIELDS, "the settings", report)
    values: Dict[str, Any] = {}
    for spec in SETTING_FIELDS:
        if spec.name not in document.entries:
            continue
        before = len(problems)
        value = _read_setting(spec, document.entries[spec.name][1], path.parent, report)
        if value is not None:
            values[spec.name] = value
        problems[before:] = [replace(problem, field=problem.field or spec.name) for problem in problems[before:]]
    return Settings(**values), _as_warnings(problems)


def _read_setting(spec: FieldSpec, node: yamldoc.AnyNode, base: Path, report: Report) -> Any:
    """One setting's value, or None for an empty one or after reporting why it is wrong."""
    if spec.kind == "clock":
        try:
            return parse_clock(node.raw if isinstance(node, Scalar) else "").strftime("%H:%M")
        except ValueError as error:
            report.error(node, f"{spec.name!r} in the settings: {error}")
            return None
    if spec.kind == "paths":
        return _read_paths(spec.name, node, base, report)
    if spec.kind == "speaker":
        value = node.value if isinstance(node, Scalar) else None
        if isinstance(value, bool) or not isinstance(value, (int, str)) or (isinstance(value, int) and value < 0):
            report.error(node, f"{spec.name!r} must be a speaker's number (0, 1, ...) or name")
            return None
        return str(value).strip() or None
    if spec.kind == "file":
        if not isinstance(node, Scalar) or not isinstance(node.value, str):
            report.error(node, f"{spec.name!r} must be the path of a file")
            return None
        chosen = Path(node.value.strip()).expanduser()
        return str(chosen if chosen.is_absolute() else base / chosen) if node.value.strip() else None
    if spec.kind == "section":
        return _read_mqtt(node, base, report)
    if spec.kind == "reminders":
        return _read_reminders(node, report)
    if isinstance(node, Scalar) and (node.value is None or node.value == ""):
        return None
    return read_value(spec, node, "the settings", report)


def _as_warnings(problems: List[Problem]) -> Tuple[Problem, ...]:
    """Settings problems never stop the kiosk: a bad key is ignored, a bad value keeps its default."""
    softened = []
    for problem in sorted(problems):
        if problem.field.endswith("."):  # one key or entry inside a section: it says what became of it
            softened.append(replace(problem, severity="warning", field=problem.field[:-1]))
            continue
        if problem.field:
            default = getattr(Settings(), problem.field)
            shown = str(default).lower() if isinstance(default, bool) else default
            message = problem.message + (" (using the default)" if shown in ("", ()) else
                                         f" (using the default, {shown})")
        else:
            message = problem.message + " (ignored)"
        softened.append(replace(problem, severity="warning", message=message))
    return tuple(softened)


def _read_paths(name: str, node: yamldoc.AnyNode, base: Path, report: Report) -> Optional[Tuple[str, ...]]:
    items = node.items if isinstance(node, yamldoc.Sequence) else [node]
    folders: List[str] = []
    for item in items:
        if not isinstance(item, Scalar) or not isinstance(item.value, str) or not item.value.strip():
            report.error(item, f"{name!r} must be a list of folder paths")
            return None
        folder = Path(item.value.strip()).expanduser()
        folders.append(str(folder if folder.is_absolute() else (base / folder)))
    return tuple(folders)


def _read_reminders(node: yamldoc.AnyNode, report: Report) -> Optional[Tuple[Reminder, ...]]:
    """The `reminders:` list: a wrong entry is reported and left out, the others apply."""
    if isinstance(node, Scalar) and (node.value is None or node.value == ""):
        return None
    if not isinstance(node, yamldoc.Sequence):
        report.error(node, "'reminders' must be a list of entries like `- time: \"08:30\"`")
        return None
    found: List[Reminder] = []
    entry_problems: List[Problem] = []
    entries = Report(report.shown, entry_problems)
    for number, item in enumerate(node.items, start=1):
        if len(found) == MAX_REMINDERS:
            entries.error(item, f"at most {MAX_REMINDERS} reminders: reminder {number} and any after it")
            break
        reminder = _read_reminder(item, number, entries)
        if reminder is not None:
            found.append(reminder)
    for problem in entry_problems:  # one entry is left out, not the whole list
        report.problems.append(replace(problem, message=problem.message + " (left out)", field="reminders."))
    return tuple(found)


REMINDER_FIELDS: Tuple[FieldSpec, ...] = (
    FieldSpec("time", "clock", "When, local time, like \"08:30\"."),
    FieldSpec("days", "list", "Which days: mon ... sun; every day when left out."),
    FieldSpec("message", "text", "What is said and shown; a default when left out."),
)


def _read_reminder(item: yamldoc.AnyNode, number: int, report: Report) -> Optional[Reminder]:
    what = f"reminder {number}"
    if not isinstance(item, Mapping):
        report.error(item, f"{what} must be a mapping like `time: \"08:30\"`, not {_kind_of(item)}")
        return None
    if not check_keys(item, REMINDER_FIELDS, what, report):
        return None
    if "time" not in item.entries:
        report.error(item, f"{what} has no 'time' (like time: \"08:30\")")
        return None
    time_node = item.entries["time"][1]
    try:
        time = parse_clock(time_node.raw if isinstance(time_node, Scalar) else "").strftime("%H:%M")
    except ValueError as error:
        report.error(time_node, f"'time' in {what}: {error}")
        return None
    days = WEEKDAY_KEYS
    if "days" in item.entries:
        days_node = item.entries["days"][1]
        values = days_node.items if isinstance(days_node, yamldoc.Sequence) else None
        if values is None or not all(isinstance(value, Scalar) and isinstance(value.value, str) for value in values):
            report.error(days_node, f"'days' in {what} must be a list of days like [mon, wed, fri]")
            return None
        try:
            days = parse_days([value.value for value in values])
        except ValueError as error:
            report.error(days_node, f"'days' in {what}: {error}")
            return None
    message = ""
    if "message" in item.entries:
        message_node = item.entries["message"][1]
        if not isinstance(message_node, Scalar) or not isinstance(message_node.value, str) \
                or not message_node.value.strip():
            report.error(message_node, f"'message' in {what} must be text")
            return None
        message = " ".join(message_node.value.split())
    return Reminder(time, days, message)


def _kind_of(node: yamldoc.AnyNode) -> str:
    if isinstance(node, yamldoc.Sequence):
        return "a list"
    return "empty" if isinstance(node, Scalar) and node.value is None else "a single value"


def _read_mqtt(node: yamldoc.AnyNode, base: Path, report: Report) -> Optional[MqttSettings]:
    """The `mqtt:` section: a wrong key or value is left out, the rest of the section applies;
    a section that is not a mapping leaves MQTT off."""
    if isinstance(node, Scalar) and (node.value is None or node.value == ""):
        return None
    if not isinstance(node, Mapping):
        report.error(node, "'mqtt' must be a mapping of keys like `host: 192.168.1.20`")
        return None
    section_problems: List[Problem] = []
    section = Report(report.shown, section_problems)
    check_keys(node, MQTT_FIELDS, "the 'mqtt' settings", section)
    values: Dict[str, Any] = {}
    for spec in MQTT_FIELDS:
        given = node.entries.get(spec.name)
        if given is not None and not (isinstance(given[1], Scalar) and given[1].value in (None, "")):
            value = read_value(spec, node.entries[spec.name][1], "the 'mqtt' settings", section)
            if value is not None:
                values[spec.name] = value
    for name in ("base_topic", "discovery_prefix"):
        topic = values.get(name)
        if topic is not None and (set(topic) & set("+#\0 ") or topic.startswith("/") or topic.endswith("/")):
            section.error(node.entries[name][1], f"{name!r} in the 'mqtt' settings must be a topic like "
                                                  f"{getattr(MqttSettings(), name)!r}, without +, #, spaces "
                                                  f"or a / at either end (got {topic!r})")
            del values[name]
    for name in MQTT_FILES:
        if name in values:
            chosen = Path(values[name]).expanduser()
            values[name] = str(chosen if chosen.is_absolute() else base / chosen)
    for problem in section_problems:  # inside the section: the key is ignored, not the whole section
        report.problems.append(replace(problem, message=problem.message + " (ignored)", field="mqtt."))
    return MqttSettings(**values)


def _reminder_data(reminder: Reminder) -> Dict[str, Any]:
    """One reminder as the settings file writes it: the days only when not every day."""
    data: Dict[str, Any] = {"time": reminder.time}
    if tuple(reminder.days) != WEEKDAY_KEYS:
        data["days"] = list(reminder.days)
    if reminder.message:
        data["message"] = reminder.message
    return data


def save_settings(path: Path, settings: Settings) -> None:
    """Write the settings atomically (temp file, fsync, rename), keeping only non-defaults."""
    defaults = asdict(Settings())
    data = {key: (list(value) if isinstance(value, tuple) else value)
            for key, value in asdict(settings).items() if value != defaults[key]}
    if "mqtt" in data:  # the section, too, keeps only what differs from its defaults
        data["mqtt"] = {key: value for key, value in data["mqtt"].items() if value != defaults["mqtt"][key]}
    if "reminders" in data:
        data["reminders"] = [_reminder_data(reminder) for reminder in settings.reminders]
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "# home-exercise-kiosk settings; see README.md for every key.\n" + (yamldoc.dump(data) if data else "")
    write_atomically(path, text.encode("utf-8"))
