"""The running kiosk on MQTT: a Home Assistant device, and one screen of the household.

It publishes what the controller shows (streaks, the session, the settings Home
Assistant can change) and every session this screen saves; it hands Home Assistant's
commands to the controller through the same doors as a tap, and the other screens'
sessions to the log keeper to merge. The link's thread only reads and checks messages;
everything that touches the controller is scheduled on the Kivy main thread.
"""

from __future__ import annotations

import logging
import math
import threading
from typing import TYPE_CHECKING, Callable, Dict, List, Optional, Sequence

from kivy.clock import Clock

from kiosk import __version__
from kiosk.config import MqttSettings
from kiosk.core.household import (
    MAX_MESSAGE_BYTES,
    OFFLINE,
    ONLINE,
    Command,
    Device,
    Ignored,
    SessionState,
    Topics,
    discovery_messages,
    household_state,
    news_for,
    node_id,
    option_of,
    read_command,
    read_session,
    reminder_event,
    routine_options,
    session_message,
)
from kiosk.core.model import SessionRecord
from kiosk.mqtt.link import MqttLink, Will, identity

if TYPE_CHECKING:
    from kiosk.ui.controller import KioskController

log = logging.getLogger("kiosk.mqtt")

MERGE_BATCH_S = 0.5
"""Sessions from other screens arrive in a burst at connect: merged together after this pause."""
SESSION_EVERY_S = 1.0
"""The session sensor (its seconds left) is published at most this often."""


class HouseholdBridge:
    """Between the controller (main thread) and the MQTT link (its own thread)."""

    def __init__(self, controller: KioskController, settings: MqttSettings) -> None:
        self.controller = controller
        client_id, self.screen_name = identity(settings)
        self.topics = Topics(settings.base_topic, node_id(client_id), settings.discovery_prefix)
        self.device = Device(self.topics.node, self.screen_name, __version__)
        self._options: Dict[str, str] = {}
        """Select option (routine name) -> routine id; replaced whole, so the link's thread reads it safely."""
        self._arrived: List[SessionRecord] = []
        self._lock = threading.Lock()
        self._on_broker: Dict[str, SessionRecord] = {}
        """Session id -> the copy the broker holds (heard, or sent since this connect): a session
        is published only when this screen's copy tells it something (`news_for`)."""
        self._problem_notice = ""
        self.link = MqttLink(
            settings, client_id,
            subscriptions=(self.topics.commands, self.topics.sessions, self.topics.home_assistant_status),
            will=Will(self.topics.availability, OFFLINE), on_message=self._heard,
            sync_topic=f"{self.topics.own}/sync", on_connected=self._connected,
            on_caught_up=lambda: Clock.schedule_once(lambda _dt: self._caught_up()),
            on_problem=lambda text: Clock.schedule_once(lambda _dt: self._problem(text)))

    def start(self) -> None:
        self._refresh_options()
        self.link.start()

    def stop(self) -> None:
        self.link.stop(timeout=1.0)  # at shut-down: a broker that does not answer is not waited for

    def status_text(self) -> str:
        """The connection, for the Settings screen, in a few words."""
        state, where = self.link.status.state, self.link.settings.host
        if state == "connected":
            return f"Connected to {where}"
        if state == "refused":
            return "Not connected: the settings need a look"
        if state == "waiting":
            return f"Trying to reach {where}"
        return f"Connecting to {where}"

    # ------------------------------------------------------------------ publishing (main thread)

    def publish_device(self) -> None:
        """At connect, and when Home Assistant comes back: discovery, availability and the states."""
        self._publish_discovery()
        self.link.publish(self.topics.availability, ONLINE)
        self.publish_state()
        self.publish_session()

    def _caught_up(self) -> None:
        """Every retained session has arrived: merge them, then publish what the broker lacks."""
        self._merge_arrived(then=self._publish_saved)

    def _publish_saved(self) -> None:
        keeper = self.controller.log_keeper
        unsaved = {record.id for record in keeper.unsaved}
        self.publish_records([record for record in keeper.records if record.id not in unsaved])

    def _publish_discovery(self) -> None:
        self._refresh_options()
        for topic, payload in discovery_messages(self.topics, self.device, list(self._options)):
            self.link.publish(topic, payload)

    def publish_state(self) -> None:
        controller = self.controller
        if controller.stats is None:
            return  # the log has not been read yet: no numbers to tell
        self._refresh_options()
        default = controller.default_routine()
        state = household_state(controller.stats, controller.log_keeper.records,
                                routine=option_of(self._options, default.id if default is not None else None),
                                voice=controller.settings.voice)
        self.link.publish(self.topics.state, state.payload())

    def publish_session(self) -> None:
        controller = self.controller
        runner, timeline = controller.runner, controller.timeline
        if not controller.in_session or runner is None or timeline is None:
            state = SessionState()
        else:
            position = runner.position()
            state = SessionState("paused" if controller.paused else "running", timeline.routine.name,
                                 controller.view.exercise_name,
                                 max(0, int(math.ceil(position.total_s - position.elapsed_s - 1e-9))))
        self.link.publish(self.topics.session, state.payload(), at_most_every_s=SESSION_EVERY_S)

    def publish_reminder(self, message: str) -> None:
        """A reminder played: Home Assistant's event entity fires (an automation can send it on)."""
        self.link.publish(self.topics.reminder, reminder_event(message), retain=False)

    def publish_records(self, records: Sequence[SessionRecord]) -> None:
        """Saved sessions (new, rated, or merged from elsewhere) for the other screens, retained."""
        for record in records:
            with self._lock:
                if not news_for(self._on_broker.get(record.id), record):
                    continue
                self._on_broker[record.id] = record
            self.link.publish(*session_message(self.topics, record))

    def _refresh_options(self) -> None:
        library = self.controller.library
        self._options = routine_options([(routine.id, routine.name) for routine in library.routines.values()])

    # ------------------------------------------------------------------ hearing (the link's thread)

    def _connected(self) -> None:
        with self._lock:  # a new connection: what the broker holds is heard again
            self._on_broker.clear()
        Clock.schedule_once(lambda _dt: (self._recovered(), self.publish_device()))

    def _heard(self, topic: str, payload: bytes, retained: bool) -> None:
        if len(payload) > MAX_MESSAGE_BYTES:
            self.link.ignored(f"{len(payload)} bytes on {topic[:120]!r}, more than {MAX_MESSAGE_BYTES}")
            return
        if topic == self.topics.home_assistant_status:
            if payload.strip() == ONLINE.encode():
                Clock.schedule_once(lambda _dt: self.publish_device())
            return
        if topic.startswith(self.topics.session_record("")):
            record = read_session(self.topics, topic, payload)
            if isinstance(record, Ignored):
                self.link.ignored(record.reason)
            elif record is not None:
                with self._lock:
                    first = not self._arrived
                    self._arrived.append(record)
                    self._on_broker[record.id] = record
                if first:
                    Clock.schedule_once(lambda _dt: self._merge_arrived(), MERGE_BATCH_S)
            return
        if retained:  # a press kept on the broker would start a session at every connect
            self.link.ignored(f"{topic[:120]!r}: a command kept on the broker (retained) is not obeyed")
            return
        command = read_command(self.topics, topic, payload, tuple(self._options))
        if isinstance(command, Ignored):
            self.link.ignored(command.reason)
        else:
            Clock.schedule_once(lambda _dt: self.apply(command))

    # ------------------------------------------------------------------ acting (main thread)

    def _merge_arrived(self, then: Optional[Callable[[], None]] = None) -> None:
        """The sessions heard since the last merge go into the log (on the worker)."""
        with self._lock:
            arrived, self._arrived = self._arrived, []
        if arrived:  # and where this screen's copy won, the broker hears it
            self.controller.log_keeper.merge(arrived, then=then or self._publish_saved)
        elif then is not None:
            then()

    def apply(self, command: Command) -> None:
        """Home Assistant's buttons and controls, through the controller's own doors."""
        controller = self.controller
        if command.name == "start":
            if not controller.start_from_afar():
                log.info("mqtt: Start from Home Assistant ignored: %s", controller.why_not_start())
        elif command.name == "pause":
            controller.pause_from_afar()
        elif command.name == "stop":
            controller.stop_from_afar()
        elif command.name == "not_today":
            controller.silence_reminders_today()
        elif command.name == "routine":
            controller.change_setting("default_routine", self._options.get(str(command.value), ""))
        elif command.name == "voice":
            controller.change_setting("voice", bool(command.value))
        elif command.name == "weekly_goal":
            controller.change_setting("weekly_goal", int(command.value))  # type: ignore[arg-type]
        self.publish_state()
        self.publish_session()

    def _problem(self, text: str) -> None:
        self._problem_notice = f"Home Assistant is not connected: {text}."
        self.controller.add_notice(self._problem_notice, lasting=True)

    def _recovered(self) -> None:
        if self._problem_notice:
            self.controller._drop_notice(self._problem_notice)
            self._problem_notice = ""
