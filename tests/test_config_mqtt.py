"""The `mqtt:` section of config.yaml: read key by key, a bad key costing only itself."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import List

import pytest

from kiosk.config import MQTT_FIELDS, MqttSettings, Settings, load_settings, save_settings
from kiosk.core import yamldoc
from kiosk.core.yamldoc import Problem

FULL_SECTION = """\
weekly_goal: 4
mqtt:
  host: broker.local
  port: 8883
  username: kiosk
  password_file: secrets/mqtt-password
  tls: true
  ca_file: /etc/ssl/home-ca.pem
  cert_file: certs/client.pem
  key_file: ~/client.key
  client_id: living-room
  discovery_prefix: ha/discovery
  base_topic: home/exercise
  display_name: Living room
voice: false
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def lines(problems: tuple[Problem, ...]) -> List[str]:
    return [str(problem) for problem in problems]


def test_the_field_table_matches_the_settings_class() -> None:
    assert [spec.name for spec in MQTT_FIELDS] == [field.name for field in fields(MqttSettings)]
    for spec in MQTT_FIELDS:
        if spec.default is not None:
            assert getattr(MqttSettings(), spec.name) == spec.default, spec.name


def test_a_full_section_is_read(tmp_path: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "etc" / "kiosk"
    settings, problems = load_settings(write(folder / "config.yaml", FULL_SECTION))
    assert problems == ()
    assert settings.mqtt == MqttSettings(
        host="broker.local", port=8883, username="kiosk", password_file=str(folder / "secrets" / "mqtt-password"),
        tls=True, ca_file="/etc/ssl/home-ca.pem", cert_file=str(folder / "certs" / "client.pem"),
        key_file=str(isolated_home / "client.key"), client_id="living-room", discovery_prefix="ha/discovery",
        base_topic="home/exercise", display_name="Living room")
    assert (settings.weekly_goal, settings.voice) == (4, False)
    assert settings.mqtt.enabled and str(settings.mqtt) == "broker.local:8883"


def test_without_a_section_mqtt_is_off(tmp_path: Path) -> None:
    settings, problems = load_settings(write(tmp_path / "config.yaml", "weekly_goal: 3\n"))
    assert problems == () and settings.mqtt == MqttSettings() and not settings.mqtt.enabled
    settings, problems = load_settings(write(tmp_path / "config.yaml", "mqtt:\nweekly_goal: 3\n"))
    assert problems == () and settings.mqtt == MqttSettings() and settings.weekly_goal == 3


def test_the_defaults() -> None:
    assert MqttSettings().enabled is False and str(MqttSettings()) == "off"
    assert MqttSettings(host="192.168.1.20").enabled is True
    assert str(MqttSettings(host="192.168.1.20")) == "192.168.1.20:1883"
    assert Settings().mqtt == MqttSettings()
    assert (MqttSettings().port, MqttSettings().tls, MqttSettings().base_topic, MqttSettings().discovery_prefix) \
        == (1883, False, "home-exercise-kiosk", "homeassistant")


def test_an_unknown_key_in_the_section_is_ignored_and_the_rest_applies(tmp_path: Path) -> None:
    path = write(tmp_path / "config.yaml", "weekly_goal: 3\nmqtt:\n  host: broker\n  hots: other\n  port: 1884\n")
    settings, problems = load_settings(path)
    assert len(problems) == 1
    [problem] = problems
    assert str(problem).startswith(f"{path}:4:3: warning: unknown key 'hots'")
    assert "did you mean 'host'" in problem.message and problem.message.endswith("(ignored)")
    assert (problem.severity, problem.field) == ("warning", "mqtt")
    assert settings.mqtt == MqttSettings(host="broker", port=1884)
    assert settings.weekly_goal == 3


def test_an_unknown_key_with_no_close_match_lists_the_known_keys(tmp_path: Path) -> None:
    path = write(tmp_path / "config.yaml", "mqtt:\n  host: broker\n  qos: 2\n")
    settings, problems = load_settings(path)
    assert lines(problems)[0].startswith(f"{path}:3:3: warning: unknown key 'qos'")
    assert "known keys: host, port" in problems[0].message and problems[0].message.endswith("(ignored)")
    assert settings.mqtt == MqttSettings(host="broker")


@pytest.mark.parametrize("line, column, expected", [
    ("port: abc", 9, "'port' in the 'mqtt' settings must be a whole number"),
    ("port: 70000", 9, "'port'"),
    ("port: 0", 9, "'port'"),
    ("port: 1883.5", 9, "'port' in the 'mqtt' settings must be a whole number"),
    ("port: true", 9, "'port' in the 'mqtt' settings must be a whole number"),
    ("tls: maybe", 8, "'tls' in the 'mqtt' settings must be true or false"),
    ("tls: 1", 8, "'tls' in the 'mqtt' settings must be true or false"),
    ("username: [a, b]", 13, "'username' in the 'mqtt' settings must be text"),
    ("client_id: {a: 1}", 14, "'client_id' in the 'mqtt' settings must be text"),
])
def test_a_wrong_value_is_reported_where_it_is_and_the_default_kept(
        tmp_path: Path, line: str, column: int, expected: str) -> None:
    path = write(tmp_path / "config.yaml", f"mqtt:\n  host: broker\n  {line}\n  display_name: Hall\nweekly_goal: 2\n")
    settings, problems = load_settings(path)
    [problem] = problems
    assert str(problem).startswith(f"{path}:3:{column}: warning: {expected}"), str(problem)
    assert problem.message.endswith("(ignored)") and problem.field == "mqtt"
    key = line.split(":")[0]
    assert getattr(settings.mqtt, key) == getattr(MqttSettings(), key)
    assert (settings.mqtt.host, settings.mqtt.display_name, settings.weekly_goal) == ("broker", "Hall", 2)


def test_several_problems_in_the_section_are_each_reported_in_file_order(tmp_path: Path) -> None:
    path = write(tmp_path / "config.yaml", "mqtt:\n  port: abc\n  tls: maybe\n  host: broker\n  hots: x\n")
    settings, problems = load_settings(path)
    assert [(problem.line, problem.col) for problem in problems] == [(2, 9), (3, 8), (5, 3)]
    assert all(problem.message.endswith("(ignored)") and problem.severity == "warning" for problem in problems)
    assert settings.mqtt == MqttSettings(host="broker")


@pytest.mark.parametrize("section", ["mqtt: broker.local", "mqtt: 1883", "mqtt:\n  - host\n  - port",
                                     "mqtt: [broker]", "mqtt: true"])
def test_a_section_that_is_not_a_mapping_leaves_mqtt_off_with_a_warning(tmp_path: Path, section: str) -> None:
    path = write(tmp_path / "config.yaml", f"{section}\nweekly_goal: 3\n")
    settings, problems = load_settings(path)
    assert settings.mqtt == MqttSettings() and not settings.mqtt.enabled
    assert settings.weekly_goal == 3
    [problem] = problems
    assert problem.severity == "warning" and problem.line in (1, 2) and problem.path == str(path)
    assert "'mqtt' must be a mapping" in problem.message


@pytest.mark.parametrize("key", ["base_topic", "discovery_prefix"])
@pytest.mark.parametrize("topic", ["home/+/kiosk", "home/#", "#", "+", "/home", "home/", "my home"])
def test_a_topic_mqtt_would_refuse_is_reported_and_the_default_kept(tmp_path: Path, key: str, topic: str) -> None:
    path = write(tmp_path / "config.yaml", f"mqtt:\n  host: broker\n  {key}: '{topic}'\n")
    settings, problems = load_settings(path)
    [problem] = problems
    assert str(problem).startswith(f"{path}:3:{len(key) + 5}: warning: {key!r}"), str(problem)
    assert repr(topic) in problem.message and problem.message.endswith("(ignored)")
    assert getattr(settings.mqtt, key) == getattr(MqttSettings(), key)
    assert settings.mqtt.host == "broker"


@pytest.mark.parametrize("topic", ["home", "home/exercise", "a-b_c/d.e", "häuschen/kiosk"])
def test_a_plain_topic_is_taken(tmp_path: Path, topic: str) -> None:
    path = write(tmp_path / "config.yaml", f"mqtt:\n  base_topic: {topic}\n  discovery_prefix: {topic}\n")
    settings, problems = load_settings(path)
    assert problems == ()
    assert (settings.mqtt.base_topic, settings.mqtt.discovery_prefix) == (topic, topic)


def test_file_paths_are_read_from_the_config_folder_not_the_working_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    folder = tmp_path / "conf"
    path = write(folder / "config.yaml", "mqtt:\n  host: broker\n  password_file: mqtt-password\n"
                                         "  ca_file: ../ca.pem\n  cert_file: /abs/client.pem\n  key_file: keys/k.pem\n")
    settings, problems = load_settings(path)
    assert problems == ()
    assert settings.mqtt.password_file == str(folder / "mqtt-password")
    assert Path(settings.mqtt.password_file).is_absolute()
    assert settings.mqtt.ca_file == str(folder / ".." / "ca.pem")
    assert settings.mqtt.cert_file == "/abs/client.pem"
    assert settings.mqtt.key_file == str(folder / "keys" / "k.pem")


def saved_section(path: Path) -> List[str]:
    document = yamldoc.read_document(path)
    assert isinstance(document, yamldoc.Mapping)
    if "mqtt" not in document.entries:
        return []
    section = document.entries["mqtt"][1]
    assert isinstance(section, yamldoc.Mapping)
    return list(section.entries)


def test_save_then_load_keeps_the_section_and_writes_only_what_differs(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "config.yaml"
    chosen = Settings(weekly_goal=4, mqtt=MqttSettings(
        host="broker", port=8883, tls=True, password_file=str(tmp_path / "conf" / "mqtt-password"),
        display_name="Living room: main # 1", base_topic="home/exercise"))
    save_settings(path, chosen)
    assert load_settings(path) == (chosen, ())
    assert sorted(saved_section(path)) == ["base_topic", "display_name", "host", "password_file", "port", "tls"]
    text = path.read_text(encoding="utf-8")
    for default_key in ("username", "client_id", "discovery_prefix", "ca_file", "cert_file", "key_file"):
        assert default_key not in text


def test_a_section_of_defaults_is_not_written(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    save_settings(path, Settings(weekly_goal=4))
    assert saved_section(path) == [] and "mqtt" not in path.read_text(encoding="utf-8")
    save_settings(path, Settings(mqtt=MqttSettings(host="broker")))
    assert saved_section(path) == ["host"]
    assert load_settings(path) == (Settings(mqtt=MqttSettings(host="broker")), ())


def test_reading_then_saving_a_hand_written_section_keeps_it(tmp_path: Path) -> None:
    path = write(tmp_path / "config.yaml", FULL_SECTION)
    first, problems = load_settings(path)
    assert problems == ()
    save_settings(path, first)
    assert load_settings(path) == (first, ())
    assert sorted(saved_section(path)) == sorted(spec.name for spec in MQTT_FIELDS)
