"""The shipped library as a new owner meets it: the promised exercises, routines and pictures.

test_catalog.py checks the loader; these tests check what we ship with it: the content
issue's exercises and routines, their promised lengths, spoken text short enough to
follow, and a picture (with its editable source) for every exercise.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import List, Tuple

import pytest

from kiosk import paths
from kiosk.core.catalog import Library
from kiosk.core.model import Exercise, Routine
from kiosk.core.timeline import build_timeline

PICTURES = paths.shipped_media_dir() / "pictures"
RENDER_SCRIPT = PICTURES / "render.py"
SAFETY_NOTE = paths.project_root() / "docs" / "safety.md"

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MIN_PICTURE_PX = 512

MAX_INSTRUCTION_WORDS = 25
"""An instruction is spoken in one breath before the timer starts."""
MAX_SENTENCE_WORDS = 15
MAX_CUE_WORDS = 12
"""A reminder is said during the work, so it must be quick to take in."""
MAX_CAPTION_WORDS = 8
MAX_SAFETY_WORDS = 25
POSITIONS = ("Sit", "Stand", "Lie", "Kneel")
"""The first word of every instruction: where the body is, before what it does."""
THIRD_PERSON = re.compile(r"\b(the (patient|person|user)|he|she|his|her|they|their)\b", re.IGNORECASE)
"""Instructions speak to the person, as commands and "your", never about them."""

EXPECTED_EXERCISES = (
    # feet and ankles
    "toe-spreads", "toe-lifts", "arch-lifts", "ankle-circles", "ankle-alphabet", "heel-raises",
    "towel-scrunches", "ball-arch-massage",
    # hips
    "hip-circles", "clamshells", "glute-bridges", "side-leg-raises", "hip-flexor-stretch",
    "figure-four-stretch", "hip-switches",
)

ROUTINE_MINUTES = {
    "daily-reset": ("Daily foot & hip reset", 5),
    "morning-feet": ("Morning feet", 4),
    "hip-strength": ("Hip strength", 10),
    "full-foot-to-hip": ("Full foot-to-hip", 15),
    "desk-break": ("Desk break", 2),
    "gentle-start": ("Gentle start", 5),
}
LENGTH_TOLERANCE = 0.10


def words(text: str) -> int:
    return len(text.split())


def sentences(text: str) -> List[str]:
    return [part for part in re.split(r"(?<=[.!?])\s+", text.strip()) if part]


def step_exercises(routine: Routine) -> List[Exercise]:
    return [step.exercise for step in routine.steps]


def png_size(path: Path) -> Tuple[int, int]:
    """Width and height from the IHDR chunk, which a valid PNG has right after its signature."""
    header = path.read_bytes()[:24]
    assert header[:8] == PNG_SIGNATURE, f"{path.name} is not a PNG"
    length, chunk = struct.unpack(">I4s", header[8:16])
    assert (length, chunk) == (13, b"IHDR"), f"{path.name} does not start with an IHDR chunk"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


# --------------------------------------------------------------------------- the library as a whole

def test_the_shipped_library_validates_with_no_errors_and_no_warnings(shipped_library: Library) -> None:
    assert [str(problem) for problem in shipped_library.problems] == []


def test_it_has_the_promised_exercises_and_routines(shipped_library: Library) -> None:
    assert len(shipped_library.exercises) >= 14
    assert len(shipped_library.routines) >= 6
    assert set(EXPECTED_EXERCISES) <= set(shipped_library.exercises)
    assert set(ROUTINE_MINUTES) <= set(shipped_library.routines)


def test_the_one_tap_routine_is_the_daily_reset_with_its_five_steps(shipped_library: Library) -> None:
    routine = shipped_library.default_routine()
    assert routine is not None and routine.id == "daily-reset" and routine.default
    assert [e.id for e in step_exercises(routine)] == [
        "ball-arch-massage", "toe-spreads", "arch-lifts", "ankle-circles", "hip-circles"]


@pytest.mark.parametrize("routine_id", sorted(ROUTINE_MINUTES))
def test_each_routine_lasts_what_its_name_promises(shipped_library: Library, routine_id: str) -> None:
    name, minutes = ROUTINE_MINUTES[routine_id]
    routine = shipped_library.routines[routine_id]
    total_s = build_timeline(routine).total_s
    assert routine.name == name
    assert routine.description
    assert abs(total_s - minutes * 60) <= LENGTH_TOLERANCE * minutes * 60, \
        f"{routine_id} lasts {total_s:g} s; promised {minutes} min"


def test_morning_feet_is_all_seated(shipped_library: Library) -> None:
    routine = shipped_library.routines["morning-feet"]
    assert all("seated" in e.tags and "floor" not in e.tags for e in step_exercises(routine))


def test_desk_break_is_standing_or_seated(shipped_library: Library) -> None:
    routine = shipped_library.routines["desk-break"]
    for exercise in step_exercises(routine):
        assert {"standing", "seated"} & set(exercise.tags) and "floor" not in exercise.tags, exercise.id


def test_gentle_start_is_slower_with_fewer_reps_and_no_floor_work(shipped_library: Library) -> None:
    gentle = shipped_library.routines["gentle-start"]
    assert not [e.id for e in step_exercises(gentle) if "floor" in e.tags]
    assert gentle.rest_between_s > shipped_library.routines["daily-reset"].rest_between_s
    counted = [step for step in gentle.steps if step.reps is not None]
    assert counted
    for step in counted:
        exercise = step.exercise
        assert exercise.reps is not None and exercise.seconds_per_rep is not None
        assert step.reps < exercise.reps and step.seconds_per_rep is not None
        assert step.seconds_per_rep > exercise.seconds_per_rep, exercise.id


@pytest.mark.parametrize("exercise_id", ["ankle-circles", "hip-circles"])
def test_circles_go_each_direction_on_each_side(shipped_library: Library, exercise_id: str) -> None:
    exercise = shipped_library.exercises[exercise_id]
    assert exercise.sides == "both"
    assert any(cue.at_fraction == 0.5 and "other way" in cue.text for cue in exercise.cues)


def test_sided_exercises_name_a_foot_or_a_leg_when_switching(shipped_library: Library) -> None:
    for exercise in shipped_library.exercises.values():
        if exercise.sides == "both":
            assert exercise.limb in ("foot", "leg"), exercise.id


# --------------------------------------------------------------------------- what is said and shown

def test_instructions_name_the_position_first_and_stay_short(shipped_library: Library) -> None:
    for exercise in shipped_library.exercises.values():
        text = exercise.instructions
        assert text.split()[0] in POSITIONS, f"{exercise.id}: start with the position, not {text.split()[0]!r}"
        assert not THIRD_PERSON.search(text), f"{exercise.id}: speak to the person, not about them"
        assert words(text) <= MAX_INSTRUCTION_WORDS, f"{exercise.id}: {words(text)} words"
        for sentence in sentences(text):
            assert words(sentence) <= MAX_SENTENCE_WORDS, f"{exercise.id}: {sentence!r}"


def test_the_position_word_agrees_with_the_tags(shipped_library: Library) -> None:
    """The routines pick exercises by tag (all seated, no floor), so the tags must tell the truth."""
    for exercise in shipped_library.exercises.values():
        text, tags = exercise.instructions, set(exercise.tags)
        if text.startswith("Stand"):
            assert "standing" in tags and "floor" not in tags, exercise.id
        elif text.startswith(("Lie", "Kneel", "Sit on the floor")):
            assert "floor" in tags, exercise.id
        else:
            assert text.startswith("Sit") and "seated" in tags and "floor" not in tags, exercise.id


def test_cues_captions_and_safety_notes_are_short(shipped_library: Library) -> None:
    for exercise in shipped_library.exercises.values():
        assert words(exercise.caption) <= MAX_CAPTION_WORDS, exercise.id
        for cue in exercise.cues:
            assert words(cue.text) <= MAX_CUE_WORDS, f"{exercise.id}: {cue.text!r}"
        if exercise.safety is not None:
            assert words(exercise.safety) <= MAX_SAFETY_WORDS, exercise.id


def test_floor_standing_and_deep_hip_exercises_carry_a_safety_note(shipped_library: Library) -> None:
    """Getting down to the floor and balancing are the risks; deep hip turns after a hip replacement."""
    for exercise in shipped_library.exercises.values():
        if {"floor", "standing"} & set(exercise.tags):
            assert exercise.safety, f"{exercise.id} needs a safety note"
    for exercise_id in ("figure-four-stretch", "hip-switches"):
        assert "hip replacement" in (shipped_library.exercises[exercise_id].safety or "")


def test_the_safety_note_says_the_three_things() -> None:
    note = SAFETY_NOTE.read_text(encoding="utf-8").lower()
    for phrase in ("not medical advice", "sharp pain", "physiotherapist"):
        assert phrase in note


# --------------------------------------------------------------------------- pictures

def test_every_exercise_has_its_picture_and_the_picture_source(shipped_library: Library) -> None:
    for exercise in shipped_library.exercises.values():
        assert exercise.image is not None, f"{exercise.id} has no picture"
        png = Path(exercise.image)
        assert png == (PICTURES / f"{exercise.id}.png").resolve()
        width, height = png_size(png)
        assert width == height >= MIN_PICTURE_PX, f"{png.name} is {width}x{height}"
        assert png.with_suffix(".svg").is_file(), f"{png.name} has no SVG source beside it"


def test_every_picture_source_is_a_square_svg_with_its_png() -> None:
    svgs = sorted(PICTURES.glob("*.svg"))
    assert svgs
    assert {p.stem for p in svgs} == {p.stem for p in PICTURES.glob("*.png")}
    for svg in svgs:
        root = ElementTree.parse(svg).getroot()
        assert root.tag == "{http://www.w3.org/2000/svg}svg", svg.name
        x, y, width, height = (float(v) for v in root.attrib["viewBox"].split())
        assert (x, y) == (0, 0) and width == height, f"{svg.name}: viewBox is not square"
        assert root.find("{http://www.w3.org/2000/svg}title") is not None, f"{svg.name} has no <title>"


def test_no_picture_is_left_over(shipped_library: Library) -> None:
    used = {Path(e.image).stem for e in shipped_library.exercises.values() if e.image}
    assert {p.stem for p in PICTURES.glob("*.svg")} == used


def test_the_render_script_reproduces_a_committed_picture(tmp_path: Path) -> None:
    if shutil.which("rsvg-convert") is None:  # a skip here would pass unseen
        pytest.fail("rsvg-convert is missing: apt-get install librsvg2-bin (bash .ci/setup test does)")
    svg = PICTURES / "toe-spreads.svg"
    out = tmp_path / "toe-spreads.png"
    subprocess.run([sys.executable, str(RENDER_SCRIPT), str(svg), "--output", str(out)],
                   check=True, capture_output=True, timeout=60)
    assert png_size(out) == png_size(svg.with_suffix(".png"))
    again = tmp_path / "again.png"
    subprocess.run([sys.executable, str(RENDER_SCRIPT), str(svg), "--output", str(again)],
                   check=True, capture_output=True, timeout=60)
    assert again.read_bytes() == out.read_bytes(), "rendering the same SVG twice gave different PNGs"

