"""Playing WAV files: one small `AudioOut` seam and its back ends.

The speaker only ever plays a whole WAV, stops it, and asks whether it is still
playing, so the back end can be Kivy's audio (the app), `aplay` (the terminal player)
or `NullAudio`, which plays nothing but lasts as long as the sound would (tests and
benchmarks). A machine without a sound card is an expected state, never a crash:
the back end reports it in `problem` and the session carries on with captions.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import sys
import threading
import time
import wave
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Protocol, Sequence, Tuple

from kiosk.sessionlog.atomic import write_atomically

Clock = Callable[[], float]

SAMPLE_RATE = 22050
"""What espeak-ng renders and what the shipped sounds are made at."""


class AudioOut(Protocol):
    def play(self, wav: Path, volume: float) -> None:
        """Start playing a WAV at a volume from 0 to 1, stopping whatever played. Returns at once."""

    def stop(self) -> None:
        """Stop playing now. Returns at once."""

    @property
    def playing(self) -> bool:
        """Whether the last sound started is still playing."""

    @property
    def problem(self) -> Optional[str]:
        """None while sound works; else why nothing can be heard (no device, no player)."""

    def probe(self) -> Optional[str]:
        """Check that sound can be played at all (may block briefly); the problem, or None."""


# --------------------------------------------------------------------------- WAV helpers


@dataclass(frozen=True)
class WavInfo:
    channels: int
    sample_width: int
    frame_rate: int
    frames: int

    @property
    def seconds(self) -> float:
        return self.frames / self.frame_rate if self.frame_rate else 0.0


def wav_info(path: Path) -> WavInfo:
    """The format and length of a WAV; raises wave.Error or OSError for a broken file."""
    with wave.open(str(path), "rb") as source:
        return WavInfo(source.getnchannels(), source.getsampwidth(), source.getframerate(), source.getnframes())


def wav_seconds(path: Path) -> float:
    return wav_info(path).seconds


def _read_samples(path: Path) -> Tuple[WavInfo, "array[int]"]:
    with wave.open(str(path), "rb") as source:
        info = WavInfo(source.getnchannels(), source.getsampwidth(), source.getframerate(), source.getnframes())
        if info.sample_width != 2:
            raise wave.Error(f"{path}: only 16-bit WAV files are supported")
        samples = array("h", source.readframes(info.frames))
    if sys.byteorder == "big":
        samples.byteswap()
    return info, samples


def _write_samples(path: Path, info: WavInfo, samples: "array[int]") -> None:
    """Write to a temporary file beside `path`, then rename: readers never see half a file."""
    data = array("h", samples)
    if sys.byteorder == "big":
        data.byteswap()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(info.channels)
        out.setsampwidth(2)
        out.setframerate(info.frame_rate)
        out.writeframes(data.tobytes())
    write_atomically(path, buffer.getvalue(), durable=False)  # a cache: made again if lost


SILENCE_LEVEL = 300
"""Samples quieter than this (of 32767) count as silence when trimming."""
KEEP_SILENCE_S = 0.05


def trim_silence(path: Path, *, keep_s: float = KEEP_SILENCE_S, level: int = SILENCE_LEVEL) -> float:
    """Cut leading and trailing silence (espeak-ng ends each phrase with ~0.4 s of it).

    A shorter file starts sounding sooner and frees the speaker sooner, so a count that
    follows is not held back by silence. Returns the new length in seconds.
    """
    info, samples = _read_samples(path)
    channels = max(1, info.channels)
    first = next((i for i, value in enumerate(samples) if abs(value) > level), None)
    if first is None:
        return info.seconds
    last = next(i for i in range(len(samples) - 1, -1, -1) if abs(samples[i]) > level)
    margin = int(keep_s * info.frame_rate) * channels
    start = max(0, (first - margin) // channels * channels)
    end = min(len(samples), (last + 1 + margin + channels - 1) // channels * channels)
    if start == 0 and end == len(samples):
        return info.seconds
    kept = samples[start:end]
    _write_samples(path, WavInfo(info.channels, 2, info.frame_rate, len(kept) // channels), kept)
    return len(kept) / channels / info.frame_rate


def write_scaled(source: Path, target: Path, volume: float) -> None:
    """Copy a WAV with every sample multiplied by `volume` (0 to 1)."""
    info, samples = _read_samples(source)
    factor = min(1.0, max(0.0, volume))
    scaled = array("h", (int(value * factor) for value in samples))
    _write_samples(target, info, scaled)


def write_joined(parts: Sequence[Path], target: Path, volume: float, gap_s: float = 0.3) -> None:
    """One WAV of `parts` one after the other, `gap_s` of silence between, scaled by `volume`
    (the chime, then the words: a reminder as `kiosk remind test --to` saves it). The parts
    must share one format (the kiosk's sounds and espeak-ng's are 22,050 Hz mono)."""
    factor = min(1.0, max(0.0, volume))
    joined: "array[int]" = array("h")
    first: Optional[WavInfo] = None
    for number, part in enumerate(parts):
        info, samples = _read_samples(part)
        if first is None:
            first = info
        elif (info.channels, info.frame_rate) != (first.channels, first.frame_rate):
            raise wave.Error(f"{part}: {info.frame_rate} Hz, {info.channels} channel(s); "
                             f"expected {first.frame_rate} Hz, {first.channels}")
        if number:
            joined.extend([0] * int(gap_s * info.frame_rate) * info.channels)
        joined.extend(int(value * factor) for value in samples)
    if first is None:
        raise ValueError("nothing to join")
    _write_samples(target, WavInfo(first.channels, 2, first.frame_rate, len(joined) // first.channels), joined)


class ScaledCopies:
    """Volume-scaled copies of WAVs for players that have no volume of their own (aplay).

    Each copy is made once per file and volume and kept in a folder, so a cue at
    session time is a file lookup, not a rewrite.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._made: Dict[Tuple[str, int, int, float], Path] = {}
        self._lock = threading.Lock()

    def path_for(self, source: Path, volume: float) -> Path:
        level = round(min(1.0, max(0.0, volume)), 2)
        if level >= 1.0:
            return source
        stat = source.stat()
        key = (str(source), stat.st_mtime_ns, stat.st_size, level)
        with self._lock:
            made = self._made.get(key)
            if made is not None and made.exists():
                return made
            digest = hashlib.sha256(repr(key).encode()).hexdigest()[:24]
            target = self.folder / f"{digest}.wav"
            if not target.exists():
                self.folder.mkdir(parents=True, exist_ok=True)
                write_scaled(source, target, level)
            self._made[key] = target
            return target


def silent_wav(path: Path, seconds: float = 0.02) -> Path:
    """A short silent WAV, for probing a device without making a sound."""
    frames = int(seconds * SAMPLE_RATE)
    _write_samples(path, WavInfo(1, 2, SAMPLE_RATE, frames), array("h", bytes(2 * frames)))
    return path


# --------------------------------------------------------------------------- back ends


@dataclass(frozen=True)
class Played:
    wav: Path
    volume: float
    at: float


class NullAudio:
    """Plays nothing, but is "playing" for the WAV's real length by the injected clock.

    Tests and benchmarks use it to exercise the speaker's timing without a sound card;
    `plays` records what would have been heard and when.
    """

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self.plays: List[Played] = []
        self._until = float("-inf")
        self._lock = threading.Lock()
        self._lengths: Dict[Path, float] = {}

    def play(self, wav: Path, volume: float) -> None:
        length = self._lengths.get(wav)
        if length is None:
            length = self._lengths[wav] = wav_seconds(wav)
        now = self.clock()
        with self._lock:
            self.plays.append(Played(wav, volume, now))
            self._until = now + length

    def stop(self) -> None:
        with self._lock:
            self._until = float("-inf")

    @property
    def playing(self) -> bool:
        with self._lock:
            return self.clock() < self._until

    @property
    def problem(self) -> Optional[str]:
        return None

    def probe(self) -> Optional[str]:
        return None


APLAY_MISSING = "aplay is not installed (it comes with the alsa-utils package)"


class AplayAudio:
    """Plays through ALSA's `aplay`, one process per sound: the terminal player's back end.

    aplay has no volume option, so the volume is applied to a scaled copy of the file.
    With no sound card aplay exits at once with "audio open error"; that becomes
    `problem` and nothing else happens.
    """

    def __init__(self, scratch_dir: Path, *, command: str = "aplay") -> None:
        self.command = command
        self.copies = ScaledCopies(scratch_dir)
        self.scratch_dir = scratch_dir
        self._process: Optional[subprocess.Popen[bytes]] = None
        self._stopped_by_us = False
        self._problem: Optional[str] = None
        self._lock = threading.Lock()

    def _executable(self) -> Optional[str]:
        return shutil.which(self.command)

    def play(self, wav: Path, volume: float) -> None:
        self.stop()
        executable = self._executable()
        if executable is None:
            self._problem = APLAY_MISSING
            return
        path = self.copies.path_for(wav, volume)
        try:
            process = subprocess.Popen(
                [executable, "-q", str(path)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE, start_new_session=True)
        except OSError as error:
            self._problem = f"cannot run aplay: {error.strerror or error}"
            return
        with self._lock:
            self._process = process
            self._stopped_by_us = False

    def stop(self) -> None:
        with self._lock:
            process = self._process
            if process is not None and process.poll() is None:
                self._stopped_by_us = True
                process.terminate()

    @property
    def playing(self) -> bool:
        with self._lock:
            process = self._process
            if process is None:
                return False
            code = process.poll()
            if code is None:
                return True
            self._process = None
            stopped_by_us = self._stopped_by_us
        message = _read_all(process.stderr)
        if code != 0 and not stopped_by_us:
            self._problem = _aplay_problem(message)
        return False

    @property
    def problem(self) -> Optional[str]:
        return self._problem

    def probe(self, timeout_s: float = 5.0) -> Optional[str]:
        """Play 20 ms of silence and wait for aplay's verdict."""
        executable = self._executable()
        if executable is None:
            self._problem = APLAY_MISSING
            return self._problem
        self.scratch_dir.mkdir(parents=True, exist_ok=True)
        probe = silent_wav(self.scratch_dir / "probe.wav")
        try:
            result = subprocess.run([executable, "-q", str(probe)], stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self._problem = "aplay did not answer (is the sound device busy?)"
            return self._problem
        except OSError as error:
            self._problem = f"cannot run aplay: {error.strerror or error}"
            return self._problem
        if result.returncode != 0:
            self._problem = _aplay_problem(result.stderr.decode("utf-8", "replace"))
        return self._problem

    def close(self) -> None:
        self.stop()


def _read_all(stream: Any) -> str:
    if stream is None:
        return ""
    try:
        return str(stream.read().decode("utf-8", "replace"))
    except (OSError, ValueError):
        return ""
    finally:
        stream.close()


def _aplay_problem(stderr: str) -> str:
    """aplay's last error line, said as what it means for the person."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip().startswith("aplay:")]
    detail = lines[-1] if lines else (stderr.strip().splitlines() or ["aplay failed"])[-1]
    if "audio open error" in detail or "no soundcards" in detail:
        return f"no audio device ({detail})"
    return f"sound does not play ({detail})"


class KivyAudio:
    """Kivy's SoundLoader: the app's back end. Kivy is imported only when this is used.

    Sounds are loaded once per file. Whether a sound still plays is Kivy's `state`, and
    also its length since it started, because Kivy only notices the end from its
    clock, which does not run without an app. The speaker calls this from its own
    thread: SDL_mixer locks its own state, and Kivy's Clock scheduling (which the
    SDL2 sound uses to watch for the end) is thread-safe since Kivy 1.10.
    """

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self._sounds: Dict[Path, Any] = {}
        self._current: Any = None
        self._ends_at = float("-inf")
        self._problem: Optional[str] = None
        self._lock = threading.Lock()

    def _load(self, wav: Path) -> Any:
        sound = self._sounds.get(wav)
        if sound is None:
            from kivy.core.audio import SoundLoader  # only the app pays for Kivy

            sound = SoundLoader.load(str(wav))
            if sound is not None:
                self._sounds[wav] = sound
        return sound

    def play(self, wav: Path, volume: float) -> None:
        with self._lock:
            self._stop_locked()
            sound = self._load(wav)
            if sound is None:
                self._problem = f"Kivy cannot play {wav.name}"
                return
            length = float(sound.length or 0.0)
            if length <= 0:
                self._problem = "no audio device (Kivy could not open the sound output)"
                return
            sound.volume = min(1.0, max(0.0, volume))
            sound.play()
            self._current = sound
            self._ends_at = self.clock() + length

    def _stop_locked(self) -> None:
        if self._current is not None and self._current.state == "play":
            self._current.stop()
        self._current = None
        self._ends_at = float("-inf")

    def stop(self) -> None:
        with self._lock:
            self._stop_locked()

    @property
    def playing(self) -> bool:
        with self._lock:
            current = self._current
            return current is not None and current.state == "play" and self.clock() < self._ends_at

    @property
    def problem(self) -> Optional[str]:
        return self._problem

    def probe(self) -> Optional[str]:
        from kiosk import paths

        beep = paths.shipped_media_dir() / "sounds" / "beep.wav"
        with self._lock:
            sound = self._load(beep) if beep.exists() else None
        if sound is None or float(sound.length or 0.0) <= 0:
            self._problem = "no audio device (Kivy could not open the sound output)"
        return self._problem

    def close(self) -> None:
        with self._lock:
            self._stop_locked()
            for sound in self._sounds.values():
                sound.unload()
            self._sounds.clear()
