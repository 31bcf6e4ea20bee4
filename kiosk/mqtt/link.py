"""The connection to the MQTT broker, on a thread of its own.

Nothing here waits on the caller's thread: `publish` puts the newest payload for a topic
in a table (so a broker away for a week costs one entry per topic, not a week of
updates) and the link's thread sends it when it can. A broker that is down is tried
again after 1, 2, 4 ... 60 s; a broker that refuses the user name or password, or a TLS
certificate that does not verify, is reported once and then tried again quietly every five
minutes, so a wrong password never becomes a storm of log lines or connections.
Messages come back through `on_message(topic, payload, retained)` on this thread; the caller
checks them. After
each connect, `on_caught_up` says every retained message (the household's sessions) is in.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

from kiosk.config import MqttSettings

log = logging.getLogger("kiosk.mqtt")
_PAHO_LOG = logging.getLogger("kiosk.mqtt.paho")
_PAHO_LOG.setLevel(logging.ERROR)  # paho says a line per packet, and one per failed try: the link says it once

FIRST_RETRY_S = 1.0
LAST_RETRY_S = 60.0
KEEPALIVE_S = 30
CONNECT_TIMEOUT_S = 10.0
REFUSED_RETRY_S = 300.0
"""After a refusal (one notice, one log line), tried again this often, quietly."""
STABLE_S = 60.0
"""A connection that lasted this long starts the next outage's backoff at 1 s again."""
IGNORED_LINES_PER_MINUTE = 10
"""A flood of bad messages is logged this many lines a minute, then counted."""


class MqttUnavailable(Exception):
    """paho-mqtt is not installed: the `mqtt` extra is needed."""


def load_paho() -> Any:
    try:
        import paho.mqtt.client as paho
    except ImportError:
        raise MqttUnavailable("paho-mqtt is not installed (pip install 'home-exercise-kiosk[mqtt]')") from None
    if not hasattr(paho, "CallbackAPIVersion"):
        raise MqttUnavailable("paho-mqtt is too old: version 2 or newer is needed")
    return paho


@dataclass(frozen=True)
class Will:
    topic: str
    payload: str


@dataclass
class LinkStatus:
    """What `kiosk mqtt status` and the screen say about the connection."""

    state: str = "stopped"
    """stopped, connecting, connected, waiting (to try again) or refused (said once; tried again
    quietly every REFUSED_RETRY_S)."""
    detail: str = ""
    connected_since: Optional[float] = None
    attempts: int = 0


@dataclass
class _Pending:
    payload: str
    retain: bool
    qos: int


@dataclass
class _Outbox:
    """The newest payload per topic, in the order topics were first queued."""

    entries: Dict[str, _Pending] = field(default_factory=dict)
    last_sent: Dict[str, float] = field(default_factory=dict)
    spacing: Dict[str, float] = field(default_factory=dict)


class MqttLink:
    """One broker connection: connects, subscribes, sends what was queued, hands messages on."""

    def __init__(self, settings: MqttSettings, client_id: str, *, subscriptions: Sequence[str],
                 will: Optional[Will], on_message: Callable[[str, bytes, bool], None], sync_topic: str,
                 on_connected: Callable[[], None] = lambda: None,
                 on_caught_up: Callable[[], None] = lambda: None,
                 on_problem: Callable[[str], None] = lambda text: None,
                 clock: Callable[[], float] = time.monotonic, refused_retry_s: float = REFUSED_RETRY_S) -> None:
        self._paho = load_paho()
        self.settings = settings
        self.client_id = client_id
        self._subscriptions = tuple(subscriptions)
        self._will = will
        self._on_message = on_message
        self._on_connected = on_connected
        self._on_caught_up = on_caught_up
        self._refused_retry_s = refused_retry_s
        self._lost_reason = ""
        self._sync_topic = sync_topic
        self._sync_token = ""
        self._want_sync = False
        self._on_problem = on_problem
        self._clock = clock
        self._lock = threading.Lock()
        self._outbox = _Outbox()
        self._stopping = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._client: Any = None
        self._connack: Optional[Tuple[bool, str]] = None
        self._ignored_window = (0.0, 0)
        self.status = LinkStatus()
        self.connections = 0
        """How many times the broker has accepted this link (tests watch reconnects)."""

    # ------------------------------------------------------------------ the caller's side

    def start(self) -> None:
        if self._thread is not None:
            return
        self.status = LinkStatus("connecting")
        self._thread = threading.Thread(target=self._run, name="mqtt-link", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Say `offline`, send what is queued if connected, and end the thread."""
        self._stopping.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)

    def publish(self, topic: str, payload: str, *, retain: bool = True, qos: int = 1,
                at_most_every_s: float = 0.0) -> None:
        """Queue the newest payload for `topic`; never blocks on the network.

        `at_most_every_s`: the topic is sent no more often than that (the newest payload
        waits for its turn).
        """
        with self._lock:
            self._outbox.entries.pop(topic, None)
            self._outbox.entries[topic] = _Pending(payload, retain, qos)
            if at_most_every_s:
                self._outbox.spacing[topic] = at_most_every_s

    def request_sync(self) -> None:
        """Call `on_caught_up` again once everything queued so far has reached the broker."""
        self._want_sync = True

    def queued(self) -> int:
        with self._lock:
            return len(self._outbox.entries)

    @property
    def alive(self) -> bool:
        """The link's thread is still at work (it ends after `stop`, or after giving up)."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def connected(self) -> bool:
        return self.status.state == "connected"

    def ignored(self, reason: str) -> None:
        """Log a message that was not read, at most IGNORED_LINES_PER_MINUTE lines a minute."""
        start, count = self._ignored_window
        now = self._clock()
        if now - start >= 60.0:
            if count > IGNORED_LINES_PER_MINUTE:
                log.warning("mqtt: %d more messages ignored in the last minute", count - IGNORED_LINES_PER_MINUTE)
            start, count = now, 0
        count += 1
        self._ignored_window = (start, count)
        if count <= IGNORED_LINES_PER_MINUTE:
            log.warning("mqtt: ignored a message: %s", reason)

    # ------------------------------------------------------------------ the link's thread

    def _run(self) -> None:
        delay = FIRST_RETRY_S
        while not self._stopping.is_set():
            self.status = LinkStatus(self.status.state if self.status.state == "refused" else "connecting",
                                     detail=self.status.detail, attempts=self.status.attempts + 1)
            try:
                client = self._new_client()
            except (OSError, ValueError, ssl.SSLError) as error:
                self._refused(f"the MQTT settings cannot be used: {_reason(error)}")
                self._stopping.wait(self._refused_retry_s)
                continue
            began = self._clock()
            accepted = self._session(client)
            if self._stopping.is_set():
                return
            if self.status.state == "refused":  # said once; tried again now and then, quietly
                self._stopping.wait(self._refused_retry_s)
                continue
            if accepted and self._clock() - began >= STABLE_S:
                delay = FIRST_RETRY_S  # not for a connection taken away at once (a second screen
                # with the same client id, say): that backs off like a broker that is away
            self.status.state = "waiting"
            self._stopping.wait(delay)
            delay = min(LAST_RETRY_S, delay * 2)

    def _new_client(self) -> Any:
        paho = self._paho
        settings = self.settings
        client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=self.client_id,
                             clean_session=True, reconnect_on_failure=False)
        client.enable_logger(_PAHO_LOG)
        if self._will is not None:
            client.will_set(self._will.topic, self._will.payload, qos=1, retain=True)
        if settings.username:
            client.username_pw_set(settings.username, read_password(settings))
        if settings.tls:
            client.tls_set(ca_certs=settings.ca_file or None, certfile=settings.cert_file or None,
                           keyfile=settings.key_file or None)
        client.on_connect = self._connected
        client.on_message = self._received
        client.max_queued_messages_set(0)
        client.connect_timeout = CONNECT_TIMEOUT_S
        return client

    def _session(self, client: Any) -> bool:
        """One connection from connect to loss; True if the broker accepted it."""
        paho = self._paho
        settings = self.settings
        self._connack = None
        try:
            client.connect(settings.host, settings.port, keepalive=KEEPALIVE_S)
        except ssl.SSLCertVerificationError as error:
            self._refused(f"the TLS connection to {settings.host}:{settings.port} failed: {_reason(error)}")
            return False
        except (OSError, socket.timeout, ValueError) as error:
            self._unreachable(error)
            return False
        self._client = client
        accepted = False
        try:
            while True:
                if self._stopping.is_set():
                    self._say_goodbye(client, accepted)
                    return accepted
                rc = client.loop(timeout=0.1)
                if self._connack is not None and not accepted:
                    accepted, reason = self._connack
                    if not accepted:
                        if reason.startswith("Server unavailable"):
                            self._unreachable(ConnectionRefusedError(reason))
                            return False
                        if reason in ("Not authorized", "Bad user name or password"):
                            reason = "the user name or password is wrong (username and password_file under mqtt:)"
                        self._refused(f"the broker {settings.host}:{settings.port} refused it: {reason}")
                        return False
                if rc != paho.MQTT_ERR_SUCCESS:
                    if accepted and self._lost_reason != paho.error_string(rc):
                        self._lost_reason = paho.error_string(rc)  # once per reason, not at each loss
                        log.warning("mqtt: lost the connection to %s:%s (%s); trying again",
                                    settings.host, settings.port, self._lost_reason)
                    else:
                        self._unreachable(ConnectionError(paho.error_string(rc)))
                    return accepted
                if accepted:
                    self._send_queued(client)
                    if self._want_sync and not self.queued():
                        self._want_sync = False
                        self._sync_token = uuid.uuid4().hex
                        client.publish(self._sync_topic, self._sync_token, qos=1, retain=False)
        except ssl.SSLCertVerificationError as error:
            self._refused(f"the TLS connection to {settings.host}:{settings.port} failed: {_reason(error)}")
            return False
        except ssl.SSLError as error:  # a handshake cut short (a broker restarting): away, not refused
            self._unreachable(error)
            return accepted
        finally:
            self._client = None
            if self.status.state != "stopped" and client.is_connected():
                try:
                    client.disconnect()
                    client.loop(timeout=0.0)
                except (OSError, ValueError):
                    pass

    def _connected(self, client: Any, _userdata: Any, _flags: Any, reason_code: Any, _properties: Any) -> None:
        if reason_code.is_failure:
            self._connack = (False, str(reason_code))
            return
        self._connack = (True, "")
        self._lost_reason = ""
        # QoS 0: a broker queues at most max_queued_messages (1000 in Mosquitto) QoS 1 messages
        # per client, and would drop the rest of a household's retained sessions. QoS 0 on a
        # live connection has no such limit; a connection lost mid-way hears them all again.
        for topic in self._subscriptions:
            client.subscribe(topic, qos=0)
        # The broker sends a subscription's retained messages before it handles anything this
        # link sends later: when this token comes back, everything retained has arrived.
        self._sync_token = uuid.uuid4().hex
        client.subscribe(self._sync_topic, qos=0)
        client.publish(self._sync_topic, self._sync_token, qos=1, retain=False)
        self.connections += 1
        was = self.status.state
        self.status = LinkStatus("connected", connected_since=self._clock(), attempts=self.status.attempts)
        log.info("mqtt: connected to %s:%s as %s%s", self.settings.host, self.settings.port, self.client_id,
                 "" if was == "connecting" and self.connections == 1 else " again")
        self._on_connected()

    def _received(self, _client: Any, _userdata: Any, message: Any) -> None:
        if message.topic == self._sync_topic:
            if bytes(message.payload) == self._sync_token.encode():
                self._on_caught_up()
            return
        try:
            self._on_message(message.topic, bytes(message.payload), bool(message.retain))
        except Exception as error:  # a bug in reading one message must not end the link, nor flood the log
            log.debug("mqtt: a message on %s could not be handled", message.topic[:120], exc_info=True)
            self.ignored(f"{message.topic[:120]!r} could not be handled ({type(error).__name__}: {error})"[:300])

    def _send_queued(self, client: Any) -> None:
        now = self._clock()
        with self._lock:
            outbox = self._outbox
            due = [(topic, pending) for topic, pending in outbox.entries.items()
                   if now - outbox.last_sent.get(topic, -1e9) >= outbox.spacing.get(topic, 0.0)]
            for topic, _ in due:
                del outbox.entries[topic]
                outbox.last_sent[topic] = now
        for topic, pending in due:
            info = client.publish(topic, pending.payload, qos=pending.qos, retain=pending.retain)
            if info.rc != self._paho.MQTT_ERR_SUCCESS:  # lost meanwhile: keep it for the next connection
                with self._lock:
                    self._outbox.entries.setdefault(topic, pending)

    def _say_goodbye(self, client: Any, accepted: bool) -> None:
        """A clean stop: the last will is not sent for a clean disconnect, so say offline."""
        if accepted:
            self._send_queued(client)
            if self._will is not None:
                info = client.publish(self._will.topic, self._will.payload, qos=1, retain=True)
            deadline = self._clock() + 2.0
            while self._will is not None and not info.is_published() and self._clock() < deadline:
                if client.loop(timeout=0.05) != self._paho.MQTT_ERR_SUCCESS:
                    break
        client.disconnect()
        self.status.state = "stopped"

    def _unreachable(self, error: BaseException) -> None:
        if self.status.detail != _reason(error):  # once per outage and reason, not at every try
            log.warning("mqtt: cannot reach the broker %s:%s (%s); trying again, waiting up to %d s",
                        self.settings.host, self.settings.port, _reason(error), LAST_RETRY_S)
        self.status = LinkStatus("waiting", detail=_reason(error), attempts=self.status.attempts)

    def _refused(self, text: str) -> None:
        """Refused (a password, a certificate, the settings): one log line and one notice, then
        a quiet try every few minutes (Home Assistant's broker refuses everyone until Home
        Assistant itself is up; a Pi's clock may be wrong for a certificate until NTP)."""
        if self.status.detail != text:
            log.error("mqtt: %s. Trying again every %d minutes.", text, self._refused_retry_s // 60)
            self._on_problem(text)
        self.status = LinkStatus("refused", detail=text, attempts=self.status.attempts)


def read_password(settings: MqttSettings) -> Optional[str]:
    """The password from its file (first line); None without a file. Never logged."""
    if not settings.password_file:
        return None
    try:
        text = Path(settings.password_file).read_text(encoding="utf-8")
    except OSError as error:
        raise OSError(error.errno, f"cannot read the password file {settings.password_file} "
                                   f"({error.strerror})") from None
    return text.splitlines()[0] if text.strip() else ""


def _reason(error: BaseException) -> str:
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"the broker's certificate does not verify ({error.verify_message})"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__


def identity(settings: MqttSettings) -> Tuple[str, str]:
    """(client id, display name): the settings', or made from this machine.

    The client id carries part of the machine id, so two Pis both called raspberrypi never
    take each other's connection at the broker.
    """
    host = socket.gethostname().split(".")[0] or "kiosk"
    machine = ""
    for path in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            machine = Path(path).read_text(encoding="ascii").strip()[:8]
        except OSError:
            continue
        if machine:
            break
    client_id = settings.client_id or f"kiosk-{host}" + (f"-{machine}" if machine else "")
    return client_id, settings.display_name or host

