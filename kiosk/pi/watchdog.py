"""Tell systemd how the app is doing: READY=1, WATCHDOG=1 pings, STOPPING=1.

The sd_notify protocol is one datagram to the AF_UNIX socket named by $NOTIFY_SOCKET, so
it needs no library. The ping is a Kivy Clock callback on purpose: a main loop that is
stuck runs no callbacks, the pings stop, and systemd (WatchdogSec=) restarts the app.
Outside systemd every call is a quiet no-op. No Kivy import here: the Clock and the
Window are handed in.
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any, Callable, Mapping, Optional

log = logging.getLogger("kiosk.pi.watchdog")


class Watchdog:
    """One service's line to systemd; every method is safe to call when not under systemd."""

    def __init__(self, address: Optional[str], watchdog_usec: Optional[int] = None) -> None:
        self.address = address
        """$NOTIFY_SOCKET: a path, or `@name` for the abstract namespace; None when not under systemd."""
        self.watchdog_usec = watchdog_usec if address else None
        """systemd's WatchdogSec= in microseconds; None when no watchdog is asked for."""
        self._socket: Optional[socket.socket] = None
        self._ready_sent = False
        self._stopping_sent = False

    @classmethod
    def from_environment(cls, environ: Optional[Mapping[str, str]] = None,
                         pid: Optional[int] = None) -> "Watchdog":
        """Read $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID as systemd sets them.

        A WATCHDOG_PID naming another process means the watchdog is meant for that one
        (we are its child), so this process sends no pings.
        """
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET") or None
        if address is not None and not address.startswith(("/", "@")):
            log.warning("NOTIFY_SOCKET=%r is not a socket path this app can use; not notifying", address)
            address = None
        usec = _positive_int(env.get("WATCHDOG_USEC"))
        owner = _positive_int(env.get("WATCHDOG_PID"))
        if owner is not None and owner != (os.getpid() if pid is None else pid):
            usec = None
        return cls(address, usec)

    @property
    def enabled(self) -> bool:
        return self.address is not None

    @property
    def ping_interval_s(self) -> Optional[float]:
        """Half of WatchdogSec=, as sd_watchdog_enabled(3) advises, so one late frame never trips it."""
        return self.watchdog_usec / 2_000_000 if self.watchdog_usec else None

    def notify(self, message: str) -> bool:
        """Send one sd_notify message; False (and a log line) if it could not be sent, never an exception."""
        if self.address is None:
            return False
        target = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        try:
            if self._socket is None:
                self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._socket.sendto(message.encode("utf-8"), target)
        except OSError as error:
            log.warning("could not notify systemd (%s): %s", message.split("=", 1)[0], error)
            return False
        return True

    def ready(self) -> bool:
        """The first frame is on screen: start-up is over (Type=notify) and the watchdog starts counting."""
        self._ready_sent = self.notify("READY=1\nSTATUS=Showing the touchscreen")
        return self._ready_sent

    def ping(self) -> bool:
        """Proof of life; called from the main loop, never from a thread."""
        return self.notify("WATCHDOG=1")

    def stopping(self) -> bool:
        """Said once on a deliberate exit, so systemd does not take the silence for a hang."""
        if self._stopping_sent:
            return False
        self._stopping_sent = self.notify("STOPPING=1\nSTATUS=Stopping")
        self.close()
        return self._stopping_sent

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def install_on_clock(self, clock: Any) -> Optional[Any]:
        """Ping from `clock` (Kivy's Clock) at half the watchdog period; the scheduled event, or None.

        None when systemd asked for no watchdog, so nothing is scheduled outside systemd.
        """
        interval = self.ping_interval_s
        if interval is None:
            return None

        def ping_from_clock(_dt: float) -> None:
            self.ping()

        return clock.schedule_interval(ping_from_clock, interval)

    def ready_on_first_frame(self, window: Any) -> Callable[..., None]:
        """Send READY=1 once, after the window's first buffer swap (its `on_flip`); the bound callback."""

        def first_frame_drawn(*_args: Any) -> None:
            window.unbind(on_flip=first_frame_drawn)
            if not self._ready_sent:
                self.ready()

        window.bind(on_flip=first_frame_drawn)
        return first_frame_drawn


def _positive_int(text: Optional[str]) -> Optional[int]:
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        return None
    return value if value > 0 else None
