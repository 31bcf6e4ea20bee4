"""Every screen at 800x480, 480x800 and 1920x1080: screenshots and contrast (sizes and fit: test_ui_sizes.py).

The screenshots saved here (test-output/screenshots) are the ones committed under docs/.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest
from factories import make_record
from kivy_harness import Kiosk, visible, walk  # noqa: I001  (first: it configures Kivy before Kivy loads)
from kivy.uix.label import Label

from kiosk import paths
from kiosk.core.safety_note import read_safety_note
from kiosk.sessionlog.store import SessionLog
from kiosk.ui import theme
from kiosk.ui.theme import MIN_TOUCH, contrast_ratio

SCREENS = ("home", "session", "done", "streaks", "routines", "settings", "exercise_files", "safety")
SIZES = {"800x480": (800, 480), "480x800": (480, 800), "1920x1080": (1920, 1080)}
TODAY = dt.date(2026, 11, 26)


def seed_log(data_dir: Path) -> None:
    """Eleven weeks of use with gaps and pain ratings, so every screen has something to show."""
    records = []
    for offset in range(1, 80):
        day = TODAY - dt.timedelta(days=offset)
        if offset % 7 in (3, 5) or 40 < offset < 46:
            continue
        records.append(make_record(day, pain=(offset // 7) % 6 + 1 if offset % 3 == 0 else None))
    with SessionLog.open(data_dir) as log:
        log.import_records(records)


def show(kiosk: Kiosk, screen: str) -> None:
    """Bring a screen up the way a person would get there."""
    controller = kiosk.controller
    if screen == "session":
        kiosk.tap(kiosk.widget("home", "start_button"))
        kiosk.advance(75, step=0.5)  # into the second exercise, past its rest
    elif screen == "done":
        kiosk.tap(kiosk.widget("home", "start_button"))
        kiosk.advance(kiosk.controller.timeline.total_s + 1, step=1.0)
        kiosk.settle()
    elif screen == "safety":
        controller.safety_text = read_safety_note(paths.safety_note_path())
        controller.go(screen)
    elif screen != "home":
        controller.go(screen)
    kiosk.advance(2)
    assert controller.screen == screen


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    data_dir = tmp_path / "data"
    seed_log(data_dir)
    return data_dir


@pytest.fixture
def kiosk_at(shipped_library, seeded: Path) -> Iterator:
    made: List[Kiosk] = []

    def make(size: Tuple[int, int]) -> Kiosk:
        driver = Kiosk(shipped_library, seeded, size=size, today=TODAY)
        made.append(driver)
        return driver

    yield make
    for driver in made:
        driver.close()


@pytest.mark.parametrize("screen", SCREENS)
def test_screenshot_of_every_screen_at_800x480(kiosk_at, screen: str) -> None:
    kiosk = kiosk_at((800, 480))
    show(kiosk, screen)
    path = kiosk.screenshot(f"{screen}-800x480")
    assert path.stat().st_size > 5000


def _background_under(pixels: bytes, width: int, box: Tuple[int, int, int, int]) -> Tuple[float, float, float, float]:
    """The most common colour in a box of the frame: what the text is drawn on."""
    x, y, w, h = box
    counts: Counter = Counter()
    for row in range(max(0, y), y + h, max(1, h // 12)):
        for column in range(max(0, x), x + w, max(1, w // 24)):
            offset = (row * width + column) * 4
            counts[pixels[offset:offset + 3]] += 1
    rgb = counts.most_common(1)[0][0]
    return (rgb[0] / 255, rgb[1] / 255, rgb[2] / 255, 1.0)


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("screen", SCREENS)
def test_all_text_meets_wcag_aa_contrast(kiosk_at, screen: str, size: str) -> None:
    kiosk = kiosk_at(SIZES[size])
    show(kiosk, screen)
    width, height, pixels = kiosk.pixels()
    failures: Dict[str, float] = {}
    checked = 0
    for widget in walk(kiosk.root):
        if not isinstance(widget, Label) or not widget.text.strip() or not visible(widget):
            continue
        left, bottom = widget.to_window(widget.x, widget.y)
        box = (int(left), int(bottom), int(widget.width), int(widget.height))
        if box[0] >= width or box[1] >= height or box[0] + box[2] <= 0 or box[1] + box[3] <= 0:
            continue  # scrolled out of view
        background = _background_under(pixels, width, box)
        ratio = contrast_ratio(tuple(widget.color), background)
        checked += 1
        if ratio < 4.5:
            failures[widget.text[:40]] = round(ratio, 2)
    assert checked >= 2
    assert failures == {}


def test_the_stop_question_has_big_buttons_too(kiosk_at) -> None:
    kiosk = kiosk_at((800, 480))
    show(kiosk, "session")
    kiosk.tap(kiosk.widget("session", "stop_button"))
    dialog = kiosk.screen("session").ids.stop_dialog_holder.children[0]
    for button in (dialog.ids.keep_going, dialog.ids.confirm_stop):
        assert button.width >= MIN_TOUCH and button.height >= MIN_TOUCH
    kiosk.screenshot("session-stop-800x480")


def test_theme_colours_for_text_all_pass() -> None:
    pairs = [(theme.TEXT, theme.BACKGROUND), (theme.MUTED, theme.BACKGROUND), (theme.MUTED, theme.SURFACE),
             (theme.ACCENT, theme.SURFACE), (theme.TEXT, theme.PRIMARY), (theme.TEXT, theme.DANGER),
             (theme.TEXT, theme.BUTTON), (theme.TEXT, theme.BUTTON_PRESSED), (theme.TEXT, theme.SURFACE)]
    assert all(contrast_ratio(fg, bg) >= 4.5 for fg, bg in pairs)
