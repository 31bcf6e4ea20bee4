"""A Piper voice heard as it should be: played through aplay and Kivy at its own rate and
length, and a whole `kiosk play --speed` session spoken by Piper.

This machine has no sound card, so ALSA's `file` device stands in for one: aplay plays
to it exactly as to a card (same rate negotiation, same frames) and it keeps what was
played in a file the test reads back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from array import array
from pathlib import Path
from typing import Dict, List

import pytest
from test_audio import run_with_kivy_audio
from voice_fakes import write_tiny_library

from kiosk.config import Settings
from kiosk.sound.audio import AplayAudio, wav_info
from kiosk.sound.voice import default_cache_dir, phrase_voice

PHRASE = "Switch to your left foot."
QUARTER_SECOND = 22050 // 4


def alsa_file_device(home: Path) -> Path:
    """An ALSA default device that writes what is played, raw, to a file: a sound card that
    can be read back. Returns that file."""
    played = home / "played.raw"
    (home / ".asoundrc").write_text(
        'pcm.!default {\n    type file\n    slave.pcm "null"\n'
        f'    file "| cat >> {played}"\n    format "raw"\n}}\n')  # each aplay adds on, none starts it afresh
    return played


def samples(raw: bytes) -> "array[int]":
    data = array("h", raw[:len(raw) // 2 * 2])
    if sys.byteorder == "big":
        data.byteswap()
    return data


def wav_samples(path: Path) -> "array[int]":
    import wave

    with wave.open(str(path), "rb") as source:
        return samples(source.readframes(source.getnframes()))


@pytest.fixture
def piper_phrase(piper_model: Path) -> Path:
    """One phrase rendered by Piper, as the kiosk prepares it."""
    voice = phrase_voice(Settings(voice_engine="piper", piper_voice=str(piper_model)), default_cache_dir())
    try:
        rendered = voice.render([PHRASE])
        assert voice.tier == "piper", voice.notices
    finally:
        voice.close()
    return rendered[PHRASE]


def test_aplay_plays_a_piper_phrase_at_its_rate_and_whole_length(isolated_home: Path, piper_phrase: Path) -> None:
    played = alsa_file_device(isolated_home)
    info = wav_info(piper_phrase)
    assert (info.frame_rate, info.channels, info.sample_width) == (22050, 1, 2)
    verbose = subprocess.run(["aplay", "-v", str(piper_phrase)], capture_output=True, text=True, timeout=60)
    assert verbose.returncode == 0, verbose.stderr
    assert "Rate 22050 Hz, Mono" in verbose.stderr
    played.unlink()

    audio = AplayAudio(isolated_home / "scaled")
    assert audio.probe() is None
    played.unlink()  # the probe's silence
    audio.play(piper_phrase, 1.0)
    assert audio._process is not None
    audio._process.wait(timeout=60)
    assert not audio.playing and audio.problem is None
    heard = samples(played.read_bytes())
    phrase = wav_samples(piper_phrase)
    # Every sample, once, in order, at the device rate the WAV asked for: the played length is
    # the phrase's. What follows is the device's last period filled with silence.
    assert heard[:len(phrase)] == phrase
    assert not any(heard[len(phrase):])
    assert len(heard) - len(phrase) < 22050 * 0.25


def test_kivy_plays_a_piper_phrase_for_its_whole_length(tmp_path: Path, piper_phrase: Path) -> None:
    """In a child process with SDL's dummy audio driver: Kivy's sound lasts as long as the phrase."""
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from kiosk.sound.audio import KivyAudio\n"
        "audio = KivyAudio()\n"
        "assert audio.probe() is None, audio.problem\n"
        "sound = audio._load(Path(sys.argv[1]))\n"
        "audio.play(Path(sys.argv[1]), 1.0)\n"
        "print(json.dumps({'length': sound.length, 'playing': audio.playing}))\n"
        "audio.close()\n"
    )
    result = run_with_kivy_audio(script, tmp_path, str(piper_phrase))
    assert result.returncode == 0, result.stderr[-2000:]
    reported = json.loads(result.stdout.strip().splitlines()[-1])
    assert reported["playing"]
    assert reported["length"] == pytest.approx(wav_info(piper_phrase).seconds, abs=0.01)


def test_kiosk_play_speaks_a_whole_session_with_piper(isolated_home: Path, tmp_path: Path,
                                                      piper_model: Path) -> None:
    played = alsa_file_device(isolated_home)
    library = write_tiny_library(tmp_path / "library")
    config = tmp_path / "config.yaml"
    config.write_text(f"voice_engine: piper\npiper_voice: {piper_model}\nvolume: 1.0\n")
    result = subprocess.run(
        [sys.executable, "-m", "kiosk", "--config", str(config), "--data-dir", str(tmp_path / "data"),
         "--exercises", str(library), "play", "tiny", "--speed", "4"],
        capture_output=True, text=True, timeout=600, env=dict(os.environ))
    assert result.returncode == 0, result.stderr
    assert "Preparing the voice" in result.stderr
    assert "voice unavailable" not in result.stderr and "not used" not in result.stderr
    assert "Well done: Tiny recorded" in result.stdout

    cues = [line.split("] ", 1)[1] for line in result.stdout.splitlines() if line.startswith("[")]
    voice = phrase_voice(Settings(voice_engine="piper", piper_voice=str(piper_model)), default_cache_dir())
    try:
        voice.piper.open()
        rendered: Dict[str, Path] = {text: voice.cached(text) for text in cues}
    finally:
        voice.close()
    assert all(rendered.values()), [text for text, path in rendered.items() if path is None]
    heard = samples(played.read_bytes()).tobytes()
    # A phrase is heard when its start is (at 4x speed the next cue may cut a long one short).
    said: List[str] = [text for text, path in rendered.items()
                       if wav_samples(path)[:QUARTER_SECOND].tobytes() in heard]
    # Every announcement and "Well done" is heard in Piper's voice; a count may be dropped at 4x speed.
    assert [text for text in cues if len(text) > 2 and text not in said] == []
    assert wav_samples(rendered[cues[-1]]).tobytes() in heard  # "Well done", last and whole
