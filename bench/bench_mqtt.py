"""MQTT benchmark: what the household link costs the kiosk, against a real Mosquitto.

Run: .venv/bin/python bench/bench_mqtt.py [--sessions 1000] [--repeat 5]

Rows, each beside a reference measured in the same run:
- `publish()` on the caller's (Kivy's) thread with the broker away, against a bare dict
  store under a lock: the cost of never waiting on the network;
- a Home Assistant button press to the kiosk's link hearing it, against mosquitto_pub's
  own round trip to mosquitto_sub;
- `kiosk mqtt sync` of a household with N sessions on the broker (all new to this screen,
  then again with nothing new), against mosquitto_sub reading the same retained messages.
Exit status 1 if a budget is missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import List, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from mqtt_broker import BASE, Broker, free_port  # noqa: E402

from table import print_table  # noqa: E402  (bench/ is on the path when run)

from kiosk.config import MqttSettings  # noqa: E402
from kiosk.core.household import Topics, session_message  # noqa: E402
from kiosk.core.model import SessionRecord  # noqa: E402
from kiosk.mqtt.link import MqttLink, Will  # noqa: E402

Row = Tuple[str, str, str, str, str]


def median_ms(samples: List[float]) -> float:
    return statistics.median(samples) * 1000


def publish_cost(calls: int) -> Tuple[float, float]:
    """Seconds per publish() call with nothing listening, and per plain locked dict store."""
    link = MqttLink(MqttSettings(host="127.0.0.1", port=free_port()), "bench", subscriptions=(),
                    will=Will("bench/availability", "offline"), on_message=lambda t, p, r: None,
                    sync_topic="bench/sync")
    link.start()
    try:
        start = time.perf_counter()
        for n in range(calls):
            link.publish("bench/state", str(n))
        cost = (time.perf_counter() - start) / calls
    finally:
        link.stop()
    lock, table = threading.Lock(), {}
    start = time.perf_counter()
    for n in range(calls):
        with lock:
            table.pop("bench/state", None)
            table["bench/state"] = str(n)
    floor = (time.perf_counter() - start) / calls
    return cost, floor


def press_latency(broker: Broker, settings: MqttSettings, repeat: int) -> Tuple[List[float], List[float]]:
    """A button press (mosquitto_pub) until the link hears it; and mosquitto_pub until mosquitto_sub does."""
    heard = threading.Event()
    connected = threading.Event()
    topics = Topics(BASE, "bench")
    link = MqttLink(settings, "bench", subscriptions=(topics.commands,), will=Will(topics.availability, "offline"),
                    on_message=lambda t, p, r: heard.set(), sync_topic=f"{topics.own}/sync",
                    on_caught_up=connected.set)
    link.start()
    kiosk_samples: List[float] = []
    try:
        assert connected.wait(60), "the link did not connect"
        for _ in range(repeat):
            heard.clear()
            start = time.perf_counter()
            broker.publish(topics.command("start"), "PRESS")
            assert heard.wait(30)
            kiosk_samples.append(time.perf_counter() - start)
    finally:
        link.stop()
    floor: List[float] = []
    for _ in range(repeat):
        listener = subprocess.Popen(["mosquitto_sub", *broker.client_args(), "-t", f"{BASE}/bench/echo", "-C", "1"],
                                    stdout=subprocess.PIPE)
        time.sleep(0.5)  # the listener's subscription must be in place before the press; not measured
        start = time.perf_counter()
        broker.publish(f"{BASE}/bench/echo", "PRESS")
        listener.wait(30)
        floor.append(time.perf_counter() - start)
    return kiosk_samples, floor


def household(count: int) -> List[SessionRecord]:
    first = dt.datetime(2023, 1, 1, 8, 0, tzinfo=dt.timezone.utc)
    return [SessionRecord.create(routine="daily-reset", started=first + dt.timedelta(days=n),
                                 ended=first + dt.timedelta(days=n, minutes=5), planned_s=300, active_s=300,
                                 completed=True, source="kiosk") for n in range(count)]


def sync_times(broker: Broker, root: Path, sessions: int) -> Tuple[float, float, float]:
    """kiosk mqtt sync with every session new, then with none new; mosquitto_sub reading them all."""
    topics = Topics(BASE, "bench")
    payloads = root / "sessions.txt"
    with payloads.open("w") as out:
        for record in household(sessions):
            topic, payload = session_message(topics, record)
            out.write(f"{topic}\t{payload}\n")
    # Put them on the broker as another screen would (one mosquitto_pub per line is slow: use paho).
    import paho.mqtt.client as paho

    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="bench-other")
    client.username_pw_set("kiosk", (broker.folder / "kiosk.password").read_text().strip())
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    infos = []
    for line in payloads.read_text().splitlines():
        topic, payload = line.split("\t", 1)
        infos.append(client.publish(topic, payload, qos=1, retain=True))
    for info in infos:
        info.wait_for_publish(60)
    client.loop_stop()
    client.disconnect()
    config = root / "config.yaml"
    config.write_text(broker.config_yaml(client_id="bench-screen"))
    command = [sys.executable, "-m", "kiosk", "--data-dir", str(root / "data"), "--config", str(config),
               "mqtt", "sync"]
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    times = []
    for _ in range(2):
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
        times.append(time.perf_counter() - start)
        assert done.returncode == 0, done.stderr
    start = time.perf_counter()
    read = subprocess.run(["mosquitto_sub", *broker.client_args(), "-t", f"{BASE}/sessions/+", "-C",
                           str(sessions)], capture_output=True, timeout=600)
    floor = time.perf_counter() - start
    assert read.stdout.count(b"\n") == sessions
    merged = json.loads(subprocess.run([sys.executable, "-m", "kiosk", "--data-dir", str(root / "data"), "stats",
                                        "--json"], capture_output=True, text=True, env=env).stdout)
    assert merged["total_sessions"] == sessions, merged["total_sessions"]
    return times[0], times[1], floor


def main(argv: List[str] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    logging.getLogger("kiosk.mqtt").setLevel(logging.ERROR)  # the away broker is the point of a row
    rows: List[Row] = []

    def verdict(ok: bool) -> str:
        return "ok" if ok else "OVER"

    cost, floor = publish_cost(20000)
    rows.append(("publish() on the UI thread, broker away", f"{floor * 1e6:.1f} µs (dict under a lock)",
                 f"{cost * 1e6:.1f} µs", "< 100 µs (0.6% of a frame)", verdict(cost < 100e-6)))
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        broker = Broker(root / "broker")
        broker.start()
        try:
            secret = broker.folder / "kiosk.password"
            secret.write_text("correct horse battery staple\n")
            settings = MqttSettings(host="127.0.0.1", port=broker.port, username="kiosk", password_file=str(secret))
            pressed, echo = press_latency(broker, settings, args.repeat)
            rows.append(("HA button press heard by the kiosk (median)", f"{median_ms(echo):.0f} ms (pub to sub)",
                         f"{median_ms(pressed):.0f} ms", "< 1 s", verdict(median_ms(pressed) < 1000)))
            cold, warm, read = sync_times(broker, root, args.sessions)
            rows.append((f"`kiosk mqtt sync`, {args.sessions:,} new sessions", f"{read * 1000:.0f} ms (sub reads them)",
                         f"{cold * 1000:.0f} ms", "< 10 s", verdict(cold < 10)))
            rows.append(("`kiosk mqtt sync` again, nothing new", f"{read * 1000:.0f} ms (sub reads them)",
                         f"{warm * 1000:.0f} ms", "< 5 s", verdict(warm < 5)))
        finally:
            broker.stop()
    print_table(("operation", "reference", "measured", "budget", ""), rows)
    return 1 if any(row[-1] == "OVER" for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
