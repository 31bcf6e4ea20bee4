"""A pulled plug mid-session, on the real app: SIGKILL `kiosk run` and read what the log kept.

The app runs as a subprocess on an Xvfb screen of its own; Start is tapped the way a person
does, with the pointer (`xdotool` clicks the middle of the window, where Home's Start
button is). The session has begun once its first checkpoint is in the data folder. After a
random wait the app is killed, and the next command that opens the log must record the
session once: not completed, interrupted, at most 15 s short of the active time at the kill.

Time runs `SPEED` times faster in the app (`kiosk run --speed`), so the checks are in the
app's (scaled) seconds. The promise is about checkpoint cadence in active time, so no
check depends on how fast this machine draws frames; the only fixed wait is the chosen one
before each kill. Set KIOSK_KILL_SEED to replay a run.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest

from kiosk import paths
from kiosk.core.catalog import load_library
from kiosk.core.model import clock_text
from kiosk.core.timeline import Timeline, build_timeline
from kiosk.sessionlog.checkpoint import CHECKPOINT_NAME

SPEED = 10.0
"""The app's session clock runs this many times faster than real time."""
PROMISE_S = 15.0
"""The issue's promise: a session cut off is recorded at most this many active seconds short."""
KILLS = 20
END_MARGIN_S = 4.0
"""No kill is planned in the session's last seconds (scaled): seeing the first checkpoint
late must not let the session finish before the kill."""
ROUNDING_S = 0.001
"""The log keeps active_s to the millisecond."""
WAIT_S = 60.0
"""Deadline for anything the app or a command must do (start, write, exit): only a hang fails it."""
POLL_S = 0.01
"""How often the data folder is looked at; part of the detection lag the bounds below allow for."""

ROUTINE_ID = "kill-test"
ROUTINE_YAML = f"""\
exercises:
  - id: kill-hold
    name: Long hold
    instructions: Hold still.
    caption: Hold
    duration: 30
  - id: kill-march
    name: March
    instructions: March on the spot.
    caption: March
    duration: 6
    sides: both
    switch: 3
routines:
  - id: {ROUTINE_ID}
    name: Kill test
    lead_in: 3
    rest_between: 6
    steps:
      - kill-hold
      - kill-march
"""
"""54 s: a lead-in, a 30 s work segment (longer than the promise, so only the timed
checkpoints inside it keep the promise), a rest, two sides with a switch."""


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    """An Xvfb screen of this module's own (no window manager: nothing moves the window)."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:  # a skip here would pass unseen
        pytest.fail("Xvfb is missing: apt-get install xvfb (bash .ci/setup test does)")
    read_end, write_end = os.pipe()
    server = subprocess.Popen([xvfb, "-displayfd", str(write_end), "-screen", "0", "1024x768x24",
                               "-nolisten", "tcp"], pass_fds=(write_end,),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_end)
    try:
        with os.fdopen(read_end, "rb") as numbers:
            number = numbers.readline().strip().decode()  # Xvfb writes it once it accepts clients
        if not number:
            pytest.fail(f"Xvfb did not start (exit status {server.poll()})")
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=WAIT_S)


@pytest.fixture(scope="module")
def xdotool() -> str:
    found = shutil.which("xdotool")
    if found is None:  # a skip here would pass unseen
        pytest.fail("xdotool is missing: apt-get install xdotool (bash .ci/setup test does)")
    return found


@dataclass
class Kiosk:
    """One kiosk install in a temporary folder: its library, settings, data folder and environment."""

    folder: Path
    env: Dict[str, str]
    data_dir: Path
    timeline: Timeline
    xdotool: str
    launches: int = 0

    def command(self, *argv: str) -> subprocess.CompletedProcess:
        """`kiosk ARGV` with this install's folders; fails the test on a non-zero exit."""
        result = subprocess.run([sys.executable, "-m", "kiosk", *self._folders(), *argv], env=self.env,
                                capture_output=True, text=True, timeout=WAIT_S)
        assert result.returncode == 0, f"kiosk {' '.join(argv)}: {result.stderr[-2000:]}"
        assert "Traceback" not in result.stderr, result.stderr[-2000:]
        return result

    def records(self) -> List[Dict[str, Any]]:
        return json.loads(self.command("log", "list", "--json").stdout)

    def leftover(self) -> Optional[Dict[str, Any]]:
        """The running session as its last checkpoint holds it, or None when there is no checkpoint."""
        path = self.data_dir / CHECKPOINT_NAME
        if not path.exists():
            return None
        return json.loads(path.read_text(encoding="utf-8"))["records"][-1]

    def launch(self) -> "App":
        """`kiosk run` as the kiosk's service starts it; returns once its first frame is drawn."""
        self.launches += 1
        address = f"@kiosk-kill-test-{os.getpid()}-{id(self)}-{self.launches}"
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind("\0" + address[1:])
        errors = self.folder / f"app-{self.launches}.stderr"
        try:
            with open(errors, "w", encoding="utf-8") as stderr:
                process = subprocess.Popen(
                    [sys.executable, "-m", "kiosk", *self._folders(), "run", "--windowed", "--speed", str(SPEED)],
                    env=dict(self.env, NOTIFY_SOCKET=address), stdout=subprocess.DEVNULL, stderr=stderr)
            app = App(process, errors, self)
            app.wait_for_ready(notify)
        finally:
            notify.close()
        return app

    def _folders(self) -> List[str]:
        return ["--data-dir", str(self.data_dir), "--exercises", str(self.folder / "exercises")]


@dataclass
class App:
    process: subprocess.Popen
    errors: Path
    kiosk: Kiosk

    def problem(self) -> str:
        return f"app exit status {self.process.poll()}; stderr: {self.errors.read_text()[-2000:]}"

    def wait_for_ready(self, notify: socket.socket) -> None:
        """READY=1 arrives on the first frame (the app's systemd notification): Home is on screen."""
        notify.settimeout(0.5)
        deadline = time.monotonic() + WAIT_S
        while True:
            try:
                if notify.recv(256).decode().split("\n")[0] == "READY=1":
                    return
            except socket.timeout:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"the app never drew its first frame: {self.problem()}")

    def tap_start(self) -> float:
        """Click the middle of the window, which Home's Start button fills; the time just before."""
        xdotool = self.kiosk.xdotool
        found = subprocess.run([xdotool, "search", "--onlyvisible", "--pid", str(self.process.pid)],
                               env=self.kiosk.env, capture_output=True, text=True, timeout=WAIT_S)
        windows = found.stdout.split()
        assert windows, f"no window of the app on the screen: {found.stderr} {self.problem()}"
        geometry = subprocess.run([xdotool, "getwindowgeometry", "--shell", windows[-1]], env=self.kiosk.env,
                                  capture_output=True, text=True, timeout=WAIT_S, check=True).stdout
        place = dict(line.split("=", 1) for line in geometry.split())
        assert (place["WIDTH"], place["HEIGHT"]) == ("800", "480"), geometry
        # home.kv: Start takes all the height between the fixed rows (a notice banner too), so
        # it covers the window's centre at any scale.
        x = int(place["X"]) + int(place["WIDTH"]) // 2
        y = int(place["Y"]) + int(place["HEIGHT"]) // 2
        tapped_at = time.monotonic()
        subprocess.run([xdotool, "mousemove", str(x), str(y), "click", "1"], env=self.kiosk.env,
                       capture_output=True, timeout=WAIT_S, check=True)
        return tapped_at

    def wait_for_checkpoint(self) -> float:
        """When the running session's first checkpoint was first seen (real monotonic seconds)."""
        path = self.kiosk.data_dir / CHECKPOINT_NAME
        deadline = time.monotonic() + WAIT_S
        while not path.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"the tap started no session (no checkpoint): {self.problem()}")
            time.sleep(POLL_S)  # polling the folder: the app tells nothing else when it writes
        return time.monotonic()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=WAIT_S)


@pytest.fixture
def kiosk(tmp_path: Path, display: str, xdotool: str) -> Kiosk:
    exercises = tmp_path / "exercises"
    exercises.mkdir()
    (exercises / "kill-test.yaml").write_text(ROUTINE_YAML, encoding="utf-8")
    config = tmp_path / "config.yaml"
    config.write_text(f"default_routine: {ROUTINE_ID}\nvoice: false\nbeeps: false\nfullscreen: false\n",
                      encoding="utf-8")
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "safety-note-seen").write_text("acknowledged\n", encoding="utf-8")  # Home, not the note
    env = {name: value for name, value in os.environ.items()
           if name not in ("KIOSK_DATA_DIR", "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")}
    env.update(DISPLAY=display, KIOSK_CONFIG=str(config), KIVY_HOME=str(tmp_path / "kivy"),
               SDL_AUDIODRIVER="dummy", KIVY_NO_ARGS="1", KIVY_NO_CONSOLELOG="1", KIVY_NO_FILELOG="1")
    library = load_library([paths.shipped_exercises_dir(), exercises], paths.shipped_media_dir())
    return Kiosk(tmp_path, env, data_dir, build_timeline(library.routines[ROUTINE_ID]), xdotool)


def kill_seed() -> int:
    chosen = os.environ.get("KIOSK_KILL_SEED")
    seed = int(chosen) if chosen else random.SystemRandom().randrange(2 ** 32)
    print(f"KIOSK_KILL_SEED={seed}")
    return seed


@dataclass(frozen=True)
class Kill:
    moment_s: float
    """Planned active seconds (scaled) from the first checkpoint seen to the kill."""
    least_s: float
    """The session's active time at the kill is at least this (scaled): from when its first
    checkpoint was seen, which is after it began (by the detection lag: write, POLL_S)."""
    most_s: float
    """... and at most this: from just before the tap that started it."""
    session_id: str


def kill_mid_session(kiosk: Kiosk, moment_s: float) -> Kill:
    """Start the app, tap Start, SIGKILL it `moment_s` scaled seconds after the session is seen."""
    app = kiosk.launch()
    try:
        tapped_at = app.tap_start()
        seen_at = app.wait_for_checkpoint()
        time.sleep(max(0.0, seen_at + moment_s / SPEED - time.monotonic()))  # the chosen moment
        killed_from = time.monotonic()
        app.process.send_signal(signal.SIGKILL)
        killed_by = time.monotonic()
    finally:
        app.kill()
    running = kiosk.leftover()
    assert running is not None, "a killed session left no checkpoint"
    return Kill(moment_s, (killed_from - seen_at) * SPEED, (killed_by - tapped_at) * SPEED, running["id"])


def assert_recorded(kiosk: Kiosk, kill: Kill, record: Dict[str, Any], context: str) -> None:
    """The log's record of a killed session keeps the promise: cut off, at most 15 s short."""
    timeline = kiosk.timeline
    assert record["id"] == kill.session_id, f"{context}: the log does not end with the killed session"
    assert record["routine"] == ROUTINE_ID and record["planned_s"] == pytest.approx(timeline.total_s)
    assert record["completed"] is False and record["interrupted"] is True, context
    active = record["active_s"]
    assert active <= kill.most_s + ROUNDING_S, \
        f"{context}: {active:.1f} s recorded, but at most {kill.most_s:.1f} s had passed since the tap"
    assert active >= kill.least_s - PROMISE_S, \
        f"{context}: {active:.1f} s recorded, more than {PROMISE_S:.0f} s short of {kill.least_s:.1f} s"
    finished_steps = sum(1 for step in range(len(timeline.routine.steps))
                         if timeline.last_work_end(step) <= active + ROUNDING_S)
    assert record["steps_done"] == finished_steps, f"{context}: steps done at {active:.1f} s"


def test_a_session_killed_at_20_random_moments_is_recorded_once_each_time(kiosk: Kiosk) -> None:
    rng = random.Random(kill_seed())
    total = kiosk.timeline.total_s
    span = (total - END_MARGIN_S) / KILLS
    # One moment in each twentieth of the session, in random order: near the start, in rests, near the end.
    moments = [rng.uniform(index * span, (index + 1) * span) for index in range(KILLS)]
    rng.shuffle(moments)
    kinds = {kiosk.timeline.position_at(moment).segment.kind for moment in moments}
    assert {"lead_in", "work", "rest"} <= kinds, kinds

    logged: List[Dict[str, Any]] = []
    for number, moment in enumerate(moments, 1):
        kill = kill_mid_session(kiosk, moment)
        recovering = kiosk.command("log", "list", "--json")
        assert "kiosk: recorded a session cut off" in recovering.stderr, recovering.stderr
        records = json.loads(recovering.stdout)
        context = (f"kill {number} at {moment:.1f} s ({kiosk.timeline.position_at(moment).segment.kind}), "
                   f"active between {kill.least_s:.1f} and {kill.most_s:.1f} s")
        # The log lists sessions by their start, stored to the second, then by id: two launches
        # within one second may list in either order, so the new one is found by its id.
        before = {record["id"]: record for record in logged}
        new = [record for record in records if record["id"] not in before]
        assert len(new) == 1 and len(records) == len(logged) + 1, \
            f"{context}: not exactly one session added ({len(new)} new, {len(records)} in all)"
        assert sorted(r["id"] for r in records if r["id"] in before) == sorted(before), \
            f"{context}: the sessions before it changed (one added twice or lost)"
        print(f"{context}: recorded {new[0]['active_s']:.1f} s")
        assert_recorded(kiosk, kill, new[0], context)
        assert kiosk.leftover() is None, f"{context}: the checkpoint is still there after recovery"
        logged = records

    assert kiosk.records() == logged, "opening the log again changed it"
    assert len({record["id"] for record in logged}) == KILLS


def test_the_app_started_after_a_kill_says_once_that_the_session_was_cut_off(kiosk: Kiosk) -> None:
    rng = random.Random(kill_seed())
    kill = kill_mid_session(kiosk, rng.uniform(0.0, kiosk.timeline.total_s - END_MARGIN_S))
    saved = kiosk.leftover()
    assert saved is not None

    first = kiosk.command("run", "--windowed", "--check").stdout
    notice = f"Your last session was cut off: {clock_text(saved['active_s'])} saved."
    assert f"kiosk: log read; screen: home; notice: {notice}\n" in first, first
    records = kiosk.records()
    assert len(records) == 1
    assert_recorded(kiosk, kill, records[0], "after the app started again")

    again = kiosk.command("run", "--windowed", "--check").stdout
    assert "kiosk: log read; screen: home; notice: none\n" in again, again
    assert kiosk.records() == records
