"""`kiosk run`: a thin Kivy App around ExerciseRoot, set up as a kiosk.

Kivy reads its configuration when it is first imported, so everything about the
window (full screen and its size, cursor, rotation, Escape) is decided here before that
import. The screen is asked of SDL first (`kiosk.pi.display`): with no screen at all the
app stops with `NoDisplay` before Kivy is imported, instead of running on unseen.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence, Tuple

from kiosk import paths
from kiosk.config import Settings, load_settings
from kiosk.core.catalog import load_library
from kiosk.pi.display import SERVICE_DISPLAY_WAIT_S, DisplayInfo, NoDisplay, probe_display, wait_for_display
from kiosk.pi.kivy_config import set_input
from kiosk.pi.watchdog import Watchdog

log = logging.getLogger("kiosk")


@dataclass(frozen=True)
class AppOptions:
    data_dir: Path
    config_path: Path
    extra_exercise_dirs: Tuple[Path, ...] = ()
    windowed: bool = False
    check: bool = False
    """Draw the first frame, read the log, print the notice on screen, then quit: proves the
    display, the install and the data folder work, and says what the screen would say."""
    size: Tuple[int, int] = (800, 480)
    speed: float = 1.0
    """For testing: the session clock runs this many times faster, as in `kiosk play --speed`."""


def configure_kivy(settings: Settings, options: AppOptions, display: Optional[DisplayInfo] = None) -> None:
    """Kiosk window rules, set before Kivy creates the window.

    Full screen, the window is asked for at the display's own size (`display`, from
    `probe_display`), not `options.size`: on a bare X server nothing else would resize
    it, and a window as big as the display, centred, covers it from 0,0, so touches land
    where the UI is drawn. `fullscreen = auto` stays for a window manager, a compositor
    and KMS/DRM, which make it the screen's size anyway. `rotation` is Kivy's: it turns
    the picture and the touches inside a window whose physical size is the display's.
    Windowed (`--windowed`, or `fullscreen: false`) keeps `options.size`.
    """
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    from kivy.config import Config

    Config.set("kivy", "exit_on_escape", "0")
    Config.set("kivy", "pause_on_minimize", "0")
    Config.set("graphics", "rotation", str(settings.rotation))
    full_screen = settings.fullscreen and not options.windowed
    width, height = (display.width, display.height) if full_screen and display else options.size
    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    if full_screen:
        Config.set("graphics", "fullscreen", "auto")
        Config.set("graphics", "borderless", "1")
        Config.set("graphics", "show_cursor", "0")
    else:
        Config.set("graphics", "fullscreen", "0")
        Config.set("graphics", "borderless", "0")
        Config.set("graphics", "show_cursor", "1")
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        # Under a desktop the compositor delivers the touchscreen as the pointer: the same
        # one-reader [input] section the installer writes for the desktop set-up.
        set_input(Config, "desktop")
        # SDL drops a click that comes with the window's focus (within 10 ms of it): on a panel
        # that moves the pointer with each touch, that would be someone's first tap.
        os.environ.setdefault("SDL_MOUSE_FOCUS_CLICKTHROUGH", "1")
    # On the console the installer's Kivy config names the one touch reader; keep it.


def build_controller(options: AppOptions, settings: Settings, settings_problems: Sequence[Any] = ()) -> Any:
    from kiosk.play import ScaledClock
    from kiosk.sound.voice import default_cache_dir, make_speaker, reminder_voice
    from kiosk.ui.controller import KioskController

    layers = [paths.shipped_exercises_dir(), *[Path(d) for d in settings.exercises_dirs],
              *options.extra_exercise_dirs]
    library = load_library(layers, paths.shipped_media_dir())
    for problem in library.problems:
        log.warning("%s", problem)
    media, cache = paths.shipped_media_dir(), default_cache_dir()
    clock = ScaledClock(options.speed) if options.speed != 1 else time.monotonic
    controller = KioskController(library, settings, data_dir=options.data_dir, config_path=options.config_path,
                                 clock=clock,
                                 speaker_factory=lambda chosen: make_speaker(chosen, media_dir=media,
                                                                            cache_dir=cache, clock=clock),
                                 reminder_speaker_factory=lambda chosen: make_speaker(
                                     reminder_voice(chosen), media_dir=media, cache_dir=cache, clock=clock))
    controller.settings_problems = tuple(settings_problems)
    for problem in settings_problems:
        log.warning("%s", problem)
    if settings_problems:
        first = settings_problems[0]
        # Said whole on the screen: a touch-only user cannot run `kiosk validate`.
        more = f" (and {len(settings_problems) - 1} more)" if len(settings_problems) > 1 else ""
        controller.add_notice(f"{Path(first.path).name}, line {first.line}: {first.message.rstrip('.')}{more}. "
                              f"See Settings, Exercise files.")
    return controller


def run_app(options: AppOptions) -> int:
    """Run the kiosk until it is closed; raises NoDisplay when there is no screen to draw on."""
    settings, problems = load_settings(options.config_path)
    # Before Kivy: no screen is one line and exit 1, not a window nobody sees. Started by
    # systemd (which sets INVOCATION_ID), the screen may come later: look for it a while.
    display = wait_for_display(probe_display, wait_s=SERVICE_DISPLAY_WAIT_S if "INVOCATION_ID" in os.environ else 0,
                               waiting=lambda error: print(f"kiosk: waiting for a display: {error}",
                                                           file=sys.stderr, flush=True))
    configure_kivy(settings, options, display)

    from kivy.core.window import Window

    if Window is None:  # SDL saw a screen, yet Kivy could open no window on it (GL, say)
        where = f"the {display.driver} screen" if display is not None else "this screen"
        raise NoDisplay(f"Kivy could not open a window on {where} (Kivy's log says why)")
    if display is not None:  # now that Kivy's log (the journal, under the service) is there to say it
        log.info("display: SDL's %s driver, %dx%d; window %dx%d", display.driver, display.width,
                 display.height, *Window.system_size)

    from kivy.app import App
    from kivy.base import ExceptionManager
    from kivy.clock import Clock

    from kiosk.ui.root import ExerciseRoot

    controller = build_controller(options, settings, problems)
    watchdog = Watchdog.from_environment()

    class KioskApp(App):
        title = "Home exercise kiosk"

        def build(self) -> Any:
            return ExerciseRoot(controller)

        def on_start(self) -> None:
            from kivy.core.window import Window

            watchdog.ready_on_first_frame(Window)
            watchdog.install_on_clock(Clock)
            # systemctl stop/restart sends SIGTERM: stop like a closed window, saving the session.
            signal.signal(signal.SIGTERM, lambda *_args: Clock.schedule_once(lambda _dt: self.stop()))
            if options.check:
                self._check_first_frame(Window)

        def _check_first_frame(self, window: Any) -> None:
            """`--check`: report the first frame, then what the screen shows once the log is read."""

            def first_frame_drawn(*_args: Any) -> None:
                window.unbind(on_flip=first_frame_drawn)
                print(f"kiosk: first frame drawn ({window.width}x{window.height}, "
                      f"rotation {window.rotation})", flush=True)
                if controller.stats is None:
                    controller.bind(stats=log_read)
                    Clock.schedule_once(log_read, CHECK_LOG_WAIT_S)
                else:
                    log_read()

            def log_read(*_args: Any) -> None:
                controller.unbind(stats=log_read)
                Clock.unschedule(log_read)
                # The next frame draws what reading the log changed; report it, then quit.
                Clock.schedule_once(lambda _dt: report_and_stop(), 0)

            def report_and_stop() -> None:
                state = "read" if controller.stats is not None else f"not read within {CHECK_LOG_WAIT_S:.0f} s"
                notice = controller.notice or "none"
                print(f"kiosk: log {state}; screen: {controller.screen}; notice: {notice}", flush=True)
                self.stop()

            window.bind(on_flip=first_frame_drawn)

        def on_stop(self) -> None:
            watchdog.stopping()
            controller.shut_down()

    handler = friendly_errors(controller)
    ExceptionManager.add_handler(handler)
    try:
        KioskApp().run()
    finally:
        ExceptionManager.remove_handler(handler)
        controller.shut_down()
    return 0


CHECK_LOG_WAIT_S = 60.0
"""How long `--check` waits for the log to be read before it reports and quits anyway."""

FRIENDLY_MESSAGE = "Something went wrong. Your session was saved; tap Start to go again."


def friendly_errors(controller: Any) -> Any:
    """A Kivy exception handler: never a traceback on screen; log it, save, go Home, say so kindly."""
    from kivy.base import ExceptionHandler, ExceptionManager

    class FriendlyErrors(ExceptionHandler):
        def handle_exception(self, inst: BaseException) -> Any:
            if isinstance(inst, (KeyboardInterrupt, SystemExit)):
                return ExceptionManager.RAISE
            log.error("unexpected error:\n%s",
                      "".join(traceback.format_exception(type(inst), inst, inst.__traceback__)))
            try:
                controller.recover(FRIENDLY_MESSAGE)
            except Exception:  # the recovery itself failed: keep the loop alive regardless
                log.exception("recovery failed")
            return ExceptionManager.PASS

    return FriendlyErrors()
