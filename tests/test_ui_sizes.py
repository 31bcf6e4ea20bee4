"""Every screen at every display size, landscape and portrait, checked from the widget tree.

One test per size and rotation (each visits every screen once: real windows are slow),
asserting what a person needs: every text fits its box, nothing lies outside the window,
buttons are big enough, the countdown is at least a quarter of the height, and session
text is readable. Each test writes a contact sheet of its screens to test-output; the
committed ones are in docs/screenshots/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest
from kivy_harness import SCREENSHOT_DIR, Kiosk, contact_sheet, visible  # noqa: I001  (first: it configures Kivy before Kivy loads)
from kivy.core.image import Image as CoreImage
from layout_rules import buttons_under, everything_wrong, small_session_text
from test_ui_screens import TODAY, seeded, show  # noqa: F401  (seeded: a fixture)

from kiosk.core.reminders import Reminder


REPO = Path(__file__).resolve().parent.parent
SIZES = [(800, 480), (1024, 600), (1280, 800), (1920, 1080), (480, 800), (720, 1280)]
ROTATIONS = (0, 90)
SHOWN = ("safety", "home", "session", "stop", "done", "streaks", "routines", "settings", "reminders",
         "exercise_files")
REMINDERS = (Reminder("18:30", ("mon", "tue", "wed", "thu", "fri")),
             Reminder("19:00", ("mon", "wed", "fri"), "Time for your five minutes of feet and hips."))
"""Two reminders for the Reminders screen (after the tests' 09:00 start, so neither is due)."""


def case_name(size: Tuple[int, int], rotation: int) -> str:
    return f"{size[0]}x{size[1]}" + (f"-r{rotation}" if rotation else "")


@pytest.fixture
def rotated() -> Iterator:
    """The window turned as `rotation:` in the settings turns it; put back after the test."""
    from kivy.core.window import Window

    yield lambda rotation: setattr(Window, "rotation", rotation)
    Window.rotation = 0


def bring_up(kiosk: Kiosk, name: str) -> None:
    controller = kiosk.controller
    if name == "stop":
        if controller.screen != "session":
            show(kiosk, "session")
        kiosk.tap(kiosk.widget("session", "stop_button"))
        assert controller.confirm_stop
        return
    if controller.in_session:
        controller.stop()
        kiosk.settle()
        kiosk.advance(2)  # past the guard that follows the end of a session
    if name == "home":  # with a long notice over it, as after a power cut or a broken file
        controller.add_notice("Some exercise files have problems (my-morning-routine.yaml, hips.yaml). "
                              "Everything else works: see Settings, Exercise files.")
    if controller.screen not in ("home", name):
        controller.go("home")  # as a person would: back Home, then on to the next screen
        kiosk.advance(1)
    if name == "reminders":  # two set (the test has no settings file: nothing is saved)
        controller.change_setting("reminders", REMINDERS)
    if name in ("exercise_files", "reminders"):
        controller.go("settings")
        kiosk.frames(1)
        controller.go(name)
        kiosk.advance(2)
        return
    show(kiosk, name)


@pytest.mark.parametrize("rotation", ROTATIONS)
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_screen_fits_the_window(shipped_library, seeded: Path, rotated, size: Tuple[int, int],
                                      rotation: int) -> None:
    rotated(rotation)
    kiosk = Kiosk(shipped_library, seeded, size=size, today=TODAY)
    shots: List[Path] = []
    problems: Dict[str, List[str]] = {}
    try:
        width, height = kiosk.window.size  # as the layout sees it, turned by the rotation
        assert kiosk.controller.portrait == (height > width)
        scale = kiosk.controller.scale
        for name in SHOWN:
            bring_up(kiosk, name)
            kiosk.until_laid_out(kiosk.root)
            screen = kiosk.root
            wrong = everything_wrong(screen, kiosk.window, scale=scale)
            wrong += buttons_under(kiosk.root.ids.notice, kiosk.root.manager)
            if name in ("session", "stop"):
                wrong += small_session_text(screen, scale)
            if name == "session":
                countdown = kiosk.widget("session", "countdown")
                if not visible(countdown) or countdown.texture_size[1] < height / 4:
                    wrong.append(f"countdown {countdown.texture_size[1]:.0f} px high, under a quarter of {height}")
            if wrong:
                problems[name] = wrong
            shots.append(kiosk.screenshot(f"sizes/{name}-{case_name(size, rotation)}"))
        sheet = sheet_of(kiosk, shots, case_name(size, rotation))
    finally:
        kiosk.close()
    assert problems == {}
    committed = REPO / "docs" / "screenshots" / sheet.name
    if not committed.exists():
        pytest.fail(f"commit the contact sheet: cp {sheet} {committed}")
    assert CoreImage(str(committed)).texture.size == CoreImage(str(sheet)).texture.size, \
        f"the committed contact sheet is of another layout: cp {sheet} {committed}"


def sheet_of(kiosk: Kiosk, shots: List[Path], name: str) -> Path:
    """The screenshots side by side, each 320 px wide (240 in portrait), named under it."""
    first = CoreImage(str(shots[0])).texture.size
    cell_w = 320 if first[0] >= first[1] else 240
    return contact_sheet(kiosk, [(str(shot), shot.stem) for shot in shots],
                         (cell_w, int(first[1] * cell_w / first[0])), 5 if first[0] >= first[1] else 9,
                         SCREENSHOT_DIR / f"screens-{name}.png")
