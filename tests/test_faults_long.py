"""Long running: an idle Home screen for an hour, and 200 sessions in a row, on a fake clock.

A kiosk runs for months; what grows a little per minute or per session eventually takes
the Pi down. Memory is the process's resident set (what the Pi actually spends, GL
driver included); each run is measured after a warm-up of the same work, so one-off
caches and first-use allocations are not counted as growth.
"""

from __future__ import annotations

import ctypes
import gc
import os
import threading
from pathlib import Path
from typing import Any, Dict

import kivy_harness  # noqa: F401  (before anything from kivy)
import pytest
from kivy.clock import Clock
from kivy_harness import FAKE_TIME, Kiosk
from test_faults_ui import one_tap_tiny_library, poke_at, tick_for

from kiosk import paths
from kiosk.config import Settings
from kiosk.core.catalog import Library
from kiosk.core.timeline import build_timeline
from kiosk.sessionlog.store import SessionLog
from kiosk.sound.audio import NullAudio
from kiosk.sound.voice import CueSpeaker, Sounds

MEMORY_GROWTH_LIMIT_MB = 5.0
PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 1e6


_LIBC = ctypes.CDLL("libc.so.6")


def footprint(driver: Kiosk) -> Dict[str, float]:
    """Resident memory (MB), open file descriptors and threads (Python's and the kernel's count),
    once the app is idle.

    Process-wide: threads or files another test leaves behind count too (run this file alone
    for the cleanest figures)."""
    settle(driver)
    gc.collect()
    _LIBC.malloc_trim(0)  # hand freed heap back first, so RSS shows what is held, not fragmentation
    with open("/proc/self/statm", encoding="ascii") as statm:
        resident_pages = int(statm.read().split()[1])
    files = open_files().values()
    fonts = sum(1 for target in files if target.endswith(".ttf"))
    return {
        "resident_mb": resident_pages * PAGE_MB,
        # Kivy's text cache holds one font handle per (font, size) and expires and reopens
        # them on its own timer, so their count wanders with test order; it is bounded
        # (checked below) and everything else must not grow at all.
        "open_files": len(files) - fonts,
        "font_files": fonts,
        "python_threads": threading.active_count(),
        "os_threads": len(os.listdir("/proc/self/task")),
    }


def assert_no_growth(before: Dict[str, float], after: Dict[str, float], what: str) -> None:
    print(f"\n{what}: {before} -> {after}")
    grew = after["resident_mb"] - before["resident_mb"]
    assert grew < MEMORY_GROWTH_LIMIT_MB, f"{what}: memory grew by {grew:.1f} MB"
    for key in ("open_files", "python_threads", "os_threads"):
        assert after[key] <= before[key], \
            f"{what}: {key} grew from {before[key]} to {after[key]}: {open_files()}, {threading.enumerate()}"
    assert after["font_files"] <= FONT_HANDLES_BOUND, f"{what}: {after['font_files']} font handles open"


def settle(driver: Kiosk) -> None:
    """Let background work (a save, a read of the log) and the results it hands back through
    the Clock run until neither queues more: a file a save holds open for a moment is not a
    leak, and whether one is open at the moment of measuring depends on the machine's speed."""
    for _ in range(100):
        assert driver.controller.wait_idle(20), "background work did not finish"
        Clock.tick()
        if driver.controller.wait_idle(0):
            return
    raise AssertionError("background work keeps queueing more work")


def footprint_with_fonts_loaded(driver: Kiosk) -> Dict[str, float]:
    """Kivy's font cache lets unused (font, size) faces expire and loads them again when a
    label is redrawn; render every label first so both measurements hold the same faces."""
    from kivy.uix.label import Label
    from kivy_harness import walk

    for tree in [driver.root, *driver.root.manager.screens]:  # screens not on show are off the tree
        for widget in walk(tree):
            if isinstance(widget, Label):
                widget.texture_update()
    driver.frames(1)
    return footprint(driver)


FONT_HANDLES_BOUND = 64
"""Two font files times the handful of sizes the screens use, with room for expired handles."""


def open_files() -> Dict[str, str]:
    found = {}
    for fd in os.listdir("/proc/self/fd"):
        try:
            found[fd] = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            pass
    return found


@pytest.fixture(scope="module")
def tiny_library(tmp_path_factory: pytest.TempPathFactory) -> Library:
    return one_tap_tiny_library(tmp_path_factory.mktemp("tiny"))


def poke(driver: Kiosk, widget: Any) -> None:
    poke_at(driver, *widget.to_window(*widget.center))


def test_an_idle_home_screen_for_an_hour_grows_nothing(shipped_library: Library, tmp_path: Path) -> None:
    driver = Kiosk(shipped_library, tmp_path / "data")
    try:
        def an_idle_stretch(seconds: float) -> None:
            for _minute in range(int(seconds // 60)):
                tick_for(60, step=0.25)  # four ticks a second; Home redraws its clock once a minute
                driver.frames(1)

        an_idle_stretch(30 * 60)
        before = footprint_with_fonts_loaded(driver)
        an_idle_stretch(60 * 60)
        after = footprint_with_fonts_loaded(driver)
        tick_for(1.5, step=0.25)  # the once-a-second clock event fires at least once more
        assert driver.controller.screen == "home"
        assert driver.widget("home", "clock").text == driver.controller.wall().strftime("%H:%M") == "10:30"
        assert_no_growth(before, after, "an hour idle on Home")
    finally:
        driver.close()


SESSIONS = 200


def test_two_hundred_sessions_in_a_row_grow_nothing(tiny_library: Library, tmp_path: Path) -> None:
    speaker_made = []

    def speaker_factory(settings: Settings) -> CueSpeaker:
        speaker_made.append(CueSpeaker(voice=None, audio=NullAudio(FAKE_TIME),
                                       sounds=Sounds.from_media(paths.shipped_media_dir()), clock=FAKE_TIME))
        return speaker_made[-1]

    data_dir = tmp_path / "data"
    driver = Kiosk(tiny_library, data_dir, speaker_factory=speaker_factory, config_path=tmp_path / "config.yaml")
    length = build_timeline(tiny_library.default_routine()).total_s
    done = 0

    def sessions(count: int) -> None:
        nonlocal done
        for number in range(count):
            poke(driver, driver.widget("home", "start_button"))
            assert driver.controller.in_session, f"session {done + 1} did not start"
            tick_for(length + 1, step=0.25)
            assert driver.controller.screen == "done"
            tick_for(2, step=0.5)
            if number % 3 == 0:
                poke(driver, next(b for b in driver.widget("done", "pain_buttons").children if b.value == number % 11))
                tick_for(2, step=0.5)
            if number % 2 == 0:
                poke(driver, driver.widget("done", "home_button"))
            else:
                tick_for(30, step=1.0)  # or the Done screen goes Home on its own
            assert driver.controller.screen == "home"
            assert driver.controller.wait_idle(20)
            Clock.tick()
            tick_for(2, step=0.5)
            if number % 10 == 0:
                driver.frames(1)
            done += 1

    try:
        sessions(20)
        before = footprint(driver)
        sessions(SESSIONS)
        after = footprint(driver)
        assert len(speaker_made) == 1, "one speaker (and its thread) for the whole run"
        assert_no_growth(before, after, f"{SESSIONS} sessions")
    finally:
        driver.close()
    with SessionLog.open(data_dir) as log:
        records = log.records()
    assert len(records) == SESSIONS + 20 and all(r.completed for r in records)
    assert len({r.id for r in records}) == len(records)
