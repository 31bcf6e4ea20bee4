"""A real Kivy window for the UI tests, driven by touches and a fake monotonic clock.

The window is the real SDL2 one on an X display (Xvfb: started here when no display
is set). Time inside the kiosk comes only from `FakeClock`, so a whole routine can be
stepped through in a fraction of a second, while Kivy still draws real frames.
"""

from __future__ import annotations

import atexit
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterator, List, Optional, Tuple

SCREENSHOT_DIR = Path(os.environ.get("KIOSK_SCREENSHOT_DIR", Path(__file__).resolve().parent.parent
                                     / "test-output" / "screenshots"))


def _ensure_display() -> None:
    if os.environ.get("DISPLAY"):
        return
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        raise RuntimeError("The UI tests need an X display: run them with `bash .ci/setup test` "
                           "(it installs Xvfb) or under xvfb-run.")
    number = 90 + os.getpid() % 50
    server = subprocess.Popen([xvfb, f":{number}", "-screen", "0", "2048x2048x24", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    atexit.register(server.terminate)
    os.environ["DISPLAY"] = f":{number}"
    deadline = time.monotonic() + 10
    while not Path(f"/tmp/.X11-unix/X{number}").exists():
        if time.monotonic() > deadline or server.poll() is not None:
            raise RuntimeError("Xvfb did not start")
        time.sleep(0.05)  # polling for the X socket to appear; there is no event to wait on


def prepare_kivy() -> None:
    """Environment Kivy must see before its first import."""
    if "kivy.clock" in sys.modules:
        raise RuntimeError("import kivy_harness before anything from kivy: it configures Kivy's clock")
    _ensure_display()
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kivy-home-"))
    from kivy.config import Config

    Config.set("graphics", "maxfps", "0")  # frames come when the test asks, never a sleep between
    Config.set("graphics", "width", "800")
    Config.set("graphics", "height", "480")
    Config.set("kivy", "exit_on_escape", "0")
    Config.set("input", "mouse", "mouse,disable_multitouch")


prepare_kivy()

from kivy.base import EventLoop  # noqa: E402
from kivy.clock import Clock  # noqa: E402
from kivy.tests.common import UnitTestTouch  # noqa: E402
from kivy.uix.widget import Widget  # noqa: E402

from kiosk.config import Settings  # noqa: E402
from kiosk.core.catalog import Library  # noqa: E402
from kiosk.ui.controller import SAFETY_SEEN, KioskController  # noqa: E402
from kiosk.ui.root import ExerciseRoot  # noqa: E402


class FakeClock:
    """The kiosk's monotonic clock, moved only by the test; Kivy's Clock follows it too."""

    def __init__(self, start: float = 5000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


FAKE_TIME = FakeClock(start=max(5000.0, time.monotonic() + 1000.0))
"""Ahead of the real monotonic clock Kivy's Clock started on: fake time that began behind it
(a machine up for more than 5000 s) would run backwards for Kivy, and no event would fire."""
Clock.time = FAKE_TIME  # Kivy's intervals and hold timers run on the same fake time as the kiosk


class PanelTouch(UnitTestTouch):
    """A finger at (x, y) of the layout, arriving as the panel reports it: in the panel's own
    unturned coordinates, which Kivy turns by the window's `rotation` (as it does a real touch)."""

    def __init__(self, x: float, y: float) -> None:
        window, panel = EventLoop.window, self._panel_args(x, y)
        super().__init__(panel["x"] * (window.width - 1.0), panel["y"] * (window.height - 1.0))

    @staticmethod
    def _panel_args(x: float, y: float) -> dict:
        window = EventLoop.window
        across, up = x / (window.width - 1.0), y / (window.height - 1.0)
        turned = {0: (across, up), 90: (1 - up, across), 180: (1 - across, 1 - up), 270: (up, 1 - across)}
        panel_x, panel_y = turned[window.rotation]
        return {"x": panel_x, "y": panel_y}

    def touch_move(self, x: float, y: float) -> None:
        self.move(self._panel_args(x, y))
        self.eventloop.post_dispatch_input("update", self)


class Kiosk:
    """One ExerciseRoot on the window, with the means to touch it and move time."""

    def __init__(self, library: Library, data_dir: Path, *, settings: Optional[Settings] = None,
                 size: Tuple[int, int] = (800, 480), today: dt.date = dt.date(2026, 11, 26),
                 config_path: Optional[Path] = None, speaker_factory: Optional[Callable[[Settings], Any]] = None,
                 log_opener: Optional[Callable[[Path], Any]] = None, first_start: bool = False,
                 reminder_speaker_factory: Optional[Callable[[Settings], Any]] = None,
                 start_time: dt.time = dt.time(9, 0)) -> None:
        if not first_start:  # the safety note has been read on this kiosk before
            data_dir.mkdir(parents=True, exist_ok=True)
            (data_dir / SAFETY_SEEN).touch()
        EventLoop.ensure_window()
        self.window = EventLoop.window
        self.window.system_size = size  # the panel's own pixels; a `rotation` turns what the layout sees
        self.clock = FAKE_TIME
        wall_start = dt.datetime.combine(today, start_time).astimezone()
        origin = self.clock.now
        self.wall = lambda: wall_start + dt.timedelta(seconds=self.clock.now - origin)
        extra = {}
        if log_opener is not None:
            extra["log_opener"] = log_opener
        if reminder_speaker_factory is not None:
            extra["reminder_speaker_factory"] = reminder_speaker_factory
        self.controller = KioskController(library, settings or Settings(), data_dir=data_dir,
                                          config_path=config_path, clock=self.clock, wall=self.wall,
                                          speaker_factory=speaker_factory, **extra)
        self.root = ExerciseRoot(self.controller)
        self.window.add_widget(self.root)
        self.frames(3)
        self.settle()
        self.until_laid_out(self.root)

    # ------------------------------------------------------------------ time
    def frames(self, count: int = 1) -> None:
        for _ in range(count):
            EventLoop.idle()

    def settle(self) -> None:
        """Let background work finish and its results reach the screen.

        Results come back as Clock events; a frame with many layout events left over (a new
        window's first frames) hands the rest to the next frame, so draw until all have run.
        """
        assert self.controller.wait_idle(20), "background work did not finish"
        self.frames(2)
        for _ in range(60):
            if self.controller.results_due == 0:
                return
            self.frames(1)
        raise AssertionError("results of background work still waiting for the Clock after 60 frames")

    def advance(self, seconds: float, step: float = 0.5, draw_every: float = 5.0) -> None:
        """Move the fake clock forward in `step`s; Kivy's Clock ticks at each, and a full
        frame is drawn every `draw_every` seconds of fake time and at the end."""
        target = self.clock.now + seconds
        drawn = self.clock.now
        while self.clock.now < target:
            self.clock.now = min(target, self.clock.now + step)
            if self.clock.now - drawn >= draw_every or self.clock.now >= target:
                self.frames(1)
                drawn = self.clock.now
            else:
                Clock.tick()

    # ------------------------------------------------------------------ touch
    def tap(self, widget: Widget, hold: float = 0.0) -> None:
        """A finger down and up on the centre of a widget (held `hold` seconds of Kivy time).

        A widget inside a scrolling list is scrolled into view first, as a person would."""
        self.scroll_into_view(widget)
        x, y = self.until_laid_out(widget)
        touch = PanelTouch(x, y)
        touch.touch_down()
        self.frames(1)
        if hold:
            self.advance(hold, step=1 / 30, draw_every=hold)
        touch.touch_up()
        self.frames(2)

    def until_laid_out(self, widget: Widget, most_frames: int = 60) -> Tuple[float, float]:
        """Draw frames until the window has its size and `widget` stays put for two frames.

        A new window's first frames can still be laying out (Kivy spreads a storm of layout
        events over several frames); a tap aimed before that lands where the widget was.
        Returns the widget's centre in window coordinates.
        """
        last: Optional[Tuple[float, float]] = None
        for _ in range(most_frames):
            here = tuple(widget.to_window(*widget.center))
            if here == last and tuple(self.root.size) == tuple(self.window.size):
                return here  # type: ignore[return-value]
            last = here  # type: ignore[assignment]
            self.frames(1)
        raise AssertionError(f"{widget} did not settle within {most_frames} frames")

    def scroll_into_view(self, widget: Widget) -> None:
        from kivy.uix.scrollview import ScrollView

        node = widget.parent
        while node is not None and node is not node.parent:
            if hasattr(node, "view_adapter"):  # a RecycleView (kv may load its class twice)
                return  # its rows exist only while on screen: the caller scrolled to it already
            if isinstance(node, ScrollView):
                node.scroll_to(widget, padding=10, animate=False)
                self.frames(2)
                return
            node = node.parent

    def tap_at(self, x: float, y: float) -> None:
        touch = PanelTouch(x, y)
        touch.touch_down()
        self.frames(1)
        touch.touch_up()
        self.frames(2)

    def screen(self, name: Optional[str] = None) -> Any:
        return self.root.screen(name or self.controller.screen)

    def widget(self, screen: str, widget_id: str) -> Any:
        return self.root.screen(screen).ids[widget_id]

    # ------------------------------------------------------------------ looking
    def screenshot(self, name: str) -> Path:
        """The screen as a person facing the turned panel sees it (upright), as a PNG."""
        final = SCREENSHOT_DIR / f"{name}.png"
        final.parent.mkdir(parents=True, exist_ok=True)
        width, height, rgba = self.pixels()
        rgb = bytearray(len(rgba) // 4 * 3)
        for channel in range(3):
            rgb[channel::3] = rgba[channel::4]
        self.window._win.save_bytes_in_png(str(final), bytes(rgb), width, height)
        return final

    def pixels(self) -> Tuple[int, int, bytes]:
        """The window's current RGBA pixels as the layout sees them (turned upright when the
        window has a `rotation`), bottom row first as OpenGL reads them."""
        from kivy.graphics.opengl import GL_RGBA, GL_UNSIGNED_BYTE, glReadPixels

        self.frames(2)
        panel_w, panel_h = self.window.system_size
        raw = glReadPixels(0, 0, panel_w, panel_h, GL_RGBA, GL_UNSIGNED_BYTE)
        rotation = self.window.rotation
        if rotation == 0:
            return panel_w, panel_h, raw
        cells = memoryview(raw).cast("I")  # one 32-bit cell per pixel, panel rows bottom first
        if rotation == 90:
            rows = [cells[panel_w - 1 - y::panel_w] for y in range(panel_w)]
        elif rotation == 270:
            rows = [cells[y::panel_w][::-1] for y in range(panel_w)]
        else:
            rows = [cells[(panel_h - 1 - y) * panel_w:(panel_h - y) * panel_w][::-1] for y in range(panel_h)]
        width, height = self.window.size
        return width, height, b"".join(row.tobytes() for row in rows)

    def close(self) -> None:
        self.controller.shut_down()
        self.window.remove_widget(self.root)
        self.frames(1)


def walk(widget: Widget) -> Iterator[Widget]:
    yield widget
    for child in widget.children:
        yield from walk(child)


def visible(widget: Widget) -> bool:
    """On screen for the person: not hidden by opacity or a zero size anywhere up the tree."""
    node: Optional[Widget] = widget
    while node is not None and node is not node.parent:
        if node.opacity == 0 or node.width <= 1 or node.height <= 1:
            return False
        node = node.parent
    return True


def texts(widget: Widget) -> List[str]:
    return [w.text for w in walk(widget) if getattr(w, "text", "")]


def contact_sheet(kiosk: Kiosk, cells: List[Tuple[str, str]], cell_size: Tuple[int, int], columns: int,
                  target: Path, label_size: int = 16) -> Path:
    """Pictures side by side, each `cell_size` and named under it, drawn by Kivy to `target`."""
    from kivy.graphics import Color, Rectangle
    from kivy.uix.boxlayout import BoxLayout
    from kivy.uix.gridlayout import GridLayout
    from kivy.uix.image import Image

    from kiosk.ui import theme
    from kiosk.ui.widgets import KLabel

    cell_w, cell_h = cell_size
    label_h = int(label_size * 1.8)
    rows = -(-len(cells) // columns)
    sheet = GridLayout(cols=columns, size_hint=(None, None), spacing=8, padding=8,
                       size=(columns * (cell_w + 8) + 8, rows * (cell_h + label_h + 12) + 8))
    with sheet.canvas.before:
        Color(*theme.BACKGROUND)
        Rectangle(pos=(0, 0), size=sheet.size)
    for source, name in cells:
        cell = BoxLayout(orientation="vertical", size_hint=(None, None), size=(cell_w, cell_h + label_h + 4))
        cell.add_widget(Image(source=source, fit_mode="contain", size_hint_y=None, height=cell_h, nocache=True))
        cell.add_widget(KLabel(text=name, font_size=label_size, size_hint_y=None, height=label_h))
        sheet.add_widget(cell)
    sheet.do_layout()
    for cell in sheet.children:
        cell.do_layout()
    kiosk.frames(2)
    target.parent.mkdir(parents=True, exist_ok=True)
    sheet.export_to_png(str(target))
    return target

