"""The kiosk as a Home Assistant device, and the household's shared log, as MQTT messages.

Pure: topics, discovery payloads, state payloads, commands read from messages, and the
rule that merges a session from another screen into this one's log. The network side
(`kiosk.mqtt.link`) only moves the bytes this module makes and reads.

Topics, with `base` the settings' `base_topic` and `node` this screen's id:

    base/node/availability        online | offline (the broker's last will), retained
    base/node/state               the sensors' values as one JSON object, retained
    base/node/session             idle / running / paused with its attributes, retained
    base/node/reminder            a reminder that played: {"event_type": "reminder", "message": ...}
    base/node/<command>/set       what Home Assistant sends: start, pause, stop, routine,
                                  voice, weekly_goal, not_today
    base/sessions/<session id>    every saved session of the household, retained
    <discovery prefix>/<component>/<node>/<object>/config   the discovery payloads
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass, replace
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from kiosk.core.model import SessionRecord, parse_utc
from kiosk.core.streaks import DAYS_PER_WEEK, StreakStats, newest_session

MAX_MESSAGE_BYTES = 64 * 1024
"""Anything longer on any topic is not read (a session record is well under 2 kB)."""
SESSION_STATES = ("idle", "running", "paused")
COMMANDS = ("start", "pause", "stop", "routine", "voice", "weekly_goal", "not_today")
PRESS = "PRESS"
ONLINE, OFFLINE = "online", "offline"
_NODE_ID = re.compile(r"[^A-Za-z0-9_-]+")
_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def node_id(client_id: str) -> str:
    """The client id as Home Assistant's discovery accepts it in a topic and a unique id."""
    cleaned = _NODE_ID.sub("_", client_id).strip("_")
    return cleaned or "kiosk"


@dataclass(frozen=True)
class Topics:
    base: str
    node: str
    discovery_prefix: str = "homeassistant"

    @property
    def own(self) -> str:
        return f"{self.base}/{self.node}"

    @property
    def availability(self) -> str:
        return f"{self.own}/availability"

    @property
    def state(self) -> str:
        return f"{self.own}/state"

    @property
    def session(self) -> str:
        return f"{self.own}/session"

    @property
    def reminder(self) -> str:
        """The event topic: a reminder that played (not retained)."""
        return f"{self.own}/reminder"

    def command(self, name: str) -> str:
        return f"{self.own}/{name}/set"

    @property
    def commands(self) -> str:
        """The subscription that receives every command to this screen."""
        return f"{self.own}/+/set"

    @property
    def sessions(self) -> str:
        """The subscription that receives the household's sessions."""
        return f"{self.base}/sessions/+"

    def session_record(self, session_id: str) -> str:
        return f"{self.base}/sessions/{session_id}"

    @property
    def home_assistant_status(self) -> str:
        return f"{self.discovery_prefix}/status"

    def discovery(self, component: str, key: str) -> str:
        return f"{self.discovery_prefix}/{component}/{self.node}/{key}/config"


@dataclass(frozen=True)
class Device:
    """What Home Assistant's device page shows."""

    node: str
    name: str
    version: str

    def block(self) -> Dict[str, Any]:
        return {"identifiers": [f"home-exercise-kiosk_{self.node}"], "name": self.name,
                "manufacturer": "home-exercise-kiosk", "model": "Home exercise kiosk",
                "sw_version": self.version}


# ---------------------------------------------------------------------------- what is published

@dataclass(frozen=True)
class HouseholdState:
    """The sensors' values and the controls' states: one retained JSON object."""

    daily_streak: int
    weekly_streak: int
    days_this_week: int
    weekly_goal: int
    done_today: bool
    completed_total: int
    last_session: Optional[str]
    """The newest session's end, ISO 8601 UTC; None before the first."""
    last_pain: Optional[int]
    routine: str
    """The Start button's routine, by name (the select's option)."""
    voice: bool

    def payload(self) -> str:
        return _json({
            "daily_streak": self.daily_streak, "weekly_streak": self.weekly_streak,
            "days_this_week": self.days_this_week, "weekly_goal": self.weekly_goal,
            "done_today": "ON" if self.done_today else "OFF", "completed_total": self.completed_total,
            "last_session": self.last_session, "last_pain": self.last_pain,
            "routine": self.routine or None, "voice": "ON" if self.voice else "OFF",
        })


def household_state(stats: StreakStats, records: Sequence[SessionRecord], *, routine: str,
                    voice: bool) -> HouseholdState:
    """The state from the streaks (counted over the household's sessions) and the log."""
    newest = newest_session(records)
    rated = [record for record in records if record.pain is not None and not record.clock_unverified]
    last_rated = max(rated, key=lambda record: parse_utc(record.pain_noted_utc or record.ended_utc), default=None)
    return HouseholdState(
        daily_streak=stats.current_daily_streak, weekly_streak=stats.current_weekly_streak,
        days_this_week=stats.this_week_days_done, weekly_goal=stats.weekly_goal,
        done_today=stats.done_today, completed_total=stats.completed_sessions,
        last_session=None if newest is None else parse_utc(newest.ended_utc).isoformat(),
        last_pain=None if last_rated is None else last_rated.pain, routine=routine, voice=voice)


@dataclass(frozen=True)
class SessionState:
    """The session sensor: its state, and the routine, exercise and seconds left as attributes."""

    state: str = "idle"
    routine: str = ""
    exercise: str = ""
    seconds_left: int = 0

    def payload(self) -> str:
        return _json({"state": self.state, "routine": self.routine, "exercise": self.exercise,
                      "seconds_left": self.seconds_left})


def _json(data: Mapping[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def reminder_event(message: str) -> str:
    """The event entity's payload for a reminder that played."""
    return _json({"event_type": "reminder", "message": message})


def session_message(topics: Topics, record: SessionRecord) -> Tuple[str, str]:
    """A saved session as the household sees it: retained, one topic per id."""
    return topics.session_record(record.id), _json(record.to_dict())


def routine_options(routines: Sequence[Tuple[str, str]]) -> Dict[str, str]:
    """The select's options: each routine's name (with its id where two share a name) -> its id."""
    counts: Dict[str, int] = {}
    for _, name in routines:
        counts[name] = counts.get(name, 0) + 1
    options: Dict[str, str] = {}
    for routine_id, name in routines:
        label = name if counts[name] == 1 else f"{name} ({routine_id})"
        while label in options:  # a name that reads like another's "name (id)": keep both selectable
            label = f"{label} ({routine_id})"
        options[label] = routine_id
    return options


def option_of(options: Mapping[str, str], routine_id: Optional[str]) -> str:
    """The select's option that names this routine (as `routine_options` made them); "" for none."""
    return next((option for option, option_id in options.items() if option_id == routine_id), "")


# ---------------------------------------------------------------------------- discovery

def discovery_messages(topics: Topics, device: Device, routine_names: Sequence[str]) -> List[Tuple[str, str]]:
    """Every entity's discovery payload (retained): sensors, a binary sensor, the session
    sensor, three buttons, a select, a switch and a number, all on one device."""
    common = {"device": device.block(), "availability_topic": topics.availability,
              "payload_available": ONLINE, "payload_not_available": OFFLINE,
              "origin": {"name": "home-exercise-kiosk", "sw_version": device.version}}

    def entity(component: str, key: str, name: str, **fields: Any) -> Tuple[str, str]:
        # object_id for Home Assistant before 2025.10, default_entity_id after it: an entity
        # id is lower case letters, digits and _ only.
        object_id = re.sub(r"[^a-z0-9_]", "_", f"exercise_kiosk_{device.node}_{key}".lower())
        payload = dict(common, name=name, unique_id=f"{device.node}_{key}", object_id=object_id,
                       default_entity_id=f"{component}.{object_id}", **fields)
        return topics.discovery(component, key), _json(payload)

    def sensor(key: str, name: str, **fields: Any) -> Tuple[str, str]:
        return entity("sensor", key, name, state_topic=topics.state,
                      value_template=f"{{{{ value_json.{key} }}}}", **fields)

    return [
        sensor("daily_streak", "Daily streak", unit_of_measurement="d", device_class="duration",
               state_class="measurement", icon="mdi:fire"),
        sensor("weekly_streak", "Weekly streak", unit_of_measurement="weeks", state_class="measurement",
               icon="mdi:calendar-check"),
        sensor("days_this_week", "Days this week", unit_of_measurement="days", state_class="measurement",
               icon="mdi:calendar-week"),
        sensor("weekly_goal", "Weekly goal", unit_of_measurement="days", icon="mdi:flag-checkered"),
        sensor("last_session", "Last session", device_class="timestamp", icon="mdi:history"),
        sensor("last_pain", "Last pain rating", state_class="measurement", icon="mdi:emoticon-sad-outline"),
        sensor("completed_total", "Completed sessions", state_class="total_increasing", icon="mdi:counter"),
        entity("binary_sensor", "done_today", "Done today", state_topic=topics.state,
               value_template="{{ value_json.done_today }}", payload_on="ON", payload_off="OFF",
               icon="mdi:check-circle"),
        entity("sensor", "session", "Session", state_topic=topics.session,
               value_template="{{ value_json.state }}", json_attributes_topic=topics.session,
               device_class="enum", options=list(SESSION_STATES), icon="mdi:run"),
        entity("button", "start", "Start", command_topic=topics.command("start"), payload_press=PRESS,
               icon="mdi:play"),
        entity("button", "pause", "Pause or resume", command_topic=topics.command("pause"),
               payload_press=PRESS, icon="mdi:play-pause"),
        entity("button", "stop", "Stop", command_topic=topics.command("stop"), payload_press=PRESS,
               icon="mdi:stop"),
        entity("button", "not_today", "Reminders: not today", command_topic=topics.command("not_today"),
               payload_press=PRESS, icon="mdi:bell-off"),
        entity("event", "reminder", "Reminder", state_topic=topics.reminder, event_types=["reminder"],
               icon="mdi:bell-ring"),
        entity("select", "routine", "Start button routine", command_topic=topics.command("routine"),
               state_topic=topics.state, value_template="{{ value_json.routine }}",
               options=list(routine_names), icon="mdi:format-list-bulleted"),
        entity("switch", "voice", "Voice", command_topic=topics.command("voice"), state_topic=topics.state,
               value_template="{{ value_json.voice }}", payload_on="ON", payload_off="OFF",
               state_on="ON", state_off="OFF", icon="mdi:account-voice"),
        entity("number", "weekly_goal_setting", "Weekly goal setting", command_topic=topics.command("weekly_goal"),
               state_topic=topics.state, value_template="{{ value_json.weekly_goal }}", min=1,
               max=DAYS_PER_WEEK, step=1, mode="box", unit_of_measurement="days", icon="mdi:flag-checkered"),
    ]


# ---------------------------------------------------------------------------- what is received

@dataclass(frozen=True)
class Command:
    """A command from Home Assistant, checked: `value` is None for the buttons."""

    name: str
    value: Union[None, bool, int, str] = None


@dataclass(frozen=True)
class Ignored:
    """A message that is not read, and why (for the log line)."""

    reason: str


def read_command(topics: Topics, topic: str, payload: bytes, routine_names: Sequence[str]) -> Union[Command, Ignored]:
    """A message on one of this screen's command topics, or why it is ignored."""
    prefix, suffix = topics.own + "/", "/set"
    name = topic[len(prefix):-len(suffix)] if topic.startswith(prefix) and topic.endswith(suffix) else ""
    if name not in COMMANDS:
        return Ignored(f"no such command {name or topic!r}")
    text = _short_text(payload)
    if text is None:
        return Ignored(f"{name}: the message is not short text")
    if name in ("start", "pause", "stop", "not_today"):
        return Command(name) if text == PRESS else Ignored(f"{name}: expected {PRESS}, not {text[:40]!r}")
    if name == "voice":
        if text.upper() in ("ON", "OFF"):
            return Command(name, text.upper() == "ON")
        return Ignored(f"voice: expected ON or OFF, not {text[:40]!r}")
    if name == "weekly_goal":
        try:
            number = float(text)
        except ValueError:
            return Ignored(f"weekly_goal: not a number: {text[:40]!r}")
        if not math.isfinite(number) or number != int(number) or not 1 <= number <= DAYS_PER_WEEK:
            return Ignored(f"weekly_goal: must be a whole number from 1 to {DAYS_PER_WEEK}, not {text[:40]!r}")
        return Command(name, int(number))
    if text not in routine_names:
        return Ignored(f"routine: no routine named {text[:40]!r}")
    return Command(name, text)


def _short_text(payload: bytes) -> Optional[str]:
    if len(payload) > 200:
        return None
    try:
        return payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        return None


def read_session(topics: Topics, topic: str, payload: bytes) -> Union[SessionRecord, Ignored, None]:
    """A session from the household topic, checked as strictly as the log's own records.

    None for an empty payload (a retained message being cleared): nothing to merge, nothing wrong.
    """
    prefix = topics.session_record("")
    session_id = topic[len(prefix):] if topic.startswith(prefix) else ""
    if not _SESSION_ID.fullmatch(session_id):
        return Ignored(f"not a session topic: {topic[:120]!r}")
    if not payload:
        return None
    if len(payload) > MAX_MESSAGE_BYTES:
        return Ignored(f"session {session_id}: {len(payload)} bytes, more than {MAX_MESSAGE_BYTES}")
    try:
        data = json.loads(payload.decode("utf-8"), parse_constant=_no_constant)
        record = SessionRecord.from_dict(data)
    except (UnicodeDecodeError, ValueError, TypeError, RecursionError, ArithmeticError) as error:
        return Ignored(f"session {session_id}: {str(error)[:200]}")
    if record.id != session_id:
        return Ignored(f"session {session_id}: the record's id is {record.id[:64]!r}")
    return record


_NEVER = dt.datetime.min.replace(tzinfo=dt.timezone.utc)


def news_for(heard: Optional[SessionRecord], local: SessionRecord) -> bool:
    """Whether this screen's copy tells the broker (holding `heard`) something: a session it
    lacks, a later rating, a trusted dating. Never a mere difference, or two screens whose
    copies differ in what does not travel would send theirs back and forth for ever."""
    return heard is None or merged(heard, local) is not None


def _rating_order(record: SessionRecord) -> Tuple[dt.datetime, int, str]:
    """Which of two copies' ratings is kept: the later noted; for the same moment (or none
    noted) the higher rating, then the text: a total order, so every screen keeps the same one
    whatever order the copies arrive in."""
    noted = parse_utc(record.pain_noted_utc) if record.pain_noted_utc else _NEVER
    return noted, -1 if record.pain is None else record.pain, record.pain_noted_utc


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def merged(local: Optional[SessionRecord], remote: SessionRecord) -> Optional[SessionRecord]:
    """What the log should hold after hearing `remote`, or None when it already holds it.

    A session is added once, by id, without the other machine's clock evidence. After that
    only two things travel: a pain rating
    given later (the later `pain_noted_utc` wins), and a session dated again after its
    clock was found wrong (a trusted dating wins over an unverified one).
    """
    if local is None:
        # The clock evidence is the other machine's (its monotonic clock, its boot): here it
        # would make the session look timed by this kiosk's clock and judge this kiosk's own
        # sessions by it. Its own screen dates it again if it must; that dating travels.
        return replace(remote, clock_monotonic_s=None, clock_boot_id="")
    result = local
    if _rating_order(remote) > _rating_order(local):
        result = replace(result, pain=remote.pain, pain_noted_utc=remote.pain_noted_utc)
    if local.clock_unverified and not remote.clock_unverified:
        result = replace(result, started_utc=remote.started_utc, ended_utc=remote.ended_utc,
                         local_date=remote.local_date, utc_offset=remote.utc_offset, clock_unverified=False,
                         clock_repaired_from=remote.clock_repaired_from)
    if not local.screen and remote.screen:
        result = replace(result, screen=remote.screen)
    return None if result == local else result
