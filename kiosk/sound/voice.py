"""The voice: a Speaker says cues without ever blocking the caller.

The app and `kiosk play` only see the `Speaker` protocol. `SilentSpeaker` (kiosk.core.speaker) is the
floor every other speaker falls back to: the screen's captions carry the session.

`CueSpeaker` is the real one. Phrases are rendered to WAV files ahead of time
(`prepare`) by a `PhraseVoice`: pyttsx3 in a worker process, else the espeak-ng
command line, else nothing. At cue time `say` only queues the cue; the speaker's own
thread applies the speaking rules (`speech_rules`) and starts the WAV through an
`AudioOut`. Beeps count down the end of timed segments and a chime ends the session.
"""

from __future__ import annotations

import hashlib
import logging
import os
import queue
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from kiosk.config import Settings
from kiosk.core.model import Cue
from kiosk.core.speaker import Progress, distinct_phrases
from kiosk.core.speech_rules import LATE_LIMIT_S, SpeechRules, Utterance
from kiosk.sessionlog.atomic import replace_with
from kiosk.sound.audio import AudioOut, KivyAudio, trim_silence, wav_info
from kiosk.sound.piper import PiperUnusable, PiperVoice
from kiosk.sound.voice_worker import (
    REPLY_TIMEOUT_S,
    START_TIMEOUT_S,
    EngineMissing,
    VoiceInfo,
    VoiceWorker,
    WorkerError,
)

log = logging.getLogger("kiosk.sound.voice")

Clock = Callable[[], float]


# =========================================================================== where phrases come from


def default_cache_dir(environ: Optional[Dict[str, str]] = None) -> Path:
    """$XDG_CACHE_HOME/home-exercise-kiosk/voice: rendered phrases can always be made again."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CACHE_HOME", "")
    root = Path(base) if base and os.path.isabs(base) else Path(env.get("HOME") or Path.home()) / ".cache"
    return root / "home-exercise-kiosk" / "voice"


class PhraseCache:
    """Rendered phrases, one WAV each, named by everything that changes how they sound."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path_for(self, engine: str, voice: str, rate: int, text: str) -> Path:
        key = "\0".join((engine, voice, str(int(rate)), text))
        return self.folder / f"{hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]}.wav"

    def lookup(self, engine: str, voice: str, rate: int, text: str) -> Optional[Path]:
        path = self.path_for(engine, voice, rate, text)
        return path if path.exists() else None


class EspeakCommand:
    """The espeak-ng command line: the voice when the pyttsx3 worker cannot be had."""

    def __init__(self, command: str = "espeak-ng", timeout_s: float = REPLY_TIMEOUT_S) -> None:
        self.command = command
        self.timeout_s = timeout_s
        self._version: Optional[str] = None

    def executable(self) -> Optional[str]:
        return shutil.which(self.command)

    def _run(self, arguments: Sequence[str]) -> subprocess.CompletedProcess[str]:
        executable = self.executable()
        if executable is None:
            raise FileNotFoundError(f"{self.command} is not installed")
        return subprocess.run([executable, *arguments], stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=self.timeout_s)

    def version(self) -> str:
        if self._version is None:
            result = self._run(["--version"])
            found = re.search(r"(\d+(?:\.\d+)+)", result.stdout)
            self._version = f"espeak-ng-cli-{found.group(1) if found else 'unknown'}"
        return self._version

    def voices(self) -> List[VoiceInfo]:
        """Parse `espeak-ng --voices`: Pty, Language, Age/Gender, VoiceName, File, (Other languages)."""
        found = []
        for line in self._run(["--voices"]).stdout.splitlines()[1:]:
            parts = line.split()
            if len(parts) < 5:
                continue
            others = re.findall(r"\(([\w-]+)\s+\d+\)", line)
            found.append(VoiceInfo(parts[4].lower(), parts[3].replace("_", " "), (parts[1], *others)))
        return found

    def render(self, text: str, path: Path, voice: str, rate: int) -> None:
        temp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        arguments = ["-w", str(temp), "-s", str(int(rate))]
        if voice:
            arguments += ["-v", voice]
        try:
            result = self._run([*arguments, "--", text])
            if result.returncode != 0 or not temp.exists():
                message = (result.stderr.strip().splitlines() or [f"exit status {result.returncode}"])[-1]
                raise RuntimeError(f"espeak-ng: {message}")
            if wav_info(temp).frames == 0:
                raise RuntimeError("espeak-ng wrote an empty file")
            trim_silence(temp)
            replace_with(temp, path, durable=False)  # a cache: made again if lost
        finally:
            if temp.exists():
                temp.unlink()


def match_voice(wanted: str, voices: Sequence[VoiceInfo]) -> Optional[VoiceInfo]:
    """The voice a setting means: by id ("gmw/en-us" or "en-us"), by name, else by language."""
    key = wanted.strip().lower()
    if not key:
        return None
    for voice in voices:
        if key in (voice.id.lower(), voice.name.lower(), voice.id.lower().rsplit("/", 1)[-1]):
            return voice
    for voice in voices:
        if key in (language.lower() for language in voice.languages):
            return voice
    return None


TIERS = ("piper", "pyttsx3", "espeak-ng", "none")

FAILURES_BEFORE_FALLBACK = 2
"""A worker that times out or dies is restarted once; the second failure in a row moves down a tier."""


class PhraseVoice:
    """Text to WAV files, down a ladder: Piper (when chosen) -> pyttsx3 worker -> espeak-ng
    command line -> nothing.

    `render` may block (it waits for the engine, within timeouts); `cached` never does.
    Thread-safe: the app's preparing thread and the speaker's render thread share it; while
    Piper renders for the one, `render_for_cue` serves the other from the rungs below.
    """

    def __init__(self, *, cache_dir: Path, voice_id: str = "", rate: int = 160,
                 start_timeout_s: float = START_TIMEOUT_S, reply_timeout_s: float = REPLY_TIMEOUT_S,
                 espeak: Optional[EspeakCommand] = None, use_worker: bool = True,
                 piper: Optional[PiperVoice] = None) -> None:
        self.cache = PhraseCache(cache_dir)
        self.cache_dir = cache_dir
        self.requested_voice = voice_id.strip()
        self.rate = int(rate)
        self.start_timeout_s = start_timeout_s
        self.reply_timeout_s = reply_timeout_s
        self.espeak = espeak or EspeakCommand(timeout_s=reply_timeout_s)
        self.notices: List[str] = []
        """What went wrong along the way, oldest first, for the log and `kiosk play`."""
        self.fallbacks: List[str] = []
        """The notices that moved the voice down the ladder: which voice speaks now, and why."""
        self._piper = piper
        self._tier = "pyttsx3" if use_worker else "espeak-ng"
        self._worker: Optional[VoiceWorker] = None
        self._failures = 0
        self._voice: Optional[str] = None
        self._engine = ""
        self._closed = False
        self._lock = threading.RLock()

    # ---------------------------------------------------------------- reading

    @property
    def tier(self) -> str:
        """Which rung of the ladder speaks: "piper", "pyttsx3", "espeak-ng" or "none"."""
        return "piper" if self._piper is not None else self._tier

    @property
    def tier_below_piper(self) -> str:
        """The rung that speaks what Piper does not: "pyttsx3", "espeak-ng" or "none"."""
        return self._tier

    @property
    def piper(self) -> Optional[PiperVoice]:
        """The Piper voice while it is the one speaking; None before it was chosen or after it failed."""
        return self._piper

    @property
    def problem(self) -> Optional[str]:
        return self.notices[-1] if self.notices else None

    @property
    def worker_pid(self) -> Optional[int]:
        worker = self._worker
        return worker.pid if worker is not None and worker.alive else None

    @property
    def engine(self) -> str:
        piper = self._piper
        return piper.engine if piper is not None else self._engine

    def cached(self, text: str) -> Optional[Path]:
        """The rendered phrase if it is already on disk; never starts or waits for an engine."""
        piper = self._piper
        if piper is not None:
            if not piper.engine:
                return None  # not opened yet: nothing of it can be on disk under a key we know
            return piper.ready(text) or self.cache.lookup(piper.engine, piper.voice_key, self.rate, text)
        engine, voice = self._engine, self._voice
        if not engine or voice is None or self._tier == "none":
            return None
        return self.cache.lookup(engine, voice, self.rate, text)

    # ---------------------------------------------------------------- rendering

    def render(self, texts: Sequence[str], progress: Optional[Progress] = None) -> Dict[str, Path]:
        """Render every phrase not yet cached; return text -> WAV for those that could be.

        `progress` hears each phrase as it becomes ready. Phrases Piper could not say
        come from the rungs below; Piper that cannot be used at all is dropped, once, with
        a notice saying why.
        """
        wanted = distinct_phrases(texts)
        result: Dict[str, Path] = {}
        piper = self._piper
        if piper is not None and not self._closed:
            try:
                result.update(piper.render(wanted, self.cache.path_for, progress))
            except PiperUnusable as error:
                self._drop_piper(str(error))
            wanted = [text for text in wanted if text not in result]
        if wanted:
            rest = self._render_ladder(wanted)
            result.update(rest)
            if progress is not None:
                for text in rest:
                    progress(text)
        return result

    def render_for_cue(self, texts: Sequence[str]) -> Dict[str, Path]:
        """Phrases wanted now, at their cue: made by Piper already, else by the quick rungs
        below it. Never waits for Piper, which may be busy preparing the session."""
        piper = self._piper
        if piper is None:
            return self.render(texts)
        try:
            piper.open()  # a look at the files only: finds what another voice of the same settings made
        except PiperUnusable as error:
            self._drop_piper(str(error))
            return self.render(texts)
        result: Dict[str, Path] = {}
        wanted = []
        for text in distinct_phrases(texts):
            found = self.cached(text)
            if found is not None:
                result[text] = found
            else:
                wanted.append(text)
        if wanted:
            result.update(self._render_ladder(wanted))
        return result

    def _drop_piper(self, why: str) -> None:
        piper, self._piper = self._piper, None
        if piper is None:
            return
        piper.close()
        if self._closed:
            return
        following = {"pyttsx3": "speaking with the standard voice (pyttsx3)",
                     "espeak-ng": "speaking with the espeak-ng command line",
                     "none": "captions and beeps only"}[self._tier]
        message = f"the Piper voice is not used: {why}; {following}"
        self._note(message)
        self.fallbacks.append(message)

    def _render_ladder(self, wanted: List[str]) -> Dict[str, Path]:
        """The rungs below Piper: the pyttsx3 worker, the espeak-ng command line, nothing."""
        result: Dict[str, Path] = {}
        with self._lock:
            if self._closed:
                return result
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            failed: List[str] = []
            while wanted and self._tier != "none" and not self._closed:
                if self._tier == "pyttsx3":
                    if not self._ensure_worker():
                        continue
                    wanted, refused = self._render_with_worker(wanted, result)
                    failed += refused
                    if wanted:
                        continue  # the worker failed part way: restarted or fallen back, go again
                    break
                self._render_with_command(wanted, result)
                break
            if failed and self._tier == "pyttsx3" and not self._closed and self._ensure_worker():
                # Once more: now and then the engine writes no file for a phrase it says fine the next time.
                left, failed = self._render_with_worker(failed, result)
                failed += left
            if failed and self._tier != "none":
                # The engine refused these phrases but not the others: try the command line for them.
                self._render_with_command([t for t in failed if t not in result], result, one_off=True)
        return result

    def _note(self, message: str) -> None:
        log.warning("voice: %s", message)
        self.notices.append(message)

    def _fall_to(self, tier: str, why: str) -> None:
        if self._worker is not None:
            self._worker.kill()
            self._worker = None
        self._tier = tier
        self._failures = 0
        self._engine = ""
        self._voice = None
        following = {"espeak-ng": "using the espeak-ng command line", "none": "captions and beeps only"}[tier]
        self._note(f"{why}; {following}")
        if not self._closed and self._piper is None:  # under Piper, only its stand-in changed
            self.fallbacks.append(f"{why}; {following}")

    def _worker_failed(self, error: Exception) -> None:
        if self._closed:
            return
        self._failures += 1
        if self._worker is not None:
            self._worker.kill()
            self._worker = None
        if self._failures >= FAILURES_BEFORE_FALLBACK:
            self._fall_to("espeak-ng", f"the pyttsx3 voice worker failed again ({error})")
        else:
            self._note(f"{error}; restarting the voice worker")

    def _ensure_worker(self) -> bool:
        if self._closed:
            return False
        worker = self._worker
        if worker is not None and worker.alive:
            return True
        if worker is not None:
            self._worker_failed(WorkerError(f"the voice worker (pid {worker.pid}) died"))
            if self._tier != "pyttsx3":
                return False
        worker = VoiceWorker(log_path=self.cache_dir / "worker.log", start_timeout_s=self.start_timeout_s,
                             reply_timeout_s=self.reply_timeout_s)
        try:
            worker.start()
            if self._voice is None:
                self._voice = self._resolve_voice(worker.voices()) if self.requested_voice else ""
        except EngineMissing as error:
            self._fall_to("espeak-ng", f"the pyttsx3 engine is not available ({error})")
            return False
        except WorkerError as error:
            self._worker = worker
            self._worker_failed(error)
            return False
        self._worker = worker
        self._engine = worker.engine
        return True

    def _resolve_voice(self, voices: Sequence[VoiceInfo]) -> str:
        """The configured voice as the engine names it; "" (the default) if it has no such voice."""
        if not self.requested_voice:
            return ""
        found = match_voice(self.requested_voice, voices)
        if found is None:
            self._note(f"no voice {self.requested_voice!r} (see `kiosk voices`); using the default voice")
            return ""
        return found.id

    def _render_with_worker(self, wanted: List[str], result: Dict[str, Path]) -> Tuple[List[str], List[str]]:
        """Returns (still to do after a worker failure, failed by the engine for one phrase)."""
        assert self._worker is not None and self._voice is not None
        todo: List[Tuple[str, Path]] = []
        for text in wanted:
            path = self.cache.path_for(self._engine, self._voice, self.rate, text)
            if path.exists():
                result[text] = path
            else:
                todo.append((text, path))
        failed: List[str] = []
        answered = set()
        try:
            for index, error in self._worker.render(todo, self._voice, self.rate):
                if not 0 <= index < len(todo):
                    continue
                answered.add(index)
                text, path = todo[index]
                if error is None and path.exists():
                    result[text] = path
                    self._failures = 0
                else:
                    log.warning("voice: could not render %r: %s", text, error)
                    failed.append(text)
        except WorkerError as problem:
            self._worker_failed(problem)
            return [text for index, (text, _) in enumerate(todo) if index not in answered], failed
        return [], failed

    def _render_with_command(self, texts: Sequence[str], result: Dict[str, Path], one_off: bool = False) -> None:
        try:
            engine = self.espeak.version()
            voice = self._voice
            if voice is None:
                voice = self._resolve_voice(self.espeak.voices()) if self.requested_voice else ""
        except (OSError, subprocess.SubprocessError) as error:
            if not one_off:
                self._fall_to("none", f"the espeak-ng command line is not available ({error})")
            return
        if not one_off:
            self._engine, self._voice = engine, voice
        timeouts = 0
        for text in texts:
            path = self.cache.path_for(engine, voice, self.rate, text)
            if path.exists():
                result[text] = path
                continue
            try:
                self.espeak.render(text, path, voice, self.rate)
                result[text] = path
                timeouts = 0
            except subprocess.TimeoutExpired:
                timeouts += 1
                if timeouts >= FAILURES_BEFORE_FALLBACK and not one_off:
                    self._fall_to("none", "espeak-ng did not answer twice in a row")
                    return
            except (OSError, RuntimeError, EOFError) as error:
                log.warning("voice: espeak-ng could not render %r: %s", text, error)
                if isinstance(error, FileNotFoundError) and not one_off:
                    self._fall_to("none", f"the espeak-ng command line is not available ({error})")
                    return

    # ---------------------------------------------------------------- the rest

    def voices(self) -> List[VoiceInfo]:
        """The voices of whichever engine works; empty when none does."""
        with self._lock:
            if self._tier == "pyttsx3" and self._ensure_worker():
                assert self._worker is not None
                try:
                    return self._worker.voices()
                except WorkerError as error:
                    self._worker_failed(error)
            if self._tier in ("pyttsx3", "espeak-ng"):
                try:
                    return self.espeak.voices()
                except (OSError, subprocess.SubprocessError) as error:
                    self._note(f"cannot list voices: {error}")
            return []

    def ping(self) -> None:
        """One round trip to the worker (the benchmark's latency probe)."""
        with self._lock:
            if self._ensure_worker() and self._worker is not None:
                self._worker.ping()

    def close(self) -> None:
        """End the worker now, even while another thread is waiting on it (that render then stops)."""
        self._closed = True
        piper = self._piper
        if piper is not None:
            piper.close()
        worker = self._worker
        if worker is not None:
            worker.close()


# =========================================================================== the speaker


@dataclass(frozen=True)
class Sounds:
    """The shipped beep and chime, or None where a file is missing (then that sound is skipped)."""

    beep: Optional[Path] = None
    chime: Optional[Path] = None

    @classmethod
    def from_media(cls, media_dir: Path) -> "Sounds":
        folder = media_dir / "sounds"

        def found(name: str) -> Optional[Path]:
            path = folder / name
            if path.is_file():
                return path
            log.warning("voice: %s is missing; that sound is left out", path)
            return None

        return cls(found("beep.wav"), found("chime.wav"))


@dataclass(frozen=True)
class SpeechEvent:
    """What the speaker did with an utterance: "start", "drop" or "interrupt", and when."""

    action: str
    utterance: Utterance
    at: float


Listener = Callable[[SpeechEvent], None]
Note = Tuple[Any, ...]
"""An inbox entry for the speaker's thread: ("say", cue, due_at), ("stop",) or ("rendered", ...)."""

POLL_S = 0.01
"""How often the speaker's thread looks at the clock while a sound plays or waits."""


class CueSpeaker:
    """Says cues through an AudioOut by the speaking rules, from a thread of its own.

    `say` and `stop` only put a note in an inbox and return. The thread plays what is
    due, holds what must wait, drops what is too late. A phrase that was not prepared
    is rendered by a second thread, so a slow or hung engine never holds up a beep.
    """

    def __init__(self, *, voice: Optional[PhraseVoice], audio: AudioOut, sounds: Sounds = Sounds(),
                 beeps: bool = True, volume: float = 0.8, clock: Clock = time.monotonic,
                 late_limit_s: float = LATE_LIMIT_S, listener: Optional[Listener] = None) -> None:
        self.voice = voice
        self.audio = audio
        self.sounds = sounds
        self.beeps = beeps
        self.volume = min(1.0, max(0.0, volume))
        self.clock = clock
        self.listener = listener
        self._rules = SpeechRules(late_limit_s)
        self._phrases: Dict[str, Path] = {}
        self._notices_taken = 0
        self._inbox: List[Note] = []
        self._cond = threading.Condition()
        self._closing = False
        self._idle = True
        self._serial = 0
        self._current: Optional[Utterance] = None
        self._renders: "queue.Queue[Optional[Tuple[int, str]]]" = queue.Queue()
        self._rendering = 0
        self._render_thread: Optional[threading.Thread] = None
        self._thread = threading.Thread(target=self._run, name="kiosk-speaker", daemon=True)
        self._thread.start()

    # ---------------------------------------------------------------- the Speaker protocol

    def prepare(self, phrases: Sequence[str], progress: Optional[Progress] = None) -> None:
        if self.voice is None:
            return
        rendered = self.voice.render(phrases, progress)
        with self._cond:
            self._phrases.update(rendered)

    @property
    def slow_to_prepare(self) -> bool:
        """Piper: a phrase not prepared cannot be made in time at its cue (the quick voice says it)."""
        return self.voice is not None and self.voice.tier == "piper" and not self.audio.problem

    def take_notices(self) -> List[str]:
        """What moved the voice down a rung since the last call: which voice speaks now, and why."""
        if self.voice is None:
            return []
        with self._cond:
            fresh = self.voice.fallbacks[self._notices_taken:]
            self._notices_taken += len(fresh)
        return list(fresh)

    def say(self, cue: Cue, due_at: float) -> None:
        with self._cond:
            self._inbox.append(("say", cue, due_at))
            self._idle = False
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._inbox.append(("stop",))
            self._idle = False
            self._cond.notify_all()

    @property
    def status(self) -> str:
        if self.voice is None:
            return "off"
        if self.voice.tier == "none" or self.audio.problem:
            return "fallback"
        return "voice"

    @property
    def detail(self) -> str:
        """One line on how the voice is made, or why it is silent."""
        if self.audio.problem:
            return self.audio.problem
        if self.voice is None:
            return "voice off" + (", beeps on" if self.beeps else "")
        piper = self.voice.piper
        if piper is not None:
            return f"Piper voice {piper.model.name if piper.model else Path(piper.model_path).name}"
        if self.voice.tier == "pyttsx3":
            return f"pyttsx3 worker ({self.voice.engine or 'starting'})"
        if self.voice.tier == "espeak-ng":
            return f"espeak-ng command line ({self.voice.problem})"
        return f"captions and beeps only ({self.voice.problem})"

    def close(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join(timeout=2.0)
        self._renders.put(None)
        self.audio.stop()
        if self.voice is not None:
            self.voice.close()

    def drain(self, timeout_s: float) -> bool:
        """Wait (real seconds) until nothing is queued or playing; False if time ran out."""
        with self._cond:
            return self._cond.wait_for(lambda: self._idle or self._closing, timeout=timeout_s)

    # ---------------------------------------------------------------- the speaker's thread

    def _run(self) -> None:
        while True:
            with self._cond:
                busy = bool(self._inbox or self._rules.waiting or self._current is not None or self._rendering)
                if not busy:
                    self._idle = True
                    self._cond.notify_all()
                if not self._inbox and not self._closing:
                    self._cond.wait(timeout=POLL_S if busy else None)
                if self._closing:
                    return
                inbox, self._inbox = self._inbox, []
            try:
                self._step(inbox)
            except Exception:  # the voice must never take the session down
                log.exception("voice: the speaker's thread hit an error; carrying on")

    def _step(self, inbox: List[Note]) -> None:
        for note in inbox:
            if note[0] == "say":
                self._queue_cue(note[1], note[2])
            elif note[0] == "stop":
                self._emit("drop", self._rules.clear())
                if self._current is not None:
                    self.audio.stop()
                    self._current = None
            elif note[0] == "rendered":
                _, serial, text, path = note
                if path is not None:
                    self._phrases[text] = path
                self._emit("drop", self._rules.ready(serial, path))
        if self._current is not None and not self.audio.playing:
            self._current = None
        if self.audio.problem:
            self._emit("drop", self._rules.clear())
            return
        decision = self._rules.next(self.clock(), self._current)
        self._emit("drop", decision.dropped)
        if decision.start is None:
            return
        if decision.interrupt and self._current is not None:
            self.audio.stop()
            self._emit("interrupt", (self._current,))
        assert decision.start.sound is not None
        self.audio.play(decision.start.sound, self.volume)
        self._current = decision.start
        self._emit("start", (decision.start,))

    def _queue_cue(self, cue: Cue, due_at: float) -> None:
        if self.beeps and cue.kind == "count" and self.sounds.beep is not None:
            self._add("beep", cue.text, due_at, self.sounds.beep)
        if self.beeps and cue.kind == "done" and self.sounds.chime is not None:
            self._add("chime", cue.text, due_at, self.sounds.chime)
        if self.voice is None or self.voice.tier == "none":
            return
        text = cue.text.strip()
        if self.voice.tier == "piper":  # Piper's phrase when it has it by now, though the quick voice said it before
            sound = self.voice.cached(text) or self._phrases.get(text)
        else:
            sound = self._phrases.get(text) or self.voice.cached(text)
        serial = self._add(cue.kind, text, due_at, sound)
        if sound is None:
            self._request_render(serial, text)

    def _add(self, kind: str, text: str, due_at: float, sound: Optional[Path]) -> int:
        self._serial += 1
        self._rules.add(Utterance(self._serial, kind, text, due_at, sound))
        return self._serial

    def _request_render(self, serial: int, text: str) -> None:
        with self._cond:
            self._rendering += 1
        if self._render_thread is None:
            self._render_thread = threading.Thread(target=self._render_loop, name="kiosk-speaker-render",
                                                   daemon=True)
            self._render_thread.start()
        self._renders.put((serial, text))

    def _render_loop(self) -> None:
        """Render phrases that were not prepared, in batches, off the speaker's thread."""
        while True:
            first = self._renders.get()
            if first is None:
                return
            batch = [first]
            while True:
                try:
                    more = self._renders.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._renders.put(None)
                    break
                batch.append(more)
            assert self.voice is not None
            try:
                rendered = self.voice.render_for_cue([text for _, text in batch])
            except Exception:
                log.exception("voice: rendering failed")
                rendered = {}
            with self._cond:
                for serial, text in batch:
                    self._inbox.append(("rendered", serial, text, rendered.get(text)))
                self._rendering -= len(batch)
                self._cond.notify_all()

    def _emit(self, action: str, utterances: Sequence[Utterance]) -> None:
        if not utterances:
            return
        if action == "drop":
            for utterance in utterances:
                log.info("voice: dropped %s %r (due %.2f)", utterance.kind, utterance.text, utterance.due_at)
        if self.listener is not None:
            at = self.clock()
            for utterance in utterances:
                self.listener(SpeechEvent(action, utterance, at))


def phrase_voice(settings: Settings, cache_dir: Path, *, engine: Optional[str] = None) -> PhraseVoice:
    """The voice the settings choose (or `engine`, for `kiosk say --engine`), with its ladder below.
    Returns at once: nothing starts before the first phrase."""
    piper = None
    if (engine or settings.voice_engine) == "piper":
        piper = PiperVoice(model_path=settings.piper_voice, speaker=settings.piper_speaker,
                           rate=settings.speech_rate, cache_dir=cache_dir)
    return PhraseVoice(cache_dir=cache_dir, voice_id=settings.voice_id, rate=settings.speech_rate, piper=piper)


def reminder_voice(settings: Settings) -> Settings:
    """The settings a reminder is played with: its own volume, and always the chime."""
    return replace(settings, volume=settings.reminder_volume, beeps=True)


def make_speaker(settings: Settings, *, media_dir: Path, cache_dir: Path, audio: Optional[AudioOut] = None,
                 clock: Clock = time.monotonic) -> CueSpeaker:
    """The speaker the settings ask for. Returns at once: the engine starts on `prepare` or the first cue.

    Voice off still beeps when beeps are on (status "off"); without `audio` it plays
    through Kivy, for the app.
    """
    voice = phrase_voice(settings, cache_dir) if settings.voice else None
    return CueSpeaker(voice=voice, audio=audio if audio is not None else KivyAudio(clock),
                      sounds=Sounds.from_media(media_dir), beeps=settings.beeps, volume=settings.volume,
                      clock=clock)
