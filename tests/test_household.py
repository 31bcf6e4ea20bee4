"""The kiosk as a Home Assistant device and one screen of the household: the pure side of MQTT."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from typing import Any, Dict, List, Optional, Sequence, Tuple

import pytest
from factories import make_record, numbered_record
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.core.household import (
    COMMANDS,
    MAX_MESSAGE_BYTES,
    OFFLINE,
    ONLINE,
    PRESS,
    SESSION_STATES,
    Command,
    Device,
    HouseholdState,
    Ignored,
    SessionState,
    Topics,
    discovery_messages,
    household_state,
    merged,
    node_id,
    read_command,
    read_session,
    routine_options,
    session_message,
)
from kiosk.core.model import SessionRecord, parse_utc
from kiosk.core.streaks import DAYS_PER_WEEK, compute_stats

DETERMINISTIC = settings(derandomize=True, database=None, deadline=None, max_examples=300)

TOPICS = Topics("home-exercise-kiosk", "living_room")
DEVICE = Device("living_room", "Living room", "1.2.3")
ROUTINES = ("Morning feet", "Desk break", "Hüfte & Knie \"sanft\"")
HA_ID = re.compile(r"[a-zA-Z0-9_-]+")
"""What Home Assistant's MQTT discovery allows for a node id and an object id in a topic."""
DISCOVERY_TOPIC = re.compile(
    r"(?P<prefix>.+)/(?P<component>sensor|binary_sensor|button|select|switch|number|event)"
    r"/(?P<node>[a-zA-Z0-9_-]+)/(?P<key>[a-zA-Z0-9_-]+)/config")
TEMPLATE = re.compile(r"\{\{ value_json\.([A-Za-z_][A-Za-z0-9_]*) \}\}")


def strict_json(text: str) -> Any:
    def refuse(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")
    return json.loads(text, parse_constant=refuse)


def discovery(topics: Topics = TOPICS, device: Device = DEVICE,
              routines: Sequence[str] = ROUTINES) -> List[Tuple[str, Dict[str, Any]]]:
    return [(topic, strict_json(payload)) for topic, payload in discovery_messages(topics, device, routines)]


def a_state(**changes: Any) -> HouseholdState:
    fields: Dict[str, Any] = dict(daily_streak=2, weekly_streak=1, days_this_week=3, weekly_goal=5,
                                  done_today=True, completed_total=12, last_session="2026-01-02T07:01:30+00:00",
                                  last_pain=3, routine="Desk break", voice=False)
    fields.update(changes)
    return HouseholdState(**fields)


# ---------------------------------------------------------------------------- node ids and topics

@pytest.mark.parametrize("client_id, expected", [
    ("living-room", "living-room"),
    ("Living Room/Pi #1", "Living_Room_Pi_1"),
    ("kiosk+one", "kiosk_one"),
    ("__pi__", "pi"),
    ("", "kiosk"),
    ("///", "kiosk"),
    ("Küche", "K_che"),
])
def test_node_id_keeps_only_what_discovery_allows(client_id: str, expected: str) -> None:
    assert node_id(client_id) == expected


@DETERMINISTIC
@given(st.text())
def test_any_client_id_gives_a_node_id_discovery_accepts(client_id: str) -> None:
    assert HA_ID.fullmatch(node_id(client_id))


def test_the_topics_of_one_screen() -> None:
    assert TOPICS.availability == "home-exercise-kiosk/living_room/availability"
    assert TOPICS.state == "home-exercise-kiosk/living_room/state"
    assert TOPICS.session == "home-exercise-kiosk/living_room/session"
    assert TOPICS.command("start") == "home-exercise-kiosk/living_room/start/set"
    assert TOPICS.commands == "home-exercise-kiosk/living_room/+/set"
    assert TOPICS.sessions == "home-exercise-kiosk/sessions/+"
    assert TOPICS.session_record("abc") == "home-exercise-kiosk/sessions/abc"
    assert TOPICS.home_assistant_status == "homeassistant/status"
    assert TOPICS.discovery("sensor", "daily_streak") == "homeassistant/sensor/living_room/daily_streak/config"


# ---------------------------------------------------------------------------- discovery

def test_every_discovery_payload_is_json_on_a_topic_discovery_reads() -> None:
    messages = discovery()
    assert len(messages) == 17
    topics = [topic for topic, _ in messages]
    assert len(set(topics)) == len(topics)
    for topic, _ in messages:
        match = DISCOVERY_TOPIC.fullmatch(topic)
        assert match, topic
        assert match["prefix"] == "homeassistant" and match["node"] == DEVICE.node


def test_a_custom_prefix_and_an_odd_client_id_still_give_valid_topics() -> None:
    node = node_id("Kitchen Pi #2")
    topics = Topics("home/exercise", node, discovery_prefix="ha/discovery")
    for topic, payload in discovery(topics, Device(node, "Kitchen", "0.1"), ["Only"]):
        match = DISCOVERY_TOPIC.fullmatch(topic)
        assert match and match["prefix"] == "ha/discovery" and match["node"] == node, topic
        assert HA_ID.fullmatch(payload["unique_id"]) and HA_ID.fullmatch(payload["object_id"])
        assert payload["availability_topic"] == "home/exercise/Kitchen_Pi_2/availability"


def test_every_entity_has_its_own_unique_id_and_object_id() -> None:
    payloads = [payload for _, payload in discovery()]
    unique_ids = [payload["unique_id"] for payload in payloads]
    object_ids = [payload["object_id"] for payload in payloads]
    assert len(set(unique_ids)) == len(unique_ids)
    assert len(set(object_ids)) == len(object_ids)
    assert all(HA_ID.fullmatch(unique_id) for unique_id in unique_ids)
    assert all(unique_id.startswith(DEVICE.node + "_") for unique_id in unique_ids)


def test_every_entity_names_the_same_device_and_availability() -> None:
    for _, payload in discovery():
        assert payload["device"] == DEVICE.block()
        assert payload["availability_topic"] == TOPICS.availability
        assert (payload["payload_available"], payload["payload_not_available"]) == (ONLINE, OFFLINE)
        assert payload["origin"]["sw_version"] == DEVICE.version
        assert payload["name"]
    assert DEVICE.block()["identifiers"] == ["home-exercise-kiosk_living_room"]


def test_the_key_in_each_discovery_topic_matches_its_unique_id() -> None:
    for topic, payload in discovery():
        match = DISCOVERY_TOPIC.fullmatch(topic)
        assert match is not None
        assert payload["unique_id"] == f"{DEVICE.node}_{match['key']}"


def test_every_topic_a_payload_names_is_one_of_the_screens_topics() -> None:
    known = {TOPICS.state, TOPICS.session, TOPICS.availability, TOPICS.reminder} | \
        {TOPICS.command(name) for name in COMMANDS}
    named = 0
    for _, payload in discovery():
        for key in ("state_topic", "command_topic", "json_attributes_topic", "availability_topic"):
            if key in payload:
                assert payload[key] in known, (payload["unique_id"], key, payload[key])
                named += 1
    assert named > 15


def test_each_command_topic_is_one_read_command_understands() -> None:
    command_topics = [payload["command_topic"] for _, payload in discovery() if "command_topic" in payload]
    assert sorted(command_topics) == sorted(TOPICS.command(name) for name in COMMANDS)


def test_every_value_template_reads_a_key_of_the_payload_on_its_state_topic() -> None:
    state_keys = set(strict_json(a_state().payload()))
    session_keys = set(strict_json(SessionState().payload()))
    templated = 0
    for _, payload in discovery():
        if "value_template" not in payload:
            continue
        match = TEMPLATE.fullmatch(payload["value_template"])
        assert match, payload["value_template"]
        keys = {TOPICS.state: state_keys, TOPICS.session: session_keys}[payload["state_topic"]]
        assert match[1] in keys, (payload["unique_id"], match[1])
        templated += 1
    assert templated == 12


def test_the_on_off_values_match_what_the_state_payload_holds() -> None:
    by_key = {payload["unique_id"]: payload for _, payload in discovery()}
    done_today, voice = by_key["living_room_done_today"], by_key["living_room_voice"]
    for state in (a_state(done_today=True, voice=True), a_state(done_today=False, voice=False)):
        data = strict_json(state.payload())
        assert data["done_today"] in (done_today["payload_on"], done_today["payload_off"])
        assert data["voice"] in (voice["state_on"], voice["state_off"])
    assert (voice["payload_on"], voice["payload_off"]) == ("ON", "OFF")


def test_the_select_offers_the_routine_names_and_the_session_sensor_its_states() -> None:
    by_key = {payload["unique_id"]: payload for _, payload in discovery()}
    assert by_key["living_room_routine"]["options"] == list(ROUTINES)
    session = by_key["living_room_session"]
    assert session["options"] == list(SESSION_STATES)
    assert session["json_attributes_topic"] == session["state_topic"] == TOPICS.session
    for state in SESSION_STATES:
        assert strict_json(SessionState(state).payload())["state"] in session["options"]


def test_what_the_controls_send_is_a_command_read_command_accepts() -> None:
    """Each button's press, the switch's on and off, every option and every goal the number allows."""
    for _, payload in discovery():
        component_topic = payload.get("command_topic")
        if component_topic is None:
            continue
        if "payload_press" in payload:
            sent = [payload["payload_press"]]
        elif "options" in payload:
            sent = payload["options"]
        elif "payload_on" in payload:
            sent = [payload["payload_on"], payload["payload_off"]]
        else:
            assert (payload["min"], payload["max"], payload["step"]) == (1, DAYS_PER_WEEK, 1)
            sent = [str(value) for value in range(payload["min"], payload["max"] + 1)]
        for text in sent:
            result = read_command(TOPICS, component_topic, text.encode("utf-8"), ROUTINES)
            assert isinstance(result, Command), (component_topic, text, result)


def test_the_state_payload_is_compact_json_with_on_and_off() -> None:
    data = strict_json(a_state().payload())
    assert data == {"daily_streak": 2, "weekly_streak": 1, "days_this_week": 3, "weekly_goal": 5,
                    "done_today": "ON", "completed_total": 12, "last_session": "2026-01-02T07:01:30+00:00",
                    "last_pain": 3, "routine": "Desk break", "voice": "OFF"}
    empty = strict_json(a_state(last_session=None, last_pain=None).payload())
    assert empty["last_session"] is None and empty["last_pain"] is None
    assert strict_json(SessionState("running", "Morning feet", "Toe spreads", 42).payload()) == {
        "state": "running", "routine": "Morning feet", "exercise": "Toe spreads", "seconds_left": 42}


# ---------------------------------------------------------------------------- routine options

def test_routine_options_are_the_names_when_each_is_unique() -> None:
    assert routine_options([("morning", "Morning feet"), ("desk", "Desk break")]) == {
        "Morning feet": "morning", "Desk break": "desk"}
    assert routine_options([]) == {}


def test_routines_sharing_a_name_are_told_apart_by_their_ids() -> None:
    options = routine_options([("a", "Feet"), ("b", "Feet"), ("c", "Hips"), ("d", "Feet")])
    assert options == {"Feet (a)": "a", "Feet (b)": "b", "Hips": "c", "Feet (d)": "d"}


def test_a_name_that_reads_like_another_routines_label_loses_no_routine() -> None:
    routines = [("a", "Feet"), ("b", "Feet"), ("c", "Feet (a)")]
    options = routine_options(routines)
    assert sorted(options.values()) == ["a", "b", "c"]
    assert len(options) == 3


@DETERMINISTIC
@given(st.lists(st.tuples(st.sampled_from("abcdef"), st.sampled_from(["X", "Y", "X (a)", "X (b)", "Y (c)"])),
                unique_by=lambda pair: pair[0]))
def test_every_routine_stays_selectable_by_exactly_one_option(routines: List[Tuple[str, str]]) -> None:
    options = routine_options(routines)
    assert sorted(options.values()) == sorted(routine_id for routine_id, _ in routines)


# ---------------------------------------------------------------------------- commands

@pytest.mark.parametrize("name", ["start", "pause", "stop"])
def test_a_button_press_is_its_command(name: str) -> None:
    assert read_command(TOPICS, TOPICS.command(name), PRESS.encode(), ROUTINES) == Command(name)
    assert read_command(TOPICS, TOPICS.command(name), b" PRESS\n", ROUTINES) == Command(name)


@pytest.mark.parametrize("payload", [b"press", b"", b"ON", b"PRESS PRESS", b"1"])
@pytest.mark.parametrize("name", ["start", "pause", "stop"])
def test_a_button_ignores_anything_but_press(name: str, payload: bytes) -> None:
    result = read_command(TOPICS, TOPICS.command(name), payload, ROUTINES)
    assert isinstance(result, Ignored) and result.reason.startswith(name)


@pytest.mark.parametrize("payload, value", [(b"ON", True), (b"OFF", False), (b"on", True), (b" off\n", False)])
def test_the_voice_switch(payload: bytes, value: bool) -> None:
    assert read_command(TOPICS, TOPICS.command("voice"), payload, ROUTINES) == Command("voice", value)


@pytest.mark.parametrize("payload", [b"true", b"1", b"", b"ONN", b"PRESS"])
def test_the_voice_switch_ignores_other_words(payload: bytes) -> None:
    assert isinstance(read_command(TOPICS, TOPICS.command("voice"), payload, ROUTINES), Ignored)


@pytest.mark.parametrize("payload, goal", [(b"1", 1), (b"7", 7), (b"3", 3), (b"3.0", 3), (b" 5 \n", 5),
                                            (b"4e0", 4), (b"6.000", 6)])
def test_a_weekly_goal_from_1_to_7(payload: bytes, goal: int) -> None:
    result = read_command(TOPICS, TOPICS.command("weekly_goal"), payload, ROUTINES)
    assert result == Command("weekly_goal", goal)
    assert isinstance(result, Command) and type(result.value) is int


@pytest.mark.parametrize("payload", [b"0", b"8", b"-3", b"3.5", b"nan", b"NaN", b"inf", b"-inf", b"1e400",
                                     b"", b"three", b"0x3", b"7.0000001", b"true"])
def test_a_weekly_goal_outside_1_to_7_or_not_whole_is_ignored(payload: bytes) -> None:
    result = read_command(TOPICS, TOPICS.command("weekly_goal"), payload, ROUTINES)
    assert isinstance(result, Ignored) and result.reason.startswith("weekly_goal")


def test_a_routine_is_chosen_by_its_name() -> None:
    for name in ROUTINES:
        assert read_command(TOPICS, TOPICS.command("routine"), name.encode("utf-8"), ROUTINES) == \
            Command("routine", name)


@pytest.mark.parametrize("payload", [b"desk break", b"Desk", b"Nope", b"", b"desk"])
def test_a_routine_not_among_the_options_is_ignored(payload: bytes) -> None:
    result = read_command(TOPICS, TOPICS.command("routine"), payload, ROUTINES)
    assert isinstance(result, Ignored) and result.reason.startswith("routine")


@pytest.mark.parametrize("topic", [
    "home-exercise-kiosk/living_room/reboot/set",
    "home-exercise-kiosk/living_room/start",
    "home-exercise-kiosk/living_room/start/set/",
    "home-exercise-kiosk/living_room/start/extra/set",
    "home-exercise-kiosk/living_room/set",
    "home-exercise-kiosk/living_room//set",
    "home-exercise-kiosk/kitchen/start/set",
    "home-exercise-kiosk/living_room2/start/set",
    "other/living_room/start/set",
    "home-exercise-kiosk/sessions/abc",
    "home-exercise-kiosk/living_room/state",
    "homeassistant/status",
    "",
])
def test_a_message_on_any_other_topic_is_no_command(topic: str) -> None:
    result = read_command(TOPICS, topic, PRESS.encode(), ROUTINES)
    assert isinstance(result, Ignored) and result.reason.startswith("no such command")


@pytest.mark.parametrize("name, payload", [
    ("start", PRESS.encode() + b" " * 300),
    ("weekly_goal", b"3" + b" " * 250),
    ("routine", ROUTINES[0].encode() + b" " * 250),
    ("voice", b"\xff\xfeON"),
    ("start", b"PRESS\xc3"),
    ("weekly_goal", b"\x80"),
])
def test_an_oversized_or_binary_payload_is_ignored(name: str, payload: bytes) -> None:
    result = read_command(TOPICS, TOPICS.command(name), payload, ROUTINES)
    assert result == Ignored(f"{name}: the message is not short text")


@DETERMINISTIC
@given(name=st.sampled_from(COMMANDS), payload=st.binary(max_size=400))
def test_any_bytes_give_a_checked_command_or_a_short_reason(name: str, payload: bytes) -> None:
    result = read_command(TOPICS, TOPICS.command(name), payload, ROUTINES)
    if isinstance(result, Ignored):
        assert len(result.reason) < 600
        return
    assert result.name == name
    if name in ("start", "pause", "stop"):
        assert result.value is None
    elif name == "voice":
        assert type(result.value) is bool
    elif name == "weekly_goal":
        assert type(result.value) is int and 1 <= result.value <= DAYS_PER_WEEK
    else:
        assert result.value in ROUTINES


# ---------------------------------------------------------------------------- sessions from other screens

def a_session(**changes: Any) -> SessionRecord:
    return numbered_record(1, **changes)


def message(record: SessionRecord, topics: Topics = TOPICS) -> Tuple[str, bytes]:
    topic, payload = session_message(topics, record)
    return topic, payload.encode("utf-8")


def test_a_session_travels_whole() -> None:
    record = a_session(screen="Küche", pain_noted_utc="2026-01-02T08:00:00Z", routine="hüfte-sanft",
                       clock_monotonic_s=12.5, clock_boot_id="boot-1", interrupted=True, extra={"mood": "fine"})
    topic, payload = message(record)
    assert topic == "home-exercise-kiosk/sessions/session-00001"
    assert read_session(TOPICS, topic, payload) == record


@DETERMINISTIC
@given(pain=st.one_of(st.none(), st.integers(0, 10)), screen=st.text(max_size=20),
       minute=st.integers(0, 59), unverified=st.booleans())
def test_any_valid_session_round_trips(pain: Optional[int], screen: str, minute: int, unverified: bool) -> None:
    record = a_session(pain=pain, screen=screen, pain_noted_utc=f"2026-01-02T08:{minute:02d}:00Z",
                       clock_unverified=unverified)
    assert read_session(TOPICS, *message(record)) == record


def test_an_empty_message_clears_and_is_nothing_to_merge() -> None:
    assert read_session(TOPICS, TOPICS.session_record("session-00001"), b"") is None


def test_a_record_under_another_sessions_id_is_ignored() -> None:
    _, payload = message(a_session())
    result = read_session(TOPICS, TOPICS.session_record("session-00002"), payload)
    assert isinstance(result, Ignored) and "session-00001" in result.reason


@pytest.mark.parametrize("payload", [
    b"{not json", b"{", b'{"id": "session-00001"', b"\xff\xfe{}", b"[" * 50_000, b"   ",
])
def test_a_payload_that_is_not_json_is_ignored(payload: bytes) -> None:
    result = read_session(TOPICS, TOPICS.session_record("session-00001"), payload)
    assert isinstance(result, Ignored) and result.reason.startswith("session session-00001: ")


@pytest.mark.parametrize("field, constant", [("planned_s", "NaN"), ("active_s", "Infinity"),
                                             ("clock_monotonic_s", "-Infinity"), ("mood", "NaN")])
def test_nan_and_infinity_are_not_json(field: str, constant: str) -> None:
    data = a_session().to_dict()
    data[field] = 0
    payload = json.dumps(data).replace(f'"{field}": 0', f'"{field}": {constant}').encode()
    assert constant.encode() in payload
    result = read_session(TOPICS, TOPICS.session_record("session-00001"), payload)
    assert isinstance(result, Ignored) and "not a number JSON allows" in result.reason


@pytest.mark.parametrize("payload", [b"[]", b'"session-00001"', b"5", b"null", b"true", b"[{}]"])
def test_a_payload_that_is_not_an_object_is_ignored(payload: bytes) -> None:
    assert isinstance(read_session(TOPICS, TOPICS.session_record("session-00001"), payload), Ignored)


@pytest.mark.parametrize("change", [
    {"pain": 11}, {"pain": -1}, {"pain": "3"}, {"pain": True}, {"pain": 2.5},
    {"started_utc": "yesterday"}, {"ended_utc": "2026-01-02T25:00:00Z"}, {"local_date": "2026-13-01"},
    {"pain_noted_utc": "soon"}, {"pain_noted_utc": "2026-02-30T08:00:00Z"}, {"completed": "yes"},
    {"source": "phone"}, {"screen": 5}, {"planned_s": -1}, {"steps_done": 1.5}, {"id": 7},
])
def test_a_record_with_an_invalid_field_is_ignored(change: Dict[str, Any]) -> None:
    data = dict(a_session().to_dict(), **change)
    result = read_session(TOPICS, TOPICS.session_record("session-00001"), json.dumps(data).encode())
    assert isinstance(result, Ignored), change
    assert len(result.reason) <= 250


def test_a_record_lacking_required_fields_is_ignored() -> None:
    result = read_session(TOPICS, TOPICS.session_record("session-00001"), b'{"id": "session-00001"}')
    assert isinstance(result, Ignored) and "lacks" in result.reason


def padded_to(size: int) -> bytes:
    """A valid record's message of exactly `size` bytes (a newer version's field carries the padding)."""
    base = message(a_session(extra={"notes": ""}))[1]
    payload = message(a_session(extra={"notes": "x" * (size - len(base))}))[1]
    assert len(payload) == size
    return payload


def test_a_message_of_max_message_bytes_is_read_and_one_byte_more_is_not() -> None:
    topic = TOPICS.session_record("session-00001")
    assert isinstance(read_session(TOPICS, topic, padded_to(MAX_MESSAGE_BYTES)), SessionRecord)
    result = read_session(TOPICS, topic, padded_to(MAX_MESSAGE_BYTES + 1))
    assert isinstance(result, Ignored) and f"more than {MAX_MESSAGE_BYTES}" in result.reason
    assert isinstance(read_session(TOPICS, topic, b"{" * (10 * MAX_MESSAGE_BYTES)), Ignored)


@pytest.mark.parametrize("session_id", [
    "a/b", "+", "#", "", "a" * 65, "abc\n", "ab c", "ümlaut", "a+b", "..", "abc\x00",
])
def test_a_topic_with_a_bad_session_id_is_ignored(session_id: str) -> None:
    record = a_session(id=session_id)
    topic = TOPICS.session_record(session_id)
    result = read_session(TOPICS, topic, json.dumps(record.to_dict()).encode())
    assert isinstance(result, Ignored) and result.reason.startswith("not a session topic"), session_id
    assert isinstance(read_session(TOPICS, topic, b""), Ignored)


@pytest.mark.parametrize("topic", [
    "other/sessions/session-00001",
    "home-exercise-kiosk/session/session-00001",
    "home-exercise-kiosk/living_room/session",
    "home-exercise-kiosk/sessions",
])
def test_a_message_off_the_sessions_topic_is_ignored(topic: str) -> None:
    assert isinstance(read_session(TOPICS, topic, message(a_session())[1]), Ignored)


def test_a_session_id_of_64_letters_is_read() -> None:
    record = a_session(id="a" * 64)
    assert read_session(TOPICS, *message(record)) == record


# ---------------------------------------------------------------------------- merging

T1, T2, T3 = "2026-01-02T08:00:00Z", "2026-01-02T09:00:00Z", "2026-01-02T10:00:00Z"


def test_a_new_session_is_taken_whole() -> None:
    remote = a_session(screen="Kitchen", pain=4, pain_noted_utc=T1)
    assert merged(None, remote) == remote


def test_the_same_session_again_changes_nothing() -> None:
    record = a_session(pain=4, pain_noted_utc=T1, screen="Kitchen")
    assert merged(record, record) is None
    assert merged(record, dataclasses.replace(record)) is None


def test_a_later_pain_rating_wins() -> None:
    local = a_session(pain=3, pain_noted_utc=T1)
    result = merged(local, a_session(pain=7, pain_noted_utc=T2))
    assert result == a_session(pain=7, pain_noted_utc=T2)


def test_an_earlier_or_equally_old_pain_rating_loses() -> None:
    local = a_session(pain=3, pain_noted_utc=T2)
    assert merged(local, a_session(pain=7, pain_noted_utc=T1)) is None
    assert merged(local, a_session(pain=3, pain_noted_utc=T2)) is None


def test_a_rating_without_a_time_never_replaces_a_timed_one() -> None:
    assert merged(a_session(pain=3, pain_noted_utc=T1), a_session(pain=7, pain_noted_utc="")) is None


def test_two_ratings_without_a_time_settle_on_the_same_one_in_either_order() -> None:
    low, high = a_session(pain=3, pain_noted_utc=""), a_session(pain=7, pain_noted_utc="")
    assert merged(low, high) == high and merged(high, low) is None


def test_a_timed_rating_replaces_one_without_a_time() -> None:
    assert merged(a_session(pain=3), a_session(pain=7, pain_noted_utc=T1)) == a_session(pain=7, pain_noted_utc=T1)


def test_a_later_cleared_rating_clears() -> None:
    assert merged(a_session(pain=3, pain_noted_utc=T1), a_session(pain=None, pain_noted_utc=T2)) == \
        a_session(pain=None, pain_noted_utc=T2)


def test_ratings_are_compared_as_moments_not_as_text() -> None:
    local = a_session(pain=3, pain_noted_utc="2026-01-02T10:00:00+02:00")  # 08:00 UTC
    later = a_session(pain=7, pain_noted_utc="2026-01-02T09:00:00Z")
    assert merged(local, later) == later
    earlier = a_session(pain=7, pain_noted_utc="2026-01-02T09:30:00+03:00")  # 06:30 UTC
    assert merged(later, earlier) is None


def unverified_copy() -> SessionRecord:
    """The session as a screen with a wrong clock saved it."""
    return a_session(started_utc="2020-01-01T00:00:00Z", ended_utc="2020-01-01T00:00:30Z", local_date="2020-01-01",
                     utc_offset="+00:00", clock_unverified=True, clock_monotonic_s=5.0, clock_boot_id="boot-1")


def test_an_unverified_local_session_takes_the_trusted_dating() -> None:
    local = unverified_copy()
    remote = a_session(clock_monotonic_s=5.0, clock_boot_id="boot-1", clock_repaired_from="2020-01-01T00:00:00Z")
    result = merged(local, remote)
    assert result is not None
    assert (result.started_utc, result.ended_utc, result.local_date, result.utc_offset) == \
        (remote.started_utc, remote.ended_utc, remote.local_date, remote.utc_offset)
    assert result.clock_unverified is False and result.clock_repaired_from == "2020-01-01T00:00:00Z"
    assert merged(result, remote) is None


def test_a_trusted_dating_is_taken_as_its_screen_holds_it() -> None:
    """Its evidence comes from the trusted copy only, so the result does not depend on which copy came first."""
    local = unverified_copy()
    trusted = a_session(clock_monotonic_s=5.0, clock_boot_id="boot-1")
    result = merged(local, trusted)
    assert result is not None and result.clock_repaired_from == "" and result.started_utc == trusted.started_utc
    assert merged(trusted, local) is None


def test_a_trusted_local_session_ignores_an_unverified_copy() -> None:
    assert merged(a_session(), unverified_copy()) is None
    assert merged(unverified_copy(), dataclasses.replace(unverified_copy(), started_utc="2021-01-01T00:00:00Z")) \
        is None


def test_the_screen_is_filled_in_but_never_changed() -> None:
    assert merged(a_session(), a_session(screen="Kitchen")) == a_session(screen="Kitchen")
    assert merged(a_session(screen="Hall"), a_session(screen="Kitchen")) is None
    assert merged(a_session(screen="Hall"), a_session(screen="")) is None


def test_nothing_else_travels() -> None:
    local = a_session()
    remote = a_session(routine="hip-basics", planned_s=1.0, active_s=1.0, completed=False, steps_done=0,
                       source="cli", interrupted=True, extra={"mood": "fine"})
    assert merged(local, remote) is None


PAINS = st.one_of(st.none(), st.integers(0, 10))
NOTED = st.sampled_from(["", T1, T2, T3])


def copies_of_one_session(pain_and_noted: List[Tuple[Optional[int], str]]) -> List[SessionRecord]:
    return [a_session(pain=pain, pain_noted_utc=noted) for pain, noted in pain_and_noted]


def folded(copies: Sequence[SessionRecord]) -> Optional[SessionRecord]:
    """What a log holds after hearing the copies one after another."""
    local: Optional[SessionRecord] = None
    for remote in copies:
        result = merged(local, remote)
        if result is not None:
            local = result
    return local


@DETERMINISTIC
@given(pain_and_noted=st.lists(st.tuples(PAINS, NOTED), min_size=1, max_size=6), data=st.data())
def test_merging_copies_in_any_order_ends_in_the_same_record(
        pain_and_noted: List[Tuple[Optional[int], str]], data: st.DataObject) -> None:
    copies = copies_of_one_session(pain_and_noted)
    reordered = data.draw(st.permutations(copies))
    assert folded(copies) == folded(reordered)


@DETERMINISTIC
@given(local=st.tuples(PAINS, NOTED, st.booleans(), st.sampled_from(["", "Hall"])),
       remote=st.tuples(PAINS, NOTED, st.booleans(), st.sampled_from(["", "Kitchen"])))
def test_merging_the_result_again_changes_nothing(local: Tuple[Any, ...], remote: Tuple[Any, ...]) -> None:
    def copy(pain: Optional[int], noted: str, unverified: bool, screen: str) -> SessionRecord:
        base = unverified_copy() if unverified else a_session()
        return dataclasses.replace(base, pain=pain, pain_noted_utc=noted, screen=screen)

    mine, theirs = copy(*local), copy(*remote)
    result = merged(mine, theirs)
    assert result != mine
    if result is None:
        return
    assert merged(result, theirs) is None
    assert (result.id, result.routine, result.planned_s, result.completed) == \
        (mine.id, mine.routine, mine.planned_s, mine.completed)


# ---------------------------------------------------------------------------- the state from the log

TODAY = dt.date(2026, 1, 10)
NOW = dt.datetime(2026, 1, 10, 18, 0, tzinfo=dt.timezone.utc)


def test_the_state_carries_the_streaks() -> None:
    records = [make_record(TODAY - dt.timedelta(days=offset)) for offset in (0, 1, 2)]
    records.append(make_record(TODAY - dt.timedelta(days=5), completed=False))
    stats = compute_stats(records, TODAY, weekly_goal=3, now=NOW)
    state = household_state(stats, records, routine="Desk break", voice=True)
    assert (state.daily_streak, state.weekly_streak, state.days_this_week, state.weekly_goal) == \
        (stats.current_daily_streak, stats.current_weekly_streak, stats.this_week_days_done, 3)
    assert (state.done_today, state.completed_total) == (stats.done_today, stats.completed_sessions)
    assert (state.daily_streak, state.done_today, state.completed_total) == (3, True, 3)
    assert (state.routine, state.voice) == ("Desk break", True)


def test_before_the_first_session_there_is_no_last_session_or_pain() -> None:
    state = household_state(compute_stats([], TODAY, now=NOW), [], routine="", voice=False)
    assert (state.last_session, state.last_pain, state.completed_total, state.done_today) == (None, None, 0, False)
    assert strict_json(state.payload())["last_session"] is None


def session(number: int, ended: str, pain: Optional[int] = None, noted: str = "", **changes: Any) -> SessionRecord:
    return numbered_record(number, started_utc=ended, ended_utc=ended, local_date=ended[:10], pain=pain,
                           pain_noted_utc=noted, **changes)


def state_of(records: Sequence[SessionRecord]) -> HouseholdState:
    return household_state(compute_stats(records, TODAY, now=NOW), records, routine="r", voice=True)


def test_the_last_session_is_the_newest_end_whatever_the_order() -> None:
    records = [session(2, "2026-01-09T07:00:00Z"), session(3, "2026-01-10T07:00:00Z"),
               session(1, "2026-01-08T07:00:00Z")]
    state = state_of(records)
    assert state.last_session == "2026-01-10T07:00:00+00:00"
    assert parse_utc(state.last_session) == dt.datetime(2026, 1, 10, 7, tzinfo=dt.timezone.utc)


def test_the_last_session_compares_moments_not_text() -> None:
    records = [session(1, "2026-01-10T09:00:00+05:00"), session(2, "2026-01-10T07:00:00Z")]  # 04:00Z, 07:00Z
    assert state_of(records).last_session == "2026-01-10T07:00:00+00:00"


def test_the_last_pain_is_the_most_recently_noted_rating() -> None:
    records = [session(1, "2026-01-08T07:00:00Z", pain=6, noted="2026-01-10T12:00:00Z"),
               session(2, "2026-01-10T07:00:00Z", pain=2, noted="2026-01-10T07:30:00Z"),
               session(3, "2026-01-10T08:00:00Z", pain=None, noted="2026-01-10T13:00:00Z")]
    assert state_of(records).last_pain == 6


def test_a_rating_without_a_time_counts_from_the_sessions_end() -> None:
    records = [session(1, "2026-01-08T07:00:00Z", pain=6, noted="2026-01-09T12:00:00Z"),
               session(2, "2026-01-10T07:00:00Z", pain=2)]
    assert state_of(records).last_pain == 2
    records = [session(1, "2026-01-08T07:00:00Z", pain=6, noted="2026-01-10T12:00:00Z"),
               session(2, "2026-01-10T07:00:00Z", pain=2)]
    assert state_of(records).last_pain == 6


def test_the_last_pain_compares_moments_not_text() -> None:
    records = [session(1, "2026-01-09T07:00:00Z", pain=6, noted="2026-01-10T12:00:00+05:00"),  # 07:00Z
               session(2, "2026-01-09T08:00:00Z", pain=2, noted="2026-01-10T08:00:00Z")]
    assert state_of(records).last_pain == 2


def test_unverified_sessions_are_left_out() -> None:
    records = [session(1, "2026-01-09T07:00:00Z", pain=4, noted="2026-01-09T08:00:00Z"),
               session(2, "2026-01-10T07:00:00Z", pain=9, noted="2026-01-10T08:00:00Z", clock_unverified=True)]
    state = state_of(records)
    assert (state.last_session, state.last_pain) == ("2026-01-09T07:00:00+00:00", 4)
    only_unverified = [records[1]]
    assert (state_of(only_unverified).last_session, state_of(only_unverified).last_pain) == (None, None)


@pytest.mark.parametrize("client_id", ["living-room", "Kiosk-RaspberryPi-3d1219c7", "a.b c"])
def test_the_suggested_entity_ids_are_ones_home_assistant_accepts(client_id: str) -> None:
    """Lower case letters, digits and _ after the domain: Home Assistant refuses anything else."""
    node = node_id(client_id)
    for topic, entity in discovery(Topics("home-exercise-kiosk", node), Device(node, "Kiosk", "1")):
        domain = topic.split("/")[1]
        assert re.fullmatch(rf"{domain}\.[a-z0-9_]+", entity["default_entity_id"]), entity["default_entity_id"]
        assert entity["default_entity_id"] == f"{domain}.{entity['object_id']}"
