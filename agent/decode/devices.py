"""Devices heard on the home broker that Hearth could read, for ``hearth pair``: each with the
YAML stanza that would read it, in the style its topic and payload say (Zigbee2MQTT, Tasmota,
Shelly, ESPHome). A device is recognised only when Hearth's own decoder reads its payload, so
a stanza offered is one that works.

>>> found = recognise("tele/kettle_plug/SENSOR", b'{"ENERGY": {"Power": 2150}}')
>>> [(f.kind, f.style, f.name) for f in found]
[('power', 'tasmota', 'kettle_plug')]
>>> print(stanza(found[0], set()))
  - id: kettle_plug
    kind: power
    room: kitchen  # check the room
    role: kettle
    mqtt: {topic: tele/kettle_plug/SENSOR, style: tasmota}
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from agent.config.schema import PayloadStyle
from agent.decode import STATE
from agent.errors import DecodeError
from models.household import SensorKind

# Zigbee2MQTT's exposed features, by the kind they make a sensor (the first found wins).
Z2M_FEATURES: tuple[tuple[str, SensorKind], ...] = (
    ("contact", "contact"),
    ("presence", "presence"),
    ("occupancy", "motion"),
    ("power", "power"),
)
ROOMS = {
    "kitchen": "kitchen",
    "bathroom": "bathroom",
    "toilet": "bathroom",
    "bedroom": "bedroom",
    "lounge": "lounge",
    "living": "lounge",
    "hall": "hall",
    "hallway": "hall",
    "landing": "hall",
}
ROOM_ROLES = {
    "kitchen": "kitchen",
    "bathroom": "bathroom",
    "bedroom": "bedroom",
    "lounge": "lounge",
    "hall": "hallway",
}


@dataclass(frozen=True, slots=True)
class Found:
    topic: str
    style: PayloadStyle
    kind: SensorKind
    name: str
    # What was heard that says so ("Aqara RTCZCGQ11LM in bridge/devices", "ENERGY.Power").
    heard: str


def _reads(style: PayloadStyle, kind: SensorKind, payload: bytes) -> bool:
    try:
        readings = STATE[style](kind, payload)
    except DecodeError:
        return False
    # The reading each kind gives is named as the kind is.
    return any(r == kind for r, _ in readings)


def _exposed(features: Any) -> set[str]:
    out: set[str] = set()
    for f in features if isinstance(features, list) else []:
        if isinstance(f, dict):
            for key in ("property", "name"):
                if isinstance(f.get(key), str):
                    out.add(f[key])
            out |= _exposed(f.get("features"))
    return out


def _bridge_devices(base: str, payload: bytes) -> list[Found]:
    try:
        devices = json.loads(payload)
    except (ValueError, RecursionError):
        return []
    out = []
    for d in devices if isinstance(devices, list) else []:
        if not isinstance(d, dict) or d.get("type") == "Coordinator":
            continue
        name, definition = d.get("friendly_name"), d.get("definition")
        if not isinstance(name, str) or not name or not isinstance(definition, dict):
            continue
        exposed = _exposed(definition.get("exposes"))
        kind = next((k for feature, k in Z2M_FEATURES if feature in exposed), None)
        if kind is not None:
            model = f"{definition.get('vendor', '')} {definition.get('model', '')}".strip()
            out.append(
                Found(f"{base}/{name}", "zigbee2mqtt", kind, name, f"{model} in bridge/devices")
            )
    return out


def recognise(topic: str, payload: bytes, base: str = "zigbee2mqtt") -> list[Found]:
    """What this message says of devices Hearth could read (none, for most messages)."""
    parts = topic.split("/")
    if topic == f"{base}/bridge/devices":
        return _bridge_devices(base, payload)
    if parts[0] == base and len(parts) == 2 and parts[1] != "bridge":
        # A PIR's occupancy before presence: Hearth's decoder reads occupancy as presence too.
        for feature, z2m_kind in sorted(Z2M_FEATURES, key=lambda fk: fk[1] == "presence"):
            if _reads("zigbee2mqtt", z2m_kind, payload):
                return [Found(topic, "zigbee2mqtt", z2m_kind, parts[1], f"its {feature}")]
        return []
    if len(parts) == 3 and parts[0] == "tele" and parts[2] == "SENSOR":
        if _reads("tasmota", "power", payload):
            return [Found(topic, "tasmota", "power", parts[1], "ENERGY.Power")]
        return []
    if len(parts) == 3 and parts[1] == "status" and parts[2].startswith("switch:"):
        if _reads("shelly", "power", payload):
            return [Found(topic, "shelly", "power", parts[0], "apower")]
        return []
    if len(parts) == 4 and parts[3] == "state" and parts[1] in ("binary_sensor", "sensor"):
        name = parts[2]
        kind: SensorKind
        if parts[1] == "sensor":
            if not re.search(r"power|watt", name, re.I):
                return []
            kind = "power"
        elif re.search(r"door|contact|window", name, re.I):
            kind = "contact"
        elif re.search(r"presence|radar|target|mmwave|occupan", name, re.I):
            kind = "presence"
        else:
            kind = "motion"
        if _reads("esphome", kind, payload):
            return [Found(topic, "esphome", kind, f"{parts[0]}_{name}", f"{parts[1]} {name}")]
    return []


def _slug(name: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    return s or "sensor"


def stanza(found: Found, taken: set[str]) -> str:
    """The YAML that reads ``found``, as an item of ``sensors:``, its id not one of ``taken``
    (which it joins)."""
    base = _slug(found.name)
    sid, n = base, 2
    while sid in taken:
        sid, n = f"{base}_{n}", n + 1
    taken.add(sid)
    words = set(re.split(r"[^a-z]+", found.name.lower()))
    room = next((ROOMS[w] for w in words if w in ROOMS), None)
    if found.kind == "power":
        role = "kettle" if "kettle" in words else "appliance"
        room = room or ("kitchen" if role == "kettle" else None)
    elif found.kind == "contact" and "front" in words:
        role, room = "front_door", room or "hall"
    elif found.kind == "contact" and "back" in words:
        role, room = "back_door", room or "kitchen"
    else:
        role = ROOM_ROLES.get(room or "", "room")
    where = f"{room}  # check the room" if room else "room  # set the room"
    # Friendly names may hold spaces, colons or commas: quoted (as JSON, which YAML reads) then.
    topic = (
        found.topic if re.fullmatch(r"[A-Za-z0-9_./:+-]+", found.topic) else json.dumps(found.topic)
    )
    return (
        f"  - id: {sid}\n"
        f"    kind: {found.kind}\n"
        f"    room: {where}\n"
        f"    role: {role}\n"
        f"    mqtt: {{topic: {topic}, style: {found.style}}}"
    )
