"""Raw payloads to :class:`SensorEvent` (pure: no I/O). One module per payload style.

>>> from datetime import datetime, timezone
>>> from agent.config.schema import SensorConfig
>>> door = SensorConfig.model_validate({"id": "front_door", "kind": "contact", "room": "hall",
...     "role": "front_door", "mqtt": {"topic": "zigbee2mqtt/front_door"}})
>>> d = Decoder([door])
>>> at = datetime(2024, 1, 1, tzinfo=timezone.utc)
>>> [(e.reading, e.value) for e in d.decode("zigbee2mqtt/front_door", b'{"contact": false}', at)]
[('contact', 1.0)]
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from agent.config.schema import PayloadStyle, SensorConfig
from agent.decode.appliance import ApplianceUse
from agent.decode.plain import decode_plain, decode_plain_availability
from agent.decode.shelly import decode_shelly
from agent.decode.tasmota import decode_tasmota
from agent.decode.zigbee2mqtt import Readings, decode_z2m, decode_z2m_availability, shown
from agent.errors import DecodeError, UnknownTopic
from models.events import SensorEvent
from models.household import SensorKind

__all__ = ["DecodeError", "Decoder", "UnknownTopic"]

log = logging.getLogger("hearth.decode")

# Each style's reader of a device's state; ESPHome publishes one plain value a topic.
STATE: dict[PayloadStyle, Callable[[SensorKind, bytes], Readings]] = {
    "zigbee2mqtt": decode_z2m,
    "plain": decode_plain,
    "tasmota": decode_tasmota,
    "shelly": decode_shelly,
    "esphome": decode_plain,
}


class Decoder:
    """Knows each configured sensor's topic and payload style, and each kettle's on/off state."""

    def __init__(self, sensors: Sequence[SensorConfig]) -> None:
        self._by_topic: dict[str, SensorConfig] = {}
        # One device's availability may speak for several sensors (an ESPHome node's status).
        self._availability: dict[str, list[SensorConfig]] = {}
        self._use = ApplianceUse(sensors)
        self._unforeseen: set[str] = set()
        for s in sensors:
            if s.mqtt is None:
                continue
            self._by_topic[s.mqtt.topic] = s
            available = s.mqtt.availability()
            if available is not None:
                self._availability.setdefault(available, []).append(s)

    def topics(self) -> list[str]:
        return sorted([*self._by_topic, *self._availability])

    def decode(
        self, topic: str, payload: bytes, at: datetime, clock_trusted: bool = True
    ) -> list[SensorEvent]:
        """Events in this message; raises DecodeError or UnknownTopic, never anything else: a
        payload that breaks a decoder in a way nobody foresaw is one message lost, not the
        reading of every sensor after it (the first of each kind logged with its traceback).

        >>> from datetime import timezone
        >>> d = Decoder([])
        >>> d.decode("z2m/x", b"{}", datetime(2024, 1, 1, tzinfo=timezone.utc))
        Traceback (most recent call last):
        agent.errors.UnknownTopic: z2m/x
        """
        try:
            return self._decode(topic, payload, at, clock_trusted)
        except (DecodeError, UnknownTopic):
            raise
        except Exception as exc:
            kind = type(exc).__name__
            if kind not in self._unforeseen:
                self._unforeseen.add(kind)
                log.exception(
                    "the decoder failed on %s (a payload of %d bytes)", topic, len(payload)
                )
            raise DecodeError(f"could not be read ({kind}: {shown(str(exc))})") from exc

    def _decode(
        self, topic: str, payload: bytes, at: datetime, clock_trusted: bool
    ) -> list[SensorEvent]:
        sensor = self._by_topic.get(topic)
        if sensor is not None and sensor.mqtt is not None:
            readings = STATE[sensor.mqtt.style](sensor.kind, payload)
            return self._use.events(sensor.id, at, readings, clock_trusted)
        device = self._availability.get(topic)
        if not device:
            raise UnknownTopic(topic)
        style = device[0].mqtt.style if device[0].mqtt is not None else "plain"
        if style == "zigbee2mqtt":
            readings = decode_z2m_availability(payload)
        else:
            readings = decode_plain_availability(payload)
        return [e for s in device for e in self._use.events(s.id, at, readings, clock_trusted)]
