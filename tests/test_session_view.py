"""The session screen's record: a pure function of where the session is."""

from __future__ import annotations

from kiosk.core.model import Cue
from kiosk.core.session_view import SessionView, session_view
from kiosk.core.timeline import build_timeline


def test_every_moment_of_the_default_routine_has_a_whole_view(shipped_library) -> None:
    timeline = build_timeline(shipped_library.default_routine())
    steps = timeline.routine.steps
    for tenth in range(0, int(timeline.total_s * 10), 7):
        position = timeline.position_at(tenth / 10)
        view = session_view(position, timeline, paused=False, said=None)
        segment = position.segment
        assert segment is not None
        assert view.exercise_name == segment.exercise.name
        assert view.step_text == f"Step {segment.step_index + 1} of {len(steps)}"
        assert int(view.countdown_text) >= 1 and 0.0 <= view.segment_progress <= 1.0
        assert view.side_text in ("", "LEFT", "RIGHT")
        assert (view.side_text != "") == (steps[segment.step_index].sides != "none")
        assert view.caption_text == (segment.exercise.caption if segment.kind == "work" else "")


def test_the_countdown_rounds_up_and_the_clock_rounds_down(shipped_library) -> None:
    timeline = build_timeline(shipped_library.default_routine())
    first = timeline.segments[0]
    view = session_view(timeline.position_at(first.end_s - 0.2), timeline, paused=False, said=None)
    assert view.countdown_text == "1"
    minutes, seconds = divmod(int(first.end_s - 0.2), 60)
    assert view.elapsed_text.startswith(f"{minutes}:{seconds:02d} / ")


def test_paused_says_so_and_what_the_voice_said_is_the_caption(shipped_library) -> None:
    timeline = build_timeline(shipped_library.default_routine())
    work = next(segment for segment in timeline.segments if segment.kind == "work")
    said = Cue(at_s=work.start_s + 1, kind="say", text="Spread your toes.")
    view = session_view(timeline.position_at(work.start_s + 2), timeline, paused=True, said=said)
    assert view.segment_title == "Paused" and view.paused and view.caption_text == "Spread your toes."
    earlier = Cue(at_s=work.start_s - 5, kind="say", text="From before this segment.")
    assert session_view(timeline.position_at(work.start_s + 2), timeline, paused=False,
                        said=earlier).caption_text == work.exercise.caption


def test_a_frame_that_changes_nothing_makes_an_equal_record(shipped_library) -> None:
    timeline = build_timeline(shipped_library.default_routine())
    one = session_view(timeline.position_at(12.30), timeline, paused=False, said=None)
    assert isinstance(one, SessionView)
    later = session_view(timeline.position_at(12.30), timeline, paused=False, said=None)
    assert one == later
