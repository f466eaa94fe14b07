"""Decoding payloads: Zigbee2MQTT semantics, plain payloads, and no crash on any bytes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from agent.config.schema import SensorConfig
from agent.decode import DecodeError, Decoder, UnknownTopic
from agent.decode.appliance import PowerHysteresis
from tests.conftest import ROOT

AT = datetime(2024, 5, 1, 8, tzinfo=UTC)


def sensor(id: str, kind: str, role: str, topic: str, style: str = "zigbee2mqtt") -> SensorConfig:
    return SensorConfig.model_validate(
        {
            "id": id,
            "kind": kind,
            "room": "r",
            "role": role,
            "mqtt": {"topic": topic, "style": style},
        }
    )


DECODER_SENSORS = [
    sensor("door", "contact", "front_door", "z2m/door"),
    sensor("pir", "motion", "kitchen", "z2m/pir"),
    sensor("kettle", "power", "kettle", "z2m/kettle"),
    sensor("hall", "motion", "hallway", "stat/hall/POWER", "plain"),
    sensor("plug", "power", "appliance", "tele/plug/watts", "plain"),
]


def readings(d: Decoder, topic: str, payload: bytes) -> list[tuple[str, str, float]]:
    return [(e.sensor, e.reading, e.value) for e in d.decode(topic, payload, AT)]


def test_z2m_contact_true_means_closed() -> None:
    d = Decoder(DECODER_SENSORS)
    assert readings(d, "z2m/door", b'{"contact": true}') == [("door", "contact", 0.0)]
    assert readings(d, "z2m/door", b'{"contact": false, "battery_low": true}') == [
        ("door", "contact", 1.0),
        ("door", "battery_low", 1.0),
    ]


def test_z2m_occupancy_battery_and_link_quality() -> None:
    d = Decoder(DECODER_SENSORS)
    got = readings(
        d, "z2m/pir", b'{"occupancy": true, "battery": 87, "linkquality": 96, "illuminance": 3}'
    )
    assert got == [("pir", "motion", 1.0), ("pir", "battery", 87.0), ("pir", "link_quality", 96.0)]


def test_kettle_power_becomes_one_use_with_hysteresis() -> None:
    d = Decoder(DECODER_SENSORS)
    uses = []
    for watts in (0.4, 2200, 1950, 700, 2100, 30, 2.0):
        for e in d.decode("z2m/kettle", json.dumps({"power": watts, "state": "ON"}).encode(), AT):
            if e.reading == "appliance":
                uses.append(e.value)
    assert uses == [1.0, 0.0]


def test_plug_switched_off_counts_as_no_power() -> None:
    d = Decoder(DECODER_SENSORS)
    d.decode("z2m/kettle", b'{"power": 2000}', AT)
    assert ("kettle", "appliance", 0.0) in readings(d, "z2m/kettle", b'{"state": "OFF"}')


def test_availability_in_both_z2m_forms_and_plain() -> None:
    d = Decoder(DECODER_SENSORS)
    assert readings(d, "z2m/door/availability", b"offline") == [("door", "availability", 0.0)]
    assert readings(d, "z2m/door/availability", b'{"state":"online"}') == [
        ("door", "availability", 1.0)
    ]
    assert readings(d, "stat/hall/POWER/availability", b"Online") == [("hall", "availability", 1.0)]


def test_plain_payloads() -> None:
    d = Decoder(DECODER_SENSORS)
    assert readings(d, "stat/hall/POWER", b"ON") == [("hall", "motion", 1.0)]
    assert readings(d, "tele/plug/watts", b"12.5") == [("plug", "power", 12.5)]


@pytest.mark.parametrize(
    ("topic", "payload", "says"),
    [
        ("z2m/door", b"{not json", "not JSON"),
        ("z2m/door", b"[1, 2]", "expected a JSON object"),
        ("z2m/door", b'{"contact": "yes"}', "contact should be true or false"),
        ("z2m/kettle", b'{"power": -5}', "power should be a number from 0 to 100000, found -5"),
        # Each of these once stopped sensor reading for good, or was taken as a reading.
        ("z2m/door", b'{"contact": true, "battery": 1' + b"0" * 400 + b"}", r"\(401 characters\)"),
        ("z2m/door", b'{"battery": -1e300}', "battery should be a number from 0 to 100"),
        ("z2m/door", b'{"linkquality": 1e308}', "linkquality should be a number from 0 to 255"),
        ("z2m/door", b"[" * 20_000 + b"]" * 20_000, "not JSON"),
        ("z2m/kettle", b'{"power": "NaN"}', "should be a number"),
        ("z2m/door/availability", b"maybe", "online or offline"),
        ("stat/hall/POWER", b"\xff\xfe", "not text"),
        ("tele/plug/watts", b"inf", "number of watts"),
    ],
)
def test_malformed_payloads_say_what_is_wrong(topic: str, payload: bytes, says: str) -> None:
    with pytest.raises(DecodeError, match=says):
        Decoder(DECODER_SENSORS).decode(topic, payload, AT)


def test_unknown_topic() -> None:
    with pytest.raises(UnknownTopic):
        Decoder(DECODER_SENSORS).decode("z2m/garage", b"{}", AT)


TOPICS = st.sampled_from(
    [t for s in DECODER_SENSORS if s.mqtt for t in (s.mqtt.topic, s.mqtt.topic + "/availability")]
)
JSONISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**500), max_value=10**500)
    | st.floats()
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "contact",
                    "occupancy",
                    "power",
                    "state",
                    "battery",
                    "battery_low",
                    "linkquality",
                    "x",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=10,
)


@given(topic=TOPICS, payload=st.binary(max_size=64))
def test_any_bytes_decode_or_raise_decode_error(topic: str, payload: bytes) -> None:
    try:
        events = Decoder(DECODER_SENSORS).decode(topic, payload, AT)
    except DecodeError:
        return
    assert all(e.value == e.value for e in events)  # no NaN gets through


@given(topic=TOPICS, doc=JSONISH)
def test_any_json_decodes_to_sane_events_or_decode_error(topic: str, doc: object) -> None:
    try:
        payload = json.dumps(doc).encode()
    except ValueError:
        return
    try:
        events = Decoder(DECODER_SENSORS).decode(topic, payload, AT)
    except DecodeError:
        return
    for e in events:
        assert e.value == e.value
        assert abs(e.value) != float("inf")
        if e.reading in ("contact", "motion", "appliance", "availability", "battery_low"):
            assert e.value in (0.0, 1.0)
        if e.reading == "power":
            assert e.value >= 0
        if e.reading == "battery":
            assert 0 <= e.value <= 100


@given(st.lists(st.floats(min_value=0, max_value=3000), max_size=50))
def test_hysteresis_alternates_on_and_off(watts: list[float]) -> None:
    h = PowerHysteresis(1000, 50)
    switches = [s for w in watts if (s := h.update(w)) is not None]
    assert switches == [1.0, 0.0] * (len(switches) // 2) + [1.0] * (len(switches) % 2)


SAMPLES = yaml.safe_load((ROOT / "tests/fixtures/payloads/samples.yaml").read_text())


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: f"{s['style']}:{s['topic']}")
def test_real_payloads_of_tasmota_shelly_and_esphome_give_their_readings(
    sample: dict[str, Any],
) -> None:
    roles = {"power": "kettle", "contact": "front_door", "motion": "hallway", "presence": "lounge"}
    role = roles[sample["kind"]]
    configured = sample.get("sensor_topic", sample["topic"])
    d = Decoder([sensor("s", sample["kind"], role, configured, sample["style"])])
    got = readings(d, sample["topic"], sample["payload"].encode())
    # A kettle's power is also its use: the appliance reading follows from it, tested above.
    assert [(r, v) for _, r, v in got if r != "appliance"] == [tuple(x) for x in sample["readings"]]


@pytest.mark.parametrize(
    ("style", "payload", "says"),
    [
        ("tasmota", b'{"ENERGY": {"Voltage": 231}}', "ENERGY should be an object with Power"),
        ("tasmota", b'{"ENERGY": {"Power": "9 W"}}', "power should be a number from 0 to 100000"),
        ("tasmota", b'{"ENERGY": {"Power": []}}', "ENERGY.Power is an empty list"),
        ("shelly", b'{"apower": -5}', "power should be a number from 0 to 100000"),
        ("shelly", b'{"output": "on"}', "output should be true or false"),
        ("shelly", b"[0]", "expected a JSON object"),
    ],
)
def test_a_plug_that_says_something_wrong_is_told_apart(
    style: str, payload: bytes, says: str
) -> None:
    d = Decoder([sensor("k", "power", "kettle", "plug/status/switch:0", style)])
    with pytest.raises(DecodeError, match=says):
        d.decode("plug/status/switch:0", payload, AT)


def test_each_style_listens_for_its_own_availability_and_a_topic_set_in_the_yaml() -> None:
    plugs = [
        sensor("t", "power", "kettle", "tele/kettle_plug/SENSOR", "tasmota"),
        sensor("s", "power", "microwave", "shelly-1/status/switch:0", "shelly"),
        sensor("e", "motion", "hallway", "hall/binary_sensor/motion/state", "esphome"),
        sensor("z", "contact", "front_door", "z2m/door"),
    ]
    assert Decoder(plugs).topics() == sorted(
        [
            "tele/kettle_plug/SENSOR",
            "tele/kettle_plug/LWT",
            "shelly-1/status/switch:0",
            "shelly-1/online",
            "hall/binary_sensor/motion/state",
            "hall/status",
            "z2m/door",
            "z2m/door/availability",
        ]
    )
    own = SensorConfig.model_validate(
        {
            "id": "t",
            "kind": "power",
            "room": "kitchen",
            "role": "kettle",
            "mqtt": {"topic": "home/kettle/SENSOR", "style": "tasmota",
                     "availability_topic": "home/kettle/LWT"},
        }
    )  # fmt: skip
    d = Decoder([own])
    assert readings(d, "home/kettle/LWT", b"Online") == [("t", "availability", 1.0)]
    # One node's status speaks for each of its sensors.
    node = Decoder(
        [
            sensor("pir", "motion", "hallway", "hall/binary_sensor/motion/state", "esphome"),
            sensor("door", "contact", "front_door", "hall/binary_sensor/door/state", "esphome"),
        ]
    )
    assert readings(node, "hall/status", b"offline") == [
        ("pir", "availability", 0.0),
        ("door", "availability", 0.0),
    ]


@pytest.mark.parametrize(
    ("style", "topic", "present", "absent"),
    [
        ("zigbee2mqtt", "zigbee2mqtt/lounge_radar", b'{"presence": true}', b'{"presence": false}'),
        ("esphome", "radar/binary_sensor/presence/state", b"ON", b"OFF"),
    ],
)
def test_a_radar_saying_present_again_and_again_is_one_arrival_not_movement(
    style: str, topic: str, present: bytes, absent: bytes
) -> None:
    """An mmWave sensor repeats "present" while she is there, still or not (lying on the
    floor, too): only a change is an event, so her stillness is still seen as stillness."""
    d = Decoder([sensor("radar", "presence", "lounge", topic, style)])
    said = [present, present, present, absent, absent, present]
    events = [e for p in said for e in d.decode(topic, p, AT) if e.reading == "presence"]
    assert [e.value for e in events] == [1.0, 0.0, 1.0]
    assert [e.is_activity for e in events] == [True, False, True]
