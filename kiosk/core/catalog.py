"""The exercise library: YAML files -> validated, typed Exercises and Routines.

Every problem is a `Problem` pointing at `path:line:col`. A broken item is left out
and the rest of its file still loads; a broken file never stops the other files.
Every check that can run does run, so one load reports all that can be known: a cue
is checked against the work period whenever that reads, whatever else is wrong.
The field tables below are the schema: the loader checks them and
`json_schema()` renders them, so the shipped JSON Schema cannot drift from the loader.
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from kiosk.core import yamldoc
from kiosk.core.model import SIDES, TAGS, Exercise, ExerciseCue, Routine, Step
from kiosk.core.timeline import crowded_cues, plan_with_left_out, unheard_reminders
from kiosk.core.yamldoc import Mapping, Node, Problem, Scalar, YamlError

MAX_SECONDS = 3600.0
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
ID_RULE = "a-z, 0-9, - and _ only, starting with a letter or digit, at most 64 characters"
"""What ID_PATTERN allows, in words: ids stay ASCII (they name files, topics and URLs)."""
PERCENT_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


@dataclass(frozen=True)
class FieldSpec:
    """One allowed key: its kind, limits and default, and the sentence the docs show."""

    name: str
    kind: str
    description: str
    required: bool = False
    minimum: Optional[float] = None
    exclusive_minimum: bool = False
    maximum: Optional[float] = None
    choices: Tuple[str, ...] = ()
    default: Any = None


def _seconds(name: str, description: str, *, minimum: float = 0.0, exclusive: bool = True,
             maximum: float = MAX_SECONDS, default: Optional[float] = None) -> FieldSpec:
    return FieldSpec(name, "seconds", description, minimum=minimum, exclusive_minimum=exclusive,
                     maximum=maximum, default=default)


EXERCISE_FIELDS: Tuple[FieldSpec, ...] = (
    FieldSpec("id", "id", f"Unique id: {ID_RULE}.", required=True),
    FieldSpec("name", "text", "Name shown on screen and spoken.", required=True),
    FieldSpec("instructions", "text", "Spoken when the exercise starts.", required=True),
    FieldSpec("caption", "text", "Short on-screen line during the exercise.", required=True),
    _seconds("duration", "Seconds of work per side and set (or give reps).", maximum=MAX_SECONDS),
    FieldSpec("reps", "count", "Repetitions per side and set, counted aloud (needs seconds_per_rep).",
              minimum=1, maximum=500),
    _seconds("seconds_per_rep", "Seconds for one repetition.", maximum=60),
    FieldSpec("sides", "choice", "both: once per side with a spoken switch; or left, right, none.",
              choices=SIDES, default="none"),
    FieldSpec("limb", "text", "Word used for the side: \"Switch to your left <limb>\".",
              default="foot for foot and ankle exercises, else leg"),
    _seconds("switch", "Seconds to change sides.", exclusive=False, maximum=60, default=5.0),
    FieldSpec("sets", "count", "Number of sets.", minimum=1, maximum=20, default=1),
    _seconds("rest", "Seconds of rest between sets.", exclusive=False, default=10.0),
    FieldSpec("cues", "cues", "Reminders said during each work period."),
    FieldSpec("image", "path", "Picture, relative to media/ (or absolute)."),
    FieldSpec("tags", "tags", "Any of the known tags.", choices=TAGS),
    FieldSpec("safety", "text", "Safety note shown with the exercise."),
)

CUE_FIELDS: Tuple[FieldSpec, ...] = (
    FieldSpec("at", "cue_time", "When: a percentage of the work period (\"50%\"; more than 0% and less "
              "than 100%) or seconds into it (more than 0 and less than the work period).", required=True),
    FieldSpec("say", "text", "What the voice says (and the screen shows).", required=True),
)

ROUTINE_FIELDS: Tuple[FieldSpec, ...] = (
    FieldSpec("id", "id", f"Unique id: {ID_RULE}.", required=True),
    FieldSpec("name", "text", "Name shown on screen.", required=True),
    FieldSpec("description", "text", "One or two sentences about the routine.", default=""),
    _seconds("lead_in", "Seconds of \"Get ready\" before the first exercise.", exclusive=False,
             maximum=600, default=10.0),
    _seconds("rest_between", "Seconds of rest between steps; the next exercise is announced in it.",
             exclusive=False, maximum=600, default=15.0),
    FieldSpec("default", "bool", "The one-tap routine on the Start button (exactly one).", default=False),
    FieldSpec("steps", "steps", "The exercises in order: an id, or a mapping with overrides.",
              required=True),
)

STEP_FIELDS: Tuple[FieldSpec, ...] = (
    FieldSpec("exercise", "id", "Id of the exercise.", required=True),
    _seconds("duration", "Override: seconds of work.", maximum=MAX_SECONDS),
    FieldSpec("reps", "count", "Override: repetitions.", minimum=1, maximum=500),
    _seconds("seconds_per_rep", "Override: seconds per repetition.", maximum=60),
    FieldSpec("sets", "count", "Override: number of sets.", minimum=1, maximum=20),
    _seconds("rest", "Override: seconds of rest between sets.", exclusive=False),
    FieldSpec("sides", "choice", "Override: both, left, right or none.", choices=SIDES),
)

FILE_FIELDS: Tuple[FieldSpec, ...] = (
    FieldSpec("exercises", "list", "Exercise definitions."),
    FieldSpec("routines", "list", "Routine definitions."),
)


@dataclass(frozen=True)
class Library:
    """What loaded, plus every problem found on the way."""

    exercises: Dict[str, Exercise]
    routines: Dict[str, Routine]
    problems: Tuple[Problem, ...] = ()
    files: Tuple[Path, ...] = ()

    @property
    def errors(self) -> Tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> Tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")

    def default_routine(self, preferred: Optional[str] = None) -> Optional[Routine]:
        """The one-tap routine: the preferred id when it exists, else the `default: true` one."""
        if preferred and preferred in self.routines:
            return self.routines[preferred]
        for routine in self.routines.values():
            if routine.default:
                return routine
        return next(iter(self.routines.values()), None)


# --------------------------------------------------------------------------- reading

class Report:
    """Collects problems for one file; `where` prefixes them with its display path."""

    def __init__(self, shown: str, problems: List[Problem]) -> None:
        self.shown = shown
        self.problems = problems
        self.failed = False

    def error(self, node: Node, message: str) -> None:
        self.failed = True
        self.problems.append(Problem(self.shown, node.line, node.col, message))

    def warning(self, node: Node, message: str) -> None:
        self.problems.append(Problem(self.shown, node.line, node.col, message, "warning"))


def _kind_name(node: Node) -> str:
    if isinstance(node, yamldoc.Mapping):
        return "a mapping"
    if isinstance(node, yamldoc.Sequence):
        return "a list"
    value = node.value if isinstance(node, Scalar) else None
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a yes/no value)"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    return f"{value!r}"


_SPELLED_OUT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss",
                              "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ẞ": "SS"})


def ascii_id(text: str) -> Optional[str]:
    """The id a person most likely meant, in the letters ids allow; None when there is none.

    ä, ö, ü and ß are spelled out (einmal-hüfte -> einmal-huefte), other accents dropped
    (café -> cafe), capitals lowered, and runs of anything else (spaces) become one "-".
    """
    spelled = unicodedata.normalize("NFKD", text.translate(_SPELLED_OUT))
    plain = spelled.encode("ascii", "ignore").decode("ascii").lower()
    plain = re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9_-]+", "-", plain))
    plain = plain.lstrip("-_")[:64].rstrip("-")
    return plain if ID_PATTERN.match(plain) and plain != text else None


def check_keys(mapping: Mapping, specs: Sequence[FieldSpec], what: str, report: Report) -> bool:
    """Unknown keys and missing required keys; True when the mapping can be read on."""
    known = [spec.name for spec in specs]
    ok = True
    for key, (key_node, _) in mapping.entries.items():
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else f" (known keys: {', '.join(known)})"
            report.error(key_node, f"unknown key {key!r} in {what}{hint}")
            ok = False
    for spec in specs:
        if spec.required and spec.name not in mapping.entries:
            report.error(mapping, f"{what} is missing the required key {spec.name!r}")
            ok = False
    return ok


def _meant_keys(mapping: Mapping, specs: Sequence[FieldSpec]) -> Tuple[str, ...]:
    """The known keys that the mapping's unknown keys are close enough to be suggested for."""
    known = [spec.name for spec in specs]
    return tuple(close for key in mapping.entries if key not in known
                 for close in difflib.get_close_matches(key, known, n=1, cutoff=0.6))


def read_value(spec: FieldSpec, node: Node, what: str, report: Report) -> Any:
    """Check one value against its spec; return the value, or None after an error."""
    label = f"{spec.name!r} in {what}"
    if spec.kind in ("text", "id", "path", "choice"):
        if not isinstance(node, Scalar) or not isinstance(node.value, str) or not node.value.strip():
            report.error(node, f"{label} must be text, not {_kind_name(node)}")
            return None
        value = node.value.strip()
        if spec.kind == "id" and not ID_PATTERN.match(value):
            suggestion = ascii_id(value)
            hint = f"; try {suggestion!r}" if suggestion else ""
            report.error(node, f"{label} must be {ID_RULE} (got {value!r}){hint}")
            return None
        if spec.kind == "choice" and value not in spec.choices:
            close = difflib.get_close_matches(value, spec.choices, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            report.error(node, f"{label} must be one of {', '.join(spec.choices)}, not {value!r}{hint}")
            return None
        if spec.kind == "path" and ".." in Path(value).parts:
            report.error(node, f"{label} must stay inside media/ (no '..')")
            return None
        return value
    if spec.kind == "bool":
        if not isinstance(node, Scalar) or not isinstance(node.value, bool):
            report.error(node, f"{label} must be true or false, not {_kind_name(node)}")
            return None
        return node.value
    if spec.kind in ("seconds", "count", "number"):
        value = node.value if isinstance(node, Scalar) else None
        is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if spec.kind == "count" and not (isinstance(value, int) and not isinstance(value, bool)):
            report.error(node, f"{label} must be a whole number, not {_kind_name(node)}")
            return None
        unit = " seconds" if spec.kind == "seconds" else ""
        if not is_number or value != value:  # NaN is not a duration
            report.error(node, f"{label} must be a number{' of' + unit if unit else ''}, not {_kind_name(node)}")
            return None
        if spec.choices and str(value) not in spec.choices:
            report.error(node, f"{label} must be one of {', '.join(spec.choices)}, not {value:g}")
            return None
        if spec.minimum is not None and (value < spec.minimum or (spec.exclusive_minimum and value == spec.minimum)):
            bound = "more than" if spec.exclusive_minimum else "at least"
            report.error(node, f"{label} must be {bound} {spec.minimum:g}{unit}, not {value:g}")
            return None
        if spec.maximum is not None and value > spec.maximum:
            report.error(node, f"{label} is {value:g}{unit}; the most allowed is {spec.maximum:g}{unit}")
            return None
        return int(value) if spec.kind == "count" else float(value)
    raise AssertionError(f"no reader for {spec.kind}")


def _read_fields(mapping: Mapping, specs: Sequence[FieldSpec], what: str,
                 report: Report) -> Tuple[Dict[str, Any], bool]:
    """The simple fields of a mapping that read well, and whether all of them (and the keys) did.

    Every field is checked even when another is wrong, so one run reports them all; the
    values that did read let the checks between fields (a cue against the work) run too.
    """
    ok = check_keys(mapping, specs, what, report)
    values: Dict[str, Any] = {}
    for spec in specs:
        if spec.name not in mapping.entries or spec.kind in ("cues", "steps", "tags", "list", "cue_time"):
            continue
        value = read_value(spec, mapping.entries[spec.name][1], what, report)
        if value is None:
            ok = False
        else:
            values[spec.name] = value
    return values, ok


def _timing_problems(values: Dict[str, Any], where: Node, what: str, report: Report) -> bool:
    """Report what is wrong with the timing (None meaning not given); True when nothing is."""
    has_duration = values.get("duration") is not None
    has_reps = values.get("reps") is not None
    if has_duration and has_reps:
        report.error(where, f"{what} gives both 'duration' and 'reps'; give one")
        return False
    if not has_duration and not has_reps:
        report.error(where, f"{what} needs 'duration' (seconds) or 'reps' with 'seconds_per_rep'")
        return False
    if has_reps and values.get("seconds_per_rep") is None:
        report.error(where, f"{what} gives 'reps' without 'seconds_per_rep'")
        return False
    if has_reps and isinstance(values["reps"], int) and isinstance(values["seconds_per_rep"], float) \
            and values["reps"] * values["seconds_per_rep"] > MAX_SECONDS:
        report.error(where, f"{what} lasts {values['reps'] * values['seconds_per_rep']:g} seconds per set; "
                            f"the most allowed is {MAX_SECONDS:g}")
        return False
    return True


def _exercise_timing(values: Dict[str, Any], node: Mapping, what: str, report: Report) -> Tuple[bool, bool]:
    """Check an exercise's timing keys: (timing is right, the work period is known).

    Judged by which keys are there, so a wrong value (reported on its own line) is not
    also called missing; the work is known when the keys fit and their values read well.
    """
    present = {key for key in ("duration", "reps", "seconds_per_rep") if key in node.entries}
    whole = "duration" in present or {"reps", "seconds_per_rep"} <= present
    # 'duraton' is reported as a typo, not also as missing; beside a whole timing it is only a typo
    meant = () if whole else _meant_keys(node, EXERCISE_FIELDS)
    given = {key: values.get(key, "unreadable") for key in ("duration", "reps", "seconds_per_rep")
             if key in present or key in meant}
    if not _timing_problems(given, node, what, report):
        return False, False
    if "duration" in given:
        return True, "duration" in values
    return True, "reps" in values and "seconds_per_rep" in values


@dataclass
class _RawCue:
    """A cue as written: its time when that reads, its text when that does."""

    node: Mapping
    say: Optional[str]
    at_fraction: Optional[float] = None
    at_seconds: Optional[float] = None


def _read_cues(node: Node, what: str, report: Report) -> Tuple[List[_RawCue], bool]:
    """Every cue whose time reads (for the check against the work), and whether all are right."""
    if not isinstance(node, yamldoc.Sequence):
        report.error(node, f"'cues' in {what} must be a list, not {_kind_name(node)}")
        return [], False
    cues: List[_RawCue] = []
    ok = True
    for item in node.items:
        if not isinstance(item, Mapping):
            report.error(item, f"each cue in {what} must be a mapping with 'at' and 'say'")
            ok = False
            continue
        values, fields_ok = _read_fields(item, CUE_FIELDS, f"a cue of {what}", report)
        ok = ok and fields_ok
        if "at" not in item.entries:
            continue
        at = _read_cue_at(item.entries["at"][1], what, report)
        if at is None:
            ok = False
            continue
        cues.append(_RawCue(item, values.get("say"), *at))
    return cues, ok


def _read_cue_at(node: Node, what: str, report: Report) -> Optional[Tuple[Optional[float], Optional[float]]]:
    """A cue's `at` as (fraction, seconds), or None after saying what it may be."""
    at = node.value if isinstance(node, Scalar) else None
    percent = PERCENT_PATTERN.match(at) if isinstance(at, str) else None
    if percent:
        share = float(percent.group(1))
        if not 0 < share < 100:
            report.error(node, f"'at' in a cue of {what} must be more than 0% and less than 100%, not {at.strip()}")
            return None
        return share / 100, None
    if isinstance(at, (int, float)) and not isinstance(at, bool):
        if not 0 < at <= MAX_SECONDS:  # NaN fails this too
            report.error(node, f"'at' in a cue of {what} must be more than 0 seconds and less than the "
                               f"work period, not {at:g}")
            return None
        return None, float(at)
    report.error(node, f"'at' in a cue of {what} must be a percentage like \"50%\" (more than 0% and less "
                       f"than 100%) or seconds (more than 0 and less than the work period), "
                       f"not {_kind_name(node)}")
    return None


def _work_words(work_s: float, reps: Optional[int], seconds_per_rep: Optional[float]) -> str:
    counted = f" ({reps} reps of {seconds_per_rep:g} s)" if reps is not None and seconds_per_rep else ""
    return f"{work_s:g} s of work{counted}"


def _cue_past_end(at_s: float, say: Optional[str], work_s: float, whose: str, work: str) -> str:
    """The words for a cue in seconds that does not come before the end of its work period."""
    text = say if say is None or len(say) <= 40 else say[:37].rstrip() + "..."
    quoted = f" ({text!r})" if text else ""
    where = "past the end" if at_s > work_s else "at the very end"
    return (f"the cue at {at_s:g} s{quoted} is {where} of {whose} {work}; "
            f"a cue in seconds must be more than 0 and less than the work period")


def _read_tags(node: Node, what: str, report: Report) -> Optional[Tuple[str, ...]]:
    if not isinstance(node, yamldoc.Sequence):
        report.error(node, f"'tags' in {what} must be a list, not {_kind_name(node)}")
        return None
    tags: List[str] = []
    ok = True
    for item in node.items:
        value = item.value if isinstance(item, Scalar) else None
        if value not in TAGS:
            close = difflib.get_close_matches(str(value), TAGS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            report.error(item, f"unknown tag {_kind_name(item)} in {what} (known: {', '.join(TAGS)}){hint}")
            ok = False
        elif value not in tags:
            tags.append(value)
    return tuple(tags) if ok else None


@dataclass
class _RawExercise:
    exercise: Exercise
    node: Mapping
    report: Report
    media_dirs: Tuple[Path, ...]


@dataclass
class _RawStep:
    number: int
    """Its place in the routine, from 1."""
    node: Node
    values: Dict[str, Any]
    complete: bool
    """Every field read; when not, only the exercise it names is checked."""


@dataclass
class _RawRoutine:
    values: Dict[str, Any]
    node: Mapping
    report: Report
    label: str
    steps: List[_RawStep] = field(default_factory=list)
    broken: bool = False
    """A problem is already reported: it is checked on as far as it can be, never built."""
    layer: int = 0
    """Which layer of the library it came from: 0 is the shipped one, the user's follow."""


def _read_exercise(node: Node, report: Report, media_dirs: Tuple[Path, ...]) -> Optional[_RawExercise]:
    """The exercise, or None after reporting every problem that can be known about it."""
    if not isinstance(node, Mapping):
        report.error(node, f"each exercise must be a mapping of keys, not {_kind_name(node)}")
        return None
    what = _item_label("exercise", node)
    values, ok = _read_fields(node, EXERCISE_FIELDS, what, report)
    cues: List[_RawCue] = []
    tags: Optional[Tuple[str, ...]] = ()
    if "cues" in node.entries:
        cues, cues_ok = _read_cues(node.entries["cues"][1], what, report)
        ok = ok and cues_ok
    if "tags" in node.entries:
        tags = _read_tags(node.entries["tags"][1], what, report)
        ok = ok and tags is not None
    timing_ok, work_known = _exercise_timing(values, node, what, report)
    ok = ok and timing_ok
    if work_known:
        reps, pace = values.get("reps"), values.get("seconds_per_rep")
        work_s = values["duration"] if "duration" in values else reps * pace
        work = _work_words(work_s, None if "duration" in values else reps, pace)
        for cue in cues:
            if cue.at_seconds is not None and cue.at_seconds >= work_s:
                report.error(cue.node, f"{what}: {_cue_past_end(cue.at_seconds, cue.say, work_s, 'its', work)}")
                ok = False
    if not ok or tags is None:
        return None
    limb = values.get("limb") or ("foot" if {"foot", "ankle"} & set(tags) else "leg")
    exercise = Exercise(
        id=values["id"], name=values["name"], instructions=values["instructions"],
        caption=values["caption"], duration_s=values.get("duration"), reps=values.get("reps"),
        seconds_per_rep=values.get("seconds_per_rep"), sides=values.get("sides") or "none",
        limb=limb, switch_s=_or(values.get("switch"), 5.0), sets=values.get("sets") or 1,
        rest_s=_or(values.get("rest"), 10.0), image=values.get("image"), tags=tags,
        cues=tuple(ExerciseCue(cue.say or "", at_fraction=cue.at_fraction, at_seconds=cue.at_seconds)
                   for cue in cues),
        safety=values.get("safety"), source=f"{report.shown}:{node.line}:{node.col}",
    )
    return _RawExercise(exercise, node, report, media_dirs)


def _or(value: Optional[float], default: float) -> float:
    return default if value is None else value


def _item_label(kind: str, node: Mapping) -> str:
    id_node = node.entries.get("id", (None, None))[1]
    if isinstance(id_node, Scalar) and isinstance(id_node.value, str):
        return f"{kind} {id_node.value!r}"
    return f"{kind} at line {node.line}"


def _read_routine(node: Node, report: Report) -> Optional[_RawRoutine]:
    """The routine as written; `broken` when a problem was reported. None if it is no mapping."""
    if not isinstance(node, Mapping):
        report.error(node, f"each routine must be a mapping of keys, not {_kind_name(node)}")
        return None
    what = _item_label("routine", node)
    values, ok = _read_fields(node, ROUTINE_FIELDS, what, report)
    raw = _RawRoutine(values, node, report, what, broken=not ok)
    if "steps" not in node.entries:
        return raw  # reported by the key check
    steps_node = node.entries["steps"][1]
    if not isinstance(steps_node, yamldoc.Sequence) or not steps_node.items:
        report.error(steps_node, f"'steps' in {what} must be a list of at least one exercise")
        raw.broken = True
        return raw
    for number, item in enumerate(steps_node.items, 1):
        if isinstance(item, Scalar):
            step_values, step_ok = _read_fields(Mapping(item.line, item.col, {"exercise": (item, item)}),
                                                STEP_FIELDS, f"a step of {what}", report)
        elif isinstance(item, Mapping):
            step_values, step_ok = _read_fields(item, STEP_FIELDS, f"a step of {what}", report)
        else:
            report.error(item, f"each step of {what} must be an exercise id or a mapping, not a list")
            step_values, step_ok = {}, False
        raw.broken = raw.broken or not step_ok
        if "exercise" in step_values:
            raw.steps.append(_RawStep(number, item, step_values, step_ok))
    return raw


def _resolve_image(raw: _RawExercise) -> Exercise:
    image = raw.exercise.image
    if image is None:
        return raw.exercise
    candidates = [Path(image)] if Path(image).is_absolute() else [d / image for d in raw.media_dirs]
    for candidate in candidates:
        if candidate.is_file():
            return replace(raw.exercise, image=str(candidate.resolve()))
    node = raw.node.entries["image"][1]
    looked = ", ".join(str(c) for c in candidates)
    raw.report.warning(node, f"picture {image!r} of exercise {raw.exercise.id!r} not found (looked in {looked})")
    return replace(raw.exercise, image=None)


THIS_STEPS = "this step's"


def _build_step(raw: _RawRoutine, step: _RawStep, exercise: Exercise,
                replaced_by: Optional[_RawExercise] = None) -> Optional[Step]:
    """The step with its overrides applied, or None after reporting each problem with it.

    `replaced_by`: the exercise comes from a later layer than the routine (a user's own
    version of an exercise a shipped routine uses). Its cue that the routine's override
    cuts is then a warning on the user's exercise, and the step goes on without that cue:
    the user cannot fix the routine's file, and the routine must not vanish.
    """
    values = step.values
    what = f"step {values['exercise']!r} of {raw.label}"
    timing = {
        "duration": values.get("duration"), "reps": values.get("reps"),
        "seconds_per_rep": values.get("seconds_per_rep"),
    }
    if timing["duration"] is None and timing["reps"] is None:
        timing["duration"], timing["reps"] = exercise.duration_s, exercise.reps
    if timing["reps"] is not None and timing["seconds_per_rep"] is None:
        timing["seconds_per_rep"] = exercise.seconds_per_rep
    if timing["duration"] is not None and values.get("reps") is None:
        if values.get("seconds_per_rep") is not None:
            raw.report.warning(step.node, f"{raw.label} step {step.number} ({exercise.id}): 'seconds_per_rep' "
                                          f"without 'reps' changes nothing, as {exercise.id!r} is timed by "
                                          f"'duration'; give 'reps' too, or leave it out")
        timing["reps"] = timing["seconds_per_rep"] = None
    if not _timing_problems(timing, step.node, what, raw.report):
        return None
    built = Step(
        exercise=exercise, duration_s=timing["duration"], reps=timing["reps"],
        seconds_per_rep=timing["seconds_per_rep"], sets=values.get("sets") or exercise.sets,
        rest_s=_or(values.get("rest"), exercise.rest_s), sides=values.get("sides") or exercise.sides,
    )
    # An override can shorten the work below a cue the exercise itself has room for.
    work = _work_words(built.work_s, built.reps, built.seconds_per_rep)
    late = [cue for cue in exercise.cues if cue.at_seconds is not None and cue.at_seconds >= built.work_s]
    for cue in late:
        assert cue.at_seconds is not None
        if replaced_by is not None:
            said = _cue_past_end(cue.at_seconds, cue.text, built.work_s, "the", work).split(";")[0]
            replaced_by.report.warning(replaced_by.node, (
                f"exercise {exercise.id!r}: {said} that {raw.label} step {step.number} gives it; "
                f"the cue is left out there"))
        else:
            raw.report.error(step.node, f"{raw.label} step {step.number} ({exercise.id}): "
                                        f"{_cue_past_end(cue.at_seconds, cue.text, built.work_s, THIS_STEPS, work)}")
    return None if late and replaced_by is None else built


def _build_routine(raw: _RawRoutine, exercises: Dict[str, Exercise], broken: Dict[str, str],
                   raw_exercises: Optional[Dict[str, Tuple[_RawExercise, int]]] = None) -> Optional[Routine]:
    """The routine, or None after reporting every problem of its steps.

    A routine already `broken` when read is checked the same way, so one run reports
    everything, but it is never built.
    """
    steps: List[Step] = []
    ok = not raw.broken
    for raw_step in raw.steps:
        exercise_id = raw_step.values["exercise"]
        item = raw_step.node
        target = item.entries["exercise"][1] if isinstance(item, Mapping) else item
        if exercise_id not in exercises:
            if exercise_id in broken:
                raw.report.error(target, f"{raw.label} uses exercise {exercise_id!r}, "
                                         f"which has errors ({broken[exercise_id]})")
            else:
                close = difflib.get_close_matches(exercise_id, list(exercises), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raw.report.error(target, f"{raw.label} names unknown exercise {exercise_id!r}{hint}")
            ok = False
            continue
        source, layer = (raw_exercises or {}).get(exercise_id, (None, raw.layer))
        later = source if layer > raw.layer else None
        node_keys = raw_step.node.entries if isinstance(raw_step.node, Mapping) else {}
        timing_reads = all(key in raw_step.values for key in ("duration", "reps", "seconds_per_rep")
                           if key in node_keys)
        # A step with another key wrong is still checked against its exercise's cues when its
        # timing reads (one run says everything), but it is never built.
        step = _build_step(raw, raw_step, exercises[exercise_id], later) if timing_reads else None
        if step is None or not raw_step.complete:
            ok = False
            continue
        steps.append(step)
    if not ok:
        return None
    values = raw.values
    return Routine(
        id=values["id"], name=values["name"], description=values.get("description") or "",
        steps=tuple(steps), lead_in_s=_or(values.get("lead_in"), 10.0),
        rest_between_s=_or(values.get("rest_between"), 15.0), default=bool(values.get("default")),
        source=f"{raw.report.shown}:{raw.node.line}:{raw.node.col}",
    )


def library_files(path: Path) -> List[Path]:
    """The YAML files of a folder (recursively, in name order), or the file itself."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    return [path]


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def load_library(layers: Sequence[Union[Path, Sequence[Path]]],
                 shipped_media: Optional[Path] = None) -> Library:
    """Load the layers in order; an id in a later layer overrides the same id in an earlier one.

    A layer is a folder or file (or a list of them). Within a layer an id may appear
    once; the shipped library is the first layer and the user's folders follow. A
    routine whose override cannot be built falls back to the earlier layer's version.
    """
    problems: List[Problem] = []
    exercises: Dict[str, _RawExercise] = {}
    routines: Dict[str, _RawRoutine] = {}
    overridden: Dict[str, List[_RawRoutine]] = {}
    broken_exercises: Dict[str, str] = {}
    broken_routines: List[_RawRoutine] = []
    files: List[Path] = []
    exercise_layers: Dict[str, int] = {}
    for layer_number, layer in enumerate(layers):
        paths: List[Path] = []
        for root in ([layer] if isinstance(layer, Path) else list(layer)):
            if not root.exists():
                problems.append(Problem(_display(root), 1, 1, "no such file or folder"))
                continue
            paths.extend(library_files(root))
        layer_exercises: Dict[str, _RawExercise] = {}
        layer_routines: Dict[str, _RawRoutine] = {}
        broken_before = len(broken_routines)
        taken: Dict[Tuple[str, str], str] = {}  # (kind, id) -> where, for good and broken items alike
        for path in paths:
            files.append(path)
            candidates = (path.parent / "media", path.parent.parent / "media", shipped_media)
            media_dirs = tuple(dict.fromkeys(d.resolve() for d in candidates if d))
            _load_file(path, problems, layer_exercises, layer_routines, broken_exercises, broken_routines,
                       media_dirs, taken)
        exercises.update(layer_exercises)
        exercise_layers.update(dict.fromkeys(layer_exercises, layer_number))
        for raw_routine in [*layer_routines.values(), *broken_routines[broken_before:]]:
            raw_routine.layer = layer_number
        if any(raw.values.get("default") for raw in layer_routines.values()):
            for earlier in routines.values():
                earlier.values["default"] = False
        for key in layer_routines.keys() & routines.keys():
            overridden.setdefault(key, []).append(routines[key])
            if "default" not in layer_routines[key].node.entries:
                # Tweaking the one-tap routine should not stop it being the one-tap routine.
                layer_routines[key].values["default"] = routines[key].values.get("default", False)
        routines.update(layer_routines)

    built_exercises = {key: _resolve_image(raw) for key, raw in exercises.items()}
    sources = {key: (raw, exercise_layers[key]) for key, raw in exercises.items()}
    built_routines: Dict[str, Routine] = {}
    built_from: Dict[str, _RawRoutine] = {}
    for key, raw in routines.items():
        for candidate in [raw] + overridden.get(key, [])[::-1]:
            routine = _build_routine(candidate, built_exercises, broken_exercises, sources)
            if routine is not None:
                built_routines[key], built_from[key] = routine, candidate
                break
    for raw in broken_routines:  # never built, but its steps are checked all the same
        _build_routine(raw, built_exercises, broken_exercises, sources)
    _check_default(routines, built_routines, problems)
    for key, routine in built_routines.items():
        _check_room(built_from[key], routine)
    return Library(built_exercises, built_routines, tuple(sorted(set(problems), key=_problem_order)), tuple(files))


def _check_room(raw: _RawRoutine, routine: Routine) -> None:
    """Warn where a spoken announcement would still be running when the work starts (so
    "Begin." is left out), and where one of the exercise's own cues is left out of the plan."""
    timeline, left_out = plan_with_left_out(routine)
    told = set()
    for crowded in crowded_cues(timeline):
        if (crowded.step_index, crowded.cue.kind) in told:
            continue  # once per step: the same phrase before every set or side says nothing new
        told.add((crowded.step_index, crowded.cue.kind))
        item = raw.steps[crowded.step_index].node
        where = "lead_in" if crowded.step_index == 0 else "rest_between"
        needed = math.ceil(crowded.needed_s)
        fix = {"announce": f"\"Begin.\" is left out; make {where} at least {needed} or shorten the instructions",
               "switch": f"\"Begin.\" is left out; make the exercise's switch at least {needed}",
               "rest": f"\"Begin.\" is left out; make the rest between sets at least {needed}"}[crowded.cue.kind]
        raw.report.warning(item, f"routine {routine.id!r}, step {crowded.step_index + 1}: "
                                 f"{crowded.cue.text!r} needs about {crowded.needed_s:.0f} s to say "
                                 f"but has {crowded.available_s:.0f} s before the exercise starts; {fix}")
    unheard: Dict[Tuple[int, str, str], int] = {}
    for step_index, cue, over in unheard_reminders(timeline, left_out):
        way = "later" if over.at_s <= cue.at_s else "earlier"
        key = (step_index, cue.text, f"{over.text!r}, so it is left out; move it {way}")
        unheard[key] = unheard.get(key, 0) + 1
    for (step_index, text, outcome), times in unheard.items():
        step = routine.steps[step_index]
        raw.report.warning(raw.steps[step_index].node, (
            f"routine {routine.id!r}, step {step_index + 1} ({step.exercise.id}): the cue {text!r} would be "
            f"spoken over {outcome}" + (f" ({times} times)" if times > 1 else "")))


def _problem_order(problem: Problem) -> Tuple[str, int, int, str]:
    return (problem.path, problem.line, problem.col, problem.message)


def _check_default(raws: Dict[str, _RawRoutine], built: Dict[str, Routine], problems: List[Problem]) -> None:
    defaults = [raw for raw in raws.values() if raw.values.get("default")]
    if not raws:
        return
    if not defaults:
        first = next(iter(raws.values()))
        first.report.error(first.node, "no routine is marked 'default: true'; the Start button needs exactly one")
    for extra in defaults[1:]:
        first = defaults[0]
        node = extra.node.entries["default"][1]
        extra.report.error(node, f"routine {extra.values['id']!r} is marked default, but so is "
                                 f"{first.values['id']!r} ({first.report.shown}:{first.node.line}); "
                                 f"mark exactly one")
        if extra.values["id"] in built:
            built[extra.values["id"]] = replace(built[extra.values["id"]], default=False)


def _load_file(path: Path, problems: List[Problem], exercises: Dict[str, _RawExercise],
               routines: Dict[str, _RawRoutine], broken: Dict[str, str], broken_routines: List[_RawRoutine],
               media_dirs: Tuple[Path, ...], taken: Dict[Tuple[str, str], str]) -> None:
    shown = _display(path)
    report = Report(shown, problems)
    try:
        document = yamldoc.read_document(path, shown)
    except YamlError as error:
        problems.append(error.problem)
        return
    if not isinstance(document, Mapping):
        report.error(document, "a library file must be a mapping with 'exercises:' and/or 'routines:'")
        return
    check_keys(document, FILE_FIELDS, "a library file", report)
    if not ({"exercises", "routines"} & set(document.entries)):
        report.error(document, "a library file needs an 'exercises:' or 'routines:' list")
    for key in ("exercises", "routines"):
        if key not in document.entries:
            continue
        items = document.entries[key][1]
        if not isinstance(items, yamldoc.Sequence):
            report.error(items, f"'{key}' must be a list (items starting with '- '), not {_kind_name(items)}")
            continue
        for item in items.items:
            before = len(problems)
            first_of_its_id = _claim(item, key[:-1], taken, report)
            if key == "exercises":
                raw_exercise = _read_exercise(item, report, media_dirs)
                if raw_exercise is None:
                    if first_of_its_id:
                        _note_broken(item, broken, problems[before:])
                elif first_of_its_id:
                    exercises[raw_exercise.exercise.id] = raw_exercise
            else:
                raw_routine = _read_routine(item, report)
                if raw_routine is not None and raw_routine.broken:
                    broken_routines.append(raw_routine)
                elif raw_routine is not None and first_of_its_id:
                    routines[raw_routine.values["id"]] = raw_routine


def _note_broken(item: Node, broken: Dict[str, str], new_problems: Sequence[Problem]) -> None:
    if isinstance(item, Mapping):
        id_node = item.entries.get("id", (None, None))[1]
        if isinstance(id_node, Scalar) and isinstance(id_node.value, str) and new_problems:
            first = new_problems[0]
            broken[id_node.value] = f"{first.path}:{first.line}"


def _claim(item: Node, kind: str, taken: Dict[Tuple[str, str], str], report: Report) -> bool:
    """Note the item's id as used in this layer; False, after an error, if the layer has it already.

    Broken items claim their id too, so a second copy is reported even when the first has
    a problem of its own."""
    id_node = item.entries.get("id", (None, None))[1] if isinstance(item, Mapping) else None
    if not isinstance(id_node, Scalar) or not isinstance(id_node.value, str) or not id_node.value.strip():
        return True
    item_id = id_node.value.strip()
    if (kind, item_id) in taken:
        report.error(id_node, f"{kind} id {item_id!r} is already defined at {taken[kind, item_id]}; "
                              f"ids must be unique")
        return False
    taken[kind, item_id] = f"{report.shown}:{item.line}"
    return True


# --------------------------------------------------------------------------- schema

def json_schema() -> Dict[str, Any]:
    """The library format as JSON Schema, rendered from the same tables the loader checks."""

    def prop(spec: FieldSpec) -> Dict[str, Any]:
        out: Dict[str, Any] = {"description": spec.description}
        if spec.kind in ("text", "path"):
            out.update(type="string", minLength=1)
        elif spec.kind == "id":
            out.update(type="string", pattern=ID_PATTERN.pattern)
        elif spec.kind == "choice":
            out.update(type="string", enum=list(spec.choices))
        elif spec.kind == "bool":
            out.update(type="boolean")
        elif spec.kind in ("seconds", "count"):
            out["type"] = "number" if spec.kind == "seconds" else "integer"
            if spec.minimum is not None:
                out["exclusiveMinimum" if spec.exclusive_minimum else "minimum"] = spec.minimum
            if spec.maximum is not None:
                out["maximum"] = spec.maximum
        elif spec.kind == "tags":
            out.update(type="array", items={"enum": list(spec.choices)})
        elif spec.kind == "cues":
            out.update(type="array", items={"$ref": "#/$defs/cue"})
        elif spec.kind == "steps":
            out.update(type="array", minItems=1, items={"oneOf": [
                {"type": "string", "pattern": ID_PATTERN.pattern}, {"$ref": "#/$defs/step"}]})
        elif spec.kind == "cue_time":
            out["oneOf"] = [{"type": "string", "pattern": PERCENT_PATTERN.pattern},
                            {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_SECONDS}]
        if spec.default is not None and spec.kind != "text":
            out["default"] = spec.default
        elif isinstance(spec.default, str) and spec.default:
            out["description"] += f" Default: {spec.default}."
        return out

    def obj(specs: Sequence[FieldSpec]) -> Dict[str, Any]:
        return {
            "type": "object",
            "additionalProperties": False,
            "required": [s.name for s in specs if s.required],
            "properties": {s.name: prop(s) for s in specs},
        }

    exercise = obj(EXERCISE_FIELDS)
    exercise["oneOf"] = [{"required": ["duration"]}, {"required": ["reps", "seconds_per_rep"]}]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "home-exercise-kiosk library file",
        "description": "A YAML file under exercises/ with an exercises: list, a routines: list, or both.",
        "type": "object",
        "additionalProperties": False,
        "minProperties": 1,
        "properties": {
            "exercises": {"type": "array", "items": {"$ref": "#/$defs/exercise"}},
            "routines": {"type": "array", "items": {"$ref": "#/$defs/routine"}},
        },
        "$defs": {
            "exercise": exercise,
            "cue": obj(CUE_FIELDS),
            "routine": obj(ROUTINE_FIELDS),
            "step": obj(STEP_FIELDS),
        },
    }

