"""Helpers for the voice tests: broken engines, a tiny routine, and a listener to wait on.

The broken engines are real Python packages named `pyttsx3`, put first on the worker's
PYTHONPATH, so the worker process meets them exactly as it would meet a broken install.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Callable, List

import pytest

from kiosk import paths
from kiosk.core.catalog import load_library
from kiosk.core.model import Routine
from kiosk.sound.voice import SpeechEvent

MISSING_ENGINE = 'raise ImportError("simulated: pyttsx3 is not installed")\n'

HANGING_ENGINE = '''
import threading


class _Voice:
    id = "fake/voice"
    name = "Fake"
    languages = ["en"]


class _Engine:
    def getProperty(self, name):
        return [_Voice()] if name == "voices" else "fake/voice"

    def setProperty(self, name, value):
        pass

    def save_to_file(self, text, path):
        pass

    def runAndWait(self):
        threading.Event().wait()  # the engine hangs, as pyttsx3 can on Linux


def init(*args, **kwargs):
    return _Engine()
'''

FLAKY_ENGINE = '''
import wave


class _Voice:
    id = "fake/voice"
    name = "Fake"
    languages = ["en"]


class _Engine:
    """Writes no file the first time it is asked for a phrase (as pyttsx3 2.99 did once in a
    walk-through), and a half-second tone the next time."""

    def __init__(self):
        self.asked = set()
        self.job = None

    def getProperty(self, name):
        return [_Voice()] if name == "voices" else "fake/voice"

    def setProperty(self, name, value):
        pass

    def save_to_file(self, text, path):
        self.job = (text, path)

    def runAndWait(self):
        text, path = self.job
        if text not in self.asked:
            self.asked.add(text)
            return
        with wave.open(path, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(22050)
            out.writeframes(b"\\x00\\x20" * 11025)


def init(*args, **kwargs):
    return _Engine()
'''

TINY_LIBRARY = """\
exercises:
  - id: tiny-march
    name: Tiny march
    instructions: Lift one knee.
    caption: Lift the knee
    duration: 4
    sides: both
    switch: 2
routines:
  - id: tiny
    name: Tiny
    lead_in: 3
    steps:
      - tiny-march
"""


def install_fake_engine(folder: Path, monkeypatch: pytest.MonkeyPatch, source: str) -> None:
    """Make the worker import `source` as pyttsx3."""
    package = folder / "fake-engine" / "pyttsx3"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(source)
    monkeypatch.setenv("PYTHONPATH", str(package.parent))


def hide_commands(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty PATH: no espeak-ng, no aplay."""
    empty = folder / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def process_gone(pid: int) -> bool:
    """The child with this pid has ended (and been reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def write_tiny_library(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiny.yaml").write_text(TINY_LIBRARY)
    return folder


def tiny_routine(folder: Path) -> Routine:
    library = load_library([paths.shipped_exercises_dir(), write_tiny_library(folder)], paths.shipped_media_dir())
    return library.routines["tiny"]


class Recorder:
    """A speaker listener that tests can wait on (no sleeps: a condition with a deadline)."""

    def __init__(self) -> None:
        self.events: List[SpeechEvent] = []
        self._cond = threading.Condition()

    def __call__(self, event: SpeechEvent) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[List[SpeechEvent]], bool], timeout: float = 10.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self.events), timeout=timeout)

    def of(self, action: str) -> List[SpeechEvent]:
        with self._cond:
            return [e for e in self.events if e.action == action]

    def texts(self, action: str) -> List[str]:
        return [e.utterance.text for e in self.of(action) if e.utterance.kind not in ("beep", "chime")]
