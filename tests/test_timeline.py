"""The timeline: a routine laid out as contiguous segments and the cues said in them.

Examples pin the layout and the words of the shipped routine and of small routines
built with the factories; properties check the invariants the session relies on for
any routine the catalog can produce (zeros included where the schema allows them).
"""

from __future__ import annotations

import json
import math
from typing import List, Optional, Tuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.core.catalog import Library
from kiosk.core.model import ExerciseCue, Routine, Step
from kiosk.core.timeline import (
    PRIORITY,
    SEGMENT_KINDS,
    Timeline,
    build_timeline,
    crowded_cues,
    speech_seconds,
)
from tests.factories import make_exercise, make_routine, make_step


@pytest.fixture(scope="module")
def timeline(shipped_library: Library) -> Timeline:
    routine = shipped_library.default_routine()
    assert routine is not None
    return build_timeline(routine)


def texts(timeline: Timeline, kind: str) -> List[str]:
    return [cue.text for cue in timeline.cues if cue.kind == kind]


# --------------------------------------------------------------------------- the shipped routine

def test_default_routine_lays_out_every_exercise_side_and_rest_in_order(timeline: Timeline) -> None:
    layout = [(s.kind, s.exercise.id, s.side, s.start_s, s.end_s) for s in timeline.segments]
    assert layout == [
        ("lead_in", "ball-arch-massage", "right", 0, 10),
        ("work", "ball-arch-massage", "right", 10, 35),
        ("switch", "ball-arch-massage", "left", 35, 40),
        ("work", "ball-arch-massage", "left", 40, 65),
        ("rest", "toe-spreads", None, 65, 80),
        ("work", "toe-spreads", None, 80, 110),
        ("rest", "arch-lifts", "right", 110, 125),
        ("work", "arch-lifts", "right", 125, 149),
        ("switch", "arch-lifts", "left", 149, 154),
        ("work", "arch-lifts", "left", 154, 178),
        ("rest", "ankle-circles", "right", 178, 193),
        ("work", "ankle-circles", "right", 193, 218),
        ("switch", "ankle-circles", "left", 218, 223),
        ("work", "ankle-circles", "left", 223, 248),
        ("rest", "hip-circles", "right", 248, 263),
        ("work", "hip-circles", "right", 263, 279),
        ("switch", "hip-circles", "left", 279, 284),
        ("work", "hip-circles", "left", 284, 300),
    ]
    assert timeline.total_s == 300
    assert [s.index for s in timeline.segments] == list(range(len(timeline.segments)))
    assert timeline.step_starts == (0, 65, 110, 178, 248)


def test_each_exercise_is_announced_before_its_timer_starts(timeline: Timeline) -> None:
    announcements = [cue for cue in timeline.cues if cue.kind == "announce"]
    assert len(announcements) == len(timeline.routine.steps)
    for step_index, cue in enumerate(announcements):
        prep = next(s for s in timeline.segments if s.step_index == step_index)
        assert prep.kind == ("lead_in" if step_index == 0 else "rest")
        assert cue.at_s == prep.start_s
        assert cue in prep.cues
        assert cue.at_s + speech_seconds(cue.text) <= timeline.first_work_start(step_index)
    assert announcements[0].text.startswith("Get ready. First: Tennis-ball arch massage. Sit with")
    assert announcements[0].text.endswith("Right foot first.")
    assert announcements[1].text.startswith("Rest. Next up: Toe spreads. Sit tall")
    assert announcements[4].text.endswith("Right leg first.")
    assert crowded_cues(timeline) == ()


def test_sides_both_run_right_then_left_with_a_spoken_switch(timeline: Timeline) -> None:
    switches = [s for s in timeline.segments if s.kind == "switch"]
    assert len(switches) == 4
    for switch in switches:
        before = timeline.segments[switch.index - 1]
        after = timeline.segments[switch.index + 1]
        assert (before.kind, before.side) == ("work", "right")
        assert (after.kind, after.side) == ("work", "left")
        limb = "leg" if switch.exercise.id == "hip-circles" else "foot"
        assert switch.cues[0].at_s == switch.start_s
        assert (switch.cues[0].kind, switch.cues[0].text) == ("switch", f"Switch to your left {limb}.")


def test_a_count_runs_down_to_each_change(timeline: Timeline) -> None:
    for segment in timeline.segments:
        if segment.kind in ("rest", "work") and segment.exercise.reps is None:
            counts = [(c.at_s, c.text) for c in segment.cues if c.kind == "count"]
            end = segment.end_s
            assert counts == [(end - 3, "3"), (end - 2, "2"), (end - 1, "1")], segment
    # A count is never said over something more important: the lead-in's long
    # announcement leaves no room for one, and "3" would overlap the switch cue.
    assert [c.kind for c in timeline.segments[0].cues] == ["announce"]
    assert [c.text for c in timeline.segments[2].cues] == ["Switch to your left foot.", "2", "1"]


@pytest.mark.parametrize("index, exercise, expected", [
    # Duration: "Begin.", its reminders, and a 3-2-1 before the end.
    (1, "ball-arch-massage", [(0, "start", "Begin."),
                              (12.5, "halfway", "Halfway. Press a little where it feels tight."),
                              (22, "count", "3"), (23, "count", "2"), (24, "count", "1")]),
    # Reps: "Begin." opens rep 1, then each rep's number.
    (5, "toe-spreads", [(0, "start", "Begin.")] + [(3 * (n - 1), "rep", str(n)) for n in range(2, 11)]),
    # A seconds reminder at 10 s; rep 4 at 12 s would be said over it, so it is left out.
    (7, "arch-lifts", [(0, "start", "Begin."), (4, "rep", "2"), (8, "rep", "3"),
                       (10, "reminder", "Keep your toes relaxed on the floor."),
                       (16, "rep", "5"), (20, "rep", "6")]),
], ids=["duration", "reps", "reminder-over-rep"])
def test_work_cues(timeline: Timeline, index: int, exercise: str,
                   expected: List[Tuple[float, str, str]]) -> None:
    work = timeline.segments[index]
    assert (work.kind, work.exercise.id) == ("work", exercise)
    assert [(c.at_s - work.start_s, c.kind, c.text) for c in work.cues] == expected


def test_rests_say_what_is_next_and_the_end_says_well_done(timeline: Timeline) -> None:
    rests = [s for s in timeline.segments if s.kind == "rest"]
    names = [s.exercise.name for s in rests]
    assert [s.cues[0].text.split(".")[1].strip() for s in rests] == [f"Next up: {n}" for n in names]
    last = timeline.cues[-1]
    assert (last.at_s, last.kind) == (timeline.total_s, "done")
    assert last.text == "Well done. You finished Daily foot & hip reset."
    assert last in timeline.segments[-1].cues
    assert texts(timeline, "done") == [last.text]


def test_to_json_has_the_documented_shape(timeline: Timeline) -> None:
    document = timeline.to_json()
    assert json.loads(json.dumps(document)) == document
    assert document["routine"] == "daily-reset"
    assert document["total_s"] == 300
    assert len(document["segments"]) == len(timeline.segments)
    for data, segment in zip(document["segments"], timeline.segments):
        assert {"kind", "exercise", "side", "set", "start_s", "end_s", "cues"} <= set(data)
        assert (data["kind"], data["exercise"], data["side"], data["set"]) == (
            segment.kind, segment.exercise.id, segment.side, segment.set_number)
        assert (data["start_s"], data["end_s"]) == (segment.start_s, segment.end_s)
        assert data["cues"] == [{"at_s": c.at_s, "kind": c.kind, "text": c.text} for c in segment.cues]
    assert document["segments"][1]["cues"][1] == {
        "at_s": 22.5, "kind": "halfway", "text": "Halfway. Press a little where it feels tight."}
    assert isinstance(document["segments"][0]["end_s"], int)


def test_to_json_rounds_times_to_milliseconds() -> None:
    step = make_step(make_exercise(duration_s=10 / 3))
    document = build_timeline(make_routine([step], lead_in_s=0.1)).to_json()
    assert document["segments"][1]["start_s"] == 0.1
    assert document["segments"][1]["end_s"] == 3.433
    assert document["total_s"] == 3.433


# --------------------------------------------------------------------------- small routines

def test_a_routine_without_steps_is_refused() -> None:
    with pytest.raises(ValueError, match="no steps"):
        build_timeline(Routine(id="empty", name="Empty", description="", steps=()))


def test_fraction_cues_at_half_are_halfway_and_others_are_reminders() -> None:
    exercise = make_exercise(duration_s=40.0, cues=(
        ExerciseCue("Halfway there.", at_fraction=0.5),
        ExerciseCue("Keep breathing.", at_fraction=0.25),
        ExerciseCue("Sit tall.", at_seconds=30.0),
        ExerciseCue("Never said.", at_seconds=40.0),
    ))
    timeline = build_timeline(make_routine([make_step(exercise)], lead_in_s=5.0))
    work = [(c.at_s, c.kind, c.text) for c in timeline.segments[1].cues if c.kind in ("halfway", "reminder")]
    assert work == [
        (15.0, "reminder", "Keep breathing."),
        (25.0, "halfway", "Halfway there."),
        (35.0, "reminder", "Sit tall."),
    ]
    assert "Never said." not in texts(timeline, "reminder")


def test_cues_repeat_in_every_work_period() -> None:
    exercise = make_exercise(duration_s=20.0, sides="both", sets=2, rest_s=8.0,
                             cues=(ExerciseCue("Halfway.", at_fraction=0.5),))
    timeline = build_timeline(make_routine([make_step(exercise)]))
    works = [s for s in timeline.segments if s.kind == "work"]
    assert len(works) == 4
    for work in works:
        assert [c.at_s for c in work.cues if c.kind == "halfway"] == [work.start_s + 10.0]


def test_sets_are_separated_by_set_rests_that_name_the_next_set() -> None:
    exercise = make_exercise(duration_s=20.0, sides="both", sets=3, rest_s=8.0, switch_s=4.0)
    timeline = build_timeline(make_routine([make_step(exercise)], lead_in_s=10.0))
    layout = [(s.kind, s.side, s.set_number, s.set_count, s.duration_s) for s in timeline.segments]
    assert layout == [
        ("lead_in", "right", 1, 3, 10.0),
        ("work", "right", 1, 3, 20.0), ("set_rest", "right", 2, 3, 8.0),
        ("work", "right", 2, 3, 20.0), ("set_rest", "right", 3, 3, 8.0),
        ("work", "right", 3, 3, 20.0),
        ("switch", "left", 1, 3, 4.0),
        ("work", "left", 1, 3, 20.0), ("set_rest", "left", 2, 3, 8.0),
        ("work", "left", 2, 3, 20.0), ("set_rest", "left", 3, 3, 8.0),
        ("work", "left", 3, 3, 20.0),
    ]
    assert [s.cues[0].text for s in timeline.segments if s.kind == "set_rest"] == [
        "Rest. Set 2 of 3 next.", "Rest. Set 3 of 3 next."] * 2
    assert timeline.total_s == 10 + 6 * 20 + 4 * 8 + 4


@pytest.mark.parametrize("sides, order, hint", [
    ("none", [None], ""),
    ("left", ["left"], " Left foot."),
    ("right", ["right"], " Right foot."),
    ("both", ["right", "left"], " Right foot first."),
])
def test_sides_choose_the_work_periods_and_the_spoken_hint(sides: str, order: List[Optional[str]],
                                                           hint: str) -> None:
    exercise = make_exercise(duration_s=20.0, sides=sides, limb="foot", instructions="Move.")
    timeline = build_timeline(make_routine([make_step(exercise)], lead_in_s=10.0))
    assert [s.side for s in timeline.segments if s.kind == "work"] == order
    assert texts(timeline, "announce") == [f"Get ready. First: Toe spreads. Move.{hint}"]
    assert texts(timeline, "switch") == (["Switch to your left foot."] if sides == "both" else [])


def test_step_overrides_change_the_layout() -> None:
    exercise = make_exercise(duration_s=30.0, sides="both", sets=1, rest_s=10.0, switch_s=5.0)
    plain = build_timeline(make_routine([make_step(exercise)], lead_in_s=10.0))
    assert plain.total_s == 10 + 30 + 5 + 30

    shorter = build_timeline(make_routine([make_step(exercise, duration_s=12.0)], lead_in_s=10.0))
    assert [s.duration_s for s in shorter.segments if s.kind == "work"] == [12.0, 12.0]

    one_side = build_timeline(make_routine([make_step(exercise, sides="left")], lead_in_s=10.0))
    assert [(s.kind, s.side) for s in one_side.segments] == [("lead_in", "left"), ("work", "left")]

    sets = build_timeline(make_routine([make_step(exercise, sets=2, rest_s=7.0)], lead_in_s=10.0))
    assert [s.kind for s in sets.segments] == [
        "lead_in", "work", "set_rest", "work", "switch", "work", "set_rest", "work"]
    assert [s.duration_s for s in sets.segments if s.kind == "set_rest"] == [7.0, 7.0]
    assert sets.total_s == 10 + 4 * 30 + 2 * 7 + 5

    reps = build_timeline(make_routine(
        [make_step(exercise, duration_s=None, reps=4, seconds_per_rep=2.5)], lead_in_s=10.0))
    assert [s.duration_s for s in reps.segments if s.kind == "work"] == [10.0, 10.0]
    assert [c.text for c in reps.segments[1].cues] == ["Begin.", "2", "3", "4"]

    no_set_rest = build_timeline(make_routine([make_step(exercise, sets=2, rest_s=0.0, sides="none")],
                                              lead_in_s=10.0))
    assert [s.kind for s in no_set_rest.segments] == ["lead_in", "work", "work"]
    assert no_set_rest.segments[2].set_number == 2


def test_switch_of_zero_says_the_switch_as_the_second_side_starts() -> None:
    exercise = make_exercise(duration_s=20.0, sides="both", limb="foot", switch_s=0.0)
    timeline = build_timeline(make_routine([make_step(exercise)], lead_in_s=10.0))
    assert [(s.kind, s.side) for s in timeline.segments] == [
        ("lead_in", "right"), ("work", "right"), ("work", "left")]
    second = timeline.segments[2]
    assert (second.cues[0].at_s, second.cues[0].kind) == (second.start_s, "switch")
    assert second.cues[0].text == "Switch to your left foot."
    assert "Begin." not in [c.text for c in second.cues]  # said over by the more important switch
    assert [c.text for c in timeline.segments[1].cues].count("Begin.") == 1
    assert crowded_cues(timeline)[0].cue == second.cues[0]


def test_rest_between_of_zero_announces_as_the_work_starts() -> None:
    first = make_step(make_exercise("toe-spreads", duration_s=30.0))
    second = make_step(make_exercise("heel-raises", duration_s=30.0, instructions="Rise up."))
    timeline = build_timeline(make_routine([first, second], lead_in_s=10.0, rest_between_s=0.0))
    assert [s.kind for s in timeline.segments] == ["lead_in", "work", "work"]
    work = timeline.segments[2]
    assert work.step_index == 1
    assert (work.cues[0].at_s, work.cues[0].kind, work.cues[0].text) == (40.0, "announce",
                                                                          "Heel raises. Rise up.")
    assert timeline.step_starts == (0.0, 40.0)
    crowded = crowded_cues(timeline)
    assert [(c.step_index, c.cue.kind, c.available_s) for c in crowded] == [(1, "announce", 0.0)]


def test_lead_in_of_zero_announces_the_first_exercise_as_it_starts() -> None:
    timeline = build_timeline(make_routine([make_step()], lead_in_s=0.0))
    assert timeline.segments[0].kind == "work"
    assert timeline.segments[0].start_s == 0.0
    assert timeline.cues[0].kind == "announce"
    assert timeline.cues[0].text == "Toe spreads. Do the thing slowly."


def test_an_announcement_is_never_drowned_by_a_count() -> None:
    exercise = make_exercise(duration_s=20.0, instructions="Sit. Lift the heel and lower it slowly.")
    timeline = build_timeline(make_routine([make_step(exercise)], lead_in_s=5.0))
    announce = timeline.cues[0]
    assert announce.kind == "announce"
    end_of_speech = announce.at_s + speech_seconds(announce.text)
    assert end_of_speech > 2.0  # would overlap "3" and "2" ...
    counts = [c for c in timeline.segments[0].cues if c.kind == "count"]
    assert all(c.at_s >= end_of_speech for c in counts)  # ... so they are left out
    assert announce.room_s == timeline.cues[1].at_s


def test_crowded_cues_finds_announcements_and_switches_without_room() -> None:
    roomy = build_timeline(make_routine([make_step(), make_step()], lead_in_s=20.0, rest_between_s=20.0))
    assert crowded_cues(roomy) == ()

    exercise = make_exercise(duration_s=20.0, sides="both", switch_s=1.0)
    tight = build_timeline(make_routine([make_step(), make_step(exercise)], lead_in_s=3.0,
                                        rest_between_s=2.0))
    found = [(c.step_index, c.cue.kind, c.available_s) for c in crowded_cues(tight)]
    assert found == [(0, "announce", 3.0), (1, "announce", 2.0), (1, "switch", 1.0)]
    for crowded in crowded_cues(tight):
        assert crowded.needed_s == speech_seconds(crowded.cue.text)
        assert crowded.needed_s > crowded.available_s
    # A slower voice needs more time for the same words.
    slow = crowded_cues(roomy, words_per_minute=20)
    assert [c.step_index for c in slow] == [0, 1]


def test_speech_estimate_grows_with_words_and_never_reaches_zero() -> None:
    assert speech_seconds("") == speech_seconds("One") > 0
    assert speech_seconds("one two three") > speech_seconds("one two")
    assert speech_seconds("one two", words_per_minute=60) == pytest.approx(2.3)


def test_cues_between_takes_the_half_open_interval_or_includes_its_start(timeline: Timeline) -> None:
    assert [c.text for c in timeline.cues_between(None, 0.0)][0].startswith("Get ready")
    assert timeline.cues_between(0.0, 10.0) == tuple(c for c in timeline.cues if c.at_s == 10.0)
    assert timeline.cues_between(10.0, 10.0) == ()
    assert [c.text for c in timeline.cues_between(10.0, 10.0, include_start=True)] == ["Begin."]
    assert timeline.cues_between(50.0, 20.0) == ()
    assert timeline.cues_between(299.5, 1e9)[-1].kind == "done"


def test_position_at_clamps_to_the_session(timeline: Timeline) -> None:
    before = timeline.position_at(-5.0)
    assert (before.elapsed_s, before.segment, before.done) == (0.0, timeline.segments[0], False)
    boundary = timeline.position_at(10.0)
    assert boundary.segment == timeline.segments[1]
    assert (boundary.seconds_into_segment, boundary.seconds_left_in_segment) == (0.0, 25.0)
    after = timeline.position_at(1000.0)
    assert after.done and after.elapsed_s == 300.0 and after.fraction_done == 1.0
    assert after.segment == timeline.segments[-1] and after.seconds_left_in_segment == 0.0
    assert timeline.position_at(150.0).fraction_done == 0.5


# --------------------------------------------------------------------------- properties

WORDS = ("slowly", "toes", "heel", "breathe", "relax", "press", "lift", "and", "the", "floor")


def phrases(min_words: int, max_words: int) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(WORDS), min_size=min_words, max_size=max_words).map(" ".join)


# Quarter seconds keep sums exact, so the layout can be compared without tolerance
# games; zero only where the schema allows it.
seconds = st.integers(1, 120).map(lambda quarters: quarters / 4)
seconds_or_zero = st.integers(0, 80).map(lambda quarters: quarters / 4)


@st.composite
def exercise_cues(draw: st.DrawFn) -> ExerciseCue:
    text = draw(phrases(1, 8))
    if draw(st.booleans()):
        fraction = draw(st.sampled_from([0.25, 0.5, 0.75]) | st.floats(0.01, 0.99))
        return ExerciseCue(text, at_fraction=fraction)
    return ExerciseCue(text, at_seconds=draw(seconds))


@st.composite
def timings(draw: st.DrawFn) -> dict:
    if draw(st.booleans()):
        return dict(duration_s=draw(seconds), reps=None, seconds_per_rep=None)
    return dict(duration_s=None, reps=draw(st.integers(1, 12)),
                seconds_per_rep=draw(st.integers(1, 24).map(lambda quarters: quarters / 4)))


@st.composite
def steps(draw: st.DrawFn, index: int) -> Step:
    exercise = make_exercise(
        f"exercise-{index}", instructions=draw(phrases(1, 30)), switch_s=draw(seconds_or_zero),
        limb=draw(st.sampled_from(["foot", "leg"])), cues=tuple(draw(st.lists(exercise_cues(), max_size=3))),
        **draw(timings()),
    )
    overrides = draw(timings()) if draw(st.booleans()) else {}
    return make_step(exercise, sets=draw(st.integers(1, 3)), rest_s=draw(seconds_or_zero),
                     sides=draw(st.sampled_from(["none", "left", "right", "both"])), **overrides)


@st.composite
def routines(draw: st.DrawFn) -> Routine:
    count = draw(st.integers(1, 4))
    return make_routine([draw(steps(index)) for index in range(count)], id="random",
                        lead_in_s=draw(seconds_or_zero), rest_between_s=draw(seconds_or_zero))


def work_length(step: Step) -> float:
    if step.duration_s is not None:
        return step.duration_s
    assert step.reps is not None and step.seconds_per_rep is not None
    return step.reps * step.seconds_per_rep


def expected_total(routine: Routine) -> float:
    """The planned length, worked out from the routine without the timeline's help."""
    total = routine.lead_in_s + routine.rest_between_s * (len(routine.steps) - 1)
    for step in routine.steps:
        sides = 2 if step.sides == "both" else 1
        work = work_length(step)
        total += sides * step.sets * work + sides * (step.sets - 1) * step.rest_s
        total += (sides - 1) * step.exercise.switch_s
    return total


def expected_layout(routine: Routine) -> List[Tuple[str, int, Optional[str], int, float]]:
    """(kind, step, side, set, length) of every segment, zero-length ones left out."""
    layout = []
    for index, step in enumerate(routine.steps):
        order = {"both": ["right", "left"], "left": ["left"], "right": ["right"]}.get(step.sides, [None])
        work = work_length(step)
        prep = routine.lead_in_s if index == 0 else routine.rest_between_s
        layout.append(("lead_in" if index == 0 else "rest", index, order[0], 1, prep))
        for side_number, side in enumerate(order):
            if side_number:
                layout.append(("switch", index, side, 1, step.exercise.switch_s))
            for set_number in range(1, step.sets + 1):
                if set_number > 1:
                    layout.append(("set_rest", index, side, set_number, step.rest_s))
                layout.append(("work", index, side, set_number, work))
    return [entry for entry in layout if entry[4] > 0]


@settings(max_examples=150, deadline=None)
@given(routines())
def test_segments_are_contiguous_and_add_up_to_the_plan(routine: Routine) -> None:
    timeline = build_timeline(routine)
    segments = timeline.segments
    assert segments[0].start_s == 0.0
    for previous, segment in zip(segments, segments[1:]):
        assert segment.start_s == previous.end_s
    assert all(s.duration_s > 0 for s in segments)
    assert all(s.kind in SEGMENT_KINDS for s in segments)
    assert [s.index for s in segments] == list(range(len(segments)))
    assert [(s.kind, s.step_index, s.side, s.set_number, s.duration_s) for s in segments] == \
        expected_layout(routine)
    assert timeline.total_s == pytest.approx(sum(s.duration_s for s in segments))
    assert timeline.total_s == pytest.approx(expected_total(routine))
    assert len(timeline.step_starts) == len(routine.steps)


@settings(max_examples=150, deadline=None)
@given(routines())
def test_cues_are_sorted_inside_the_session_and_know_their_room(routine: Routine) -> None:
    timeline = build_timeline(routine)
    cues = timeline.cues
    total = timeline.total_s
    assert all(0.0 <= c.at_s <= total for c in cues)
    assert [c.at_s for c in cues] == sorted(c.at_s for c in cues)
    for cue, following in zip(cues, cues[1:]):
        assert cue.room_s == following.at_s - cue.at_s
    assert cues[-1].room_s == math.inf
    # Each cue is listed under exactly the segment it is said in.
    listed = [c for s in timeline.segments for c in s.cues]
    assert listed == list(cues)
    for segment in timeline.segments:
        for cue in segment.cues:
            assert segment.start_s <= cue.at_s < segment.end_s or (
                cue.at_s == total and segment is timeline.segments[-1])


@settings(max_examples=150, deadline=None)
@given(routines())
def test_no_cue_is_said_over_a_more_important_one(routine: Routine) -> None:
    cues = build_timeline(routine).cues
    for position, cue in enumerate(cues):
        ends = cue.at_s + speech_seconds(cue.text)
        for later in cues[position + 1:]:
            if later.at_s >= ends:
                break
            assert PRIORITY[later.kind] == PRIORITY[cue.kind], (cue, later)


@settings(max_examples=150, deadline=None)
@given(routines(), st.data())
def test_every_cue_fires_exactly_once_for_any_increasing_sampling(routine: Routine,
                                                                  data: st.DataObject) -> None:
    timeline = build_timeline(routine)
    total = timeline.total_s
    sample_time = st.floats(0.0, total * 1.1, allow_nan=False) | st.sampled_from(
        [c.at_s for c in timeline.cues] + [s.start_s for s in timeline.segments])
    samples = sorted(data.draw(st.lists(sample_time, max_size=40), label="samples"))
    samples.append(data.draw(st.floats(total, total + 5.0), label="last sample"))
    handed_out = []
    previous: Optional[float] = None
    for now in samples:
        handed_out.extend(timeline.cues_between(previous, now))
        previous = now
    assert handed_out == list(timeline.cues)


@settings(max_examples=150, deadline=None)
@given(routines(), st.data())
def test_position_is_consistent_at_any_time(routine: Routine, data: st.DataObject) -> None:
    timeline = build_timeline(routine)
    total = timeline.total_s
    boundaries = st.sampled_from([s.start_s for s in timeline.segments])
    times = data.draw(st.lists(st.floats(-1.0, total + 1.0, allow_nan=False) | boundaries,
                               min_size=1, max_size=20), label="times")
    for elapsed in times + [total]:
        position = timeline.position_at(elapsed)
        segment = position.segment
        assert segment is not None and segment is timeline.segments[segment.index]
        assert position.elapsed_s == min(max(0.0, elapsed), total)
        assert position.seconds_into_segment + position.seconds_left_in_segment == \
            pytest.approx(segment.duration_s)
        if elapsed >= total:
            assert position.done and position.seconds_left_in_segment == 0.0
            assert segment is timeline.segments[-1]
        else:
            assert not position.done
            assert segment.start_s <= position.elapsed_s < segment.end_s
            assert position.seconds_into_segment == position.elapsed_s - segment.start_s


def _resolve_by_comparing_every_pair(candidates, total_s):
    """The plain rule, for comparison: each cue in priority order is kept unless it would be
    spoken over any cue already kept."""
    from kiosk.core.timeline import PRIORITY, speech_seconds

    kept, spans = [], []
    for _, cue in sorted(enumerate(candidates), key=lambda item: (PRIORITY[item[1].kind], item[1].at_s, item[0])):
        span = (cue.at_s, cue.at_s + speech_seconds(cue.text))
        if 0 <= cue.at_s <= total_s and not any(span[0] < end and start < span[1] for start, end in spans):
            spans.append(span)
            kept.append(cue)
    return sorted(kept, key=lambda c: c.at_s)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 400), st.sampled_from(["announce", "switch", "rest", "start", "halfway",
                                                               "rep", "count", "done"]),
                          st.sampled_from(["3", "Begin.", "Switch to your left foot.", "Rest. Set 2 of 3 next.",
                                           "Keep your knee soft and breathe out slowly."])),
                max_size=60))
def test_keeping_cues_by_their_neighbours_keeps_what_comparing_every_pair_keeps(raw) -> None:
    from kiosk.core.model import Cue
    from kiosk.core.timeline import _resolve_overlaps

    candidates = [Cue(at / 4, kind, text) for at, kind, text in raw]
    fast = _resolve_overlaps(candidates, 100.0)
    assert [(c.at_s, c.kind, c.text) for c in fast] == \
        [(c.at_s, c.kind, c.text) for c in _resolve_by_comparing_every_pair(candidates, 100.0)]
