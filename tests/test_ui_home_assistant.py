"""The real app under Xvfb as a Home Assistant device, against a real Mosquitto broker.

Home Assistant's side is played by mosquitto_pub and mosquitto_sub with Home Assistant's
own user; the app's side is the real window, the real controller and the real link.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable, Dict, Iterator

import pytest
from kivy_harness import Kiosk
from mqtt_broker import BASE, USERS, Broker

from kiosk.config import load_settings
from kiosk.core.timeline import build_timeline
from kiosk.sessionlog.store import SessionLog

WAIT_S = 60.0
"""How long a condition may take on a loaded machine before the test says what it waited for."""


def until(kiosk: Kiosk, condition: Callable[[], bool], what: str, timeout: float = WAIT_S) -> None:
    """Run the app's frames (its Clock hands the link's news to the controller) until `condition`."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out waiting for {what}")
        kiosk.frames(1)
        time.sleep(0.02)
    kiosk.settle()


@pytest.fixture
def make_kiosk(tmp_path: Path, shipped_library, broker: Broker) -> Iterator[Callable[..., Kiosk]]:
    made = []

    def make(name: str = "Living room", password_file: Path = None, client_id: str = "living-room") -> Kiosk:
        config = tmp_path / f"{client_id}.yaml"
        config.write_text(broker.config_yaml(display_name=name, client_id=client_id,
                                             password_file=password_file))
        settings, problems = load_settings(config)
        assert problems == ()
        kiosk = Kiosk(shipped_library, tmp_path / f"{client_id}-data", settings=settings, config_path=config)
        made.append(kiosk)
        return kiosk

    yield make
    for kiosk in made:
        kiosk.close()


def own(kiosk: Kiosk) -> str:
    assert kiosk.controller.household is not None
    return kiosk.controller.household.topics.own


def connected(kiosk: Kiosk) -> Callable[[], bool]:
    household = kiosk.controller.household
    return lambda: household is not None and household.link.connected


def session_state(broker: Broker, kiosk: Kiosk) -> Dict[str, object]:
    payload = broker.retained(f"{own(kiosk)}/session", wait_s=1).get(f"{own(kiosk)}/session")
    return json.loads(payload) if payload else {}


def saved(kiosk: Kiosk):
    with SessionLog.open(kiosk.controller.data_dir) as log:
        return log.records()


def test_discovery_names_one_device_whose_entities_have_live_topics(make_kiosk, broker: Broker) -> None:
    kiosk = make_kiosk()
    until(kiosk, connected(kiosk), "the kiosk to connect")
    until(kiosk, lambda: len(broker.retained("homeassistant/#", wait_s=1)) == 17, "every discovery payload")
    until(kiosk, lambda: len(broker.retained(f"{BASE}/#", wait_s=1)) == 3, "availability, state and session")
    found = broker.retained("homeassistant/#")
    configs = {topic: json.loads(payload) for topic, payload in found.items() if topic.endswith("/config")}
    components = sorted(topic.split("/")[1] for topic in configs)
    assert components == sorted(["sensor"] * 8 + ["binary_sensor"] + ["button"] * 4 +
                                ["select", "switch", "number", "event"])
    assert len({config["unique_id"] for config in configs.values()}) == len(configs)
    devices = {json.dumps(config["device"], sort_keys=True) for config in configs.values()}
    assert len(devices) == 1
    device = json.loads(devices.pop())
    assert device["name"] == "Living room" and device["model"] == "Home exercise kiosk"
    assert "configuration_url" not in device
    live = broker.retained(f"{BASE}/#")
    state = json.loads(live[f"{own(kiosk)}/state"])
    session = json.loads(live[f"{own(kiosk)}/session"])
    assert live[f"{own(kiosk)}/availability"] == "online"
    for config in configs.values():
        assert config["availability_topic"] == f"{own(kiosk)}/availability"
        for key in ("state_topic", "json_attributes_topic"):
            if key in config and not config["unique_id"].endswith("_reminder"):  # an event: not retained
                assert config[key] in live, f"{config['name']}: {config[key]} carries nothing"
        if "value_template" in config:
            field = config["value_template"].split("value_json.")[1].split()[0]
            source = session if config["state_topic"].endswith("/session") else state
            assert field in source, f"{config['name']} reads {field}, which is not published"
        if "command_topic" in config:
            assert config["command_topic"].startswith(own(kiosk) + "/") and config["command_topic"].endswith("/set")
    assert state["done_today"] == "OFF" and state["weekly_goal"] == 5 and state["voice"] == "ON"
    assert session == {"state": "idle", "routine": "", "exercise": "", "seconds_left": 0}
    kiosk.tap(kiosk.widget("home", "settings_button"))
    kiosk.advance(1.0)
    assert kiosk.widget("settings", "home_assistant").value == "Connected to 127.0.0.1"
    routine = kiosk.controller.default_routine()
    select = next(config for config in configs.values() if config["unique_id"].endswith("_routine"))
    assert state["routine"] == routine.name and routine.name in select["options"]


def test_start_from_home_assistant_runs_one_session_and_a_second_press_does_nothing(
        make_kiosk, broker: Broker, shipped_library, caplog) -> None:
    caplog.set_level(logging.INFO, logger="kiosk.mqtt")
    kiosk = make_kiosk()
    until(kiosk, connected(kiosk), "the kiosk to connect")
    broker.publish(f"{own(kiosk)}/start/set", "PRESS")
    until(kiosk, lambda: kiosk.controller.in_session, "Start from Home Assistant to start a session")
    runner = kiosk.controller.runner
    assert kiosk.controller.screen == "session"
    broker.publish(f"{own(kiosk)}/start/set", "PRESS")
    until(kiosk, lambda: caplog.text.count("ignored: a session is running") == 1, "the second press to arrive")
    kiosk.advance(2.0)  # past the guard after the start: still "a session is running"
    broker.publish(f"{own(kiosk)}/start/set", "PRESS")
    until(kiosk, lambda: caplog.text.count("ignored: a session is running") == 2, "the third press to arrive")
    until(kiosk, lambda: session_state(broker, kiosk).get("state") == "running", "the session sensor to say running")
    assert kiosk.controller.runner is runner
    attributes = session_state(broker, kiosk)
    assert attributes["routine"] == shipped_library.default_routine().name and attributes["seconds_left"] > 0
    timeline = build_timeline(shipped_library.default_routine())
    kiosk.advance(timeline.total_s + 2, step=0.5)
    assert kiosk.controller.screen == "done"
    kiosk.settle()
    records = saved(kiosk)
    assert len(records) == 1 and records[0].completed and records[0].screen == "Living room"
    topic = f"{BASE}/sessions/{records[0].id}"
    until(kiosk, lambda: topic in broker.retained(f"{BASE}/sessions/#", wait_s=1), "the session to be published")
    assert json.loads(broker.retained(topic, wait_s=1)[topic])["id"] == records[0].id
    until(kiosk, lambda: json.loads(broker.retained(f"{own(kiosk)}/state", wait_s=1)[f"{own(kiosk)}/state"])
          ["done_today"] == "ON", "done today to be published")


def test_pause_and_stop_from_home_assistant_take_the_screens_own_paths(make_kiosk, broker: Broker) -> None:
    kiosk = make_kiosk()
    until(kiosk, connected(kiosk), "the kiosk to connect")
    kiosk.tap(kiosk.widget("home", "start_button"))
    kiosk.advance(3.0)
    broker.publish(f"{own(kiosk)}/pause/set", "PRESS")
    until(kiosk, lambda: kiosk.controller.paused, "pause from Home Assistant")
    until(kiosk, lambda: session_state(broker, kiosk).get("state") == "paused", "the session sensor to say paused")
    broker.publish(f"{own(kiosk)}/pause/set", "PRESS")
    until(kiosk, lambda: not kiosk.controller.paused, "resume from Home Assistant")
    kiosk.advance(5.0)
    broker.publish(f"{own(kiosk)}/stop/set", "PRESS")
    until(kiosk, lambda: not kiosk.controller.in_session, "stop from Home Assistant")
    records = saved(kiosk)
    assert len(records) == 1 and not records[0].completed and records[0].active_s >= 5.0
    until(kiosk, lambda: session_state(broker, kiosk).get("state") == "idle", "the session sensor to say idle")


def test_settings_from_home_assistant_apply_and_are_saved(make_kiosk, broker: Broker, shipped_library) -> None:
    kiosk = make_kiosk()
    until(kiosk, connected(kiosk), "the kiosk to connect")
    other = next(r for r in shipped_library.routines.values() if r.id != shipped_library.default_routine().id)
    broker.publish(f"{own(kiosk)}/weekly_goal/set", "3")
    broker.publish(f"{own(kiosk)}/voice/set", "OFF")
    broker.publish(f"{own(kiosk)}/routine/set", other.name)
    until(kiosk, lambda: (kiosk.controller.settings.weekly_goal, kiosk.controller.settings.voice,
                          kiosk.controller.settings.default_routine) == (3, False, other.id),
          "the three settings to change")
    settings, _ = load_settings(kiosk.controller.config_path)
    assert (settings.weekly_goal, settings.voice, settings.default_routine) == (3, False, other.id)
    assert settings.mqtt.host == "127.0.0.1"  # saving the settings keeps the mqtt section
    assert kiosk.widget("home", "start_button").ids.detail.text.startswith(other.name)
    until(kiosk, lambda: json.loads(broker.retained(f"{own(kiosk)}/state", wait_s=1)[f"{own(kiosk)}/state"])
          ["routine"] == other.name, "the new routine to be published")


def test_a_broker_restarted_mid_session_changes_nothing_and_hears_the_session_after(
        make_kiosk, broker: Broker, shipped_library) -> None:
    kiosk = make_kiosk()
    until(kiosk, connected(kiosk), "the kiosk to connect")
    link = kiosk.controller.household.link
    kiosk.tap(kiosk.widget("home", "start_button"))
    broker.stop()
    until(kiosk, lambda: not link.connected, "the link to see the broker gone")
    timeline = build_timeline(shipped_library.default_routine())
    kiosk.advance(timeline.total_s + 2, step=0.5)  # the whole session with no broker: nothing waits on it
    assert kiosk.controller.screen == "done"
    kiosk.settle()
    [record] = saved(kiosk)
    assert record.completed
    broker.start()
    until(kiosk, lambda: link.connections == 2, "the link to connect again")
    topic = f"{BASE}/sessions/{record.id}"
    until(kiosk, lambda: topic in broker.retained(f"{BASE}/sessions/#", wait_s=1),
          "the session saved while the broker was away to be published")


def test_hostile_messages_are_ignored_with_a_log_line_and_nothing_is_merged(
        make_kiosk, broker: Broker, tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="kiosk.mqtt")
    kiosk = make_kiosk()
    until(kiosk, connected(kiosk), "the kiosk to connect")
    huge = tmp_path / "huge"
    huge.write_bytes(b"x" * (1024 * 1024))
    broker.publish_file(f"{own(kiosk)}/start/set", huge)
    broker.publish_file(f"{BASE}/sessions/abc", huge, retain=True)
    broker.publish(f"{own(kiosk)}/start/set", "\u00ff" * 50 + "PRESS")
    broker.publish(f"{own(kiosk)}/weekly_goal/set", "1e309")
    broker.publish(f"{own(kiosk)}/self_destruct/set", "PRESS")
    bad = {"id": "s1", "routine": "daily-reset", "started_utc": "2026-11-26T08:00:00Z", "local_date": "2026-11-26",
           "completed": True, "pain": 11}
    broker.publish(f"{BASE}/sessions/s1", json.dumps(bad), retain=True)
    broker.publish(f"{BASE}/sessions/s2", json.dumps(dict(bad, id="other", pain=2)), retain=True)
    broker.publish(f"{BASE}/sessions/s3", '{"id": "s3", "nested": ' + "[" * 5000 + "]" * 5000 + "}", retain=True)
    broker.publish(f"{BASE}/sessions/s4", "NaN", retain=True)
    until(kiosk, lambda: caplog.text.count("ignored a message") >= 8, "a log line for each hostile message")
    assert "more than 65536" in caplog.text and "'pain' must be 0-10" in caplog.text
    assert kiosk.controller.log_keeper.records == [] and saved(kiosk) == []
    assert not kiosk.controller.in_session and kiosk.controller.settings.weekly_goal == 5
    broker.publish(f"{own(kiosk)}/start/set", "PRESS")  # and it still answers a good message
    until(kiosk, lambda: kiosk.controller.in_session, "a good Start after the hostile messages")


def test_a_wrong_password_is_one_notice_and_one_log_line_and_never_logged(
        make_kiosk, broker: Broker, tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = tmp_path / "wrong-password"
    wrong.write_text("not-the-password-4711\n")
    kiosk = make_kiosk(password_file=wrong)
    link = kiosk.controller.household.link
    until(kiosk, lambda: link.status.state == "refused", "the broker to refuse the password")
    until(kiosk, lambda: "Home Assistant is not connected" in kiosk.controller.notice, "the notice")
    assert "the user name or password is wrong" in kiosk.controller.notice
    kiosk.advance(1.0)
    assert kiosk.controller.household_status == "Not connected: the settings need a look"
    errors = [r for r in caplog.records if r.name.startswith("kiosk.mqtt") and r.levelno >= logging.ERROR]
    assert len(errors) == 1 and link.status.attempts == 1 and link.connections == 0
    assert "Trying again every 5 minutes" in errors[0].getMessage()  # quietly: the next try is 5 minutes off
    assert broker.log_text().count("not authorised") == 1  # the broker, too, saw one attempt
    everything = caplog.text + broker.log_text()
    assert "not-the-password-4711" not in everything and USERS["kiosk"] not in everything
    assert kiosk.controller.in_session is False
    kiosk.tap(kiosk.widget("home", "start_button"))  # the kiosk itself works as ever
    assert kiosk.controller.in_session


def test_home_assistant_coming_back_online_gets_the_device_again(make_kiosk, broker: Broker) -> None:
    kiosk = make_kiosk()
    until(kiosk, connected(kiosk), "the kiosk to connect")
    until(kiosk, lambda: len(broker.retained("homeassistant/#", wait_s=1)) == 17, "every discovery payload")
    configs = [topic for topic in broker.retained("homeassistant/#") if topic.endswith("/config")]
    for topic in configs:  # as if Home Assistant had lost them (a new install, a cleared broker)
        broker.publish(topic, "", retain=True)
    assert [t for t in broker.retained("homeassistant/#", wait_s=1) if t.endswith("/config")] == []
    broker.publish("homeassistant/status", "online")
    until(kiosk, lambda: sorted(t for t in broker.retained("homeassistant/#", wait_s=1) if t.endswith("/config"))
          == sorted(configs), "discovery to be published again")


def test_closing_the_app_says_offline(make_kiosk, broker: Broker) -> None:
    kiosk = make_kiosk()
    until(kiosk, connected(kiosk), "the kiosk to connect")
    topic = f"{own(kiosk)}/availability"
    until(kiosk, lambda: broker.retained(topic, wait_s=1).get(topic) == "online", "online")
    kiosk.controller.shut_down()
    assert broker.retained(topic, wait_s=1) == {topic: "offline"}


def test_without_paho_the_kiosk_says_so_once_and_works(tmp_path: Path, shipped_library, broker: Broker,
                                                        monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "paho", None)  # as on a kiosk installed without the mqtt extra
    monkeypatch.setitem(sys.modules, "paho.mqtt", None)
    monkeypatch.setitem(sys.modules, "paho.mqtt.client", None)
    config = tmp_path / "config.yaml"
    config.write_text(broker.config_yaml())
    settings, _ = load_settings(config)
    kiosk = Kiosk(shipped_library, tmp_path / "data", settings=settings, config_path=config)
    try:
        assert kiosk.controller.household is None and kiosk.controller.household_status == "Not set up"
        assert "the kiosk's MQTT part is not installed (paho-mqtt)" in kiosk.controller.notice
        kiosk.tap(kiosk.widget("home", "start_button"))
        assert kiosk.controller.in_session
    finally:
        kiosk.close()


def test_a_press_kept_on_the_broker_is_not_obeyed(make_kiosk, broker: Broker, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="kiosk.mqtt")
    broker.publish(f"{BASE}/living-room/start/set", "PRESS", retain=True)  # a mistake in some automation
    kiosk = make_kiosk()
    until(kiosk, connected(kiosk), "the kiosk to connect")
    until(kiosk, lambda: "(retained) is not obeyed" in caplog.text, "the retained press to be named")
    assert not kiosk.controller.in_session


def test_a_start_from_afar_waits_for_the_safety_note_to_be_read(tmp_path: Path, shipped_library,
                                                                broker: Broker, caplog) -> None:
    caplog.set_level(logging.INFO, logger="kiosk.mqtt")
    config = tmp_path / "config.yaml"
    config.write_text(broker.config_yaml(client_id="new-kiosk"))
    settings, _ = load_settings(config)
    kiosk = Kiosk(shipped_library, tmp_path / "data", settings=settings, config_path=config, first_start=True)
    try:
        until(kiosk, connected(kiosk), "the kiosk to connect")
        assert kiosk.controller.screen == "safety"
        broker.publish(f"{own(kiosk)}/start/set", "PRESS")
        until(kiosk, lambda: "ignored: the safety note has not been read" in caplog.text, "the press to arrive")
        assert not kiosk.controller.in_session and kiosk.controller.screen == "safety"
    finally:
        kiosk.close()


def test_a_pause_from_afar_counts_as_somebody_there_for_the_pause_limit(make_kiosk, broker: Broker,
                                                                          shipped_library) -> None:
    from kiosk.ui.session_section import PAUSE_LIMIT_S

    routine = max(shipped_library.routines.values(), key=lambda r: build_timeline(r).total_s)
    assert build_timeline(routine).total_s > PAUSE_LIMIT_S + 60
    kiosk = make_kiosk()
    until(kiosk, connected(kiosk), "the kiosk to connect")
    kiosk.controller.start(routine.id)
    kiosk.advance(PAUSE_LIMIT_S - 60, step=1.0, draw_every=60)  # nobody touches the screen for 9 minutes
    broker.publish(f"{own(kiosk)}/pause/set", "PRESS")
    until(kiosk, lambda: kiosk.controller.paused, "pause from Home Assistant")
    kiosk.advance(120, step=1.0, draw_every=60)
    assert kiosk.controller.in_session and kiosk.controller.paused  # 2 minutes after the pause: still there


def test_a_reminder_fires_the_event_and_home_assistant_can_silence_the_day(tmp_path: Path, shipped_library,
                                                                            broker: Broker) -> None:
    import subprocess

    from kiosk.core.reminders import Reminder

    config = tmp_path / "config.yaml"
    config.write_text(broker.config_yaml(client_id="living-room"))
    settings, _ = load_settings(config)
    settings = replace(settings, reminders=(Reminder("09:02", message="Feet and hips, please."),
                                            Reminder("09:10")))
    kiosk = Kiosk(shipped_library, tmp_path / "data", settings=settings, config_path=config)
    listener = subprocess.Popen(["mosquitto_sub", *broker.client_args(), "-t", f"{BASE}/living-room/reminder",
                                 "-C", "1", "-W", "120"], stdout=subprocess.PIPE, text=True)
    try:
        until(kiosk, connected(kiosk), "the kiosk to connect")
        until(kiosk, lambda: "living-room/reminder" in broker.log_text(), "Home Assistant's side to listen")
        kiosk.advance(125, step=1.0, draw_every=60)
        assert kiosk.controller.reminder_text == "Feet and hips, please."
        out, _ = listener.communicate(timeout=120)
        assert json.loads(out) == {"event_type": "reminder", "message": "Feet and hips, please."}
        broker.publish(f"{own(kiosk)}/not_today/set", "PRESS")
        until(kiosk, lambda: kiosk.controller.reminder_text == "", "Not today from Home Assistant")
        kiosk.advance(10 * 60, step=1.0, draw_every=60)
        assert kiosk.controller.reminder_text == ""  # 09:10 stays quiet too
    finally:
        listener.kill()
        kiosk.close()
