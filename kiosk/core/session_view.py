"""What the session screen shows, as one record computed from where the session is.

Pure: the screen binds to a `SessionView`, and the app makes a new one each frame from
the runner's position. A frame that changes nothing makes an equal record, so nothing
on the screen is touched.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

from kiosk.core.model import Cue, clock_text
from kiosk.core.timeline import Position, Timeline

SEGMENT_TITLES = {
    "lead_in": "Get ready",
    "work": "",
    "switch": "Switch sides",
    "set_rest": "Rest",
    "rest": "Rest",
}


@dataclass(frozen=True)
class SessionView:
    exercise_name: str = ""
    segment_title: str = ""
    """"Get ready", "Rest", "Switch sides", "Paused", or nothing during work."""
    countdown_text: str = ""
    """Whole seconds left in the segment, rounded up: it reads 1 until the segment ends."""
    segment_progress: float = 0.0
    side_text: str = ""
    """LEFT or RIGHT for an exercise done on each side; empty otherwise."""
    set_text: str = ""
    step_text: str = ""
    next_text: str = ""
    image_source: str = ""
    caption_text: str = ""
    """What the voice is saying, else the exercise's caption during work."""
    overall_progress: float = 0.0
    elapsed_text: str = ""
    paused: bool = False


def session_view(position: Position, timeline: Timeline, *, paused: bool, said: Optional[Cue]) -> SessionView:
    """The screen's record for `position` in `timeline`; `said` is the last phrase handed to the voice."""
    segment = position.segment
    if segment is None:
        return SessionView(paused=paused)
    steps = timeline.routine.steps
    on_sides = segment.step_index < len(steps) and steps[segment.step_index].sides != "none"
    if said is not None and said.at_s >= segment.start_s - 1e-9:
        caption = said.text
    else:
        caption = segment.exercise.caption if segment.kind == "work" else ""
    following = segment.step_index + 1
    return SessionView(
        exercise_name=segment.exercise.name,
        segment_title="Paused" if paused else SEGMENT_TITLES[segment.kind],
        countdown_text=str(max(0, int(math.ceil(position.seconds_left_in_segment - 1e-9)))),
        segment_progress=position.seconds_into_segment / segment.duration_s if segment.duration_s else 1.0,
        side_text=(segment.side or "").upper() if on_sides else "",
        set_text=f"Set {segment.set_number} of {segment.set_count}" if segment.set_count > 1 else "",
        step_text=f"Step {segment.step_index + 1} of {len(steps)}",
        next_text=f"Next: {steps[following].exercise.name}" if following < len(steps) else "Last exercise",
        image_source=segment.exercise.image or "",
        caption_text=caption,
        overall_progress=position.fraction_done,
        elapsed_text=f"{clock_text(position.elapsed_s)} / {clock_text(position.total_s)}",
        paused=paused,
    )
