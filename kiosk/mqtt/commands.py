"""`kiosk mqtt sync` and `kiosk mqtt status`: the household log and the Home Assistant device
from the command line, for a Pi without a screen, for checking a set-up, and for tests."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Tuple

from kiosk import __version__
from kiosk.config import Settings
from kiosk.core.household import (
    Device,
    Ignored,
    Topics,
    discovery_messages,
    household_state,
    news_for,
    node_id,
    option_of,
    read_session,
    routine_options,
    session_message,
)
from kiosk.core.model import SessionRecord
from kiosk.mqtt.link import MqttLink, identity, read_password

SYNC_TIMEOUT_S = 30.0
STATUS_TIMEOUT_S = 8.0


class NotConnected(Exception):
    """The broker could not be reached, or refused this screen: the reason, in one line."""


@dataclass
class SyncResult:
    heard: int = 0
    merged: List[SessionRecord] = field(default_factory=list)
    published: int = 0
    ignored: List[str] = field(default_factory=list)


class _OneConnection:
    """A link used once: connect, wait until the broker's retained messages are in, act, leave."""

    def __init__(self, settings: Settings, topics: Topics, client_id: str, subscriptions: Tuple[str, ...]) -> None:
        self.heard: Dict[str, bytes] = {}
        self._caught_up = threading.Event()
        self._lock = threading.Lock()
        self.link = MqttLink(settings.mqtt, f"{client_id}-cli", subscriptions=subscriptions,
                             will=None, on_message=self._heard,
                             sync_topic=f"{topics.own}/cli-sync", on_caught_up=self._caught_up.set)

    def _heard(self, topic: str, payload: bytes, _retained: bool) -> None:
        with self._lock:
            self.heard[topic] = payload

    def wait(self, timeout: float) -> None:
        """Until the broker has sent everything retained (or has taken what was sent)."""
        deadline = time.monotonic() + timeout
        while not self._caught_up.wait(0.05):
            status = self.link.status
            if status.state == "refused" or (status.state == "waiting" and status.detail):
                raise NotConnected(status.detail)  # one try is the answer on the command line
            if time.monotonic() >= deadline:
                raise NotConnected(status.detail or f"no answer from the broker within {timeout:g} s")
        self._caught_up.clear()

    def __enter__(self) -> "_OneConnection":
        self.link.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.link.stop()


def topics_for(settings: Settings) -> Tuple[Topics, str, str]:
    """This screen's topics, its client id and its display name."""
    client_id, name = identity(settings.mqtt)
    return Topics(settings.mqtt.base_topic, node_id(client_id), settings.mqtt.discovery_prefix), client_id, name


def sync(settings: Settings, data_dir: Path, *, timeout: float = SYNC_TIMEOUT_S) -> SyncResult:
    """Once: publish this screen's sessions the broker lacks, merge the household's into the log."""
    from kiosk.sessionlog.store import SessionLog

    topics, client_id, _ = topics_for(settings)
    result = SyncResult()
    with SessionLog.open(data_dir) as log, \
            _OneConnection(settings, topics, client_id, (topics.sessions,)) as connection:
        connection.wait(timeout)
        arrived: List[SessionRecord] = []
        on_broker: Dict[str, SessionRecord] = {}
        for topic, payload in sorted(connection.heard.items()):
            record = read_session(topics, topic, payload)
            if isinstance(record, Ignored):
                result.ignored.append(record.reason)
            elif record is not None:
                arrived.append(record)
                on_broker[record.id] = record
        result.heard = len(arrived)
        result.merged = log.merge_records(arrived)
        for record in log.records():
            if news_for(on_broker.get(record.id), record):
                connection.link.publish(*session_message(topics, record))
                result.published += 1
        connection.link.request_sync()
        connection.wait(timeout)  # every session sent has reached the broker
    return result


@dataclass
class Status:
    settings: Dict[str, Any]
    entities: List[Dict[str, Any]]
    broker: str
    """connected, or why not."""
    reachable: bool


def status(settings: Settings, data_dir: Path, library: Any, now: dt.datetime,
           *, timeout: float = STATUS_TIMEOUT_S) -> Status:
    """What Home Assistant will see: the device's entities with their states, and the broker."""
    from kiosk.core.streaks import compute_stats
    from kiosk.sessionlog.store import SessionLog

    mqtt = settings.mqtt
    topics, client_id, name = topics_for(settings)
    with SessionLog.open_for_reading(data_dir) as log:
        records = log.records()
    stats = compute_stats(records, now.date(), weekly_goal=settings.weekly_goal,
                          week_start=settings.week_start_index, now=now)
    options = routine_options([(routine.id, routine.name) for routine in library.routines.values()])
    default = library.default_routine(settings.default_routine or None)
    routine = option_of(options, default.id if default is not None else None)
    state = json.loads(household_state(stats, records, routine=routine, voice=settings.voice).payload())
    session = {"state": "idle"}
    broker, reachable = "connected", True
    try:
        with _OneConnection(settings, topics, client_id, (topics.session,)) as connection:
            connection.wait(timeout)
            retained = connection.heard.get(topics.session)
            if retained:
                shown = json.loads(retained.decode("utf-8"))
                session = shown if isinstance(shown, dict) else session
    except NotConnected as error:
        broker, reachable = str(error), False
    except (ValueError, UnicodeDecodeError, RecursionError):  # not ours to explain: the session shows idle
        pass
    entities = []
    for topic, payload in discovery_messages(topics, Device(topics.node, name, __version__), list(options)):
        entity = json.loads(payload)
        component = topic.split("/")[-4]
        key = entity.get("value_template", "").replace("{{ value_json.", "").replace(" }}", "")
        source = session if entity.get("state_topic") == topics.session else state
        value = source.get(key) if key else None
        entities.append({"component": component, "name": entity["name"], "unique_id": entity["unique_id"],
                         "state": value, "unit": entity.get("unit_of_measurement", ""),
                         "command_topic": entity.get("command_topic", "")})
    password = "none"
    if mqtt.password_file:
        try:
            read_password(mqtt)
            password = f"from {mqtt.password_file}"
        except OSError as error:
            password = str(error)
    shown = {"host": mqtt.host, "port": mqtt.port, "username": mqtt.username or "(none)", "password": password,
             "tls": mqtt.tls, "client_id": client_id, "display_name": name,
             "discovery_prefix": mqtt.discovery_prefix, "base_topic": mqtt.base_topic, "node": topics.node}
    return Status(shown, entities, broker, reachable)
