"""Which screen the app will draw on, asked of SDL itself before Kivy opens its window.

Why ask at all: Kivy takes the window's size from its config (`graphics` width and
height) and asks SDL for full screen with `fullscreen = auto` (SDL's FULLSCREEN_DESKTOP).
A window manager or compositor, or KMS/DRM, then makes the window as big as the screen;
a bare X server (the `xinit` kiosk set-up) has no window manager to do that, so the
window stays at the configured size, centred, while Kivy lays the UI out for the whole
display: the UI is cut off and taps land beside what they hit. Knowing the display's
size beforehand lets the app ask for a window of exactly that size, which covers the
display (at 0,0) whoever is or is not there to resize it.

Why SDL, and this SDL: the desktop display mode is SDL's answer for the display Kivy's
window will open on, with the same video driver choice, so the probe loads the very
libSDL2 Kivy links to (Kivy's wheel ships it in `site-packages/Kivy.libs/`; a distro
Kivy uses the system's). The dynamic loader keeps one copy per library, so the probe
and Kivy share it; the probe shuts its video subsystem down again before Kivy starts.

Why the driver matters: with no X server, no Wayland compositor and no KMS/DRM device,
SDL quietly falls back to its `offscreen` (or `dummy`) driver, and the app would run on
with no window and no error. The probe turns that into `NoDisplay`, unless
SDL_VIDEODRIVER asked for such a driver on purpose.

No Kivy import here: this runs before Kivy reads its config.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib.util
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Mapping, Optional, Sequence

log = logging.getLogger("kiosk.pi.display")

SDL_INIT_VIDEO = 0x20

HEADLESS_DRIVERS = frozenset({"offscreen", "dummy", "evdev"})
"""SDL video drivers that draw on no screen: `offscreen` renders into memory, `dummy`
draws nothing, and `evdev` is the dummy driver with Linux input devices attached."""


class NoDisplay(Exception):
    """There is no screen to draw on; the message says what was looked for and what was found."""


@dataclass(frozen=True)
class DisplayInfo:
    """The screen Kivy's window will open on, as SDL sees it."""

    driver: str
    """SDL's video driver: x11, wayland, KMSDRM, ... (SDL's own spelling)."""
    width: int
    """The display's width in pixels, as the desktop uses it (before Kivy's `rotation`)."""
    height: int


class _DisplayMode(ctypes.Structure):
    """SDL_DisplayMode (SDL_video.h)."""

    _fields_ = [("format", ctypes.c_uint32), ("w", ctypes.c_int), ("h", ctypes.c_int),
                ("refresh_rate", ctypes.c_int), ("driverdata", ctypes.c_void_p)]


def headless_problem(driver: str, env: Mapping[str, str], drivers: Sequence[str] = ()) -> Optional[str]:
    """Why SDL's choice of `driver` means no screen, or None when it is a screen (or was asked for).

    A pure function of SDL's answer and the environment, so the decision is testable without
    SDL. `drivers` are the video drivers this SDL was built with, to say so when a Wayland
    session meets an SDL without Wayland (Kivy's wheel: it draws through XWayland).
    SDL_VIDEODRIVER naming the driver (it may be a comma-separated list) is a choice, not a
    fall-back: `SDL_VIDEODRIVER=offscreen` runs the app with no screen on purpose.
    """
    name = driver.lower()
    if name not in HEADLESS_DRIVERS:
        return None
    asked = [part.strip().lower() for part in env.get("SDL_VIDEODRIVER", "").split(",")]
    if name in asked:
        return None
    display, wayland = env.get("DISPLAY"), env.get("WAYLAND_DISPLAY")
    found: List[str] = []
    if display:
        found.append(f"DISPLAY={display} could not be opened")
    if wayland:
        if drivers and "wayland" not in [d.lower() for d in drivers]:
            found.append(f"WAYLAND_DISPLAY={wayland} is set but this SDL has no Wayland driver: "
                         f"it draws through XWayland, which needs DISPLAY,")
        else:
            found.append(f"WAYLAND_DISPLAY={wayland} could not be opened")
    why = " and ".join(found) if found else "DISPLAY and WAYLAND_DISPLAY are not set"
    return f"no X11, Wayland or KMS/DRM screen found ({why} and SDL fell back to its {name} driver)"


def init_problem(sdl_error: str, env: Mapping[str, str]) -> str:
    """The message when SDL cannot start video at all (a named driver that is not there, say)."""
    asked = env.get("SDL_VIDEODRIVER")
    detail = sdl_error or "no reason given"
    if asked:
        detail += f"; SDL_VIDEODRIVER={asked}"
    return f"SDL could not open a screen ({detail})"


def uses_sdl_window(env: Mapping[str, str]) -> bool:
    """Whether Kivy will pick its SDL2 window: KIVY_WINDOW unset, or naming sdl2 among others."""
    chosen = env.get("KIVY_WINDOW")
    return not chosen or "sdl2" in [part.strip() for part in chosen.split(",")]


def sdl_library_path() -> Optional[str]:
    """The libSDL2 Kivy will load: its wheel's own copy, else the system's; None if neither is found."""
    spec = importlib.util.find_spec("kivy")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            bundled = sorted((Path(location).parent / "Kivy.libs").glob("libSDL2-*.so*"))
            if bundled:
                return str(bundled[0])
    return ctypes.util.find_library("SDL2")


def probe_display() -> Optional[DisplayInfo]:
    """Ask SDL for the screen Kivy's window will open on; call it before Kivy creates the window.

    Returns None when SDL cannot be asked (no libSDL2 found, or KIVY_WINDOW picks another
    window provider): the caller then leaves the window's size to Kivy, as before.
    Raises NoDisplay when SDL cannot start video, or falls back to a driver with no screen.
    SDL reads the process's environment (DISPLAY, SDL_VIDEODRIVER, ...), so this does too.
    """
    environ = os.environ
    if not uses_sdl_window(environ):
        log.info("display: KIVY_WINDOW=%s is not SDL2; not probing", environ.get("KIVY_WINDOW"))
        return None
    path = sdl_library_path()
    if path is None:
        log.warning("display: no libSDL2 found to ask for the screen's size; Kivy decides")
        return None
    try:
        sdl = ctypes.CDLL(path)
    except OSError as error:
        log.warning("display: cannot load %s (%s); Kivy decides", path, error)
        return None
    sdl.SDL_GetError.restype = ctypes.c_char_p
    sdl.SDL_GetCurrentVideoDriver.restype = ctypes.c_char_p
    sdl.SDL_GetVideoDriver.restype = ctypes.c_char_p
    sdl.SDL_GetDesktopDisplayMode.argtypes = [ctypes.c_int, ctypes.POINTER(_DisplayMode)]
    if sdl.SDL_InitSubSystem(SDL_INIT_VIDEO) != 0:
        raise NoDisplay(init_problem(_text(sdl.SDL_GetError()), environ))
    try:
        driver = _text(sdl.SDL_GetCurrentVideoDriver())
        drivers = [_text(sdl.SDL_GetVideoDriver(index)) for index in range(sdl.SDL_GetNumVideoDrivers())]
        problem = headless_problem(driver, environ, drivers)
        if problem is not None:
            raise NoDisplay(problem)
        mode = _DisplayMode()
        if sdl.SDL_GetDesktopDisplayMode(0, ctypes.byref(mode)) != 0 or mode.w <= 0 or mode.h <= 0:
            raise NoDisplay(f"SDL's {driver} driver reports no usable screen ({_text(sdl.SDL_GetError())})")
        return DisplayInfo(driver, mode.w, mode.h)
    finally:
        # Leave SDL as it was: Kivy starts video itself and must find it unstarted.
        sdl.SDL_QuitSubSystem(SDL_INIT_VIDEO)


SERVICE_DISPLAY_WAIT_S = 90.0
"""Under systemd, how long `kiosk run` keeps looking for a screen before it gives up: a TV
switched on after the Pi, or X still starting. Shorter than the unit's TimeoutStartSec; and
one try per 90 s keeps the unit's start limit (5 in 300 s) from ever giving up for good."""
DISPLAY_RETRY_S = 2.0


def wait_for_display(probe: Callable[[], Optional[DisplayInfo]], *, wait_s: float,
                     every_s: float = DISPLAY_RETRY_S, clock: Callable[[], float] = time.monotonic,
                     sleep: Callable[[float], None] = time.sleep,
                     waiting: Callable[[NoDisplay], None] = lambda error: None) -> Optional[DisplayInfo]:
    """`probe()` until it finds a screen, for at most `wait_s`; then its last NoDisplay is raised.

    `waiting` is told once, at the first miss, so the journal says what the kiosk waits for.
    """
    deadline = clock() + wait_s
    told = False
    while True:
        try:
            return probe()
        except NoDisplay as error:
            if clock() + every_s > deadline:
                raise
            if not told:
                waiting(error)
                told = True
        sleep(every_s)


def _text(value: Optional[bytes]) -> str:
    return value.decode("utf-8", "replace") if value else ""
