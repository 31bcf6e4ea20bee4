"""A routine laid out in time: contiguous segments and the cues said in them.

Pure and deterministic. The session asks `position_at(elapsed)` and
`cues_between(last_sample, now)`; it never adds up frame times, so a late frame
neither loses nor repeats a cue.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field, replace
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from kiosk.core.model import Cue, Routine, Segment, Step

WORDS_PER_MINUTE = 160
"""A deliberately slow speaking rate, so an estimate errs towards more room."""

COUNT_FROM = 3

# Lower number = more important. When two cues would be spoken over each other, the
# less important one is left out of the timeline, so an announcement is never drowned.
PRIORITY = {
    "announce": 0, "switch": 1, "done": 1, "rest": 2, "start": 3,
    "halfway": 4, "reminder": 4, "rep": 5, "count": 5,
}

SEGMENT_KINDS = ("lead_in", "work", "switch", "set_rest", "rest")


def speech_seconds(text: str, words_per_minute: float = WORDS_PER_MINUTE) -> float:
    """A rough length of a spoken phrase: words at the rate, plus a short pause."""
    words = max(1, len(text.split()))
    return words * 60.0 / words_per_minute + 0.3


@dataclass(frozen=True)
class Position:
    """Where a session is at some elapsed time."""

    elapsed_s: float
    total_s: float
    segment: Optional[Segment]
    seconds_into_segment: float
    seconds_left_in_segment: float

    @property
    def done(self) -> bool:
        return self.elapsed_s >= self.total_s

    @property
    def fraction_done(self) -> float:
        return 1.0 if self.total_s <= 0 else min(1.0, self.elapsed_s / self.total_s)


@dataclass(frozen=True)
class Timeline:
    routine: Routine
    segments: Tuple[Segment, ...]
    cues: Tuple[Cue, ...]
    _starts: List[float] = field(init=False, repr=False, compare=False)
    _cue_times: List[float] = field(init=False, repr=False, compare=False)

    @property
    def total_s(self) -> float:
        return self.segments[-1].end_s if self.segments else 0.0

    @property
    def step_starts(self) -> Tuple[float, ...]:
        """Start of each step: its lead-in or rest, where its announcement is said."""
        starts: Dict[int, float] = {}
        for segment in self.segments:
            starts.setdefault(segment.step_index, segment.start_s)
        return tuple(starts[index] for index in sorted(starts))

    def first_work_start(self, step_index: int) -> float:
        return next(s.start_s for s in self.segments if s.step_index == step_index and s.kind == "work")

    def last_work_end(self, step_index: int) -> float:
        return max(s.end_s for s in self.segments if s.step_index == step_index and s.kind == "work")

    @property
    def work_s(self) -> float:
        """The routine's exercise time: the length of all its work segments (no lead-in,
        rests, set rests or side switches)."""
        return sum(s.duration_s for s in self.segments if s.kind == "work")

    def work_within(self, spans: Iterable[Tuple[float, float]]) -> float:
        """Seconds of work segments inside the union of `spans` ((from, to) in timeline
        seconds): a second covered by several spans counts once. Empty spans add nothing."""
        merged: List[List[float]] = []
        for low, high in sorted((low, high) for low, high in spans if high > low):
            if merged and low <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], high)
            else:
                merged.append([low, high])
        return sum(max(0.0, min(high, s.end_s) - max(low, s.start_s))
                   for low, high in merged for s in self.segments if s.kind == "work")

    def position_at(self, elapsed_s: float) -> Position:
        total = self.total_s
        elapsed = min(max(0.0, elapsed_s), total)
        if elapsed >= total or not self.segments:
            last = self.segments[-1] if self.segments else None
            return Position(total, total, last, last.duration_s if last else 0.0, 0.0)
        index = bisect.bisect_right(self._starts, elapsed) - 1
        segment = self.segments[max(0, index)]
        return Position(elapsed, total, segment, elapsed - segment.start_s, segment.end_s - elapsed)

    def cues_between(self, after_s: Optional[float], until_s: float, *, include_start: bool = False) -> Tuple[Cue, ...]:
        """Cues with after_s < at_s <= until_s (at_s >= after_s with include_start).

        `after_s=None` means from the very beginning. Sampling any increasing series
        of times hands out every cue exactly once.
        """
        if after_s is None:
            low = 0
        elif include_start:
            low = bisect.bisect_left(self._cue_times, after_s)
        else:
            low = bisect.bisect_right(self._cue_times, after_s)
        high = bisect.bisect_right(self._cue_times, until_s)
        return self.cues[low:high] if high > low else ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "_starts", [s.start_s for s in self.segments])
        object.__setattr__(self, "_cue_times", [c.at_s for c in self.cues])

    def to_json(self) -> Dict[str, Any]:
        return {
            "routine": self.routine.id,
            "name": self.routine.name,
            "total_s": _round(self.total_s),
            "segments": [
                {
                    "kind": s.kind,
                    "exercise": s.exercise.id,
                    "name": s.exercise.name,
                    "step": s.step_index + 1,
                    "side": s.side,
                    "set": s.set_number,
                    "sets": s.set_count,
                    "start_s": _round(s.start_s),
                    "end_s": _round(s.end_s),
                    "cues": [{"at_s": _round(c.at_s), "kind": c.kind, "text": c.text} for c in s.cues],
                }
                for s in self.segments
            ],
        }


def _round(value: float) -> float:
    rounded = round(value, 3)
    return int(rounded) if rounded == int(rounded) else rounded


def _side_hint(step: Step) -> str:
    exercise = step.exercise
    if step.sides == "both":
        return f" Right {exercise.limb} first."
    if step.sides in ("left", "right"):
        return f" {step.sides.capitalize()} {exercise.limb}."
    return ""


def _announcement(step: Step, first: bool) -> str:
    exercise = step.exercise
    opening = f"Get ready. First: {exercise.name}." if first else f"Rest. Next up: {exercise.name}."
    return f"{opening} {exercise.instructions.strip()}{_side_hint(step)}"


def _countdown(length_s: float) -> List[Cue]:
    """3, 2, 1 before the end of a segment of this length (only what fits inside it)."""
    return [Cue(length_s - n, "count", str(n)) for n in range(COUNT_FROM, 0, -1) if length_s - n > 0]


class _Builder:
    """Lays segments end to end and collects candidate cues for each."""

    def __init__(self, routine: Routine) -> None:
        self.routine = routine
        self.cursor = 0.0
        self.segments: List[Segment] = []
        self.candidates: List[Cue] = []

    def add(self, kind: str, length: float, step_index: int, step: Step, side: Optional[str],
            set_number: int, cues: List[Cue]) -> None:
        if length <= 0:
            return
        start = self.cursor
        self.cursor = start + length
        self.segments.append(Segment(
            index=len(self.segments), kind=kind, start_s=start, end_s=self.cursor,
            step_index=step_index, exercise=step.exercise, side=side,
            set_number=set_number, set_count=step.sets,
        ))
        self.candidates.extend(replace(c, at_s=start + c.at_s) for c in cues)

    def build(self) -> Timeline:
        routine = self.routine
        for index, step in enumerate(routine.steps):
            self.add_step(index, step)
        self.candidates.append(Cue(self.cursor, "done", f"Well done. You finished {routine.name}."))
        cues = _resolve_overlaps(self.candidates, self.cursor)
        segments = [replace(s, cues=tuple(c for c in cues if _cue_in_segment(c, s, self.cursor)))
                    for s in self.segments]
        return Timeline(routine, tuple(segments), tuple(cues))

    def add_step(self, index: int, step: Step) -> None:
        prep = self.routine.lead_in_s if index == 0 else self.routine.rest_between_s
        first_side = step.side_order[0]
        announce = Cue(0.0, "announce", _announcement(step, index == 0))
        announced = prep > 0
        self.add("lead_in" if index == 0 else "rest", prep, index, step, first_side, 1,
                 [announce] + _countdown(prep))
        has_switch_gap = step.exercise.switch_s > 0
        for side_number, side in enumerate(step.side_order):
            switch = Cue(0.0, "switch", f"Switch to your {side} {step.exercise.limb}.")
            if side_number > 0 and has_switch_gap:
                self.add("switch", step.exercise.switch_s, index, step, side, 1,
                         [switch] + _countdown(step.exercise.switch_s))
            for set_number in range(1, step.sets + 1):
                if set_number > 1:
                    rest = Cue(0.0, "rest", f"Rest. Set {set_number} of {step.sets} next.")
                    self.add("set_rest", step.rest_s, index, step, side, set_number,
                             [rest] + _countdown(step.rest_s))
                opening: List[Cue] = []
                if not announced:
                    text = f"{step.exercise.name}. {step.exercise.instructions.strip()}{_side_hint(step)}"
                    opening.append(replace(announce, text=text))
                    announced = True
                if side_number > 0 and set_number == 1 and not has_switch_gap:
                    opening.append(switch)
                self.add("work", step.work_s, index, step, side, set_number,
                         opening + self.work_cues(step))

    def work_cues(self, step: Step) -> List[Cue]:
        work_s = step.work_s
        cues: List[Cue] = []
        cues.append(Cue(0.0, "start", "Begin."))
        if step.reps is not None and step.seconds_per_rep is not None:
            # "Begin" opens rep 1; each later rep is paced by its number.
            cues.extend(Cue(rep * step.seconds_per_rep, "rep", str(rep + 1)) for rep in range(1, step.reps))
        else:
            cues.extend(_countdown(work_s))
        for reminder in step.exercise.cues:
            at = reminder.offset_s(work_s)
            if 0 < at < work_s:
                kind = "halfway" if reminder.at_fraction == 0.5 else "reminder"
                cues.append(Cue(at, kind, reminder.text))
        return cues


def _cue_in_segment(cue: Cue, segment: Segment, total_s: float) -> bool:
    if segment.start_s <= cue.at_s < segment.end_s:
        return True
    return cue.at_s >= total_s and segment.end_s >= total_s


def _resolve_overlaps(candidates: List[Cue], total_s: float) -> List[Cue]:
    """Keep the most important cues; drop any that would be spoken over a kept one."""
    kept: List[Cue] = []
    spans: List[Tuple[float, float]] = []
    ordered = sorted(enumerate(candidates), key=lambda item: (PRIORITY[item[1].kind], item[1].at_s, item[0]))
    for _, cue in ordered:
        if cue.at_s < 0 or cue.at_s > total_s:
            continue
        span = (cue.at_s, cue.at_s + speech_seconds(cue.text))
        # The kept spans never overlap and are kept sorted: only the neighbours of the new
        # span's place can overlap it, so planning stays quick for hundreds of cues.
        place = bisect.bisect_left(spans, span)
        if any(span[0] < other_end and other_start < span[1]
               for other_start, other_end in spans[max(0, place - 1):place + 1]):
            continue
        spans.insert(place, span)
        kept.append(cue)
    kept.sort(key=lambda c: c.at_s)
    with_room = []
    for position, cue in enumerate(kept):
        following = kept[position + 1].at_s if position + 1 < len(kept) else math.inf
        with_room.append(replace(cue, room_s=following - cue.at_s))
    return with_room


def build_timeline(routine: Routine) -> Timeline:
    if not routine.steps:
        raise ValueError(f"routine {routine.id!r} has no steps")
    return _Builder(routine).build()



@dataclass(frozen=True)
class CrowdedCue:
    """A cue that must be heard before work starts, but has too little time for it."""

    step_index: int
    cue: Cue
    needed_s: float
    available_s: float


def plan_with_left_out(routine: Routine) -> Tuple[Timeline, Tuple[Cue, ...]]:
    """The routine's timeline, and the cues that were meant for it but left out (spoken over
    a more important phrase): built once, for the loader's checks."""
    builder = _Builder(routine)
    timeline = builder.build()
    kept = {(cue.at_s, cue.kind, cue.text) for cue in timeline.cues}
    return timeline, tuple(cue for cue in builder.candidates if (cue.at_s, cue.kind, cue.text) not in kept)


def unheard_reminders(timeline: Timeline, left_out: Sequence[Cue]) -> Tuple[Tuple[int, Cue, Cue], ...]:
    """(step index, cue, the phrase it would be spoken over) for each of the exercises' own
    cues (a reminder, "Halfway") among those `plan_with_left_out` left out."""
    starts = [segment.start_s for segment in timeline.segments]
    found = []
    for cue in left_out:
        if cue.kind not in ("reminder", "halfway"):
            continue
        end = cue.at_s + speech_seconds(cue.text)
        # What pushed it out: the most important kept phrase it would overlap.
        over = min((other for other in timeline.cues
                    if cue.at_s < other.at_s + speech_seconds(other.text) and other.at_s < end),
                   key=lambda other: PRIORITY[other.kind], default=None)
        if over is not None:
            found.append((timeline.segments[bisect.bisect_right(starts, cue.at_s) - 1].step_index, cue, over))
    return tuple(found)


def crowded_cues(timeline: Timeline, words_per_minute: float = WORDS_PER_MINUTE) -> Tuple[CrowdedCue, ...]:
    """Announcements, side switches and set rests whose estimated speech runs into the work
    they introduce (pushing out its "Begin.")."""
    found: List[CrowdedCue] = []
    for segment in timeline.segments:
        for cue in segment.cues:
            if cue.kind not in ("announce", "switch", "rest"):
                continue
            needed = speech_seconds(cue.text, words_per_minute)
            available = segment.end_s - cue.at_s if segment.kind != "work" else 0.0
            if needed > available:
                found.append(CrowdedCue(segment.step_index, cue, needed, available))
    return tuple(found)


SEGMENT_MEANINGS = {
    "lead_in": "Before the first exercise: its announcement, then 3, 2, 1.",
    "work": "One work period: one set on one side of one step.",
    "set_rest": "The rest between two sets on the same side; `set` is the set that follows it.",
    "switch": "The gap for changing sides (an exercise with sides: both and switch above 0); "
              "`side` is the side that comes next.",
    "rest": "Before each exercise after the first (rest_between): its announcement, then 3, 2, 1.",
}
"""What each kind of segment is, in words: `kiosk schema --plan` says it."""

CUE_MEANINGS = {
    "announce": "The exercise's name, instructions and starting side, at the start of its lead-in or rest "
                "(at the start of its work when there is no lead-in or rest).",
    "switch": "\"Switch to your left foot.\", at the start of the switch gap or of the second side's work.",
    "done": "\"Well done. ...\", at the very end (at_s equals total_s).",
    "rest": "\"Rest. Set 2 of 3 next.\", at the start of a set rest.",
    "start": "\"Begin.\", when work starts.",
    "halfway": "A cue of the exercise placed at 50%.",
    "reminder": "Any other cue of the exercise, at its time into the work.",
    "rep": "The number of each rep after the first, as it starts, for work counted in reps.",
    "count": "3, 2, 1 before the end of timed work, a lead-in, a rest, a set rest or a switch.",
}
"""What each kind of cue is: the kinds of PRIORITY."""


def plan_json_schema() -> Dict[str, Any]:
    """`Timeline.to_json()` (what `kiosk plan --json` prints) as JSON Schema, draft 2020-12."""
    seconds = {"type": "number", "minimum": 0}
    counted = {"type": "integer", "minimum": 1}
    text = {"type": "string", "minLength": 1}

    def described(schema: Dict[str, Any], description: str) -> Dict[str, Any]:
        return dict(schema, description=description)

    def obj(properties: Dict[str, Dict[str, Any]]) -> Dict[str, Any]:
        return {"type": "object", "additionalProperties": False, "required": list(properties),
                "properties": properties}

    plan = obj({
        "routine": described(text, "The routine's id."),
        "name": described(text, "The routine's name."),
        "total_s": described(seconds, "The length of the whole session: the end of the last segment."),
        "segments": {
            "type": "array", "minItems": 1, "items": {"$ref": "#/$defs/segment"},
            "description": "The session as segments end to end: the first starts at 0, each starts where "
                           "the one before ends, and the last ends at total_s.",
        },
    })
    segment = obj({
        "kind": {"description": "What the segment is.",
                 "oneOf": [{"const": kind, "description": SEGMENT_MEANINGS[kind]} for kind in SEGMENT_KINDS]},
        "exercise": described(text, "The id of the step's exercise (for a lead-in or rest: the exercise "
                                    "it leads to)."),
        "name": described(text, "The exercise's name."),
        "step": described(counted, "Which step of the routine, from 1."),
        "side": {"type": ["string", "null"], "enum": ["right", "left", None],
                 "description": "The side worked (for a lead-in, rest or switch: the side that comes next); "
                                "null for an exercise (or a step) with sides: none."},
        "set": described(counted, "Which set, from 1 to sets, counted afresh on each side; 1 for a "
                                  "lead-in, rest or switch."),
        "sets": described(counted, "How many sets the step has on each side."),
        "start_s": described(seconds, "When the segment starts."),
        "end_s": described(seconds, "When the segment ends."),
        "cues": {"type": "array", "items": {"$ref": "#/$defs/cue"},
                 "description": "What is said in the segment, in time order: start_s <= at_s < end_s, "
                                "except the done cue at total_s in the last segment."},
    })
    cue = obj({
        "at_s": described(seconds, "When it is said."),
        "kind": {"description": "What sort of phrase it is; when two would overlap, the less important "
                                "one is left out (most important first here).",
                 "oneOf": [{"const": kind, "description": CUE_MEANINGS[kind]}
                           for kind in sorted(PRIORITY, key=lambda kind: PRIORITY[kind])]},
        "text": described(text, "The words said, as captioned."),
    })
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "home-exercise-kiosk plan",
        "description": "What `kiosk plan --json` prints: a routine laid out in time. Every time (_s) is in "
                       "seconds from the start of the session, rounded to 3 decimals.",
        **plan,
        "$defs": {"segment": segment, "cue": cue},
    }
