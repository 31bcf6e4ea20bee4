"""The pyttsx3 worker process with the real engine (espeak-ng), and with broken ones."""

from __future__ import annotations

import os
import signal
import wave
from pathlib import Path
from typing import Iterator

import pytest
from voice_fakes import HANGING_ENGINE, MISSING_ENGINE, install_fake_engine, process_gone

from kiosk.sound.voice_worker import EngineMissing, VoiceWorker, WorkerDied, WorkerTimeout


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[VoiceWorker]:
    handle = VoiceWorker(log_path=tmp_path / "worker.log")
    handle.start()
    yield handle
    handle.close()


def test_the_worker_renders_phrases_to_wav_files_and_keeps_stdout_for_replies(worker: VoiceWorker,
                                                                              tmp_path: Path) -> None:
    assert worker.engine.startswith("pyttsx3-2.99")
    items = [("Begin.", tmp_path / "a.wav"), ("Switch to your left foot.", tmp_path / "b.wav")]
    assert list(worker.render(items, "", 160)) == [(0, None), (1, None)]
    for _, path in items:
        with wave.open(str(path)) as rendered:
            assert rendered.getnframes() > 0 and rendered.getframerate() == 22050
    worker.ping()  # pyttsx3's "Audio saved to ..." prints did not end up in the reply pipe


def test_the_worker_lists_voices(worker: VoiceWorker) -> None:
    voices = worker.voices()
    assert len(voices) > 10
    assert any(v.id == worker.default_voice for v in voices)
    assert all(v.id and v.name for v in voices)


def test_a_phrase_the_engine_cannot_write_is_an_error_for_that_phrase_only(worker: VoiceWorker,
                                                                           tmp_path: Path) -> None:
    items = [("Begin.", tmp_path / "missing-folder" / "a.wav"), ("Rest.", tmp_path / "b.wav")]
    results = list(worker.render(items, "", 160))
    assert results[0][0] == 0 and results[0][1]
    assert results[1] == (1, None)


def test_a_killed_worker_is_reported_as_dead(worker: VoiceWorker, tmp_path: Path) -> None:
    pid = worker.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(WorkerDied):
        list(worker.render([("Begin.", tmp_path / "a.wav")], "", 160))
    assert not worker.alive


def test_a_hanging_engine_is_detected_within_the_timeout_and_killed(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    install_fake_engine(tmp_path, monkeypatch, HANGING_ENGINE)
    worker = VoiceWorker(reply_timeout_s=0.5)
    worker.start()
    pid = worker.pid
    assert pid is not None
    with pytest.raises(WorkerTimeout):
        list(worker.render([("Begin.", tmp_path / "a.wav")], "", 160))
    assert not worker.alive and process_gone(pid)


def test_a_missing_engine_is_reported_at_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_fake_engine(tmp_path, monkeypatch, MISSING_ENGINE)
    worker = VoiceWorker()
    with pytest.raises(EngineMissing, match="simulated: pyttsx3 is not installed"):
        worker.start()
    assert not worker.alive
