"""WAV helpers and playback back ends, and no sound card as a case to handle on every machine."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import wave
from array import array
from pathlib import Path
from typing import List

import pytest
from voice_fakes import hide_commands

from kiosk import paths
from kiosk.sound.audio import (
    APLAY_MISSING,
    AplayAudio,
    NullAudio,
    ScaledCopies,
    silent_wav,
    trim_silence,
    wav_info,
    wav_seconds,
    write_scaled,
)

RATE = 22050


def write_tone(path: Path, seconds: float, *, lead_s: float = 0.0, tail_s: float = 0.0, level: float = 0.5) -> Path:
    samples: List[int] = [0] * int(lead_s * RATE)
    samples += [int(level * 32767 * math.sin(2 * math.pi * 440 * i / RATE)) for i in range(int(seconds * RATE))]
    samples += [0] * int(tail_s * RATE)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(array("h", samples).tobytes())
    return path


def peak(path: Path) -> int:
    with wave.open(str(path)) as source:
        return max(abs(v) for v in array("h", source.readframes(source.getnframes())))


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_trim_silence_keeps_the_sound_and_a_short_margin(tmp_path: Path) -> None:
    path = write_tone(tmp_path / "t.wav", 0.5, lead_s=0.2, tail_s=0.4)
    seconds = trim_silence(path)
    assert seconds == pytest.approx(0.5 + 2 * 0.05, abs=0.01)
    assert wav_info(path).frame_rate == RATE
    assert not list(tmp_path.glob("*.tmp"))


def test_trim_silence_leaves_a_silent_file_alone(tmp_path: Path) -> None:
    path = silent_wav(tmp_path / "s.wav", 0.3)
    assert trim_silence(path) == pytest.approx(0.3, abs=0.001)


def test_write_scaled_scales_every_sample(tmp_path: Path) -> None:
    source = write_tone(tmp_path / "t.wav", 0.2, level=0.8)
    write_scaled(source, tmp_path / "half.wav", 0.5)
    assert peak(tmp_path / "half.wav") == pytest.approx(peak(source) * 0.5, abs=2)
    assert wav_seconds(tmp_path / "half.wav") == pytest.approx(0.2, abs=0.001)


def test_scaled_copies_are_made_once_and_full_volume_is_the_original(tmp_path: Path) -> None:
    source = write_tone(tmp_path / "t.wav", 0.1)
    copies = ScaledCopies(tmp_path / "scaled")
    first = copies.path_for(source, 0.8)
    assert first != source and first.exists()
    stamp = first.stat().st_mtime_ns
    assert copies.path_for(source, 0.8) == first and first.stat().st_mtime_ns == stamp
    assert copies.path_for(source, 1.0) == source


def test_null_audio_lasts_the_real_length_of_the_wav_by_its_clock(tmp_path: Path) -> None:
    clock = FakeClock()
    audio = NullAudio(clock)
    wav = write_tone(tmp_path / "t.wav", 0.5)
    audio.play(wav, 0.7)
    assert audio.playing
    clock.now += 0.49
    assert audio.playing
    clock.now += 0.02
    assert not audio.playing
    audio.play(wav, 0.7)
    audio.stop()
    assert not audio.playing
    assert [(p.wav, p.volume, p.at) for p in audio.plays] == [(wav, 0.7, 100.0), (wav, 0.7, pytest.approx(100.51))]
    assert audio.problem is None and audio.probe() is None


def hide_the_sound_card(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Send ALSA's default output to a card that does not exist, so a machine with a sound
    card runs the no-sound-card tests too instead of skipping them."""
    config = tmp_path / "no-sound-card.conf"
    config.write_text("pcm.!default { type hw card 99 }\nctl.!default { type hw card 99 }\n", encoding="ascii")
    monkeypatch.setenv("ALSA_CONFIG_PATH", str(config))


def test_aplay_without_a_sound_card_reports_no_device_and_never_raises(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hide_the_sound_card(tmp_path, monkeypatch)
    audio = AplayAudio(tmp_path / "scratch")
    problem = audio.probe()
    assert problem is not None and problem.startswith("no audio device"), problem
    audio.play(paths.shipped_media_dir() / "sounds" / "beep.wav", 0.5)  # must not raise either
    audio.stop()
    assert audio.problem


def test_aplay_missing_is_a_problem_not_a_crash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hide_commands(tmp_path, monkeypatch)
    audio = AplayAudio(tmp_path / "scratch")
    assert audio.probe() == APLAY_MISSING
    audio.play(paths.shipped_media_dir() / "sounds" / "beep.wav", 1.0)
    assert not audio.playing and audio.problem == APLAY_MISSING


def test_a_failed_aplay_run_is_noticed_when_it_ends(tmp_path: Path) -> None:
    """A player that exits with an error (as aplay does with no device) becomes `problem`."""
    fake = tmp_path / "bin" / "aplay"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'aplay: main:831: audio open error: No such file or directory' >&2\nexit 1\n")
    fake.chmod(0o755)
    audio = AplayAudio(tmp_path / "scratch", command=str(fake))
    audio.play(paths.shipped_media_dir() / "sounds" / "beep.wav", 1.0)
    assert audio._process is not None
    audio._process.wait(timeout=10)
    assert not audio.playing
    assert audio.problem == "no audio device (aplay: main:831: audio open error: No such file or directory)"


def run_with_kivy_audio(script: str, tmp_path: Path, *args: str) -> "subprocess.CompletedProcess[str]":
    """Run `script` in a child process with SDL's dummy audio driver: Kivy is not loaded into the test run."""
    env = dict(os.environ, SDL_AUDIODRIVER="dummy", KIVY_NO_ARGS="1", KIVY_NO_CONSOLELOG="1",
               KIVY_HOME=str(tmp_path / "kivy"))
    return subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, env=env,
                          timeout=120)


def test_kivy_audio_plays_through_soundloader_without_a_window(tmp_path: Path) -> None:
    """In a child process, with SDL's dummy audio driver: Kivy is not loaded into the test run."""
    script = (
        "from pathlib import Path\n"
        "from kiosk.sound.audio import KivyAudio\n"
        "from kiosk import paths\n"
        "audio = KivyAudio()\n"
        "assert audio.probe() is None, audio.problem\n"
        "audio.play(paths.shipped_media_dir() / 'sounds' / 'chime.wav', 0.5)\n"
        "assert audio.playing and audio.problem is None\n"
        "audio.stop()\n"
        "assert not audio.playing\n"
        "audio.close()\n"
        "print('ok')\n"
    )
    result = run_with_kivy_audio(script, tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]
