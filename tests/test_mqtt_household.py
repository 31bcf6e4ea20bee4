"""Several screens, one household: `kiosk mqtt sync` and `kiosk mqtt status` as separate
processes with their own data folders, against a real Mosquitto broker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest
from mqtt_broker import BASE, USERS, Broker

from kiosk.core.model import SessionRecord
from kiosk.sessionlog.store import SessionLog


class Screen:
    """One screen of the household: a data folder, a settings file, and the `kiosk` command."""

    def __init__(self, root: Path, broker: Broker, name: str) -> None:
        self.name = name
        self.data = root / name / "data"
        self.config = root / name / "config.yaml"
        self.config.parent.mkdir(parents=True)
        self.config.write_text(broker.config_yaml(display_name=name.title(), client_id=f"screen-{name}"))

    def kiosk(self, *args: str, python: List[str] = None) -> subprocess.CompletedProcess:
        command = (python or [sys.executable]) + ["-m", "kiosk", "--data-dir", str(self.data),
                                                  "--config", str(self.config), *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=180,
                              env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))

    def sync(self) -> str:
        done = self.kiosk("mqtt", "sync")
        assert done.returncode == 0, done.stderr
        return done.stdout

    def records(self) -> List[SessionRecord]:
        with SessionLog.open(self.data) as log:
            return log.records()


def add_session(screen: Screen, date: str) -> None:
    done = screen.kiosk("log", "add", "--date", date)
    assert done.returncode == 0, done.stderr


def test_two_screens_converge_after_one_was_offline_with_no_duplicates(tmp_path: Path, broker: Broker) -> None:
    living, bedroom = Screen(tmp_path, broker, "living"), Screen(tmp_path, broker, "bedroom")
    add_session(living, "2026-11-28")
    add_session(living, "2026-11-29")
    assert "published 2" in living.sync()
    add_session(bedroom, "2026-11-30")  # done while the bedroom screen was away from the broker
    assert "Heard 2 sessions on the broker; merged 2 into the log; published 1." in bedroom.sync()
    assert "merged 1 into the log; published 0" in living.sync()
    for _ in range(2):
        for screen in (living, bedroom):
            assert "merged 0 into the log; published 0" in screen.sync()
    ids = {record.id for record in living.records()}
    assert len(ids) == 3 and len(living.records()) == 3
    assert [r.to_dict() for r in living.records()] == [r.to_dict() for r in bedroom.records()]
    assert set(broker.retained(f"{BASE}/sessions/#")) == {f"{BASE}/sessions/{i}" for i in ids}
    with SessionLog.open(bedroom.data) as log:  # as the app saves a session: naming its screen
        [done_here] = [record for record in log.records() if record.local_date == "2026-11-30"]
        log.merge_records([])  # nothing changes by merging nothing
    assert done_here.screen == ""  # `kiosk log add` is not done on a screen
    stats = json.loads(bedroom.kiosk("stats", "--json", "--today", "2026-11-30").stdout)
    assert stats["current_daily_streak"] == 3  # streaks count the household's sessions


def test_the_later_pain_rating_wins_on_every_screen(tmp_path: Path, broker: Broker) -> None:
    living, bedroom = Screen(tmp_path, broker, "living"), Screen(tmp_path, broker, "bedroom")
    add_session(living, "2026-11-28")
    living.sync()
    bedroom.sync()
    [session] = living.records()
    with SessionLog.open(bedroom.data) as log:
        log.update_pain(session.id, 6, "2026-11-28T18:00:00Z")
    with SessionLog.open(living.data) as log:
        log.update_pain(session.id, 2, "2026-11-28T12:00:00Z")  # rated earlier, synced later
    bedroom.sync()
    living.sync()
    bedroom.sync()
    assert [r.pain for r in living.records()] == [6] and [r.pain for r in bedroom.records()] == [6]
    retained = broker.retained(f"{BASE}/sessions/{session.id}")
    assert json.loads(retained[f"{BASE}/sessions/{session.id}"])["pain"] == 6


def test_an_invalid_session_on_the_broker_is_named_and_not_merged(tmp_path: Path, broker: Broker) -> None:
    screen = Screen(tmp_path, broker, "living")
    bad = {"id": "s1", "routine": "daily-reset", "started_utc": "2026-11-26T08:00:00Z",
           "local_date": "2026-11-26", "completed": True, "pain": 11}
    broker.publish(f"{BASE}/sessions/s1", json.dumps(bad), retain=True)
    broker.publish(f"{BASE}/sessions/s2", "{not json", retain=True)
    done = screen.kiosk("mqtt", "sync")
    assert done.returncode == 0, done.stderr
    assert "Heard 0 sessions" in done.stdout
    assert "ignored: session s1: session field 'pain' must be 0-10" in done.stderr
    assert "ignored: session s2:" in done.stderr
    assert screen.records() == []


def test_status_shows_what_home_assistant_sees_and_whether_the_broker_answers(tmp_path: Path, broker: Broker) -> None:
    screen = Screen(tmp_path, broker, "living")
    add_session(screen, "2026-11-28")
    done = screen.kiosk("mqtt", "status", "--json")
    assert done.returncode == 0, done.stderr
    status = json.loads(done.stdout)
    assert status["reachable"] and status["broker"] == "connected"
    by_name = {entity["name"]: entity for entity in status["entities"]}
    assert by_name["Completed sessions"]["state"] == 1 and by_name["Session"]["state"] == "idle"
    assert by_name["Voice"]["state"] == "ON" and by_name["Start"]["component"] == "button"
    assert USERS["kiosk"] not in done.stdout and status["settings"]["display_name"] == "Living"
    text = screen.kiosk("mqtt", "status")
    assert text.returncode == 0 and "What Home Assistant sees:" in text.stdout and "Daily streak" in text.stdout
    broker.stop()
    away = screen.kiosk("mqtt", "status")
    assert away.returncode == 1 and "broker:" in away.stdout and "connected\n" not in away.stdout
    assert "Daily streak" in away.stdout  # the local states are still shown


def test_a_wrong_password_is_one_line_and_the_password_is_never_printed(tmp_path: Path, broker: Broker) -> None:
    screen = Screen(tmp_path, broker, "living")
    wrong = tmp_path / "wrong"
    wrong.write_text("hunter2-wrong\n")
    screen.config.write_text(broker.config_yaml(password_file=wrong))
    done = screen.kiosk("mqtt", "sync")
    assert done.returncode == 1
    assert "the user name or password is wrong" in done.stderr
    assert "hunter2-wrong" not in done.stderr + done.stdout and "Traceback" not in done.stderr


def test_mqtt_commands_say_what_is_missing(tmp_path: Path, broker: Broker) -> None:
    screen = Screen(tmp_path, broker, "living")
    blocked = [sys.executable, "-c", "import runpy, sys; sys.modules['paho'] = None; "
                                     "sys.argv[0] = 'kiosk'; runpy.run_module('kiosk', run_name='__main__')"]
    without_paho = subprocess.run(blocked + ["--data-dir", str(screen.data), "--config", str(screen.config),
                                             "mqtt", "sync"], capture_output=True, text=True, timeout=120)
    assert without_paho.returncode == 2
    assert "paho-mqtt is not installed (pip install 'home-exercise-kiosk[mqtt]')" in without_paho.stderr
    screen.config.write_text("weekly_goal: 3\n")
    off = screen.kiosk("mqtt", "status")
    assert off.returncode == 2 and "MQTT is off" in off.stderr


@pytest.mark.parametrize("action", ["sync", "status"])
def test_no_broker_is_one_line_and_exit_1(tmp_path: Path, broker: Broker, action: str) -> None:
    screen = Screen(tmp_path, broker, "living")
    broker.stop()
    done = screen.kiosk("mqtt", action, *(["--timeout", "3"] if action == "sync" else []))
    assert done.returncode == 1 and "Traceback" not in done.stderr


def test_a_household_with_more_sessions_than_a_broker_queues_arrives_whole(tmp_path: Path, broker: Broker) -> None:
    """Mosquitto holds at most 1000 QoS 1 messages per client: the sessions are read at QoS 0."""
    import datetime as dt

    import paho.mqtt.client as paho

    from kiosk.core.household import Topics, session_message

    first = dt.datetime(2022, 1, 1, 8, 0, tzinfo=dt.timezone.utc)
    records = [SessionRecord.create(routine="daily-reset", started=first + dt.timedelta(days=n),
                                    ended=first + dt.timedelta(days=n, minutes=5), planned_s=300, active_s=300,
                                    completed=True, source="kiosk") for n in range(1500)]
    other = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="another-screen")
    other.username_pw_set("kiosk", USERS["kiosk"])
    other.connect("127.0.0.1", broker.port)
    other.loop_start()
    sent = [other.publish(*session_message(Topics(BASE, "other"), record), qos=1, retain=True) for record in records]
    for info in sent:
        info.wait_for_publish(60)
    other.loop_stop()
    other.disconnect()
    screen = Screen(tmp_path, broker, "living")
    assert "Heard 1500 sessions on the broker; merged 1500 into the log; published 0." in screen.sync()
    assert len(screen.records()) == 1500
    listing = screen.kiosk("log", "list").stdout
    assert "1500 sessions" in listing
