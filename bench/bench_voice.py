"""Voice benchmark: rendering, worker round trip, and a real-time session against a naive speaker.

Run: .venv/bin/python bench/bench_voice.py [--repeat 5] [--pings 200] [--session-seconds 60]

Rendering: every phrase of the default routine, cold (empty cache) and cached, beside
one phrase as the reference, through the pyttsx3 worker (and the espeak-ng command
line it falls back to). Round trip: one ping to the worker and its answer.

Session: the default routine played in real time for --session-seconds through
`SessionRunner` on a 60 fps main loop, once with the default speaker (worker-rendered
WAVs played from its own thread) and once with a naive speaker that calls
`engine.say(); engine.runAndWait()` on the main loop. Printed: cue onset error (the
moment playback starts minus the planned time) p50/p95/max, and the longest stall of
the main loop. On a machine with no sound card the default speaker plays through
`NullAudio` (the same thread and rules, no device latency) and the naive speaker's
aplay fails at once, so a third row adds the phrase's length to the naive stall, as
blocking playback on a real card would. Exit status 1 if a budget is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from kiosk import paths
from kiosk.config import Settings
from kiosk.core.catalog import load_library
from kiosk.core.model import Cue
from kiosk.core.runner import SessionRunner
from kiosk.core.timeline import Timeline, build_timeline
from kiosk.sound.audio import AplayAudio, AudioOut, NullAudio, wav_seconds
from kiosk.sound.voice import CueSpeaker, PhraseVoice, SpeechEvent, make_speaker

FRAME_S = 1 / 60
RENDER_BUDGET_S = 2.0
CACHED_BUDGET_S = 0.05
ROUND_TRIP_BUDGET_S = 0.01
ONSET_P95_BUDGET_S = 0.050


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def fine_ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms"


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def table(title: str, headers: Tuple[str, ...], rows: List[Tuple[str, ...]]) -> None:
    widths = [max(len(str(r[i])) for r in rows + [headers]) for i in range(len(headers))]
    print(f"\n{title}")
    print(" | ".join(h.ljust(w) for h, w in zip(headers, widths)))
    print("-+-".join("-" * w for w in widths))
    for r in rows:
        print(" | ".join(str(c).ljust(w) for c, w in zip(r, widths)))


def verdict(ok: bool) -> str:
    return "ok" if ok else "OVER"


# --------------------------------------------------------------------------- rendering


def bench_rendering(phrases: List[str], scratch: Path, repeat: int) -> List[Tuple[str, ...]]:
    reference = "Switch to your left foot."
    rows: List[Tuple[str, ...]] = []
    for use_worker, label in ((True, "pyttsx3 worker"), (False, "espeak-ng command line")):
        start_s, one_s, cold_s, cached_s = [], [], [], []
        for run in range(repeat):
            folder = scratch / f"render-{label.split()[0]}-{run}"
            voice = PhraseVoice(cache_dir=folder, use_worker=use_worker)
            try:
                start_s.append(timed(lambda: voice.render(["Ready."])))  # starts the engine
                one_s.append(timed(lambda: voice.render([reference])))
                cold_s.append(timed(lambda: voice.render(phrases)))
                cached_s.append(timed(lambda: voice.render(phrases)))
                assert voice.tier == ("pyttsx3" if use_worker else "espeak-ng"), voice.notices
            finally:
                voice.close()
        cold, cached = statistics.median(cold_s), statistics.median(cached_s)
        rows.append((label, ms(statistics.median(start_s)), ms(statistics.median(one_s)),
                     f"{ms(cold)} (max {ms(max(cold_s))})", ms(cached),
                     f"< {RENDER_BUDGET_S:g} s / < {ms(CACHED_BUDGET_S)}",
                     verdict(max(cold_s) + statistics.median(start_s) < RENDER_BUDGET_S
                             and cached < CACHED_BUDGET_S)))
    return rows


def bench_round_trip(scratch: Path, pings: int) -> Tuple[str, ...]:
    voice = PhraseVoice(cache_dir=scratch / "ping")
    try:
        voice.ping()
        samples = [timed(voice.ping) for _ in range(pings)]
    finally:
        voice.close()
    return (f"worker ping ({pings}x)", fine_ms(percentile(samples, 0.5)), fine_ms(percentile(samples, 0.95)),
            fine_ms(max(samples)), f"p95 < {ms(ROUND_TRIP_BUDGET_S)}", verdict(percentile(samples, 0.95) < ROUND_TRIP_BUDGET_S))


# --------------------------------------------------------------------------- real-time session


class NaiveSpeaker:
    """What the issue warns against: pyttsx3 driven on the main loop."""

    def __init__(self, rate: int, playback: Optional[Dict[str, float]] = None) -> None:
        import pyttsx3

        self.engine = pyttsx3.init()
        self.engine.setProperty("rate", rate)
        self.playback = playback
        self.onsets: List[float] = []
        self.status = "voice"

    def prepare(self, phrases: Sequence[str]) -> None:
        pass

    def say(self, cue: Cue, due_at: float) -> None:
        self.engine.say(cue.text)
        self.engine.runAndWait()  # synthesis, then aplay, all on the caller's thread
        self.onsets.append(time.monotonic() - due_at)  # sound can start only once synthesis is done
        if self.playback is not None:
            time.sleep(self.playback.get(cue.text, 0.0))  # what aplay blocks for on a real card

    def stop(self) -> None:
        pass

    def close(self) -> None:
        pass


def run_session(timeline: Timeline, speaker: object, seconds: float) -> List[float]:
    """A 60 fps main loop sampling the runner; returns each frame's work time (the stalls).

    Frames fall half a frame off the session's whole seconds, as a real display's
    would fall anywhere: each cue is then seen about 8 ms after its time, which
    counts in its onset error.
    """
    runner = SessionRunner(timeline, clock=time.monotonic, speaker=speaker)  # type: ignore[arg-type]
    stalls: List[float] = []
    start = time.monotonic()
    runner.start()
    frame = 0
    while not runner.finished and time.monotonic() - start < seconds:
        frame += 1
        wait = start + (frame - 0.5) * FRAME_S - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        began = time.monotonic()
        runner.tick()
        stalls.append(time.monotonic() - began)
    runner.stop()
    return stalls


def bench_session(timeline: Timeline, scratch: Path, seconds: float) -> List[Tuple[str, ...]]:
    settings = Settings()
    aplay = AplayAudio(scratch / "scaled")
    audio: AudioOut = aplay if aplay.probe() is None else NullAudio(time.monotonic)
    audio_name = "aplay" if audio is aplay else "NullAudio (no sound card)"
    onsets: List[Tuple[str, float]] = []

    def listen(event: SpeechEvent) -> None:
        if event.action == "start":
            onsets.append((event.utterance.kind, event.at - event.utterance.due_at))

    speaker = make_speaker(settings, media_dir=paths.shipped_media_dir(), cache_dir=scratch / "session",
                           audio=audio)
    speaker.listener = listen
    phrases = [c.text for c in timeline.cues]
    speaker.prepare(phrases)
    assert isinstance(speaker, CueSpeaker) and speaker.voice is not None
    lengths = {text: wav_seconds(path) for text, path in speaker.voice.render(phrases).items()}
    try:
        stalls = run_session(timeline, speaker, seconds)
        speaker.drain(30.0)
    finally:
        speaker.close()
    first_sounds = [error for kind, error in onsets if kind != "count"]  # a count's sound is its beep
    rows = [session_row(f"default speaker, {audio_name}", first_sounds, stalls)]

    for playback, label in ((None, "naive say+runAndWait (as measured here)"),
                            (lengths, "naive + blocking playback (a real card)")):
        if playback is not None and audio is aplay:
            continue  # with a sound card the measured row already includes playback
        naive = NaiveSpeaker(settings.speech_rate, playback)
        with quiet_stderr():  # pyttsx3's own aplay call complains about the missing sound card
            stalls = run_session(timeline, naive, seconds)
        rows.append(session_row(label, naive.onsets, stalls))
    return rows


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    saved = os.dup(2)
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(quiet)


def session_row(label: str, onsets: List[float], stalls: List[float]) -> Tuple[str, ...]:
    p95 = percentile(onsets, 0.95)
    worst_stall = max(stalls) if stalls else 0.0
    return (label, str(len(onsets)), ms(percentile(onsets, 0.5)), ms(p95), ms(max(onsets) if onsets else 0.0),
            ms(worst_stall), verdict(p95 <= ONSET_P95_BUDGET_S and worst_stall <= FRAME_S))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pings", type=int, default=200)
    parser.add_argument("--session-seconds", type=float, default=60.0, help="0 skips the real-time session")
    args = parser.parse_args()
    library = load_library([paths.shipped_exercises_dir()], paths.shipped_media_dir())
    routine = library.default_routine()
    assert routine is not None
    timeline = build_timeline(routine)
    phrases = list(dict.fromkeys(c.text for c in timeline.cues))
    failed = False
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        rows = bench_rendering(phrases, scratch, args.repeat)
        table(f"Rendering the {len(phrases)} phrases of {routine.id} ({timeline.total_s / 60:.0f} min), "
              f"median of {args.repeat}",
              ("engine", "engine start", "one phrase (reference)", "all phrases, cold", "all, cached",
               "budget", ""), rows)
        failed |= any(r[-1] == "OVER" for r in rows)
        trip = bench_round_trip(scratch, args.pings)
        table("Worker round trip", ("request", "p50", "p95", "max", "budget", ""), [trip])
        failed |= trip[-1] == "OVER"
        if args.session_seconds > 0:
            rows = bench_session(timeline, scratch, args.session_seconds)
            table(f"Real-time session: first {args.session_seconds:g} s of {routine.id}, 60 fps main loop "
                  "(onset = playback start - planned time)",
                  ("speaker", "sounds", "onset p50", "onset p95", "onset max", "longest main-loop stall",
                   "p95 <= 50 ms, stall <= 1 frame"), rows)
            failed |= rows[0][-1] == "OVER"
    print(f"\n{threading.active_count()} threads left; budgets: "
          f"{'missed' if failed else 'met'} (the naive rows are the comparison, not held to them)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
