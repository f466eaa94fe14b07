"""Zigbee2MQTT device payloads: JSON objects of the device's exposed state.

Z2M's ``contact`` is true when the magnet is near, that is when the door is *closed*.

>>> decode_z2m("contact", b'{"contact": true, "battery": 91, "linkquality": 120}')
[('contact', 0.0), ('battery', 91.0), ('link_quality', 120.0)]
>>> decode_z2m("power", b'{"power": 2150.5, "state": "ON"}')
[('power', 2150.5)]
>>> decode_z2m_availability(b'{"state": "offline"}')
[('availability', 0.0)]
"""

from __future__ import annotations

import json
import math
from typing import Any

from agent.errors import DecodeError
from models.events import Reading
from models.household import SensorKind

Readings = list[tuple[Reading, float]]


# What each number may be: beyond these, the device (or whatever sent it) is wrong.
RANGES = {"battery": (0.0, 100.0), "linkquality": (0.0, 255.0), "power": (0.0, 100_000.0)}


def shown(v: object) -> str:
    """A value as an error message shows it: never more than 40 characters of it.

    >>> shown(10**400)
    '1000000000000000000000000000000000000000... (401 characters)'
    """
    text = repr(v)
    return text if len(text) <= 40 else f"{text[:40]}... ({len(text)} characters)"


def _bool(payload: dict[str, Any], key: str) -> bool:
    v = payload[key]
    if not isinstance(v, bool):
        raise DecodeError(f"{key} should be true or false, found {shown(v)}")
    return v


def number(payload: dict[str, Any], key: str) -> float:
    """A number within its range (``RANGES``); an integer too large for a float is not one.

    >>> try:
    ...     number({"battery": 10**400}, "battery")
    ... except DecodeError as exc:
    ...     print(str(exc)[:44])
    battery should be a number from 0 to 100, fo
    """
    v = payload[key]
    low, high = RANGES.get(key, (-math.inf, math.inf))
    try:
        x = float(v) if isinstance(v, int | float) and not isinstance(v, bool) else math.nan
    except OverflowError:
        x = math.nan
    if not low <= x <= high:
        within = "" if math.isinf(high) else f" from {low:g} to {high:g}"
        raise DecodeError(f"{key} should be a number{within}, found {shown(v)}")
    return x


def json_object(payload: bytes) -> dict[str, Any]:
    try:
        obj = json.loads(payload)
    except (ValueError, RecursionError) as exc:
        raise DecodeError(f"not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise DecodeError(f"expected a JSON object, found {type(obj).__name__}")
    return obj


def decode_z2m(kind: SensorKind, payload: bytes) -> Readings:
    obj = json_object(payload)
    out: Readings = []
    if kind == "contact" and "contact" in obj:
        out.append(("contact", 0.0 if _bool(obj, "contact") else 1.0))
    if kind == "motion" and "occupancy" in obj:
        out.append(("motion", 1.0 if _bool(obj, "occupancy") else 0.0))
    if kind == "presence":
        # mmWave sensors say presence (Aqara FP1, Tuya radars); a few, occupancy.
        key = "presence" if "presence" in obj else "occupancy" if "occupancy" in obj else None
        if key is not None:
            out.append(("presence", 1.0 if _bool(obj, key) else 0.0))
    if kind == "power":
        if "power" in obj:
            out.append(("power", number(obj, "power")))
        elif obj.get("state") == "OFF":
            # A plug switched off draws nothing, even when it does not say so.
            out.append(("power", 0.0))
    if "battery" in obj and obj["battery"] is not None:
        out.append(("battery", number(obj, "battery")))
    if "battery_low" in obj and obj["battery_low"] is not None:
        out.append(("battery_low", 1.0 if _bool(obj, "battery_low") else 0.0))
    if "linkquality" in obj and obj["linkquality"] is not None:
        out.append(("link_quality", number(obj, "linkquality")))
    return out


def decode_z2m_availability(payload: bytes) -> Readings:
    """Z2M publishes ``online``/``offline``, as plain text (older) or ``{"state": ...}``."""
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise DecodeError("availability payload is not text") from None
    if text.startswith("{"):
        try:
            obj = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise DecodeError(f"availability is not JSON: {exc}") from None
        text = obj.get("state", "") if isinstance(obj, dict) else ""
    if text == "online":
        return [("availability", 1.0)]
    if text == "offline":
        return [("availability", 0.0)]
    raise DecodeError(f"availability should be online or offline, found {text!r}")
