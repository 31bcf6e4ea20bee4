"""kiosk.pi.watchdog: sd_notify datagrams to a test socket, pings from a real Kivy Clock."""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest

from kiosk.pi.watchdog import Watchdog


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[Tuple[str, socket.socket]]:
    """A stand-in for systemd's notification socket: (NOTIFY_SOCKET value, the bound socket)."""
    path = tmp_path / "notify"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(path))
    server.settimeout(5)
    yield str(path), server
    server.close()


def received(server: socket.socket) -> str:
    """The next datagram; waits (up to the socket's timeout) for it to arrive."""
    return server.recv(4096).decode("utf-8")


def pending(server: socket.socket) -> List[str]:
    """Every datagram already waiting, without waiting for more."""
    messages = []
    server.setblocking(False)
    try:
        while True:
            messages.append(server.recv(4096).decode("utf-8"))
    except BlockingIOError:
        pass
    finally:
        server.settimeout(5)
    return messages


# --------------------------------------------------------------------------- the environment

def test_outside_systemd_everything_is_a_quiet_no_op() -> None:
    watchdog = Watchdog.from_environment({})
    assert not watchdog.enabled
    assert watchdog.ping_interval_s is None
    assert watchdog.ready() is False
    assert watchdog.ping() is False
    assert watchdog.stopping() is False

    class NoClock:
        def schedule_interval(self, *_args: object) -> None:
            raise AssertionError("nothing may be scheduled outside systemd")

    assert watchdog.install_on_clock(NoClock()) is None


def test_the_ping_interval_is_half_of_watchdog_usec() -> None:
    watchdog = Watchdog.from_environment({"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "30000000"})
    assert watchdog.ping_interval_s == 15.0


@pytest.mark.parametrize("environ", [
    {"NOTIFY_SOCKET": "/run/x"},                                             # no watchdog asked for
    {"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "0"},
    {"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "soon"},
    {"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"},  # meant for another process
    {"WATCHDOG_USEC": "30000000"},                                           # nowhere to send pings
])
def test_no_pings_unless_systemd_asks_this_process(environ: Dict[str, str]) -> None:
    assert Watchdog.from_environment(environ, pid=4242).ping_interval_s is None


def test_the_watchdog_pid_may_name_this_process() -> None:
    environ = {"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "4242"}
    assert Watchdog.from_environment(environ, pid=4242).ping_interval_s == 1.0


def test_an_address_it_cannot_use_turns_notification_off() -> None:
    assert not Watchdog.from_environment({"NOTIFY_SOCKET": "vsock:2:1234"}).enabled


# --------------------------------------------------------------------------- the datagrams

def test_ready_ping_and_stopping_reach_the_socket(notify_socket: Tuple[str, socket.socket]) -> None:
    address, server = notify_socket
    watchdog = Watchdog.from_environment({"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "2000000"})
    assert watchdog.ready()
    assert received(server).splitlines()[0] == "READY=1"
    assert watchdog.ping()
    assert received(server) == "WATCHDOG=1"
    assert watchdog.stopping()
    assert received(server).splitlines()[0] == "STOPPING=1"
    assert not watchdog.stopping(), "Kivy calls on_stop twice; systemd hears it once"
    assert pending(server) == []


def test_abstract_namespace_addresses_work() -> None:
    name = f"kiosk-test-{uuid.uuid4().hex}"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind("\0" + name)
    server.settimeout(5)
    try:
        watchdog = Watchdog.from_environment({"NOTIFY_SOCKET": "@" + name})
        assert watchdog.ping()
        assert received(server) == "WATCHDOG=1"
    finally:
        server.close()


def test_a_vanished_socket_is_reported_not_raised(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    watchdog = Watchdog.from_environment({"NOTIFY_SOCKET": str(tmp_path / "gone")})
    assert watchdog.ping() is False
    assert "could not notify systemd" in caplog.text


# --------------------------------------------------------------------------- on Kivy's Clock

@pytest.fixture(scope="module")
def kivy() -> Iterator[object]:
    """The shared test window and its fake clock (kivy_harness must come before any kivy import)."""
    import kivy_harness

    yield kivy_harness


def test_the_clock_pings_and_a_stalled_loop_does_not(kivy: object,
                                                     notify_socket: Tuple[str, socket.socket]) -> None:
    from kivy.clock import Clock

    fake_time = kivy.FAKE_TIME  # type: ignore[attr-defined]
    address, server = notify_socket
    watchdog = Watchdog.from_environment({"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "2000000",
                                          "WATCHDOG_PID": str(os.getpid())})
    Clock.tick()
    event = watchdog.install_on_clock(Clock)
    assert event is not None
    try:
        fake_time.now += 1.01  # one ping interval (half of the 2 s watchdog)
        Clock.tick()
        assert received(server) == "WATCHDOG=1"

        seen_during_stall: List[str] = []

        def stuck_frame(_dt: float) -> None:
            """The main loop is busy here for 10 s: far past the watchdog, and nothing is sent."""
            fake_time.now += 10
            seen_during_stall.extend(pending(server))

        Clock.schedule_once(stuck_frame, 0)
        Clock.tick()
        assert seen_during_stall == []
        assert pending(server) == []

        Clock.tick()  # the loop runs again: the overdue ping goes out at once, exactly one
        assert pending(server) == ["WATCHDOG=1"]
    finally:
        event.cancel()
    fake_time.now += 5
    Clock.tick()
    assert pending(server) == [], "a cancelled event sends nothing"


def test_ready_is_sent_once_after_the_first_frame(kivy: object, notify_socket: Tuple[str, socket.socket]) -> None:
    from kivy.base import EventLoop
    from kivy.uix.label import Label

    address, server = notify_socket
    watchdog = Watchdog.from_environment({"NOTIFY_SOCKET": address})
    EventLoop.ensure_window()
    window = EventLoop.window
    watchdog.ready_on_first_frame(window)
    assert pending(server) == [], "nothing before a frame is drawn"
    label = Label(text="first frame")
    window.add_widget(label)
    try:
        EventLoop.idle()
        assert received(server).splitlines()[0] == "READY=1"
        label.text = "second frame"
        EventLoop.idle()
        assert pending(server) == []
    finally:
        window.remove_widget(label)
        EventLoop.idle()
