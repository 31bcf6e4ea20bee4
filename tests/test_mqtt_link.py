"""The MQTT link on its own, against a real Mosquitto: TLS, the last will, and a broker
that is away for long (what is queued does not grow)."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path
from typing import List

import pytest
from mqtt_broker import USERS, Broker, free_port, wait_for

from kiosk.config import MqttSettings
from kiosk.mqtt.link import MqttLink, Will


def settings_for(broker: Broker, **changes) -> MqttSettings:
    secret = broker.folder / "kiosk.password"
    secret.write_text(USERS["kiosk"] + "\n")
    values = dict(host="127.0.0.1", port=broker.port, username="kiosk", password_file=str(secret))
    values.update(changes)
    return MqttSettings(**values)


def make_link(settings: MqttSettings, problems: List[str], heard: List[str] = None,
              refused_retry_s: float = 300.0) -> MqttLink:
    return MqttLink(settings, "link-test", subscriptions=("home-exercise-kiosk/test/#",),
                    will=Will("home-exercise-kiosk/link-test/availability", "offline"),
                    on_message=lambda topic, payload, retained: (heard if heard is not None else []).append(topic),
                    sync_topic="home-exercise-kiosk/link-test/sync", on_problem=problems.append,
                    refused_retry_s=refused_retry_s)


def test_a_broker_away_for_long_costs_one_entry_per_topic(tmp_path: Path) -> None:
    settings = MqttSettings(host="127.0.0.1", port=free_port())  # nothing listens there
    problems: List[str] = []
    link = make_link(settings, problems)
    link.start()
    try:
        for second in range(20000):
            link.publish("home-exercise-kiosk/link-test/state", f'{{"n": {second}}}')
            link.publish("home-exercise-kiosk/link-test/session", f'{{"left": {second}}}', at_most_every_s=1.0)
        assert link.queued() == 2
        wait_for(lambda: link.status.state == "waiting", "the link to find the broker away")
        assert problems == [] and link.alive  # away is not refused: it keeps trying
    finally:
        link.stop()
    assert not link.alive


def test_what_was_queued_while_away_is_sent_once_the_broker_is_there(broker: Broker) -> None:
    broker.stop()
    problems: List[str] = []
    link = make_link(settings_for(broker), problems)
    link.start()
    try:
        wait_for(lambda: link.status.state == "waiting", "the link to find the broker away")
        link.publish("home-exercise-kiosk/link-test/state", "old")
        link.publish("home-exercise-kiosk/link-test/state", "newest")
        broker.start()
        wait_for(lambda: link.connected and link.queued() == 0, "the link to connect and send")
        wait_for(lambda: broker.retained("home-exercise-kiosk/link-test/state", wait_s=1)
                 .get("home-exercise-kiosk/link-test/state") == "newest", "the newest state on the broker")
    finally:
        link.stop()
    assert broker.retained("home-exercise-kiosk/link-test/availability", wait_s=1) == \
        {"home-exercise-kiosk/link-test/availability": "offline"}  # a clean stop says so itself
    assert problems == []


def test_a_link_that_dies_is_marked_offline_by_its_last_will(broker: Broker, tmp_path: Path) -> None:
    settings = settings_for(broker)
    script = tmp_path / "link.py"
    script.write_text(
        "import sys, threading\n"
        "from kiosk.config import MqttSettings\n"
        "from kiosk.mqtt.link import MqttLink, Will\n"
        f"settings = MqttSettings(host='127.0.0.1', port={broker.port}, username='kiosk', "
        f"password_file={settings.password_file!r})\n"
        "ready = threading.Event()\n"
        "link = MqttLink(settings, 'doomed', subscriptions=(), will=Will('home-exercise-kiosk/doomed/availability', "
        "'offline'), on_message=lambda t, p, r: None, sync_topic='home-exercise-kiosk/doomed/sync', "
        "on_caught_up=ready.set)\n"
        "link.publish('home-exercise-kiosk/doomed/availability', 'online')\n"
        "link.start()\n"
        "ready.wait(120)\n"
        "print('connected', flush=True)\n"
        "threading.Event().wait()\n")
    process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "connected"
        wait_for(lambda: broker.retained("home-exercise-kiosk/doomed/availability", wait_s=1)
                 .get("home-exercise-kiosk/doomed/availability") == "online", "online")
        process.kill()  # a power cut, as far as the broker can tell
        process.wait(30)
        wait_for(lambda: broker.retained("home-exercise-kiosk/doomed/availability", wait_s=1)
                 .get("home-exercise-kiosk/doomed/availability") == "offline", "the last will")
    finally:
        if process.poll() is None:
            process.kill()


# --------------------------------------------------------------------------- TLS

def make_certificates(folder: Path) -> Path:
    """A CA and a server certificate for 127.0.0.1 signed by it; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True, timeout=60)

    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-subj", "/CN=Test CA", "-keyout", "ca.key", "-out", "ca.crt")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=127.0.0.1",
            "-keyout", "server.key", "-out", "server.csr")
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-days", "2", "-extfile", "san.ext", "-out", "server.crt")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-subj", "/CN=Another CA", "-keyout", "other.key", "-out", "other.crt")
    return folder


@pytest.fixture
def tls_broker(tmp_path: Path):
    certificates = make_certificates(tmp_path / "certs")
    running = Broker(tmp_path / "tls-broker", extra_config=f"cafile {certificates / 'ca.crt'}\n"
                     f"certfile {certificates / 'server.crt'}\nkeyfile {certificates / 'server.key'}\n")
    running.start()
    try:
        yield running, certificates
    finally:
        running.stop()


def test_tls_with_the_brokers_ca_connects(tls_broker) -> None:
    running, certificates = tls_broker
    problems: List[str] = []
    link = make_link(settings_for(running, tls=True, ca_file=str(certificates / "ca.crt")), problems)
    link.start()
    try:
        wait_for(lambda: link.connected, "a TLS connection")
    finally:
        link.stop()
    assert problems == []


def test_a_certificate_that_does_not_verify_is_one_problem_however_often_it_is_tried(tls_broker, caplog) -> None:
    running, certificates = tls_broker
    problems: List[str] = []
    link = make_link(settings_for(running, tls=True, ca_file=str(certificates / "other.crt")), problems,
                     refused_retry_s=0.2)
    link.start()
    try:
        wait_for(lambda: link.status.attempts >= 3, "three tries")
    finally:
        link.stop()
    assert len(problems) == 1 and "certificate does not verify" in problems[0]
    assert link.status.state in ("refused", "stopped") and link.connections == 0
    assert sum("Trying again every" in record.getMessage() for record in caplog.records) == 1


def test_a_missing_password_file_is_one_problem_and_once_it_is_there_the_link_connects(
        broker: Broker, tmp_path: Path) -> None:
    problems: List[str] = []
    secret = tmp_path / "later"
    link = make_link(settings_for(broker, password_file=str(secret)), problems, refused_retry_s=0.2)
    link.start()
    try:
        wait_for(lambda: link.status.attempts >= 2, "two tries")
        assert len(problems) == 1 and f"cannot read the password file {secret}" in problems[0]
        secret.write_text("wrong\n")  # another refusal, for another reason: said once more
        wait_for(lambda: len(problems) == 2, "the broker's refusal")
        assert "the user name or password is wrong" in problems[1]
        secret.write_text(USERS["kiosk"] + "\n")  # put right: no restart needed
        wait_for(lambda: link.connected, "the link to connect")
    finally:
        link.stop()
    assert len(problems) == 2


def test_a_broker_that_stays_away_is_one_log_line_however_many_tries(caplog) -> None:
    problems: List[str] = []
    link = make_link(MqttSettings(host="127.0.0.1", port=free_port()), problems)
    link.start()
    try:
        wait_for(lambda: link.status.attempts >= 3, "three tries")
    finally:
        link.stop()
    lines = [r for r in caplog.records if "cannot reach the broker" in r.getMessage()]
    assert len(lines) == 1 and problems == []
