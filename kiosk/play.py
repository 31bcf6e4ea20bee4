"""The terminal session player behind `kiosk play`: a session by ear, captions as lines.

It is how a Pi without a screen, or an admin over SSH, runs a session. The loop only
samples the monotonic clock (the session's position is never summed from waits) and
sleeps until the next cue is due; the voice plays through `aplay`. With no sound
card the session still runs, on captions.
"""

from __future__ import annotations

import contextlib
import signal
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, TextIO, Tuple

from kiosk import paths
from kiosk.config import Settings
from kiosk.core.clockcheck import local_now, read_boot_id
from kiosk.core.model import Cue, SessionRecord, clock_text
from kiosk.core.runner import SessionRunner
from kiosk.core.speaker import SilentSpeaker, Speaker, distinct_phrases
from kiosk.core.timeline import Timeline
from kiosk.sound.audio import AplayAudio, AudioOut
from kiosk.sound.voice import default_cache_dir, make_speaker

Clock = Callable[[], float]

LONGEST_WAIT_S = 0.5
"""The loop wakes at least this often (real seconds), whatever the next cue."""
FINISH_S = 20.0
"""After the end, how long (real seconds) the last phrase may take to finish playing."""


class ScaledClock:
    """Monotonic time running `speed` times faster, for tests: still one sample of the real clock."""

    def __init__(self, speed: float, base: Clock = time.monotonic) -> None:
        if speed <= 0:
            raise ValueError("speed must be more than 0")
        self.speed = speed
        self._base = base
        self._origin = base()

    def __call__(self) -> float:
        return self._origin + (self._base() - self._origin) * self.speed


def cue_line(cue: Cue) -> str:
    """`[00:35] Switch to your left foot.`: the cue with its time into the session."""
    return f"[{clock_text(cue.at_s, pad_minutes=True)}] {cue.text}"


@dataclass(frozen=True)
class Outcome:
    record: Optional[SessionRecord]
    """None when it was stopped before it began."""
    interrupted: bool
    stopped_at_s: float


def play_session(timeline: Timeline, *, speaker: Speaker, clock: Clock, out: TextIO, speed: float = 1.0,
                 sleep: Callable[[float], None] = time.sleep,
                 wall: Callable[[], Any] = local_now,
                 on_checkpoint: Optional[Callable[[SessionRecord], None]] = None) -> Tuple[SessionRunner, bool]:
    """Run one session to its end, printing each cue as it falls due. Ctrl-C stops it.

    `on_checkpoint` gets the session so far whenever a checkpoint is due, so a power cut
    mid-session still leaves it in the log. Returns the runner (ended: done or stopped)
    and whether it was interrupted.
    """
    runner = SessionRunner(timeline, clock=clock, speaker=speaker, wall=wall, boot_id=read_boot_id(), source="cli")

    def show(cues: Tuple[Cue, ...]) -> None:
        for cue in cues:
            out.write(cue_line(cue) + "\n")
        if cues:
            out.flush()

    try:
        show(runner.start())
        while not runner.finished:
            elapsed = runner.session.elapsed_s(clock())
            upcoming = timeline.cues_between(elapsed, timeline.total_s)
            next_at = upcoming[0].at_s if upcoming else timeline.total_s
            sleep(min(LONGEST_WAIT_S, max(0.0, next_at - elapsed) / speed) + 0.001)
            show(runner.tick())
            checkpoint = runner.checkpoint()
            if checkpoint is not None and on_checkpoint is not None:
                on_checkpoint(checkpoint)
    except KeyboardInterrupt:
        runner.stop()
        return runner, True
    return runner, False


@contextlib.contextmanager
def termination_as_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP (a closed SSH session) stop the session like Ctrl-C, so it is recorded."""

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    wanted = [signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
    previous = {}
    try:
        for signum in wanted:
            previous[signum] = signal.signal(signum, interrupt)
    except ValueError:  # not the main thread: leave signals alone
        pass
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def open_speaker(settings: Settings, *, clock: Clock, cache_dir: Path, err: TextIO,
                 audio: Optional[AudioOut] = None, media_dir: Optional[Path] = None) -> Speaker:
    """The speaker for a terminal session: aplay if it can make a sound, else captions only."""
    if audio is None:
        aplay = AplayAudio(cache_dir / "scaled")
        problem = aplay.probe()
        if problem:
            err.write(f"kiosk: {problem}; captions only\n")
            return SilentSpeaker("fallback")
        audio = aplay
    return make_speaker(settings, media_dir=media_dir or paths.shipped_media_dir(), cache_dir=cache_dir,
                        audio=audio, clock=clock)


def play_routine(timeline: Timeline, settings: Settings, *, out: TextIO, err: TextIO, speed: float = 1.0,
                 no_voice: bool = False, cache_dir: Optional[Path] = None, audio: Optional[AudioOut] = None,
                 media_dir: Optional[Path] = None, wall: Callable[[], Any] = local_now,
                 on_checkpoint: Optional[Callable[[SessionRecord], None]] = None) -> Outcome:
    """Prepare the voice, play the session in real time (or `speed` times faster), close the voice."""
    if no_voice:
        settings = replace(settings, voice=False)
    clock: Clock = ScaledClock(speed) if speed != 1 else time.monotonic
    speaker = open_speaker(settings, clock=clock, cache_dir=cache_dir or default_cache_dir(), err=err,
                           audio=audio, media_dir=media_dir)
    try:
        with termination_as_interrupt():
            try:
                if settings.voice and speaker.status != "fallback":
                    err.write("Preparing the voice...\n")
                    err.flush()
                    counting = speaker.slow_to_prepare and err.isatty()
                    speaker.prepare([cue.text for cue in timeline.cues],
                                    _progress_line(timeline, err) if counting else None)
                    if counting:
                        err.write("\n")
                for notice in speaker.take_notices():  # which voice speaks, when not the one chosen
                    err.write(f"kiosk: {notice}\n")
                if speaker.status == "fallback":
                    detail = getattr(speaker, "detail", "")
                    if detail:
                        err.write(f"kiosk: voice unavailable: {detail}\n")
            except KeyboardInterrupt:
                return Outcome(None, True, 0.0)
            out.write(f"{timeline.routine.name}: {clock_text(timeline.total_s, pad_minutes=True)}. Ctrl-C stops.\n")
            out.flush()
            runner, interrupted = play_session(timeline, speaker=speaker, clock=clock, out=out, speed=speed,
                                               wall=wall, on_checkpoint=on_checkpoint)
            stopped_at = runner.session.elapsed_s(clock())
            if not interrupted:
                drain = getattr(speaker, "drain", None)
                if drain is not None:
                    with contextlib.suppress(KeyboardInterrupt):
                        drain(FINISH_S)
            return Outcome(runner.record() if runner.finished else None, interrupted, stopped_at)
    finally:
        speaker.close()


def _progress_line(timeline: Timeline, err: TextIO) -> Callable[[str], None]:
    """A slow voice (Piper) counts its phrases on one terminal line as it makes them."""
    total = len(distinct_phrases(cue.text for cue in timeline.cues))
    done = [0]

    def ready(_text: str) -> None:
        done[0] += 1
        err.write(f"\r  {done[0]} of {total} phrases")
        err.flush()

    return ready


def positive_speed(value: str) -> float:
    """argparse type for --speed: a finite number above 0."""
    speed = float(value)
    if not 0 < speed < float("inf"):
        raise ValueError(value)
    return speed
