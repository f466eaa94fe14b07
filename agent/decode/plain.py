"""Plain payloads, as Tasmota, ESPHome or a hand-made device publish one value per topic.

``ON``/``OFF``, ``open``/``closed``, ``true``/``false``, ``1``/``0`` for doors and motion
(ON means open, as in ESPHome's door class); a number of watts for power.

>>> decode_plain("contact", b"closed")
[('contact', 0.0)]
>>> decode_plain("motion", b"ON")
[('motion', 1.0)]
>>> decode_plain("power", b" 1870.2 ")
[('power', 1870.2)]
"""

from __future__ import annotations

from agent.decode.zigbee2mqtt import RANGES, Readings
from agent.errors import DecodeError
from models.events import Reading
from models.household import SensorKind

_TRUE = {"on", "open", "true", "1", "detected", "active"}
_FALSE = {"off", "closed", "close", "false", "0", "clear", "inactive"}


def _text(payload: bytes) -> str:
    try:
        return payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise DecodeError("payload is not text") from None


# What an on/off sensor's state is a reading of, by its kind.
STATE_READING: dict[str, Reading] = {
    "contact": "contact",
    "presence": "presence",
    "motion": "motion",
}


def decode_plain(kind: SensorKind, payload: bytes) -> Readings:
    text = _text(payload)
    if kind == "power":
        try:
            watts = float(text)
        except ValueError:
            raise DecodeError(f"power should be a number of watts, found {text[:40]!r}") from None
        if not 0 <= watts <= RANGES["power"][1]:
            raise DecodeError(f"power should be a number of watts, found {text[:40]!r}")
        return [("power", watts)]
    low = text.lower()
    if low in _TRUE:
        value = 1.0
    elif low in _FALSE:
        value = 0.0
    else:
        raise DecodeError(f"expected ON/OFF, open/closed, true/false or 1/0, found {text[:40]!r}")
    return [(STATE_READING.get(kind, "motion"), value)]


def decode_plain_availability(payload: bytes) -> Readings:
    low = _text(payload).lower()
    if low in ("online", "on", "1", "true"):
        return [("availability", 1.0)]
    if low in ("offline", "off", "0", "false"):
        return [("availability", 0.0)]
    raise DecodeError(f"availability should be online or offline, found {low[:40]!r}")
