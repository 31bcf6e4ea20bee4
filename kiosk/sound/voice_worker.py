"""The pyttsx3 engine in a process of its own, and the client that drives it.

pyttsx3's `runAndWait()` blocks, its engine must stay in one thread, and on Linux it
can hang. So the engine lives in a child process (`python -m kiosk.sound.voice_worker`)
that renders phrases to WAV files, one `save_to_file` per `runAndWait`, and answers
one JSON line per request on a pipe. The parent can always give up on it: a reply
that does not come within the timeout gets the process killed.

Protocol (one JSON object per line). The worker first says
`{"event": "ready", "engine": ..., "pid": ...}` or `{"event": "fatal", "error": ...}`.
Requests carry an `id` and an `op`:
  ping                                    -> {"id", "ok": true}
  voices                                  -> {"id", "ok": true, "voices": [{"id", "name", "languages"}]}
  render {"voice", "rate", "items": [{"text", "path"}]}
                                          -> per item {"id", "index", "ok", "error"?}, then {"id", "done": true}
  quit                                    -> the process exits
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Dict, Iterator, List, Optional, Sequence, Tuple

START_TIMEOUT_S = 15.0
"""Starting Python and loading the engine: about a second on a Pi, more on a cold SD card."""
REPLY_TIMEOUT_S = 5.0
"""Longest wait for any one answer; a phrase renders in tens of milliseconds."""
LOG_LIMIT_BYTES = 1 << 20
"""The worker's stderr log starts afresh past this size."""


class WorkerError(Exception):
    """The worker failed: it timed out, died, or answered nonsense."""


class WorkerTimeout(WorkerError):
    pass


class WorkerDied(WorkerError):
    pass


class EngineMissing(WorkerError):
    """The worker started but has no engine (pyttsx3 or espeak-ng missing): restarting cannot help."""


@dataclass(frozen=True)
class VoiceInfo:
    id: str
    name: str
    languages: Tuple[str, ...] = ()

    def to_json(self) -> Dict[str, Any]:
        return {"id": self.id, "name": self.name, "languages": list(self.languages)}


# =========================================================================== the child


class _Engine:
    """The pyttsx3 engine, driven the one way that is reliable in 2.99 on espeak-ng."""

    def __init__(self) -> None:
        import pyttsx3  # the only place pyttsx3 is imported

        self.pyttsx3 = pyttsx3
        self.engine = pyttsx3.init()
        self.version = _engine_version(pyttsx3)
        self.default_voice = str(self.engine.getProperty("voice") or "")

    def voices(self) -> List[VoiceInfo]:
        found = []
        for voice in self.engine.getProperty("voices") or ():
            languages = tuple(_text(language) for language in (getattr(voice, "languages", None) or ()))
            found.append(VoiceInfo(str(voice.id), str(voice.name or voice.id), languages))
        return found

    def render(self, text: str, path: Path, voice: str, rate: int) -> None:
        """Write one phrase to `path` atomically; raise if the engine made no sound."""
        temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        self.engine.setProperty("voice", voice or self.default_voice)
        self.engine.setProperty("rate", int(rate))
        self.engine.setProperty("volume", 1.0)
        self.engine.save_to_file(text, str(temp))
        self.engine.runAndWait()  # one phrase per run: queued phrases may be lost in 2.99
        try:
            from kiosk.sessionlog.atomic import replace_with
            from kiosk.sound.audio import trim_silence, wav_info

            if wav_info(temp).frames == 0:
                raise RuntimeError("the engine wrote an empty file")
            trim_silence(temp)
            replace_with(temp, path, durable=False)  # a cache: made again if lost
        except FileNotFoundError:
            raise RuntimeError("the engine wrote no file") from None
        finally:
            if temp.exists():
                temp.unlink()


def _engine_version(pyttsx3: Any) -> str:
    """pyttsx3's version and the speech library's: both change the sound of a phrase."""
    try:
        from importlib.metadata import version

        library = f"pyttsx3-{version('pyttsx3')}"
    except Exception:
        library = "pyttsx3"
    try:
        from pyttsx3.drivers import _espeak

        info = _espeak.Info(None)
        if info:
            library += f"+espeak-ng-{_text(info)}"
    except Exception:
        pass
    return library


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _serve(engine: _Engine, requests: IO[str], send: Any) -> None:
    while True:
        line = requests.readline()
        if not line:
            return  # the parent has gone: so do we
        try:
            request = json.loads(line)
            request_id = request.get("id")
            op = request.get("op")
        except (ValueError, AttributeError):
            send({"id": None, "ok": False, "error": "not a JSON request"})
            continue
        if op == "quit":
            return
        if op == "ping":
            send({"id": request_id, "ok": True})
        elif op == "voices":
            send({"id": request_id, "ok": True, "voices": [v.to_json() for v in engine.voices()]})
        elif op == "render":
            voice, rate = str(request.get("voice") or ""), int(request.get("rate") or 160)
            for index, item in enumerate(request.get("items") or ()):
                try:
                    engine.render(str(item["text"]), Path(item["path"]), voice, rate)
                    send({"id": request_id, "index": index, "ok": True})
                except Exception as error:  # one bad phrase must not end the worker
                    send({"id": request_id, "index": index, "ok": False, "error": f"{type(error).__name__}: {error}"})
            send({"id": request_id, "done": True})
        else:
            send({"id": request_id, "ok": False, "error": f"unknown op {op!r}"})


def main() -> int:
    """Run the worker on stdin/stdout. pyttsx3 prints to stdout, so replies get a private copy of it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in the terminal is the parent's to handle
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 1)
    os.close(quiet)

    def send(message: Dict[str, Any]) -> None:
        replies.write(json.dumps(message) + "\n")
        replies.flush()

    try:
        engine = _Engine()
    except BaseException as error:  # ImportError, OSError from ctypes, RuntimeError from espeak
        send({"event": "fatal", "error": f"{type(error).__name__}: {error}"})
        return 3
    send({"event": "ready", "engine": engine.version, "pid": os.getpid(), "voice": engine.default_voice})
    try:
        _serve(engine, sys.stdin, send)
    except BrokenPipeError:
        pass
    return 0


# =========================================================================== the parent


class VoiceWorker:
    """The parent's handle on one worker process. Use from one thread at a time.

    Every wait for an answer has a deadline: `WorkerTimeout` when it passes,
    `WorkerDied` when the process is gone. Either way the process is killed, so a
    hung engine never lingers; the caller decides whether to start another.
    """

    def __init__(self, *, log_path: Optional[Path] = None, start_timeout_s: float = START_TIMEOUT_S,
                 reply_timeout_s: float = REPLY_TIMEOUT_S, python: str = sys.executable) -> None:
        self.log_path = log_path
        self.start_timeout_s = start_timeout_s
        self.reply_timeout_s = reply_timeout_s
        self.python = python
        self.engine = ""
        self.default_voice = ""
        self._process: Optional[subprocess.Popen[bytes]] = None
        self._replies: "queue.Queue[Optional[Dict[str, Any]]]" = queue.Queue()
        self._next_id = 0

    @property
    def pid(self) -> Optional[int]:
        return self._process.pid if self._process is not None else None

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the process and wait for its engine to be ready."""
        self.kill()
        env = dict(os.environ)
        package_root = str(Path(__file__).resolve().parents[2])  # the folder that holds kiosk/
        env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH", ""), package_root) if p)
        log = None
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            too_big = self.log_path.exists() and self.log_path.stat().st_size > LOG_LIMIT_BYTES
            log = open(self.log_path, "wb" if too_big else "ab")
        try:
            self._process = subprocess.Popen(
                [self.python, "-m", "kiosk.sound.voice_worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=log if log is not None else subprocess.DEVNULL, env=env, start_new_session=True)
        except OSError as error:
            raise EngineMissing(f"cannot start the voice worker: {error.strerror or error}") from None
        finally:
            if log is not None:
                log.close()
        self._replies = queue.Queue()
        threading.Thread(target=_read_replies, args=(self._process.stdout, self._replies),
                         name="kiosk-voice-replies", daemon=True).start()
        hello = self._receive(self.start_timeout_s, "start")
        if hello.get("event") == "fatal":
            self.kill()
            raise EngineMissing(str(hello.get("error") or "the speech engine would not start"))
        if hello.get("event") != "ready":
            self.kill()
            raise WorkerError(f"unexpected first message from the voice worker: {hello!r}")
        self.engine = str(hello.get("engine") or "pyttsx3")
        self.default_voice = str(hello.get("voice") or "")

    def _send(self, message: Dict[str, Any]) -> int:
        if not self.alive:
            raise WorkerDied("the voice worker is not running")
        self._next_id += 1
        message = dict(message, id=self._next_id)
        assert self._process is not None and self._process.stdin is not None
        try:
            self._process.stdin.write((json.dumps(message) + "\n").encode("utf-8"))
            self._process.stdin.flush()
        except (BrokenPipeError, OSError):
            self.kill()
            raise WorkerDied("the voice worker is gone") from None
        return self._next_id

    def _receive(self, timeout_s: float, doing: str, request_id: Optional[int] = None) -> Dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            try:
                message = self._replies.get(timeout=max(0.0, left))
            except queue.Empty:
                self.kill()
                raise WorkerTimeout(f"the voice worker did not answer within {timeout_s:g} s ({doing})") from None
            if message is None:
                self.kill()
                raise WorkerDied(f"the voice worker died ({doing})")
            if request_id is None or message.get("id") == request_id:
                return message

    def ping(self) -> None:
        request_id = self._send({"op": "ping"})
        self._receive(self.reply_timeout_s, "ping", request_id)

    def voices(self) -> List[VoiceInfo]:
        request_id = self._send({"op": "voices"})
        reply = self._receive(self.reply_timeout_s, "listing voices", request_id)
        return [VoiceInfo(str(v.get("id", "")), str(v.get("name", "")), tuple(v.get("languages") or ()))
                for v in reply.get("voices") or ()]

    def render(self, items: Sequence[Tuple[str, Path]], voice: str, rate: int) -> Iterator[Tuple[int, Optional[str]]]:
        """Render (text, path) pairs; yield (index, error or None) as each one is done.

        Each phrase has its own deadline, so a long batch is fine and a hang is
        noticed within one timeout of the last phrase that came back.
        """
        if not items:
            return
        request_id = self._send({"op": "render", "voice": voice, "rate": int(rate),
                                 "items": [{"text": text, "path": str(path)} for text, path in items]})
        while True:
            reply = self._receive(self.reply_timeout_s, "rendering", request_id)
            if reply.get("done"):
                return
            yield int(reply.get("index", -1)), (None if reply.get("ok") else str(reply.get("error") or "failed"))

    def kill(self) -> None:
        """End the process for sure (SIGKILL) and reap it."""
        process, self._process = self._process, None
        if process is not None:
            end_process(process)

    def close(self) -> None:
        """Ask the worker to quit; kill it if it does not."""
        process = self._process
        if process is not None and process.poll() is None and process.stdin is not None:
            try:
                process.stdin.write(b'{"op": "quit"}\n')
                process.stdin.flush()
                process.wait(timeout=1.0)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.kill()


def end_process(process: "subprocess.Popen[bytes]") -> None:
    """SIGKILL a child (the pyttsx3 worker, Piper), reap it, and close its pipes: nothing lingers."""
    if process.poll() is None:
        try:
            process.kill()
        except OSError:
            pass
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
    for stream in (process.stdin, process.stdout, process.stderr):
        try:
            if stream is not None:
                stream.close()
        except OSError:
            pass


def _read_replies(stream: Optional[IO[bytes]], replies: "queue.Queue[Optional[Dict[str, Any]]]") -> None:
    """Move reply lines into a queue, so the parent can wait for them with a deadline."""
    if stream is None:
        replies.put(None)
        return
    try:
        for line in stream:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if isinstance(message, dict):
                replies.put(message)
    except (OSError, ValueError):
        pass
    replies.put(None)


if __name__ == "__main__":
    raise SystemExit(main())
