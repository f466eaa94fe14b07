"""``hearth pair``: devices heard on a real Mosquitto that the YAML does not read yet, each with
a stanza that, pasted into the YAML, loads and reads that device's payloads."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from hypothesis import given
from hypothesis import strategies as st
from paho.mqtt import publish

if TYPE_CHECKING:
    from paho.mqtt.publish import MessagesList

from agent.config import load_config
from agent.decode import Decoder
from agent.decode.devices import Found, recognise, stanza
from tests.conftest import ROOT, Mosquitto, hearth
from tests.test_live_mqtt import live_doc

AT_NOW = "2026-12-02T10:00:00+00:00"

BRIDGE_DEVICES = [
    {"friendly_name": "Coordinator", "type": "Coordinator", "definition": None},
    {
        "friendly_name": "back door",
        "type": "EndDevice",
        "definition": {
            "vendor": "Aqara",
            "model": "MCCGQ11LM",
            "exposes": [{"type": "binary", "name": "contact", "property": "contact"}],
        },
    },
    {
        "friendly_name": "lounge_radar",
        "type": "Router",
        "definition": {
            "vendor": "Aqara",
            "model": "RTCZCGQ11LM",
            "exposes": [
                {"type": "binary", "name": "presence", "property": "presence"},
                {"type": "enum", "name": "presence_event", "property": "presence_event"},
            ],
        },
    },
    {
        "friendly_name": "microwave_plug",
        "type": "Router",
        "definition": {
            "vendor": "IKEA",
            "model": "E1603",
            "exposes": [
                {"type": "switch", "features": [{"name": "state", "property": "state"}]},
                {"type": "numeric", "name": "power", "property": "power"},
            ],
        },
    },
    # Already in the YAML: not listed.
    {
        "friendly_name": "kettle",
        "type": "Router",
        "definition": {"vendor": "x", "model": "y", "exposes": [{"name": "power"}]},
    },
    # A button: nothing Hearth reads.
    {
        "friendly_name": "remote",
        "type": "EndDevice",
        "definition": {"vendor": "x", "model": "z", "exposes": [{"name": "action"}]},
    },
]
OTHERS = [
    ("tele/bedroom_kettle/SENSOR", b'{"Time":"2026-12-02T10:00:00","ENERGY":{"Power":0}}'),
    ("shellyplus1pm-a8032ab12345/status/switch:0", b'{"id":0,"output":true,"apower":2118.4}'),
    ("hall-node/binary_sensor/hall_pir/state", b"OFF"),
    ("hall-node/status", b"online"),
    ("hearth/live-home/status", b"online"),
    ("zigbee2mqtt/bridge/state", b'{"state":"online"}'),
]


class Indented(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def kinds(topic: str, payload: bytes) -> list[tuple[str, str, str]]:
    return [(f.kind, f.style, f.name) for f in recognise(topic, payload)]


def test_each_style_is_recognised_by_what_hearth_reads_in_it() -> None:
    bridge = json.dumps(BRIDGE_DEVICES).encode()
    assert kinds("zigbee2mqtt/bridge/devices", bridge) == [
        ("contact", "zigbee2mqtt", "back door"),
        ("presence", "zigbee2mqtt", "lounge_radar"),
        ("power", "zigbee2mqtt", "microwave_plug"),
        ("power", "zigbee2mqtt", "kettle"),
    ]
    assert kinds("zigbee2mqtt/lounge_pir", b'{"occupancy":true,"battery":90}') == [
        ("motion", "zigbee2mqtt", "lounge_pir")
    ]
    assert kinds(*OTHERS[0]) == [("power", "tasmota", "bedroom_kettle")]
    assert kinds(*OTHERS[1]) == [("power", "shelly", "shellyplus1pm-a8032ab12345")]
    assert kinds(*OTHERS[2]) == [("motion", "esphome", "hall-node_hall_pir")]
    assert kinds("node/binary_sensor/front_door/state", b"ON") == [
        ("contact", "esphome", "node_front_door")
    ]
    assert kinds("node/binary_sensor/presence/state", b"ON")[0][0] == "presence"
    assert kinds("node/sensor/kettle_power/state", b"2100.5")[0][0] == "power"
    # Not devices Hearth reads: availability, its own topics, a plug's energy total, a button.
    for topic, payload in [*OTHERS[3:], ("node/sensor/temperature/state", b"21.5")]:
        assert kinds(topic, payload) == []
    assert kinds("zigbee2mqtt/remote", b'{"action":"single"}') == []
    assert kinds("tele/plug/SENSOR", b'{"ENERGY":{"Voltage":231}}') == []


@given(st.text(max_size=60), st.binary(max_size=300))
def test_no_message_breaks_the_recogniser(topic: str, payload: bytes) -> None:
    for f in recognise(topic, payload):
        assert f.kind in ("contact", "motion", "presence", "power")


def test_a_stanza_names_its_room_and_role_where_the_name_says_and_its_id_is_new() -> None:
    taken = {"back_door"}
    door = stanza(Found("zigbee2mqtt/back door", "zigbee2mqtt", "contact", "back door", ""), taken)
    assert door.splitlines() == [
        "  - id: back_door_2",
        "    kind: contact",
        "    room: kitchen  # check the room",
        "    role: back_door",
        '    mqtt: {topic: "zigbee2mqtt/back door", style: zigbee2mqtt}',
    ]
    odd = stanza(Found("z/x", "zigbee2mqtt", "motion", "0x00158d0001", ""), taken)
    assert "    room: room  # set the room\n    role: room\n" in odd


def test_pair_lists_what_a_real_broker_carries_and_the_stanzas_load(
    broker: Mosquitto, tmp_path: Path
) -> None:
    doc = live_doc(broker, broker, tmp_path / "home.sqlite")
    path = tmp_path / "home.yaml"
    # Indented as a technician's file is (and the examples are), the stanzas' way.
    path.write_text(yaml.dump(doc, Dumper=Indented), encoding="utf-8")
    retained: MessagesList = [("zigbee2mqtt/bridge/devices", json.dumps(BRIDGE_DEVICES), 1, True)]
    publish.multiple(retained, hostname=broker.host, port=broker.port)
    cmd = [sys.executable, "-m", "agent.cli", "pair", "--config", str(path), "--seconds", "3"]
    cmd += ["--json"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # Sensors speak when they like: published over and over until it has listened its time.
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        msgs: MessagesList = [(t, p, 0, False) for t, p in OTHERS]
        publish.multiple(msgs, hostname=broker.host, port=broker.port)
        time.sleep(0.3)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    got = json.loads(out)
    assert got["configured_already"] == 1  # the kettle
    names = [d["name"] for d in got["devices"]]
    assert sorted(names) == sorted(
        ["back door", "lounge_radar", "microwave_plug", "bedroom_kettle",
         "shellyplus1pm-a8032ab12345", "hall-node_hall_pir"]
    )  # fmt: skip
    # Pasted under sensors:, every stanza loads, and reads its device's payload.
    text = path.read_text(encoding="utf-8").rstrip("\n")
    lines = text.splitlines()
    at = lines.index("sensors:") + 1
    pasted = [*lines[:at], *[d["stanza"] for d in got["devices"]], *lines[at:]]
    with_them = tmp_path / "paired.yaml"
    with_them.write_text("\n".join(pasted) + "\n", encoding="utf-8")
    check = hearth("check-config", str(with_them))
    assert check.returncode == 0, check.stdout + check.stderr
    cfg = load_config(with_them)
    decoder = Decoder(cfg.sensors)
    for topic, payload in OTHERS[:3]:
        assert decoder.decode(topic, payload, datetime.fromisoformat(AT_NOW))
    # In words, for the technician: the retained bridge/devices alone, heard at once.
    words = hearth("pair", "--config", str(path), "--seconds", "1")
    assert words.returncode == 0, words.stderr
    lines = words.stdout.splitlines()
    assert lines[0].startswith(f"listened 1 s to 127.0.0.1:{broker.port}: ")
    assert lines[0].endswith(" 4 devices Hearth can read, 1 in the YAML already")
    assert lines[1] == "3 not in the YAML; under sensors:, add"
    assert "# lounge_radar: presence, zigbee2mqtt (Aqara RTCZCGQ11LM in bridge/devices)" in lines


def test_pair_with_no_broker_there_says_so_in_one_line(tmp_path: Path, broker: Mosquitto) -> None:
    doc = live_doc(broker, broker, tmp_path / "home.sqlite")
    broker.stop()
    path = tmp_path / "home.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    run = hearth("pair", "--config", str(path), "--seconds", "1")
    assert run.returncode == 1
    (line,) = run.stderr.splitlines()
    assert line.startswith(
        f"hearth pair: cannot listen to the home broker at 127.0.0.1:{broker.port}"
    )
    assert "Traceback" not in run.stderr
