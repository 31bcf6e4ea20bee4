"""A real Mosquitto broker for the tests: on a free loopback port, with a password file and
an ACL, in a folder of its own; started and stopped by the tests themselves."""

from __future__ import annotations

import getpass
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
USERS = {"kiosk": "correct horse battery staple", "homeassistant": "ha-secret-1"}
BASE = "home-exercise-kiosk"
START_TIMEOUT_S = 30.0

ACL = f"""\
# The kiosks: their own topics and Home Assistant's discovery; nothing else.
user kiosk
topic readwrite {BASE}/#
topic readwrite homeassistant/#

# Home Assistant reads everything of the kiosks' and presses their buttons.
user homeassistant
topic readwrite {BASE}/#
topic readwrite homeassistant/#
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Broker:
    folder: Path
    port: int = field(default_factory=free_port)
    extra_config: str = ""
    """More mosquitto.conf lines for this listener (TLS, say)."""
    process: Optional[subprocess.Popen] = None

    @property
    def password_file(self) -> Path:
        return self.folder / "passwords"

    def write_config(self) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.password_file.write_text("".join(f"{user}:{password}\n" for user, password in USERS.items()))
        self.password_file.chmod(0o600)
        subprocess.run(["mosquitto_passwd", "-U", str(self.password_file)], check=True, capture_output=True)
        (self.folder / "acl").write_text(ACL)
        config = self.folder / "mosquitto.conf"
        config.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous false\n"
            f"user {getpass.getuser()}\n"  # root (as in CI) would otherwise drop to `mosquitto`
            f"password_file {self.password_file}\n"
            f"acl_file {self.folder / 'acl'}\n"
            "persistence true\n"
            f"persistence_location {self.folder}/\n"
            f"log_dest file {self.folder / 'mosquitto.log'}\n"
            "log_type all\n" + self.extra_config)
        return config

    def start(self) -> None:
        config = self.write_config()
        self.process = subprocess.Popen([MOSQUITTO, "-c", str(config)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {self.process.stderr.read().decode()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1.0).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not listen on {self.port} within {START_TIMEOUT_S} s")

    def stop(self) -> None:
        """Stop it (SIGTERM: it saves its retained messages, as a broker restarted by its host does)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process = None

    def log_text(self) -> str:
        path = self.folder / "mosquitto.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def config_yaml(self, *, user: str = "kiosk", password_file: Optional[Path] = None, display_name: str = "",
                    client_id: str = "") -> str:
        """An `mqtt:` settings section for this broker."""
        secret = password_file or self.folder / f"{user}.password"
        if password_file is None:
            secret.write_text(USERS[user] + "\n")
        lines = ["mqtt:", "  host: 127.0.0.1", f"  port: {self.port}", f"  username: {user}",
                 f"  password_file: {secret}"]
        if display_name:
            lines.append(f"  display_name: {display_name}")
        if client_id:
            lines.append(f"  client_id: {client_id}")
        return "\n".join(lines) + "\n"

    def client_args(self, user: str = "homeassistant") -> List[str]:
        return ["-h", "127.0.0.1", "-p", str(self.port), "-u", user, "-P", USERS[user]]

    def publish(self, topic: str, payload: str, *, retain: bool = False, user: str = "homeassistant") -> None:
        subprocess.run(["mosquitto_pub", *self.client_args(user), "-q", "1", "-t", topic, "-m", payload,
                        *(["-r"] if retain else [])], check=True, capture_output=True, timeout=30)

    def publish_file(self, topic: str, path: Path, *, retain: bool = False) -> None:
        subprocess.run(["mosquitto_pub", *self.client_args(), "-q", "1", "-t", topic, "-f", str(path),
                        *(["-r"] if retain else [])], check=True, capture_output=True, timeout=30)

    def retained(self, pattern: str, *, wait_s: float = 3.0) -> Dict[str, str]:
        """Every retained message under `pattern`: what a newly connected Home Assistant reads.

        mosquitto_sub -W ends after wait_s without more messages; --retained-only stops at
        the first live one, so only the retained are read.
        """
        done = subprocess.run(["mosquitto_sub", *self.client_args(), "-t", pattern, "-v", "--retained-only",
                               "-W", f"{wait_s:g}", "-F", "%t\t%p"],
                              capture_output=True, timeout=wait_s + 30)
        found: Dict[str, str] = {}
        for line in done.stdout.decode("utf-8", "replace").splitlines():
            topic, _, payload = line.partition("\t")
            found[topic] = payload
        return found


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    if not shutil.which("mosquitto_sub") or not Path(MOSQUITTO).exists():
        pytest.fail("mosquitto is not installed: run `bash .ci/setup test`")
    running = Broker(tmp_path / "broker")
    running.start()
    try:
        yield running
    finally:
        running.stop()


def wait_for(condition, what: str, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    """Poll `condition` until it holds; fail naming `what` after `timeout` (a generous bound)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
