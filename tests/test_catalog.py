"""The library loader: every problem at its `path:line:col`, and nothing broken stops the rest."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any, Dict, List, Sequence

import pytest

from kiosk import paths
from kiosk.core import yamldoc
from kiosk.core.catalog import (
    CUE_FIELDS,
    EXERCISE_FIELDS,
    FILE_FIELDS,
    ID_PATTERN,
    MAX_SECONDS,
    ROUTINE_FIELDS,
    STEP_FIELDS,
    FieldSpec,
    Library,
    ascii_id,
    json_schema,
    load_library,
)
from kiosk.core.timeline import build_timeline
from tests.factories import make_exercise, make_routine

CORPUS = Path(__file__).resolve().parent / "corpus"
BROKEN = CORPUS / "broken"
GOOD = CORPUS / "good"
SHIPPED = paths.shipped_exercises_dir()
SCHEMA_FILE = SHIPPED / "library.schema.json"
EXPECT = re.compile(r"^# expect: (\d+):(\d+) (.+)$", re.MULTILINE)

EXERCISE = """\
  - id: {id}
    name: {name}
    instructions: {instructions}
    caption: Slowly
    duration: {duration}
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def exercise_yaml(id: str, duration: Any = 30, name: str = "", instructions: str = "Move slowly.") -> str:
    return EXERCISE.format(id=id, name=name or id.replace("-", " ").capitalize(),
                           instructions=instructions, duration=duration)


def routine_yaml(id: str, steps: Sequence[str], default: bool = False, **fields: Any) -> str:
    text = f"  - id: {id}\n    name: {id.capitalize()}\n" + ("    default: true\n" if default else "")
    text += "".join(f"    {key}: {value}\n" for key, value in fields.items())
    return text + f"    steps: [{', '.join(steps)}]\n"


def lines(library: Library) -> List[str]:
    """The problems as `kiosk validate` prints them."""
    return [str(problem) for problem in library.problems]


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Work in tmp_path, so problems name files the way `kiosk validate` run there would."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --------------------------------------------------------------------------- the broken corpus

def corpus_entries() -> List[str]:
    return sorted(p.name for p in BROKEN.iterdir() if p.suffix == ".yaml" or p.is_dir())


def expectations(entry: Path) -> List[str]:
    """`# expect: L:C message` lines of the file (or of every file of the folder), as output lines."""
    files = sorted(entry.rglob("*.yaml")) if entry.is_dir() else [entry]
    found = []
    for path in files:
        shown = path.relative_to(BROKEN)
        found.extend(f"{shown}:{line}:{col}: {message}"
                     for line, col, message in EXPECT.findall(path.read_text(encoding="utf-8")))
    if entry.name == "empty.yaml":  # no room for a header in an empty file
        found.append("empty.yaml:1:1: file is empty")
    return sorted(found)


@pytest.mark.parametrize("name", corpus_entries())
def test_broken_corpus_reports_each_problem_at_its_place(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(BROKEN)
    expected = expectations(BROKEN / name)
    assert expected, f"{name} says nothing about what it expects"
    reported = sorted(lines(load_library([Path(name)])))
    assert len(reported) == len(expected), "\n".join(reported)
    for want, got in zip(expected, reported):
        place, _, message = want.partition(": ")
        assert got.startswith(place + ": "), f"expected {want!r}\n got      {got!r}"
        assert got[len(place) + 2:].startswith(message), f"expected {want!r}\n got      {got!r}"


CORPUS_KINDS = {
    "yaml-syntax.yaml", "unknown-key.yaml", "duplicate-key.yaml", "wrong-type.yaml",
    "missing-required.yaml", "non-positive-duration.yaml", "absurd-duration.yaml",
    "unknown-exercise.yaml", "duplicate-id", "yaml-tag.yaml", "anchor.yaml", "alias.yaml",
    "alias-bomb.yaml", "empty.yaml", "comments-only.yaml", "two-documents.yaml",
    "duration-and-reps.yaml", "reps-without-pace.yaml", "cue-past-end.yaml", "bad-cue-at.yaml",
    "unknown-tag.yaml", "bad-sides.yaml", "no-default.yaml", "two-defaults.yaml",
    "bad-step-override.yaml",
}


def test_corpus_has_one_file_per_kind_of_problem() -> None:
    assert CORPUS_KINDS <= set(corpus_entries())


def test_empty_corpus_file_is_really_empty() -> None:
    assert (BROKEN / "empty.yaml").read_bytes() == b""


def test_everything_in_the_broken_corpus_is_an_error_not_a_warning() -> None:
    for name in corpus_entries():
        library = load_library([BROKEN / name])
        assert library.errors and not library.warnings, name


def test_file_over_one_mebibyte_is_refused_and_the_rest_load(in_tmp: Path) -> None:
    write(in_tmp, "lib/good.yaml", "exercises:\n" + exercise_yaml("heel-raises"))
    (in_tmp / "lib" / "huge.yaml").write_bytes(b"exercises:\n" + b"#" * (yamldoc.MAX_FILE_BYTES))
    library = load_library([in_tmp / "lib"])
    assert lines(library) == ["lib/huge.yaml:1:1: file is 1,048,587 bytes; the limit is 1,048,576 (1 MiB)"]
    assert list(library.exercises) == ["heel-raises"]


def test_twenty_megabyte_file_is_refused(in_tmp: Path) -> None:
    with open(in_tmp / "huge.yaml", "wb") as handle:
        handle.truncate(20 * 1024 * 1024)
    assert lines(load_library([in_tmp / "huge.yaml"])) == [
        "huge.yaml:1:1: file is 20,971,520 bytes; the limit is 1,048,576 (1 MiB)"]


def test_text_not_utf8_names_the_line_and_column_of_the_bad_byte(in_tmp: Path) -> None:
    text = "exercises:\n" + exercise_yaml("heel-raises", name="Relevés")
    raw = text.encode("utf-8").replace("instructions: Move".encode(), "instructions: M\xf6ve".encode("latin-1"))
    (in_tmp / "latin1.yaml").write_bytes(raw)
    assert lines(load_library([in_tmp / "latin1.yaml"])) == [
        "latin1.yaml:4:20: text is not UTF-8 (byte 0xf6); save the file as UTF-8"]


def test_a_missing_layer_is_reported_and_the_others_load(in_tmp: Path) -> None:
    library = load_library([GOOD, in_tmp / "nowhere"])
    assert lines(library) == ["nowhere:1:1: no such file or folder"]
    assert "morning" in library.routines


# --------------------------------------------------------------------------- one bad thing stops nothing else

def test_good_corpus_loads_cleanly() -> None:
    library = load_library([GOOD])
    assert library.problems == ()
    assert list(library.exercises) == ["heel-raises", "toe-spreads", "clamshells"]
    assert list(library.routines) == ["morning", "quick"]
    assert [p.name for p in library.files] == ["feet.yaml", "routines.yaml"]


@pytest.mark.parametrize("broken", ["yaml-syntax.yaml", "alias-bomb.yaml", "duplicate-key.yaml", "empty.yaml"])
def test_one_broken_file_never_stops_the_good_ones(in_tmp: Path, broken: str) -> None:
    shutil.copytree(GOOD, in_tmp / "lib")
    shutil.copy(BROKEN / broken, in_tmp / "lib" / "aa-broken.yaml")
    library = load_library([in_tmp / "lib"])
    assert [p.path for p in library.problems] == ["lib/aa-broken.yaml"]
    assert list(library.exercises) == ["heel-raises", "toe-spreads", "clamshells"]
    assert list(library.routines) == ["morning", "quick"]
    assert library.default_routine() == library.routines["morning"]


def test_an_invalid_item_does_not_stop_the_others_in_its_file(in_tmp: Path) -> None:
    write(in_tmp, "lib.yaml", (
        "exercises:\n"
        + exercise_yaml("first")
        + exercise_yaml("second", duration="-1")
        + "  - just a string\n"
        + exercise_yaml("third")
        + "routines:\n"
        "  - id: good\n"
        "    name: Good\n"
        "    default: true\n"
        "    steps: [first, third]\n"
        "  - id: typo\n"
        "    name: Typo\n"
        "    stesp: [first]\n"
        "  - id: uses-broken\n"
        "    name: Uses broken\n"
        "    steps: [first, second]\n"
        "  - id: also-good\n"
        "    name: Also good\n"
        "    steps: [third]\n"
    ))
    library = load_library([in_tmp / "lib.yaml"])
    assert lines(library) == [
        "lib.yaml:11:15: 'duration' in exercise 'second' must be more than 0 seconds, not -1",
        "lib.yaml:12:5: each exercise must be a mapping of keys, not 'just a string'",
        "lib.yaml:23:5: routine 'typo' is missing the required key 'steps'",
        "lib.yaml:25:5: unknown key 'stesp' in routine 'typo'; did you mean 'steps'?",
        "lib.yaml:28:20: routine 'uses-broken' uses exercise 'second', which has errors (lib.yaml:11)",
    ]
    assert list(library.exercises) == ["first", "third"]
    assert list(library.routines) == ["good", "also-good"]


# --------------------------------------------------------------------------- layers

def test_a_later_layer_overrides_a_shipped_exercise(in_tmp: Path) -> None:
    write(in_tmp, "mine/feet.yaml", "exercises:\n" + exercise_yaml("toe-spreads", duration=42, name="My toe spreads"))
    library = load_library([SHIPPED, in_tmp / "mine"])
    assert library.problems == ()
    mine = library.exercises["toe-spreads"]
    assert (mine.name, mine.duration_s, mine.reps) == ("My toe spreads", 42.0, None)
    assert mine.source == "mine/feet.yaml:2:5"
    step = next(s for s in library.routines["daily-reset"].steps if s.exercise.id == "toe-spreads")
    assert step.exercise is mine and step.work_s == 42.0


def test_a_user_default_routine_replaces_the_shipped_default_without_error(in_tmp: Path) -> None:
    write(in_tmp, "mine/routines.yaml", "routines:\n" + routine_yaml("evening", ["toe-spreads", "hip-circles"], default=True))
    library = load_library([SHIPPED, in_tmp / "mine"])
    assert library.problems == ()
    assert library.default_routine() == library.routines["evening"]
    assert library.routines["evening"].default
    assert not library.routines["daily-reset"].default


def test_a_broken_override_leaves_the_shipped_exercise_in_place(in_tmp: Path) -> None:
    shipped = load_library([SHIPPED]).exercises["toe-spreads"]
    write(in_tmp, "mine/feet.yaml", "exercises:\n" + exercise_yaml("toe-spreads", duration=0))
    library = load_library([SHIPPED, in_tmp / "mine"])
    assert lines(library) == [
        "mine/feet.yaml:6:15: 'duration' in exercise 'toe-spreads' must be more than 0 seconds, not 0"]
    assert library.exercises["toe-spreads"] == shipped
    assert "daily-reset" in library.routines


@pytest.mark.parametrize("fields, steps, problem", [
    ({"lead_in": "soon"}, ["toe-spreads"],
     "mine/routines.yaml:5:14: 'lead_in' in routine 'daily-reset' must be a number of seconds, not 'soon'"),
    ({}, ["toe-spread"],
     "mine/routines.yaml:5:13: routine 'daily-reset' names unknown exercise 'toe-spread'; did you mean 'toe-spreads'?"),
], ids=["unreadable", "unbuildable"])
def test_a_broken_routine_override_leaves_the_shipped_routine_in_place(
        in_tmp: Path, fields: Dict[str, Any], steps: List[str], problem: str) -> None:
    shipped = load_library([SHIPPED]).routines["daily-reset"]
    write(in_tmp, "mine/routines.yaml", "routines:\n" + routine_yaml("daily-reset", steps, default=True, **fields))
    library = load_library([SHIPPED, in_tmp / "mine"])
    assert lines(library) == [problem]
    kept = library.routines["daily-reset"]
    assert (kept.name, kept.steps, kept.source) == (shipped.name, shipped.steps, shipped.source)
    assert library.default_routine() == kept


def test_the_same_id_in_two_layers_is_not_a_duplicate(in_tmp: Path) -> None:
    write(in_tmp, "one/a.yaml", "exercises:\n" + exercise_yaml("heel-raises", duration=10))
    write(in_tmp, "two/a.yaml", "exercises:\n" + exercise_yaml("heel-raises", duration=20))
    library = load_library([in_tmp / "one", [in_tmp / "two"]])
    assert library.problems == ()
    assert library.exercises["heel-raises"].duration_s == 20.0


def test_two_defaults_in_a_user_layer_are_still_an_error(in_tmp: Path) -> None:
    write(in_tmp, "mine/routines.yaml", "routines:\n" + routine_yaml("one", ["toe-spreads"], default=True)
          + routine_yaml("two", ["toe-spreads"], default=True))
    library = load_library([SHIPPED, in_tmp / "mine"])
    assert lines(library) == ["mine/routines.yaml:8:14: routine 'two' is marked default, but so is 'one' "
                              "(mine/routines.yaml:2); mark exactly one"]
    assert [r.id for r in library.routines.values() if r.default] == ["one"]


# --------------------------------------------------------------------------- default routine

def test_default_routine_honours_a_preferred_id_that_exists() -> None:
    library = load_library([GOOD])
    assert library.default_routine("quick") == library.routines["quick"]
    assert library.default_routine("no-such-routine") == library.routines["morning"]
    assert library.default_routine() == library.routines["morning"]


def test_default_routine_without_any_marked_falls_back_to_the_first() -> None:
    first, second = make_routine(id="first", default=False), make_routine(id="second", default=False)
    library = Library(exercises={}, routines={"first": first, "second": second})
    assert library.default_routine() == first
    assert Library(exercises={}, routines={}).default_routine() is None


def test_errors_and_warnings_split_by_severity() -> None:
    error = yamldoc.Problem("a.yaml", 1, 1, "bad")
    warning = yamldoc.Problem("a.yaml", 2, 1, "odd", "warning")
    library = Library(exercises={"x": make_exercise("x")}, routines={}, problems=(error, warning))
    assert (library.errors, library.warnings) == ((error,), (warning,))


# --------------------------------------------------------------------------- exercises and steps

def test_exercise_fields_become_typed_values() -> None:
    library = load_library([GOOD])
    heel = library.exercises["heel-raises"]
    assert (heel.duration_s, heel.reps, heel.sides, heel.sets, heel.rest_s, heel.switch_s) == (30.0, None, "both", 2, 8.0, 5.0)
    assert heel.limb == "foot"  # an ankle exercise says "foot" when nothing else is given
    assert [(c.text, c.at_fraction, c.at_seconds) for c in heel.cues] == [
        ("Halfway. Keep the knees soft.", 0.5, None), ("Nearly there.", None, 20.0)]
    assert heel.tags == ("ankle", "standing") and heel.safety == "Hold the chair firmly."
    assert heel.source.endswith("feet.yaml:3:5")
    clam = library.exercises["clamshells"]
    assert (clam.reps, clam.seconds_per_rep, clam.limb, clam.switch_s) == (12, 2.0, "leg", 8.0)
    assert clam.duration_s is None


def test_step_forms_and_overrides() -> None:
    library = load_library([GOOD])
    bare, timed, counted = library.routines["morning"].steps
    heel = library.exercises["heel-raises"]
    assert (bare.exercise, bare.duration_s, bare.sets, bare.rest_s, bare.sides) == (heel, 30.0, 2, 8.0, "both")
    # duration on a reps exercise switches the step to timed
    assert (timed.exercise.id, timed.duration_s, timed.reps, timed.seconds_per_rep) == ("toe-spreads", 40.0, None, None)
    # reps keeps the exercise's pace; sets, sides and rest override
    assert (counted.reps, counted.seconds_per_rep, counted.sets, counted.sides, counted.rest_s) == (8, 2.0, 3, "left", 20.0)
    assert counted.work_s == 16.0
    reps_on_timed, pace_only = library.routines["quick"].steps
    # reps with a pace on a timed exercise switches it to counted
    assert (reps_on_timed.duration_s, reps_on_timed.reps, reps_on_timed.seconds_per_rep) == (None, 6, 4.0)
    # a new pace alone keeps the exercise's reps
    assert (pace_only.reps, pace_only.seconds_per_rep, pace_only.work_s) == (10, 2.0, 20.0)


def test_routine_defaults_and_source() -> None:
    quick = load_library([GOOD]).routines["quick"]
    assert (quick.lead_in_s, quick.rest_between_s, quick.default, quick.description) == (10.0, 15.0, False, "")
    assert quick.source.endswith("routines.yaml:18:5")


def test_step_override_that_makes_work_longer_than_an_hour_is_refused(in_tmp: Path) -> None:
    write(in_tmp, "lib.yaml", (
        "exercises:\n" + exercise_yaml("heel-raises") +
        "routines:\n"
        "  - id: long\n"
        "    name: Long\n"
        "    default: true\n"
        "    steps:\n"
        "      - exercise: heel-raises\n"
        "        reps: 500\n"
        "        seconds_per_rep: 60\n"
    ))
    library = load_library([in_tmp / "lib.yaml"])
    assert lines(library) == [f"lib.yaml:12:9: step 'heel-raises' of routine 'long' lasts 30000 seconds per set; "
                              f"the most allowed is {MAX_SECONDS:g}"]
    assert library.routines == {}


def test_the_hour_limit_itself_is_allowed(in_tmp: Path) -> None:
    write(in_tmp, "lib.yaml", "exercises:\n" + exercise_yaml("hour", duration=3600) + (
        "  - id: hour-of-reps\n    name: Reps\n    instructions: Go.\n    caption: Go\n"
        "    reps: 60\n    seconds_per_rep: 60\n"))
    library = load_library([in_tmp / "lib.yaml"])
    assert library.problems == ()
    assert library.exercises["hour"].duration_s == 3600.0


# --------------------------------------------------------------------------- one run says everything

MANY_MISTAKES = """\
exercises:
  - id: heel-raises
    name: Heel raises
    instructions: Stand tall holding a chair.
    caption: Up on the toes
    duration: 30
  - id: Toe Taps
    instructions: Sit and tap your toes.
    caption: [Tap, tap]
    duration: 30
    sides: boht
    colour: blue
    tags: [foot, feet, ankel]
    cues:
      - at: 45
        say: Too late.
      - at: 100%
        say: Also too late.
      - at: 10
      - at: 30
        say: On the last second.
routines:
  - id: evening
    name: Evening
    lead_in: soon
    rest_betwen: 10
    steps:
      - heel-raise
      - exercise: heel-raises
        sides: boht
      - exercise: heel-raises
        duration: 20
        reps: 4
      - [heel-raises]
  - id: fine
    name: Fine
    default: true
    steps: [heel-raises]
"""


def test_every_mistake_of_an_exercise_and_a_routine_is_reported_in_one_load(in_tmp: Path) -> None:
    write(in_tmp, "many.yaml", MANY_MISTAKES)
    library = load_library([in_tmp / "many.yaml"])
    tail = "a cue in seconds must be more than 0 and less than the work period"
    assert lines(library) == [
        "many.yaml:7:5: exercise 'Toe Taps' is missing the required key 'name'",
        "many.yaml:7:9: 'id' in exercise 'Toe Taps' must be a-z, 0-9, - and _ only, starting with a letter "
        "or digit, at most 64 characters (got 'Toe Taps'); try 'toe-taps'",
        "many.yaml:9:14: 'caption' in exercise 'Toe Taps' must be text, not a list",
        "many.yaml:11:12: 'sides' in exercise 'Toe Taps' must be one of both, left, right, none, not 'boht'; "
        "did you mean 'both'?",
        "many.yaml:12:5: unknown key 'colour' in exercise 'Toe Taps' (known keys: id, name, instructions, "
        "caption, duration, reps, seconds_per_rep, sides, limb, switch, sets, rest, cues, image, tags, safety)",
        "many.yaml:13:18: unknown tag 'feet' in exercise 'Toe Taps' (known: foot, ankle, hip, seated, standing, floor)",
        "many.yaml:13:24: unknown tag 'ankel' in exercise 'Toe Taps' (known: foot, ankle, hip, seated, standing, "
        "floor); did you mean 'ankle'?",
        # the cue is checked against the work although the exercise is wrong in other ways
        f"many.yaml:15:9: exercise 'Toe Taps': the cue at 45 s ('Too late.') is past the end of its 30 s of work; {tail}",
        "many.yaml:17:13: 'at' in a cue of exercise 'Toe Taps' must be more than 0% and less than 100%, not 100%",
        "many.yaml:19:9: a cue of exercise 'Toe Taps' is missing the required key 'say'",
        f"many.yaml:20:9: exercise 'Toe Taps': the cue at 30 s ('On the last second.') is at the very end of its "
        f"30 s of work; {tail}",
        "many.yaml:25:14: 'lead_in' in routine 'evening' must be a number of seconds, not 'soon'",
        "many.yaml:26:5: unknown key 'rest_betwen' in routine 'evening'; did you mean 'rest_between'?",
        # the steps are checked although the routine's own fields are wrong
        "many.yaml:28:9: routine 'evening' names unknown exercise 'heel-raise'; did you mean 'heel-raises'?",
        "many.yaml:30:16: 'sides' in a step of routine 'evening' must be one of both, left, right, none, "
        "not 'boht'; did you mean 'both'?",
        "many.yaml:31:9: step 'heel-raises' of routine 'evening' gives both 'duration' and 'reps'; give one",
        "many.yaml:34:9: each step of routine 'evening' must be an exercise id or a mapping, not a list",
    ]
    assert list(library.exercises) == ["heel-raises"]
    assert list(library.routines) == ["fine"], "a routine with errors is left out, like a broken exercise"


def test_a_cue_is_checked_against_a_counted_work_period_while_other_fields_are_wrong(in_tmp: Path) -> None:
    write(in_tmp, "lib.yaml", (
        "exercises:\n"
        "  - id: toe-taps\n"
        "    name: Toe taps\n"
        "    caption: Tap\n"
        "    reps: 10\n"
        "    seconds_per_rep: 3\n"
        "    sets: 0\n"
        "    cues:\n"
        "      - at: 31\n"
        "        say: Keep going.\n"
    ))
    assert lines(load_library([in_tmp / "lib.yaml"])) == [
        "lib.yaml:2:5: exercise 'toe-taps' is missing the required key 'instructions'",
        "lib.yaml:7:11: 'sets' in exercise 'toe-taps' must be at least 1, not 0",
        "lib.yaml:9:9: exercise 'toe-taps': the cue at 31 s ('Keep going.') is past the end of its 30 s of work "
        "(10 reps of 3 s); a cue in seconds must be more than 0 and less than the work period",
    ]


@pytest.mark.parametrize("timing", ["    duration: thirty\n", "    reps: 10\n    seconds_per_rep: fast\n"],
                         ids=["duration", "pace"])
def test_a_cue_is_not_judged_against_a_work_period_that_does_not_read(in_tmp: Path, timing: str) -> None:
    write(in_tmp, "lib.yaml", (
        "exercises:\n  - id: toe-taps\n    name: Toe taps\n    instructions: Tap.\n    caption: Tap\n"
        + timing + "    cues:\n      - at: 3000\n        say: Late.\n"))
    [problem] = load_library([in_tmp / "lib.yaml"]).problems
    assert "must be a number of seconds" in problem.message


# --------------------------------------------------------------------------- cues and step overrides

OVERRIDE_LIBRARY = """\
exercises:
  - id: heel-slides
    name: Heel slides
    instructions: Lie on your back and slide one heel away.
    caption: Slide the heel
    duration: 40
    cues:
      - at: 25
        say: Keep the back flat.
      - at: 50%
        say: Halfway.
  - id: clamshells
    name: Clamshells
    instructions: Lie on your side and open the knees.
    caption: Open and close
    reps: 10
    seconds_per_rep: 3
    cues:
      - at: 24
        say: Two more.
routines:
  - id: other
    name: Other
    default: true
    steps: [heel-slides, clamshells]
  - id: evening-hips
    name: Evening hips
    steps:
{steps}"""


def override_library(folder: Path, steps: str) -> Library:
    write(folder, "lib.yaml", OVERRIDE_LIBRARY.format(steps=steps))
    return load_library([folder / "lib.yaml"])


@pytest.mark.parametrize("steps, problem", [
    ("      - clamshells\n      - exercise: heel-slides\n        duration: 20\n",
     "lib.yaml:30:9: routine 'evening-hips' step 2 (heel-slides): the cue at 25 s ('Keep the back flat.') is past "
     "the end of this step's 20 s of work"),
    ("      - exercise: heel-slides\n        duration: 25\n",
     "lib.yaml:29:9: routine 'evening-hips' step 1 (heel-slides): the cue at 25 s ('Keep the back flat.') is at "
     "the very end of this step's 25 s of work"),
    ("      - exercise: heel-slides\n        reps: 5\n        seconds_per_rep: 4\n",
     "lib.yaml:29:9: routine 'evening-hips' step 1 (heel-slides): the cue at 25 s ('Keep the back flat.') is past "
     "the end of this step's 20 s of work (5 reps of 4 s)"),
    ("      - exercise: clamshells\n        reps: 6\n",
     "lib.yaml:29:9: routine 'evening-hips' step 1 (clamshells): the cue at 24 s ('Two more.') is past "
     "the end of this step's 18 s of work (6 reps of 3 s)"),
    ("      - exercise: clamshells\n        seconds_per_rep: 2\n",
     "lib.yaml:29:9: routine 'evening-hips' step 1 (clamshells): the cue at 24 s ('Two more.') is past "
     "the end of this step's 20 s of work (10 reps of 2 s)"),
], ids=["duration", "duration-to-the-cue", "reps-and-pace", "reps", "pace"])
def test_a_step_override_that_leaves_no_room_for_a_cue_is_an_error_naming_the_step(
        in_tmp: Path, steps: str, problem: str) -> None:
    library = override_library(in_tmp, steps)
    assert lines(library) == [problem + "; a cue in seconds must be more than 0 and less than the work period"]
    assert list(library.routines) == ["other"], "left out, like a routine naming an unknown exercise"


def test_every_step_that_cuts_a_cue_is_reported(in_tmp: Path) -> None:
    library = override_library(in_tmp, "      - exercise: heel-slides\n        duration: 10\n"
                                       "      - exercise: clamshells\n        reps: 2\n")
    assert [(p.line, p.message.split(":")[0]) for p in library.problems] == [
        (29, "routine 'evening-hips' step 1 (heel-slides)"), (31, "routine 'evening-hips' step 2 (clamshells)")]


def test_overrides_that_keep_room_for_every_cue_load_and_percentages_always_fit(in_tmp: Path) -> None:
    library = override_library(in_tmp, "      - exercise: heel-slides\n        duration: 30\n"
                                       "      - exercise: clamshells\n        reps: 9\n")
    assert library.problems == ()
    heel, clam = library.routines["evening-hips"].steps
    assert (heel.work_s, clam.work_s) == (30.0, 27.0)
    timeline = build_timeline(library.routines["evening-hips"])
    said = {cue.text: cue.at_s - timeline.first_work_start(0) for cue in timeline.cues
            if cue.at_s < timeline.last_work_end(0)}
    assert (said["Keep the back flat."], said["Halfway."]) == (25.0, 15.0)  # both cues kept in the plan


def test_a_percentage_cue_fits_any_override(in_tmp: Path) -> None:
    write(in_tmp, "lib.yaml", "exercises:\n" + exercise_yaml("heel-raises") + "    cues:\n      - at: 90%\n"
          "        say: Last bit.\nroutines:\n  - id: brief\n    name: Brief\n    default: true\n    steps:\n"
          "      - exercise: heel-raises\n        duration: 2\n")
    library = load_library([in_tmp / "lib.yaml"])
    assert library.errors == ()
    assert library.routines["brief"].steps[0].work_s == 2.0


def test_a_user_override_that_cuts_a_shipped_cue_is_an_error(in_tmp: Path) -> None:
    shipped = load_library([SHIPPED])
    exercise = next(e for e in shipped.exercises.values() if any(c.at_seconds for c in e.cues))
    latest = max(c.at_seconds or 0 for c in exercise.cues)
    write(in_tmp, "mine/routines.yaml", (
        "routines:\n  - id: mine\n    name: Mine\n    steps:\n"
        f"      - exercise: {exercise.id}\n        duration: {latest:g}\n"))
    library = load_library([SHIPPED, in_tmp / "mine"])
    [problem] = library.problems
    assert problem.path == "mine/routines.yaml" and (problem.line, problem.col) == (5, 9)
    assert problem.message.startswith(f"routine 'mine' step 1 ({exercise.id}): the cue at {latest:g} s")
    assert f"is at the very end of this step's {latest:g} s of work" in problem.message
    assert "mine" not in library.routines and "daily-reset" in library.routines


@pytest.mark.parametrize("at, message", [
    ("100%", "must be more than 0% and less than 100%, not 100%"),
    ("0%", "must be more than 0% and less than 100%, not 0%"),
    ("0", "must be more than 0 seconds and less than the work period, not 0"),
    ("4000", "must be more than 0 seconds and less than the work period, not 4000"),
    ("soon", "must be a percentage like \"50%\" (more than 0% and less than 100%) or seconds (more than 0 and "
             "less than the work period), not 'soon'"),
])
def test_a_cue_time_out_of_bounds_says_the_real_bounds(in_tmp: Path, at: str, message: str) -> None:
    write(in_tmp, "lib.yaml", "exercises:\n" + exercise_yaml("heel-raises")
          + f"    cues:\n      - at: {at}\n        say: Hm.\n")
    assert lines(load_library([in_tmp / "lib.yaml"])) == [
        f"lib.yaml:8:13: 'at' in a cue of exercise 'heel-raises' {message}"]


def test_cue_times_just_inside_the_bounds_load(in_tmp: Path) -> None:
    write(in_tmp, "lib.yaml", "exercises:\n" + exercise_yaml("heel-raises") + (
        "    cues:\n      - at: 0.5%\n        say: A.\n      - at: 99.5%\n        say: B.\n"
        "      - at: 0.1\n        say: C.\n      - at: 29.9\n        say: D.\n"))
    library = load_library([in_tmp / "lib.yaml"])
    assert library.problems == ()
    assert [(c.at_fraction, c.at_seconds) for c in library.exercises["heel-raises"].cues] == [
        (0.005, None), (0.995, None), (None, 0.1), (None, 29.9)]


# --------------------------------------------------------------------------- ids

@pytest.mark.parametrize("written, suggested", [
    ("einmal-hüfte", "einmal-huefte"),
    ("Große Zehe", "grosse-zehe"),
    ("ÜBUNG_eins", "uebung_eins"),
    ("café  au lait", "cafe-au-lait"),
    ("-heel-raises", "heel-raises"),
    ("Fuß" * 30, ("fuss" * 16)),
])
def test_an_id_outside_a_z_names_what_is_allowed_and_suggests_its_ascii_form(
        in_tmp: Path, written: str, suggested: str) -> None:
    assert ascii_id(written) == suggested
    write(in_tmp, "lib.yaml", "exercises:\n" + exercise_yaml(written, name="Mine"))
    [problem] = load_library([in_tmp / "lib.yaml"]).problems
    assert problem.message == (f"'id' in exercise {written!r} must be a-z, 0-9, - and _ only, starting with a letter "
                               f"or digit, at most 64 characters (got {written!r}); try {suggested!r}")


@pytest.mark.parametrize("written", ["🦶", "---", "heel-raises"])
def test_no_id_is_suggested_when_there_is_no_other_ascii_form(written: str) -> None:
    assert ascii_id(written) is None


def test_ids_stay_ascii_in_the_loader_and_the_schema() -> None:
    assert ID_PATTERN.match("heel_raises-2") and not ID_PATTERN.match("hüfte") and not ID_PATTERN.match("a" * 65)
    assert json_schema()["$defs"]["exercise"]["properties"]["id"]["pattern"] == "^[a-z0-9][a-z0-9_-]{0,63}$"


def test_a_step_naming_an_id_with_accents_gets_the_suggestion_too(in_tmp: Path) -> None:
    write(in_tmp, "lib.yaml", "exercises:\n" + exercise_yaml("einmal-huefte") + "routines:\n"
          + routine_yaml("daily", ["einmal-hüfte"], default=True))
    [problem] = load_library([in_tmp / "lib.yaml"]).problems
    assert problem.message.startswith("'exercise' in a step of routine 'daily' must be a-z, 0-9, - and _ only")
    assert problem.message.endswith("; try 'einmal-huefte'")


# --------------------------------------------------------------------------- pictures

def test_a_missing_image_is_a_warning_and_the_exercise_still_loads(in_tmp: Path) -> None:
    write(in_tmp, "lib.yaml", "exercises:\n" + exercise_yaml("heel-raises") + "    image: heel-raises.png\n")
    library = load_library([in_tmp / "lib.yaml"])
    assert library.errors == ()
    [warning] = library.warnings
    assert (warning.path, warning.line, warning.col, warning.severity) == ("lib.yaml", 7, 12, "warning")
    assert warning.message.startswith("picture 'heel-raises.png' of exercise 'heel-raises' not found (looked in ")
    assert str(warning).startswith("lib.yaml:7:12: warning: picture")
    assert library.exercises["heel-raises"].image is None


def test_an_image_is_found_beside_the_file_or_in_shipped_media(in_tmp: Path) -> None:
    write(in_tmp, "lib/media/near.png", "png")
    write(in_tmp, "shipped-media/far.png", "png")
    write(in_tmp, "lib/feet.yaml", "exercises:\n"
          + exercise_yaml("near") + "    image: near.png\n"
          + exercise_yaml("far") + "    image: far.png\n"
          + exercise_yaml("absolute") + f"    image: {in_tmp / 'shipped-media' / 'far.png'}\n")
    library = load_library([in_tmp / "lib"], in_tmp / "shipped-media")
    assert library.problems == ()
    assert library.exercises["near"].image == str((in_tmp / "lib/media/near.png").resolve())
    assert library.exercises["far"].image == str((in_tmp / "shipped-media/far.png").resolve())
    assert library.exercises["absolute"].image == str((in_tmp / "shipped-media/far.png").resolve())


# --------------------------------------------------------------------------- crowded announcements

def crowded_library(folder: Path, rest_between: int) -> Library:
    long_words = " ".join(["Keep the heel down and breathe out slowly."] * 6)
    write(folder, "lib.yaml", (
        "exercises:\n" + exercise_yaml("short-one") + exercise_yaml("wordy-one", instructions=long_words)
        + "routines:\n" + routine_yaml("hurried", ["short-one", "wordy-one"], default=True, rest_between=rest_between)
    ))
    return load_library([folder / "lib.yaml"])


def test_an_announcement_with_too_little_rest_is_a_warning_naming_the_step(in_tmp: Path) -> None:
    library = crowded_library(in_tmp, rest_between=2)
    assert library.errors == ()
    [warning] = library.warnings
    assert (warning.path, warning.line, warning.col) == ("lib.yaml", 17, 24)
    assert warning.message.startswith("routine 'hurried', step 2: 'Rest. Next up: Wordy one.")
    assert '"Begin." is left out; make rest_between at least ' in warning.message
    needed = int(warning.message.split("make rest_between at least ")[1].split()[0])
    assert "hurried" in library.routines
    assert crowded_library(in_tmp, rest_between=needed).problems == (), "the rest it names is enough"
    assert crowded_library(in_tmp, rest_between=needed - 1).warnings, "and a second less is not"


def test_a_cue_the_plan_leaves_out_for_a_more_important_phrase_is_a_warning(in_tmp: Path) -> None:
    write(in_tmp, "lib.yaml", (
        "exercises:\n"
        "  - id: late-reminder\n    name: Late reminder\n    instructions: Move slowly.\n"
        "    caption: Slowly\n    duration: 26\n    cues:\n      - at: 25\n        say: Keep the knee soft.\n"
        + exercise_yaml("next-one")
        + "routines:\n" + routine_yaml("late", ["late-reminder", "next-one"], default=True)
    ))
    library = load_library([in_tmp / "lib.yaml"])
    assert library.errors == ()
    assert [w.message for w in library.warnings] == [
        "routine 'late', step 1 (late-reminder): the cue 'Keep the knee soft.' would be spoken over "
        "'Rest. Next up: Next one. Move slowly.', so it is left out; move it earlier"]


def test_enough_rest_for_the_announcement_gives_no_warning(in_tmp: Path) -> None:
    assert crowded_library(in_tmp, rest_between=30).problems == ()


# --------------------------------------------------------------------------- the shipped library and the schema

def test_shipped_library_loads_with_no_errors_and_no_warnings(shipped_library: Library) -> None:
    assert lines(shipped_library) == []
    assert shipped_library.exercises and shipped_library.routines
    assert sum(routine.default for routine in shipped_library.routines.values()) == 1
    assert {p.name for p in shipped_library.files} == {p.name for p in SHIPPED.glob("*.yaml")}


def test_committed_schema_matches_json_schema() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == json.dumps(json_schema(), indent=2) + "\n", \
        "run `kiosk schema > exercises/library.schema.json`"


@pytest.mark.parametrize("definition, specs", [
    ("exercise", EXERCISE_FIELDS), ("routine", ROUTINE_FIELDS), ("step", STEP_FIELDS), ("cue", CUE_FIELDS),
])
def test_every_field_table_matches_the_schema(definition: str, specs: Sequence[FieldSpec]) -> None:
    schema = json_schema()["$defs"][definition]
    assert list(schema["properties"]) == [spec.name for spec in specs]
    assert schema["required"] == [spec.name for spec in specs if spec.required]
    assert schema["additionalProperties"] is False
    for spec in specs:
        prop = schema["properties"][spec.name]
        assert prop["description"].startswith(spec.description)
        if spec.choices and spec.kind == "choice":
            assert prop["enum"] == list(spec.choices)
        if spec.maximum is not None:
            assert prop["maximum"] == spec.maximum


def test_the_file_level_keys_match_the_schema() -> None:
    schema = json_schema()
    assert list(schema["properties"]) == [spec.name for spec in FILE_FIELDS]
    assert schema["additionalProperties"] is False


def _schema_errors(value: Any, schema: Dict[str, Any], root: Dict[str, Any], where: str) -> List[str]:
    """Just enough JSON Schema for our own schema: refs, types, keys, enums, bounds, oneOf."""
    if "$ref" in schema:
        return _schema_errors(value, root["$defs"][schema["$ref"].rsplit("/", 1)[1]], root, where)
    errors: List[str] = []
    if "oneOf" in schema:
        matching = [option for option in schema["oneOf"] if not _schema_errors(value, option, root, where)]
        if len(matching) != 1:
            errors.append(f"{where}: matches {len(matching)} of oneOf")
    kind = schema.get("type")
    checks = {"object": dict, "array": list, "string": str, "boolean": bool}
    if kind in checks and not isinstance(value, checks[kind]):
        return errors + [f"{where}: not {kind}"]
    if kind in ("number", "integer"):
        if isinstance(value, bool) or not isinstance(value, int if kind == "integer" else (int, float)):
            return errors + [f"{where}: not {kind}"]
        if value > schema.get("maximum", value) or value < schema.get("minimum", value):
            errors.append(f"{where}: out of range")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            errors.append(f"{where}: out of range")
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{where}: {value!r} not in enum")
    if "pattern" in schema and isinstance(value, str) and not re.search(schema["pattern"], value):
        errors.append(f"{where}: {value!r} does not match")
    if isinstance(value, dict):
        if len(value) < schema.get("minProperties", 0):
            errors.append(f"{where}: too few keys")
        for key in schema.get("required", []):
            if key not in value:
                errors.append(f"{where}: missing {key}")
        properties = schema.get("properties", {})
        for key, item in value.items():
            if key not in properties:
                if schema.get("additionalProperties") is False:
                    errors.append(f"{where}: unknown key {key}")
                continue
            errors.extend(_schema_errors(item, properties[key], root, f"{where}.{key}"))
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            errors.append(f"{where}: too few items")
        for index, item in enumerate(value):
            errors.extend(_schema_errors(item, schema.get("items", {}), root, f"{where}[{index}]"))
    return errors


@pytest.mark.parametrize("path", sorted(SHIPPED.glob("*.yaml")) + sorted(GOOD.glob("*.yaml")),
                         ids=lambda path: f"{path.parent.name}/{path.name}")
def test_library_files_satisfy_the_schema(path: Path) -> None:
    schema = json_schema()
    assert _schema_errors(yamldoc.to_plain(yamldoc.read_document(path)), schema, schema, path.name) == []


@pytest.mark.parametrize("name", ["unknown-key.yaml", "missing-required.yaml", "duration-and-reps.yaml",
                                  "bad-sides.yaml", "unknown-tag.yaml", "non-positive-duration.yaml"])
def test_the_schema_rejects_what_the_loader_rejects(name: str) -> None:
    schema = json_schema()
    assert _schema_errors(yamldoc.to_plain(yamldoc.read_document(BROKEN / name)), schema, schema, name) != []


def test_a_users_exercise_whose_cue_a_shipped_routines_override_cuts_keeps_the_routine(in_tmp: Path) -> None:
    """The shipped 'full-foot-to-hip' gives calf-stretch 25 s; a user's calf-stretch with a cue at 30 s
    must not make the shipped routine vanish, and the warning names the user's own file."""
    shipped = load_library([SHIPPED])
    [step_number] = [number for number, step in enumerate(shipped.routines["full-foot-to-hip"].steps, 1)
                     if step.exercise.id == "calf-stretch"]
    write(in_tmp / "mine", "calf.yaml", (
        "exercises:\n  - id: calf-stretch\n    name: Calf stretch\n    instructions: Lean on the wall.\n"
        "    caption: Lean\n    duration: 45\n    cues:\n      - at: 30\n        say: Breathe out.\n"))
    library = load_library([SHIPPED, in_tmp / "mine"])
    assert library.errors == ()
    assert "full-foot-to-hip" in library.routines
    [warning] = [w for w in library.warnings if "calf-stretch" in w.message]
    assert warning.path == "mine/calf.yaml"
    assert warning.message.startswith("exercise 'calf-stretch': the cue at 30 s ('Breathe out.') is past the end "
                                      f"of the 25 s of work that routine 'full-foot-to-hip' step {step_number} gives it")
    assert warning.message.endswith("the cue is left out there")
    plan = build_timeline(library.routines["full-foot-to-hip"])
    assert "Breathe out." not in [cue.text for cue in plan.cues]


@pytest.mark.parametrize("timing", ["reps: 10\n    seconds_per_rep: 3\n    duraton: 30",
                                    "duration: 30\n    rep: 10"])
def test_a_mistyped_key_beside_a_whole_timing_is_only_a_typo(in_tmp: Path, timing: str) -> None:
    write(in_tmp, "lib.yaml", "exercises:\n  - id: typo-a\n    name: Typo\n    instructions: Move.\n"
                              f"    caption: Move\n    {timing}\n")
    library = load_library([in_tmp / "lib.yaml"])
    assert len(library.errors) == 1, lines(library)
    assert "unknown key" in library.errors[0].message and "did you mean" in library.errors[0].message


def test_a_set_rest_too_short_for_its_phrase_is_a_warning(in_tmp: Path) -> None:
    write(in_tmp, "lib.yaml", (
        "exercises:\n  - id: quick-sets\n    name: Quick sets\n    instructions: Move.\n    caption: Move\n"
        "    duration: 20\n    sets: 3\n    rest: 2\n"
        + "routines:\n" + routine_yaml("sets", ["quick-sets"], default=True)))
    library = load_library([in_tmp / "lib.yaml"])
    assert library.errors == ()
    [warning] = library.warnings
    assert "'Rest. Set 2 of 3 next.'" in warning.message
    assert warning.message.endswith('"Begin." is left out; make the rest between sets at least 3')


def test_a_cue_pushed_out_by_begin_is_told_to_move_later_once_for_every_set(in_tmp: Path) -> None:
    write(in_tmp, "lib.yaml", (
        "exercises:\n  - id: early-reminder\n    name: Early reminder\n    instructions: Move slowly.\n"
        "    caption: Slowly\n    duration: 30\n    sets: 2\n    rest: 10\n"
        "    cues:\n      - at: 0.5\n        say: Keep the knee soft.\n"
        + "routines:\n" + routine_yaml("early", ["early-reminder"], default=True)))
    library = load_library([in_tmp / "lib.yaml"])
    assert [w.message for w in library.warnings] == [
        "routine 'early', step 1 (early-reminder): the cue 'Keep the knee soft.' would be spoken over "
        "'Begin.', so it is left out; move it later (2 times)"]


def test_a_step_with_another_key_wrong_is_still_checked_against_its_cues(in_tmp: Path) -> None:
    write(in_tmp, "lib.yaml", (
        "exercises:\n  - id: wall-sit\n    name: Wall sit\n    instructions: Sit against the wall.\n"
        "    caption: Sit\n    duration: 40\n    cues:\n      - at: 25\n        say: Breathe.\n"
        "routines:\n  - id: sits\n    name: Sits\n    default: true\n"
        "    steps:\n      - exercise: wall-sit\n        duration: 20\n        sets: 0\n"))
    library = load_library([in_tmp / "lib.yaml"])
    messages = [p.message for p in library.errors]
    assert any("'sets'" in m for m in messages), messages
    assert any("the cue at 25 s ('Breathe.') is past the end of this step's 20 s of work" in m
               for m in messages), messages
    assert "sits" not in library.routines


def test_a_pace_alone_on_a_timed_exercise_is_a_warning_not_silence(in_tmp: Path) -> None:
    write(in_tmp, "lib.yaml", (
        "exercises:\n" + exercise_yaml("timed-one", duration=40)
        + "routines:\n  - id: paced\n    name: Paced\n    default: true\n"
        "    steps:\n      - exercise: timed-one\n        seconds_per_rep: 3\n"))
    library = load_library([in_tmp / "lib.yaml"])
    assert library.errors == ()
    [warning] = library.warnings
    assert "'seconds_per_rep' without 'reps' changes nothing" in warning.message
    assert library.routines["paced"].steps[0].work_s == 40


@pytest.mark.parametrize("kind", ["exercise", "routine"])
def test_an_id_used_twice_is_reported_even_when_its_first_copy_is_broken(in_tmp: Path, kind: str) -> None:
    if kind == "exercise":
        text = ("exercises:\n  - id: twice\n    name: Twice\n    instructions: Move.\n    caption: Move\n"
                "    duration: -5\n" + exercise_yaml("twice") + "routines:\n" + routine_yaml("r", ["twice"], default=True))
    else:
        text = ("exercises:\n" + exercise_yaml("one") + "routines:\n"
                "  - id: r-two\n    name: R two\n    lead_in: -1\n    steps: [one]\n"
                + routine_yaml("r-two", ["one"], default=True))
    write(in_tmp, "lib.yaml", text)
    library = load_library([in_tmp / "lib.yaml"])
    duplicates = [p for p in library.errors if "is already defined at lib.yaml:" in p.message]
    assert len(duplicates) == 1, lines(library)
    assert f"{kind} id " in duplicates[0].message
