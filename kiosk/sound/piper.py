"""Piper, the optional neural voice, as a program of its own.

Piper (`piper-tts`) is GPL-3.0, so the kiosk never imports it: it runs
`python -m piper` (or a `piper` program on the PATH) in a process of its own, feeds it
one phrase per line and reads "Wrote FILE" for each from its log on stderr. The model
is loaded once per process; a phrase then takes a fraction of a second here and about
half its spoken length on a Pi 4.

`PiperVoice` is what `PhraseVoice` uses: phrases in, cached WAV files out. It raises
`PiperUnusable` when Piper cannot be used at all (not installed, no model, a model of
another sample rate, a process that hangs or dies twice), and leaves out a phrase that
failed twice, so the voice below it says that one.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Callable, Dict, Iterable, List, Optional, Sequence, Set

from kiosk.core.speaker import Progress
from kiosk.sessionlog.atomic import replace_with
from kiosk.sound.audio import SAMPLE_RATE, trim_silence, wav_info
from kiosk.sound.voice_worker import end_process

log = logging.getLogger("kiosk.sound.piper")

LOAD_TIMEOUT_S = 60.0
"""Starting Python and loading a model: about a second here; a 60 MB model off a slow SD card
on a Pi 3 can take much longer."""
PHRASE_TIMEOUT_S = 30.0
"""Longest wait for one phrase once the model is loaded: the longest instruction takes a few
seconds on a Pi 4."""
LOG_LIMIT_BYTES = 1 << 20
DEFAULT_RATE = 160
"""The speech rate (words per minute) at which Piper speaks at its model's own pace."""

PROBE_TEXT = "Ready."

class PiperUnusable(Exception):
    """Piper cannot speak for the kiosk at all: the message says why, for a person."""


# =========================================================================== models


@dataclass(frozen=True)
class PiperModel:
    """A Piper voice: the `.onnx` model and what its `.onnx.json` says about it."""

    path: Path
    sample_rate: int
    language: str = ""
    quality: str = ""
    speakers: Dict[str, int] = field(default_factory=dict)
    """Speaker name -> id, for models of several speakers; empty for one."""
    length_scale: float = 1.0
    identity: str = ""
    """Name, sizes and modification times of both files: a changed model renders afresh."""

    @property
    def name(self) -> str:
        return self.path.name[:-len(".onnx")] if self.path.name.endswith(".onnx") else self.path.stem

    @property
    def config_path(self) -> Path:
        return self.path.with_name(self.path.name + ".json")

    def speaker_id(self, wanted: str) -> Optional[int]:
        """The id `piper_speaker` names: a number, or a name in the model; None if neither."""
        wanted = wanted.strip()
        if not wanted:
            return None
        if wanted.isdigit():
            number = int(wanted)
            if number not in (self.speakers.values() if self.speakers else (0,)):
                raise PiperUnusable(f"the voice {self.name} has no speaker {number}"
                                    + (f" (it has {len(self.speakers)})" if self.speakers
                                       else " (it has only one)"))
            return number if self.speakers else None
        if wanted in self.speakers:
            return self.speakers[wanted]
        raise PiperUnusable(f"the voice {self.name} has no speaker {wanted!r}"
                            + (f" (it has {len(self.speakers)})" if self.speakers
                               else " (it has only one)"))

    def describe(self) -> str:
        parts = [part for part in (self.language, self.quality) if part]
        if self.speakers:
            parts.append(f"{len(self.speakers)} speakers")
        parts.append(f"{self.sample_rate:,} Hz")
        return ", ".join(parts)


def read_model(path: Path) -> PiperModel:
    """Check that `path` is a Piper voice and read its config; PiperUnusable says what is wrong."""
    path = Path(path).expanduser()
    if not path.name.endswith(".onnx"):
        raise PiperUnusable(f"{path} is not a Piper voice (a Piper voice is an .onnx file with its .onnx.json)")
    config = path.with_name(path.name + ".json")
    try:
        model_stat = path.stat()
    except OSError as error:
        raise PiperUnusable(f"the voice file {path} cannot be read ({error.strerror or error})") from None
    if model_stat.st_size == 0:
        raise PiperUnusable(f"the voice file {path} is empty")
    try:
        config_stat = config.stat()
        data = json.loads(config.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PiperUnusable(f"{path} has no {config.name} beside it; download both files of the voice") from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise PiperUnusable(f"{config} is not a Piper voice config ({error})") from None
    audio = data.get("audio") if isinstance(data, dict) else None
    rate = audio.get("sample_rate") if isinstance(audio, dict) else None
    if not isinstance(rate, int) or isinstance(rate, bool) or rate <= 0:
        raise PiperUnusable(f"{config} is not a Piper voice config (it has no audio sample_rate)")
    language = data.get("language") if isinstance(data.get("language"), dict) else {}
    espeak = data.get("espeak") if isinstance(data.get("espeak"), dict) else {}
    inference = data.get("inference") if isinstance(data.get("inference"), dict) else {}
    speakers = data.get("speaker_id_map") if isinstance(data.get("speaker_id_map"), dict) else {}
    scale = inference.get("length_scale", 1.0)
    identity = f"{path.name}:{model_stat.st_size}:{model_stat.st_mtime_ns}:{config_stat.st_size}:" \
               f"{config_stat.st_mtime_ns}"
    return PiperModel(
        path=path, sample_rate=rate, language=str(language.get("code") or espeak.get("voice") or ""),
        quality=str(audio.get("quality") or ""),
        speakers={str(name): int(number) for name, number in speakers.items() if isinstance(number, int)},
        length_scale=float(scale) if isinstance(scale, (int, float)) and scale > 0 else 1.0, identity=identity)


def check_rate(model: PiperModel) -> None:
    """The kiosk plays 22,050 Hz mono, like its beeps: a model of another rate is not used."""
    if model.sample_rate != SAMPLE_RATE:
        raise PiperUnusable(f"the voice {model.name} speaks at {model.sample_rate:,} Hz; the kiosk plays "
                            f"{SAMPLE_RATE:,} Hz voices (Piper's medium and high quality ones)")


@dataclass(frozen=True)
class FoundModel:
    """A model file `kiosk voices` and the Settings screen offer; `problem` when it cannot be used."""

    path: Path
    model: Optional[PiperModel]
    problem: str = ""


def find_models(configured: str, folders: Iterable[Path]) -> List[FoundModel]:
    """The configured model first (even when it is broken), then every `.onnx` in the folders."""
    found: List[FoundModel] = []
    seen = set()
    candidates: List[Path] = []
    if configured.strip():
        candidates.append(Path(configured.strip()).expanduser())
    for folder in folders:
        try:
            candidates += sorted(folder.rglob("*.onnx"))
        except OSError:
            continue
    for path in candidates:
        key = os.path.realpath(path)
        if key in seen:
            continue
        seen.add(key)
        try:
            model = read_model(path)
            check_rate(model)
            found.append(FoundModel(path, model))
        except PiperUnusable as error:
            found.append(FoundModel(path, None, str(error)))
    return found


# =========================================================================== the program


def find_program(python: str = sys.executable, search_path: Optional[str] = None) -> Optional[List[str]]:
    """How to run Piper: `python -m piper` when piper-tts is installed beside the kiosk (the
    `[piper]` extra), else a `piper` program on the PATH (pipx); None when there is neither.
    Looking for the package does not import it."""
    if os.path.realpath(python) == os.path.realpath(sys.executable):
        # Only the top-level name: looking up "piper.x" would import the package.
        spec = importlib.util.find_spec("piper")
        if spec is not None and any((Path(folder) / "__main__.py").is_file()
                                    for folder in spec.submodule_search_locations or ()):
            return [python, "-m", "piper"]
    else:
        try:
            result = subprocess.run([python, "-c", "import importlib.util, sys; "
                                     "sys.exit(importlib.util.find_spec('piper') is None)"],
                                    stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
            if result.returncode == 0:
                return [python, "-m", "piper"]
        except (OSError, subprocess.SubprocessError):
            pass
    program = shutil.which("piper", path=search_path)
    return [program] if program else None


def program_version(program: Sequence[str]) -> str:
    """Piper's version for the phrase cache: a new Piper may sound different."""
    if len(program) == 3 and program[1:] == ["-m", "piper"] \
            and os.path.realpath(program[0]) == os.path.realpath(sys.executable):
        try:
            from importlib.metadata import version

            return f"piper-tts-{version('piper-tts')}"
        except Exception:
            return "piper-tts"
    try:
        stat = os.stat(program[0])
        return f"piper:{program[0]}:{stat.st_size}:{stat.st_mtime_ns}"
    except OSError:
        return f"piper:{program[0]}"


def length_scale(model: PiperModel, rate: int) -> float:
    """`speech_rate` as Piper's length scale: 160 words a minute is the model's own pace."""
    return round(model.length_scale * DEFAULT_RATE / max(1, int(rate)), 3)


class PiperFailed(Exception):
    """One phrase did not come back: the process hung (`hung`) or died or wrote something unusable."""

    def __init__(self, message: str, *, hung: bool = False) -> None:
        super().__init__(message)
        self.hung = hung


class PiperProcess:
    """One running Piper with its model loaded: a phrase per line in, a WAV per line out."""

    def __init__(self, program: Sequence[str], model: PiperModel, *, speaker: Optional[int], scale: float,
                 out_dir: Path, log_path: Optional[Path] = None, load_timeout_s: float = LOAD_TIMEOUT_S,
                 phrase_timeout_s: float = PHRASE_TIMEOUT_S) -> None:
        self.program = list(program)
        self.model = model
        self.speaker = speaker
        self.scale = scale
        self.out_dir = out_dir
        self.log_path = log_path
        self.load_timeout_s = load_timeout_s
        self.phrase_timeout_s = phrase_timeout_s
        self._process: Optional[subprocess.Popen[bytes]] = None
        self._lines: "queue.Queue[Optional[str]]" = queue.Queue()
        self._tail: List[str] = []
        self._loaded = False
        self._closed = False
        self._guard = threading.Lock()
        """Held while a process starts or is killed: `close` from another thread never misses one."""

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> Optional[int]:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        self.kill()
        self.out_dir.mkdir(parents=True, exist_ok=True)
        # Niced: preparing a routine must not take the CPU from the screen or the sound.
        nice = shutil.which("nice")
        arguments = [*([nice, "-n", "10"] if nice else []), *self.program, "--model", str(self.model.path),
                     "--config", str(self.model.config_path), "--output-dir", str(self.out_dir),
                     "--length-scale", f"{self.scale:g}"]
        if self.speaker is not None:
            arguments += ["--speaker", str(self.speaker)]
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        lines: "queue.Queue[Optional[str]]" = queue.Queue()
        with self._guard:
            if self._closed:
                raise PiperFailed("closed")
            try:
                process = subprocess.Popen(arguments, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                           stderr=subprocess.PIPE, env=env, start_new_session=True)
            except OSError as error:
                raise PiperUnusable(f"Piper cannot be started ({error.strerror or error})") from None
            self._process, self._lines, self._tail, self._loaded = process, lines, [], False
        threading.Thread(target=_read_log, args=(process.stderr, lines, self.log_path),
                         name="kiosk-piper-log", daemon=True).start()

    def render(self, text: str) -> Path:
        """Say one phrase; the WAV Piper wrote (in `out_dir`), or PiperFailed."""
        if not self.alive:
            self.start()
        process = self._process
        if process is None or process.stdin is None:
            raise PiperFailed("closed")
        line = " ".join(text.split())
        try:
            process.stdin.write((line + "\n").encode("utf-8"))
            process.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            raise PiperFailed(self._why_died()) from None
        timeout = self.phrase_timeout_s + (0 if self._loaded else self.load_timeout_s)
        deadline = time.monotonic() + timeout
        while True:
            try:
                message = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self.kill()
                raise PiperFailed(f"no answer within {timeout:g} s", hung=True) from None
            if message is None:
                raise PiperFailed(self._why_died())
            written = _written(message)
            if written is not None:
                self._loaded = True
                return written
            self._tail = (self._tail + [message])[-5:]

    def _why_died(self) -> str:
        process = self._process
        code = None
        if process is not None:
            try:
                code = process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self.kill()
        while True:  # what it said last, up to its end
            try:
                message = self._lines.get_nowait()
            except queue.Empty:
                break
            if message is not None:
                self._tail = (self._tail + [message])[-5:]
        last = next((line for line in reversed(self._tail) if line.strip()), "")
        if last:
            log.warning("piper: stopped (exit status %s): %s", code, last.strip())
        return f"it stopped with exit status {code}"

    def close(self) -> None:
        """Kill Piper and start no other: from any thread, even while `render` waits on it."""
        with self._guard:
            self._closed = True
        self.kill()
        shutil.rmtree(self.out_dir, ignore_errors=True)

    def kill(self) -> None:
        with self._guard:
            process, self._process = self._process, None
        if process is not None:
            end_process(process)


def _written(line: str) -> Optional[Path]:
    """The file of Piper's "INFO:__main__:Wrote /path/1234.wav" line, else None."""
    marker = "Wrote "
    if "INFO" in line and marker in line:
        return Path(line.split(marker, 1)[1].strip())
    return None


def _read_log(stream: Optional[IO[bytes]], lines: "queue.Queue[Optional[str]]", log_path: Optional[Path]) -> None:
    """Piper's stderr: each line to the queue (and to its log file); None at its end."""
    sink = None
    if log_path is not None:
        try:
            too_big = log_path.exists() and log_path.stat().st_size > LOG_LIMIT_BYTES
            sink = open(log_path, "w" if too_big else "a", encoding="utf-8")
        except OSError:
            sink = None
    try:
        if stream is not None:
            for raw in stream:
                text = raw.decode("utf-8", "replace").rstrip("\n")
                lines.put(text)
                if sink is not None:
                    try:
                        sink.write(text + "\n")
                        sink.flush()
                    except OSError:
                        pass
    except (OSError, ValueError):
        pass
    finally:
        lines.put(None)
        if sink is not None:
            try:
                sink.close()
            except OSError:
                pass


# =========================================================================== phrases


class PiperVoice:
    """Phrases in a Piper voice, kept in the phrase cache. Thread-safe; `render` may block.

    `open` checks everything that can be checked without speaking (the program, the
    model, its sample rate, the speaker); a phrase that fails is tried once more in a new
    process, then left out. Piper that hangs twice, or never managed a phrase, is
    `PiperUnusable`.
    """

    def __init__(self, *, model_path: str, speaker: str, rate: int, cache_dir: Path,
                 program: Optional[Sequence[str]] = None, find: Callable[[], Optional[List[str]]] = find_program,
                 load_timeout_s: float = LOAD_TIMEOUT_S, phrase_timeout_s: float = PHRASE_TIMEOUT_S) -> None:
        self.model_path = model_path.strip()
        self.speaker_wanted = speaker
        self.rate = int(rate)
        self.cache_dir = cache_dir
        self.load_timeout_s = load_timeout_s
        self.phrase_timeout_s = phrase_timeout_s
        self._program = list(program) if program is not None else None
        self._find = find
        self.model: Optional[PiperModel] = None
        self.engine = ""
        self.voice_key = ""
        self._process: Optional[PiperProcess] = None
        self._lock = threading.RLock()
        """Held while rendering: one phrase at a time through the one process."""
        self._open_lock = threading.Lock()
        self._ready: Dict[str, Path] = {}
        self._unsayable: Set[str] = set()
        """Phrases Piper failed twice: the voice below says them, without Piper trying each time."""
        self._closed = False
        self._hangs = 0
        self._any_rendered = False

    def open(self) -> None:
        """Find Piper and the model; PiperUnusable (for a person) when either cannot be used."""
        if self.model is not None:
            return  # opened: never wait for the lock a long render holds
        with self._open_lock:
            if self.model is not None:
                return
            if not self.model_path:
                raise PiperUnusable("no Piper voice is chosen")
            program = self._program if self._program is not None else self._find()
            if not program:
                raise PiperUnusable("Piper is not installed")
            model = read_model(Path(self.model_path))
            check_rate(model)
            _sweep_outputs(self.cache_dir / "piper-out")
            speaker = model.speaker_id(self.speaker_wanted)
            self._program = list(program)
            self.engine = program_version(program)
            # The first speaker of a voice of several is the one Piper speaks with when none is named.
            keyed = speaker if speaker is not None else (0 if model.speakers else "")
            self.voice_key = f"{model.identity}#{keyed}"
            self._process = PiperProcess(
                program, model, speaker=speaker, scale=length_scale(model, self.rate),
                out_dir=self.cache_dir / "piper-out" / f"{os.getpid()}-{id(self)}",
                log_path=self.cache_dir / "piper.log", load_timeout_s=self.load_timeout_s,
                phrase_timeout_s=self.phrase_timeout_s)
            self.model = model

    def path_for(self, text: str, cache_path: Callable[[str, str, int, str], Path]) -> Path:
        """Where the phrase cache keeps this voice's rendering of `text`."""
        return cache_path(self.engine, self.voice_key, self.rate, text)

    def ready(self, text: str) -> Optional[Path]:
        """The phrase if this voice has made or found it; a look in memory only."""
        return self._ready.get(text)

    def render(self, texts: Sequence[str], cache_path: Callable[[str, str, int, str], Path],
               progress: Optional[Progress] = None) -> Dict[str, Path]:
        """text -> WAV for each phrase that could be made (cached ones at once).

        Piper runs only for the batch: a loaded model holds some 160 MB a Pi wants back.
        """
        self.open()
        result: Dict[str, Path] = {}
        with self._lock:
            self._reopen_if_changed()
            try:
                for text in texts:
                    if self._closed:
                        break
                    path = self.path_for(text, cache_path)
                    if not path.exists():
                        if text in self._unsayable or not self._render_twice(text, path):
                            self._unsayable.add(text)
                            continue
                    self._ready[text] = path
                    result[text] = path
                    if progress is not None:
                        progress(text)
            finally:
                if self._process is not None:
                    self._process.kill()
        return result

    def _reopen_if_changed(self) -> None:
        """A voice file replaced while the kiosk runs is a new voice: new phrases, a new key."""
        model = self.model
        if model is None or read_model(model.path).identity == model.identity:
            return
        log.info("piper: %s changed; rendering with it afresh", model.path)
        if self._process is not None:
            self._process.close()
        with self._open_lock:
            self.model = None
            self._ready = {}
            self._unsayable = set()
            self._any_rendered, self._hangs = False, 0  # a broken new file must be found out as one
        self.open()

    def _render_twice(self, text: str, path: Path) -> bool:
        for attempt in (1, 2):
            if self._closed:
                return False
            assert self._process is not None
            try:
                written = self._process.render(text)
                _keep(written, path)
                self._any_rendered = True
                self._hangs = 0
                return True
            except PiperFailed as error:
                if self._closed:
                    return False
                self._hangs = self._hangs + 1 if error.hung else 0
                if self._hangs >= 2:
                    raise PiperUnusable(f"Piper did not answer twice in a row ({error})") from None
                if attempt == 2 and not self._any_rendered and not self._can_speak():
                    raise PiperUnusable(f"Piper could not say anything ({error}; see piper.log)") from None
                log.warning("piper: could not say %r (attempt %d): %s", text, attempt, error)
                if self._process is not None:
                    self._process.kill()
            except (OSError, wave.Error, EOFError, ValueError) as error:
                log.warning("piper: could not keep %r (attempt %d): %s", text, attempt, error)
        return False

    def _can_speak(self) -> bool:
        """After a phrase failed twice in a fresh voice: is it the phrase, or Piper? A plain word tells."""
        assert self._process is not None
        try:
            written = self._process.render(PROBE_TEXT)
            written.unlink()
        except (PiperFailed, OSError):
            return False
        self._any_rendered = True
        return True

    def close(self) -> None:
        """Stop Piper now, even while another thread waits on it (that render then ends)."""
        self._closed = True
        process = self._process
        if process is not None:
            process.close()


def _sweep_outputs(folder: Path) -> None:
    """Output folders of kiosk processes that ended without closing their Piper (a crash, a
    power cut) go; those of running ones stay."""
    try:
        entries = list(folder.iterdir())
    except OSError:
        return
    for entry in entries:
        pid = entry.name.split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(entry, ignore_errors=True)


def _keep(written: Path, path: Path) -> None:
    """Check what Piper wrote (22,050 Hz mono 16-bit, not empty), trim it, move it into the cache."""
    try:
        info = wav_info(written)
        if info.frame_rate != SAMPLE_RATE or info.channels != 1 or info.sample_width != 2:
            raise PiperUnusable(f"Piper wrote {info.frame_rate:,} Hz, {info.channels} channel(s); the kiosk "
                                f"plays {SAMPLE_RATE:,} Hz mono")
        if info.frames == 0:
            raise ValueError("Piper wrote an empty file")
        trim_silence(written)
        path.parent.mkdir(parents=True, exist_ok=True)
        replace_with(written, path, durable=False)  # a cache: made again if lost
    finally:
        if written.exists():
            written.unlink()


def describe_program(program: Optional[Sequence[str]]) -> str:
    if not program:
        return "not installed"
    return " ".join(program) if len(program) > 1 else program[0]
