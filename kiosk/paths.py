"""Where things live: shipped resources relative to the package, user files per XDG."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Optional, Tuple

APP_NAME = "home-exercise-kiosk"
PACKAGE_DIR = Path(__file__).resolve().parent


def _shipped(name: str) -> Path:
    """A top-level folder of the repo (exercises/, media/), wherever the package runs from.

    In a wheel the folders are packed into kiosk/_shipped/; in a source checkout or an
    editable install they sit beside the package, at the top of the repo.
    """
    packed = PACKAGE_DIR / "_shipped" / name
    if packed.is_dir():
        return packed
    return PACKAGE_DIR.parent / name


def shipped_exercises_dir() -> Path:
    return _shipped("exercises")


def shipped_media_dir() -> Path:
    return _shipped("media")


def safety_note_path() -> Path:
    """docs/safety.md: shown once on first start, and linked from the README."""
    return _shipped("docs") / "safety.md"


def project_root() -> Path:
    """The folder that holds exercises/ and media/, for paths shown relative to it."""
    return shipped_exercises_dir().parent


def _xdg(variable: str, fallback: str, environ: Mapping[str, str]) -> Path:
    value = environ.get(variable, "")
    if value and os.path.isabs(value):
        return Path(value)
    return Path(environ.get("HOME") or Path.home()) / fallback


def data_dir(override: Optional[str] = None, environ: Optional[Mapping[str, str]] = None) -> Path:
    """--data-dir, else $KIOSK_DATA_DIR, else $XDG_DATA_HOME/home-exercise-kiosk."""
    env = os.environ if environ is None else environ
    chosen = override or env.get("KIOSK_DATA_DIR")
    if chosen:
        return Path(chosen).expanduser()
    return _xdg("XDG_DATA_HOME", ".local/share", env) / APP_NAME


def piper_voice_dirs(environ: Optional[Mapping[str, str]] = None) -> Tuple[Path, ...]:
    """Where Piper voices are looked for: $XDG_DATA_HOME/piper-voices (normally
    ~/.local/share/piper-voices), then /usr/share/piper-voices for every user of the machine."""
    env = os.environ if environ is None else environ
    return (_xdg("XDG_DATA_HOME", ".local/share", env) / "piper-voices", Path("/usr/share/piper-voices"))


def config_path(override: Optional[str] = None, environ: Optional[Mapping[str, str]] = None) -> Path:
    """--config, else $KIOSK_CONFIG, else $XDG_CONFIG_HOME/home-exercise-kiosk/config.yaml."""
    env = os.environ if environ is None else environ
    chosen = override or env.get("KIOSK_CONFIG")
    if chosen:
        return Path(chosen).expanduser()
    return _xdg("XDG_CONFIG_HOME", ".config", env) / APP_NAME / "config.yaml"
