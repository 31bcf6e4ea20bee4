"""Full screen on any display, and no display said in one line: `kiosk.pi.display` and `kiosk run`.

The decision (is SDL's driver a screen?) is a pure function, tested without SDL. The rest
runs the real thing: the probe and `kiosk run` as processes, on Xvfb screens started here
at the sizes of real kiosk panels, with no window manager (the bare `xinit` set-up, where
nothing but the app decides the window's size). The window is found by the app's pid with
xdotool, as `test_faults_kill_app.py` does (x11-utils' xwininfo is not installed by
`.ci/setup`), and a tap by the X pointer proves touches land where the UI is drawn.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple, cast

import pytest
from test_faults_kill_app import WAIT_S, App, xdotool  # noqa: F401  (xdotool is a fixture)

from kiosk.pi.display import (
    DisplayInfo,
    NoDisplay,
    headless_problem,
    init_problem,
    sdl_library_path,
    uses_sdl_window,
    wait_for_display,
)
from kiosk.sessionlog.checkpoint import CHECKPOINT_NAME

HEADLESS = ("no X11, Wayland or KMS/DRM screen found (DISPLAY and WAYLAND_DISPLAY are not set "
            "and SDL fell back to its offscreen driver)")
"""What SDL does here with no display at all: no /dev/dri in a test container, so no KMS/DRM either."""

def kms_screen_reachable() -> bool:
    """Whether SDL could find a KMS/DRM screen here with no display set (a desktop machine)."""
    return any(os.access(card, os.R_OK | os.W_OK) for card in Path("/dev/dri").glob("card*"))


needs_no_kms = pytest.mark.skipif(kms_screen_reachable(), reason="this machine has a KMS/DRM screen SDL can "
                                  "open, so with no DISPLAY the app would draw on it: not a machine with no display")

POLL_S = 0.02
"""How often the data folder is looked at while waiting for the tapped session's checkpoint."""


# -- the decision, without SDL ------------------------------------------------------------------

@pytest.mark.parametrize("driver", ["offscreen", "dummy", "evdev", "OFFSCREEN"])
def test_a_driver_with_no_screen_is_no_display_when_nobody_asked_for_it(driver: str) -> None:
    problem = headless_problem(driver, {})
    assert problem == ("no X11, Wayland or KMS/DRM screen found (DISPLAY and WAYLAND_DISPLAY are not set "
                       f"and SDL fell back to its {driver.lower()} driver)")


@pytest.mark.parametrize("asked", ["offscreen", "OffScreen", "x11,offscreen", " x11 , offscreen "])
def test_sdl_videodriver_naming_the_headless_driver_is_a_choice_not_a_fall_back(asked: str) -> None:
    assert headless_problem("offscreen", {"SDL_VIDEODRIVER": asked}) is None


def test_asking_for_another_driver_does_not_excuse_the_fall_back() -> None:
    problem = headless_problem("offscreen", {"SDL_VIDEODRIVER": "dummy"})
    assert problem is not None and "fell back to its offscreen driver" in problem


@pytest.mark.parametrize("driver", ["x11", "wayland", "KMSDRM", "kmsdrm", "windows", "cocoa"])
def test_a_driver_that_draws_on_a_screen_is_fine_whatever_the_environment(driver: str) -> None:
    assert headless_problem(driver, {}) is None
    assert headless_problem(driver, {"DISPLAY": ":0", "SDL_VIDEODRIVER": "offscreen"}) is None


def test_the_message_names_the_display_that_could_not_be_opened() -> None:
    problem = headless_problem("offscreen", {"DISPLAY": ":99"})
    assert problem == ("no X11, Wayland or KMS/DRM screen found (DISPLAY=:99 could not be opened "
                       "and SDL fell back to its offscreen driver)")


def test_a_wayland_session_meeting_an_sdl_without_wayland_is_told_to_set_display() -> None:
    drivers = ["x11", "KMSDRM", "offscreen", "dummy", "evdev"]  # what Kivy's wheel ships
    problem = headless_problem("offscreen", {"WAYLAND_DISPLAY": "wayland-0"}, drivers)
    assert problem is not None
    assert "WAYLAND_DISPLAY=wayland-0 is set but this SDL has no Wayland driver" in problem
    assert "XWayland, which needs DISPLAY" in problem
    with_wayland = headless_problem("offscreen", {"WAYLAND_DISPLAY": "wayland-0"}, drivers + ["wayland"])
    assert with_wayland is not None and "WAYLAND_DISPLAY=wayland-0 could not be opened" in with_wayland


def test_sdl_failing_to_start_video_names_its_reason_and_the_asked_driver() -> None:
    assert init_problem("x11 not available", {"SDL_VIDEODRIVER": "x11"}) == \
        "SDL could not open a screen (x11 not available; SDL_VIDEODRIVER=x11)"
    assert init_problem("", {}) == "SDL could not open a screen (no reason given)"


@pytest.mark.parametrize("kivy_window, probed", [(None, True), ("sdl2", True), ("egl_rpi,sdl2", True),
                                                 ("x11", False), ("pygame", False)])
def test_only_kivys_sdl2_window_is_probed(kivy_window: Any, probed: bool) -> None:
    env = {} if kivy_window is None else {"KIVY_WINDOW": kivy_window}
    assert uses_sdl_window(env) is probed


# -- the probe and the app, for real -------------------------------------------------------------

def base_env(tmp_path: Path) -> Dict[str, str]:
    """This environment without any display or SDL choice, a fresh KIVY_HOME, silent sound."""
    env = {name: value for name, value in os.environ.items()
           if name not in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER", "KIVY_WINDOW", "KIOSK_DATA_DIR",
                           "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "KIVY_NO_CONSOLELOG")}
    env.update(KIVY_HOME=str(tmp_path / "kivy"), SDL_AUDIODRIVER="dummy", KIVY_NO_ARGS="1", KIVY_NO_FILELOG="1")
    return env


def kiosk_folders(tmp_path: Path) -> List[str]:
    """A data folder past the safety note (Home shows Start) and settings with no sound."""
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    (data / "safety-note-seen").write_text("acknowledged\n", encoding="utf-8")
    config = tmp_path / "config.yaml"
    config.write_text("voice: false\nbeeps: false\n", encoding="utf-8")
    return ["--data-dir", str(data), "--config", str(config)]


def kiosk(tmp_path: Path, env: Dict[str, str], *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kiosk", *kiosk_folders(tmp_path), *argv], env=env,
                          capture_output=True, text=True, timeout=WAIT_S)  # a hang guard only


def probe(env: Dict[str, str]) -> subprocess.CompletedProcess:
    code = ("from kiosk.pi.display import NoDisplay, probe_display\n"
            "try:\n    print(probe_display())\nexcept NoDisplay as error:\n    print('NoDisplay:', error)\n")
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=WAIT_S)


@pytest.fixture(scope="module", params=[(1024, 600), (480, 800)], ids=lambda size: f"{size[0]}x{size[1]}")
def screen(request: pytest.FixtureRequest) -> Iterator[Tuple[str, int, int]]:
    """An Xvfb screen of the asked size with no window manager; (DISPLAY, width, height)."""
    width, height = request.param
    xvfb = shutil.which("Xvfb")
    if xvfb is None:  # a skip here would pass unseen
        pytest.fail("Xvfb is missing: apt-get install xvfb (bash .ci/setup test does)")
    read_end, write_end = os.pipe()
    server = subprocess.Popen([xvfb, "-displayfd", str(write_end), "-screen", "0", f"{width}x{height}x24",
                               "-nolisten", "tcp"], pass_fds=(write_end,),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_end)
    try:
        with os.fdopen(read_end, "rb") as numbers:
            number = numbers.readline().strip().decode()  # written once the server accepts clients
        if not number:
            pytest.fail(f"Xvfb did not start (exit status {server.poll()})")
        yield f":{number}", width, height
    finally:
        server.terminate()
        server.wait(timeout=WAIT_S)


def test_the_probe_reads_the_screens_size_through_the_sdl_kivy_uses(screen: Tuple[str, int, int],
                                                                    tmp_path: Path) -> None:
    display, width, height = screen
    found = probe(dict(base_env(tmp_path), DISPLAY=display))
    assert found.stdout.strip() == f"DisplayInfo(driver='x11', width={width}, height={height})", found.stderr


@needs_no_kms
def test_the_probe_without_a_display_is_no_display_unless_offscreen_is_asked_for(tmp_path: Path) -> None:
    env = base_env(tmp_path)
    assert probe(env).stdout.strip() == f"NoDisplay: {HEADLESS}"
    asked = probe(dict(env, SDL_VIDEODRIVER="offscreen")).stdout.strip()
    assert re.fullmatch(r"DisplayInfo\(driver='offscreen', width=\d+, height=\d+\)", asked), asked


def test_kiosk_run_check_draws_its_first_frame_at_the_screens_size(screen: Tuple[str, int, int],
                                                                  tmp_path: Path) -> None:
    display, width, height = screen
    env = dict(base_env(tmp_path), DISPLAY=display, KIVY_NO_CONSOLELOG="1")
    checked = kiosk(tmp_path, env, "run", "--check")
    assert checked.returncode == 0, checked.stderr[-2000:]
    assert f"kiosk: first frame drawn ({width}x{height}, rotation 0)\n" in checked.stdout, checked.stdout


def test_the_full_screen_window_covers_the_screen_and_a_tap_lands_where_it_is_drawn(
        screen: Tuple[str, int, int], tmp_path: Path, xdotool: str) -> None:  # noqa: F811
    display, width, height = screen
    env = dict(base_env(tmp_path), DISPLAY=display, KIVY_NO_CONSOLELOG="1")
    address = f"@kiosk-display-test-{os.getpid()}-{width}x{height}"
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind("\0" + address[1:])
    errors = tmp_path / "app.stderr"
    with open(errors, "w", encoding="utf-8") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "kiosk", *kiosk_folders(tmp_path), "run"],
                                   env=dict(env, NOTIFY_SOCKET=address), stdout=subprocess.DEVNULL, stderr=stderr)
    # test_faults_kill_app's App waits for READY=1 (sent on the first frame) and cleans up; its
    # `kiosk` (that module's install) is used only by methods not called here.
    app = App(process, errors, cast(Any, None))
    try:
        app.wait_for_ready(notify)
        notify.close()

        found = subprocess.run([xdotool, "search", "--onlyvisible", "--pid", str(process.pid)], env=env,
                               capture_output=True, text=True, timeout=WAIT_S)
        windows = found.stdout.split()
        assert len(windows) == 1, f"the app's windows: {windows} {found.stderr} {app.problem()}"
        geometry = subprocess.run([xdotool, "getwindowgeometry", "--shell", windows[0]], env=env,
                                  capture_output=True, text=True, timeout=WAIT_S, check=True).stdout
        place = dict(line.split("=", 1) for line in geometry.split())
        assert (place["X"], place["Y"], place["WIDTH"], place["HEIGHT"]) == \
            ("0", "0", str(width), str(height)), f"the window is not the whole {width}x{height} screen: {geometry}"

        # One copy of SDL in the app: the probe asked the library Kivy's window then used.
        maps = Path(f"/proc/{process.pid}/maps").read_text().splitlines()
        mapped = {Path(line.split()[-1]).resolve() for line in maps
                  if re.match(r"libSDL2(-|\.so)", Path(line.split()[-1]).name)}
        library = sdl_library_path()
        assert library is not None and mapped == {Path(library).resolve()}, mapped

        # home.kv: Start fills the width between 14-unit margins, from 106 units down (the top
        # row is 80, the padding 14, the spacing 12; a unit is the short side / 480). A tap 40
        # units in and 130 down is on Start only if X's screen point is Kivy's window point: a
        # window left at 800x480 and centred (the old bug: 112 px right of the screen's edge at
        # 1024x600, 160 px down at 480x800) is not under it at all.
        unit = min(width, height) / 480
        x, y = round(40 * unit), round(130 * unit)
        subprocess.run([xdotool, "mousemove", str(x), str(y), "click", "1"], env=env,
                       capture_output=True, timeout=WAIT_S, check=True)
        checkpoint = tmp_path / "data" / CHECKPOINT_NAME
        deadline = time.monotonic() + WAIT_S
        while not checkpoint.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"a tap at ({x}, {y}) started no session (no checkpoint): {app.problem()}")
            time.sleep(POLL_S)  # polling the folder: the app tells nothing else when it writes

        process.terminate()  # as systemctl stop: the app stops and saves the session
        assert process.wait(timeout=WAIT_S) == 0, app.problem()
        assert "Traceback" not in errors.read_text(), app.problem()
    finally:
        notify.close()
        app.kill()


@needs_no_kms
@pytest.mark.parametrize("argv", [("run", "--check"), ("run",)], ids=["run --check", "run"])
def test_kiosk_run_with_no_display_exits_1_with_one_line_before_loading_kivy(argv: Tuple[str, ...],
                                                                           tmp_path: Path) -> None:
    # Kivy's console log is on: had Kivy been imported, its lines would be on stderr too.
    result = kiosk(tmp_path, base_env(tmp_path), *argv)
    assert (result.returncode, result.stderr) == (1, f"kiosk: no display: {HEADLESS}\n"), result.stderr[-2000:]
    assert result.stdout == ""


def test_kivy_opening_no_window_is_no_display_too(tmp_path: Path) -> None:
    # A window provider this Kivy does not have: its Window is None after creation, as when
    # SDL sees a screen but Kivy cannot draw on it.
    env = dict(base_env(tmp_path), KIVY_WINDOW="pygame", KIVY_NO_CONSOLELOG="1")
    result = kiosk(tmp_path, env, "run", "--check")
    assert (result.returncode, result.stderr) == \
        (1, "kiosk: no display: Kivy could not open a window on this screen (Kivy's log says why)\n"), \
        result.stderr[-2000:]
    assert "first frame drawn" not in result.stdout


# -- a service started before its screen ----------------------------------------------------------

class Probes:
    """A screen that appears after `misses` looks, on a clock that moves only when slept."""

    def __init__(self, misses: int) -> None:
        self.misses, self.looks, self.now, self.told = misses, 0, 0.0, []

    def probe(self) -> DisplayInfo:
        self.looks += 1
        if self.looks <= self.misses:
            raise NoDisplay(f"miss {self.looks}")
        return DisplayInfo("x11", 800, 480)

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_service_waits_for_a_screen_that_comes_later_and_says_so_once() -> None:
    looks = Probes(misses=5)
    found = wait_for_display(looks.probe, wait_s=90, every_s=2, clock=lambda: looks.now, sleep=looks.sleep,
                             waiting=lambda error: looks.told.append(str(error)))
    assert found == DisplayInfo("x11", 800, 480)
    assert looks.looks == 6 and looks.now == 10 and looks.told == ["miss 1"]


def test_a_service_gives_up_after_its_wait_with_the_last_reason() -> None:
    looks = Probes(misses=1000)
    with pytest.raises(NoDisplay, match="miss 46"):
        wait_for_display(looks.probe, wait_s=90, every_s=2, clock=lambda: looks.now, sleep=looks.sleep)
    assert looks.now <= 90


def test_from_a_terminal_no_screen_is_said_at_once() -> None:
    looks = Probes(misses=1000)
    with pytest.raises(NoDisplay, match="miss 1"):
        wait_for_display(looks.probe, wait_s=0, clock=lambda: looks.now, sleep=looks.sleep)
    assert looks.looks == 1 and looks.now == 0


def test_the_service_draws_once_the_x_server_it_was_waiting_for_starts(tmp_path: Path) -> None:
    """`kiosk run` under systemd (INVOCATION_ID set) with DISPLAY naming an X server not yet
    running: it says it is waiting, and draws its first frame once the server is there."""
    number = next(n for n in range(150, 250) if not Path(f"/tmp/.X11-unix/X{n}").exists()
                  and not Path(f"/tmp/.X{n}-lock").exists())
    env = dict(base_env(tmp_path), DISPLAY=f":{number}", INVOCATION_ID="0123456789abcdef")
    app = subprocess.Popen([sys.executable, "-m", "kiosk", *kiosk_folders(tmp_path), "run", "--check"], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    server = None
    try:
        assert app.stderr is not None
        said = app.stderr.readline()  # blocks until the app has looked once and missed
        assert said.startswith("kiosk: waiting for a display: ") and f"DISPLAY=:{number} could not be opened" in said
        server = subprocess.Popen([shutil.which("Xvfb") or "Xvfb", f":{number}", "-screen", "0", "800x480x24",
                                   "-nolisten", "tcp"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out, err = app.communicate(timeout=WAIT_S)  # a hang guard only
        assert app.returncode == 0, err[-2000:]
        assert "kiosk: first frame drawn (800x480, rotation 0)" in out
    finally:
        if app.poll() is None:
            app.kill()
        if server is not None:
            server.terminate()
            server.wait(timeout=WAIT_S)

