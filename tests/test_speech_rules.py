"""The speaking rules, fed times by hand: no threads, no clock, no sound."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Tuple

from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.core.speech_rules import LATE_LIMIT_S, SpeechRules, Utterance

WAV = Path("phrase.wav")


def utterance(serial: int, kind: str, due_at: float, sound: Optional[Path] = WAV, text: str = "") -> Utterance:
    return Utterance(serial, kind, text or f"{kind}-{serial}", due_at, sound)


def test_a_free_channel_plays_what_is_due_at_once() -> None:
    rules = SpeechRules()
    rules.add(utterance(1, "count", 10.0))
    assert rules.next(9.9, None).start is None
    decision = rules.next(10.0, None)
    assert decision.start is not None and decision.start.serial == 1
    assert rules.waiting == ()


def test_a_count_that_cannot_start_within_the_limit_is_dropped_not_said_late() -> None:
    rules = SpeechRules()
    speaking = utterance(1, "reminder", 10.0)
    rules.add(utterance(2, "count", 10.5))
    assert rules.next(10.5 + LATE_LIMIT_S, speaking).dropped == ()
    decision = rules.next(10.5 + LATE_LIMIT_S + 0.01, speaking)
    assert [u.serial for u in decision.dropped] == [2]
    assert rules.next(20.0, None).start is None


def test_a_count_waits_for_the_phrase_before_it_when_it_can_still_start_in_time() -> None:
    rules = SpeechRules()
    speaking = utterance(1, "reminder", 10.0)
    rules.add(utterance(2, "count", 10.5))
    assert rules.next(10.6, speaking).start is None
    decision = rules.next(11.2, None)
    assert decision.start is not None and decision.start.serial == 2 and not decision.interrupt


def test_an_announcement_is_never_dropped_however_late() -> None:
    rules = SpeechRules()
    speaking = utterance(1, "announce", 0.0)
    rules.add(utterance(2, "announce", 1.0))
    rules.add(utterance(3, "switch", 2.0))
    rules.add(utterance(4, "done", 3.0))
    assert rules.next(30.0, speaking).dropped == ()
    started = []
    for _ in range(3):
        decision = rules.next(31.0, None)
        assert decision.start is not None and decision.dropped == ()
        started.append(decision.start.kind)
    assert started == ["announce", "switch", "done"]


def test_an_announcement_cuts_a_count_short_but_never_another_announcement() -> None:
    rules = SpeechRules()
    rules.add(utterance(2, "switch", 5.0))
    decision = rules.next(5.0, utterance(1, "count", 4.9))
    assert decision.interrupt and decision.start is not None and decision.start.kind == "switch"
    rules.add(utterance(3, "done", 6.0))
    assert rules.next(6.0, decision.start).start is None


def test_an_announcement_goes_before_a_count_that_is_also_waiting() -> None:
    rules = SpeechRules()
    rules.add(utterance(1, "count", 9.0))
    rules.add(utterance(2, "announce", 9.1))
    assert rules.next(9.2, None).start.kind == "announce"  # type: ignore[union-attr]


def test_the_beep_plays_before_the_spoken_count_and_the_chime_before_well_done() -> None:
    rules = SpeechRules()
    rules.add(utterance(1, "beep", 7.0))
    rules.add(utterance(2, "count", 7.0))
    first = rules.next(7.0, None).start
    assert first is not None and first.kind == "beep"
    assert rules.next(7.01, first).start is None
    second = rules.next(7.13, None).start
    assert second is not None and second.kind == "count"
    rules.add(utterance(3, "chime", 20.0))
    rules.add(utterance(4, "done", 20.0))
    chime = rules.next(20.0, None).start
    assert chime is not None and chime.kind == "chime"
    assert rules.next(20.5, chime).start is None  # the chime is not cut short by the phrase


def test_a_phrase_still_rendering_waits_and_is_dropped_if_it_cannot_be_had() -> None:
    rules = SpeechRules()
    rules.add(utterance(1, "announce", 0.0, sound=None))
    rules.add(utterance(2, "reminder", 0.0, sound=None))
    assert rules.next(0.5, None).start is None
    assert rules.ready(1, WAV) == ()
    assert rules.next(0.6, None).start.serial == 1  # type: ignore[union-attr]
    assert [u.serial for u in rules.ready(2, None)] == [2]
    assert rules.waiting == ()


def test_a_phrase_rendered_too_late_is_dropped_when_it_is_a_count() -> None:
    rules = SpeechRules()
    rules.add(utterance(1, "count", 0.0, sound=None))
    assert [u.serial for u in rules.next(LATE_LIMIT_S + 0.5, None).dropped] == [1]
    assert rules.ready(1, WAV) == ()  # already gone: nothing happens


def test_stop_drops_everything_waiting() -> None:
    rules = SpeechRules()
    rules.add(utterance(1, "announce", 0.0))
    rules.add(utterance(2, "count", 0.0))
    assert [u.serial for u in rules.clear()] == [1, 2]
    assert rules.next(0.0, None).start is None


# --------------------------------------------------------------------------- a simulated session

KINDS = ["announce", "switch", "done", "count", "rep", "reminder", "halfway", "start", "rest", "beep"]


def simulate(cues: List[Tuple[float, str, float]]) -> Tuple[List[Tuple[Utterance, float, float]], List[Utterance]]:
    """Feed (due, kind, length) cues at their times and play them; return (played spans, dropped)."""
    rules = SpeechRules()
    lengths: Dict[int, float] = {}
    for serial, (due, kind, length) in enumerate(sorted(cues), start=1):
        lengths[serial] = length
        rules.add(utterance(serial, kind, due))
    played: List[Tuple[Utterance, float, float]] = []
    dropped: List[Utterance] = []
    playing: Optional[Utterance] = None
    ends_at = 0.0
    now = 0.0
    step = 0.01
    while now < 400.0 and (rules.waiting or playing):
        if playing is not None and now >= ends_at:
            playing = None
        decision = rules.next(now, playing)
        dropped.extend(decision.dropped)
        if decision.start is not None:
            if decision.interrupt and playing is not None:
                start, _, _ = played[-1]
                played[-1] = (start, played[-1][1], now)
            playing, ends_at = decision.start, now + lengths[decision.start.serial]
            played.append((decision.start, now, ends_at))
        now = round(now + step, 6)
    return played, dropped


cue_strategy = st.tuples(
    st.floats(min_value=0.0, max_value=120.0, allow_nan=False).map(lambda v: round(v, 2)),
    st.sampled_from(KINDS),
    st.floats(min_value=0.05, max_value=8.0, allow_nan=False).map(lambda v: round(v, 2)),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(cue_strategy, min_size=1, max_size=25))
def test_any_session_keeps_every_rule(cues: List[Tuple[float, str, float]]) -> None:
    played, dropped = simulate(cues)
    spans = sorted((start, end) for _, start, end in played)
    for (_, first_end), (second_start, _) in zip(spans, spans[1:]):
        assert second_start >= first_end - 1e-9, "two sounds overlap"
    for utterance_played, start, _ in played:
        assert start >= utterance_played.due_at - 1e-9
        if not utterance_played.must_play:
            assert start - utterance_played.due_at <= LATE_LIMIT_S + 1e-6, "a count was said late"
    assert all(not u.must_play for u in dropped), "an announcement was dropped"
    assert len(played) + len(dropped) == len(cues)
    announced = [u.serial for u, _, _ in played if u.must_play]
    assert announced == sorted(announced), "announcements out of order"
