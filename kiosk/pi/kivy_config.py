"""Kivy's [input] section for each set-up: exactly one way for a touch to reach the app.

The installer writes it into config.ini and the app sets it on Kivy's Config before the
window opens; both take it from here. Standard library only: the installer runs on the
system's python3, before Kivy is installed.
"""

from __future__ import annotations

import configparser
import io
from typing import Dict, Iterable, Optional, Tuple

INPUT_PROVIDERS: Dict[str, Tuple[Tuple[str, str], ...]] = {
    # On the console nothing sits between the touchscreen and the app, so Kivy reads the
    # panel itself, through exactly one provider: mtdev, which turns both kinds of kernel
    # multitouch reports into one stream (hidinput would read the same panel again, the
    # classic double tap). select_all=0: only devices that report touch positions, never
    # the keyboard. The mouse provider stays for a real mouse; the unit stops SDL from
    # turning touches into clicks (SDL_TOUCH_MOUSE_EVENTS=0).
    "console": (
        ("mouse", "mouse,disable_multitouch"),
        ("%(name)s", "probesysfs,provider=mtdev,select_all=0"),
    ),
    # In the desktop the compositor owns the touchscreen and hands touches to SDL, which
    # Kivy gets as mouse clicks; reading /dev/input as well (Kivy's default probesysfs
    # entry) would count every tap twice.
    "desktop": (
        ("mouse", "mouse,disable_multitouch"),
    ),
}


def set_input(config: configparser.RawConfigParser, setup: str) -> None:
    """Make `config`'s [input] section exactly the set-up's providers (Kivy's Config is a RawConfigParser too)."""
    if not config.has_section("input"):
        config.add_section("input")
    for option in config.options("input"):
        config.remove_option("input", option)
    for key, value in INPUT_PROVIDERS[setup]:
        config.set("input", key, value)


def touch_readers(providers: Iterable[str]) -> int:
    """How many [input] values read touch devices themselves: all but Kivy's mouse provider."""
    return sum(1 for value in providers if value.split(",", 1)[0].strip() != "mouse")


def parse(text: bytes) -> Optional[configparser.RawConfigParser]:
    """config.ini as Kivy reads it; None for a file that is not one (mangled, not UTF-8)."""
    config = configparser.RawConfigParser(strict=False)
    try:
        config.read_string(text.decode("utf-8"))
    except (configparser.Error, UnicodeDecodeError):
        return None
    return config


def dumps(config: configparser.RawConfigParser) -> bytes:
    """config.ini's bytes, in the form Kivy itself writes."""
    stream = io.StringIO()
    config.write(stream)
    return stream.getvalue().encode("utf-8")


def config_ini(current: Optional[bytes], template: bytes, setup: str) -> Optional[bytes]:
    """The config.ini a set-up needs, given the one there now (None: no file); None leaves it.

    An existing file is only held to its number of touch readers: Kivy rewrites the file
    when it upgrades it, and a panel may need its own provider line (hidinput for a
    resistive one). A mangled file starts again from the template.
    """
    config = parse(current) if current is not None else None
    wanted = touch_readers(value for _, value in INPUT_PROVIDERS[setup])
    if config is not None and config.has_section("input") and \
            touch_readers(value for _, value in config.items("input")) == wanted:
        return None
    if config is None:
        config = parse(template)
        if config is None:
            raise ValueError("the Kivy config template is not in Kivy's format")
    set_input(config, setup)
    return dumps(config)
