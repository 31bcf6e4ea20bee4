"""The shipped beep and chime are exactly what media/sounds/make_sounds.py makes."""

from __future__ import annotations

import importlib.util
import wave
from array import array
from pathlib import Path
from types import ModuleType

import pytest

from kiosk import paths

SOUNDS_DIR = paths.shipped_media_dir() / "sounds"


@pytest.fixture(scope="module")
def make_sounds() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_sounds", SOUNDS_DIR / "make_sounds.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def samples(path: Path) -> array:
    with wave.open(str(path)) as source:
        assert (source.getnchannels(), source.getsampwidth(), source.getframerate()) == (1, 2, 22050)
        return array("h", source.readframes(source.getnframes()))


@pytest.mark.parametrize("name", ["beep.wav", "chime.wav"])
def test_the_committed_sound_is_what_the_script_makes(make_sounds: ModuleType, tmp_path: Path, name: str) -> None:
    assert make_sounds.main([str(tmp_path)]) == 0
    made, shipped = samples(tmp_path / name), samples(SOUNDS_DIR / name)
    assert len(made) == len(shipped)
    # Within one step: another platform's sin() may round a last bit differently.
    assert max(abs(a - b) for a, b in zip(made, shipped)) <= 1


def test_the_beep_fits_in_a_count_and_neither_sound_clicks_or_clips() -> None:
    beep, chime = samples(SOUNDS_DIR / "beep.wav"), samples(SOUNDS_DIR / "chime.wav")
    assert len(beep) / 22050 <= 0.2
    for sound in (beep, chime):
        assert abs(sound[0]) < 200 and abs(sound[-1]) < 200
        assert 8000 < max(abs(v) for v in sound) < 32767
