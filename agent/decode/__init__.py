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

from collections.abc import Sequence
from datetime import datetime

from agent.config.schema import SensorConfig
from agent.decode.appliance import ApplianceUse
from agent.decode.plain import decode_plain, decode_plain_availability
from agent.decode.zigbee2mqtt import decode_z2m, decode_z2m_availability
from agent.errors import DecodeError, UnknownTopic
from models.events import SensorEvent

__all__ = ["DecodeError", "Decoder", "UnknownTopic"]


class Decoder:
    """Knows each configured sensor's topic and payload style, and each kettle's on/off state."""

    def __init__(self, sensors: Sequence[SensorConfig]) -> None:
        self._by_topic: dict[str, SensorConfig] = {}
        self._availability: dict[str, SensorConfig] = {}
        self._use = ApplianceUse(sensors)
        for s in sensors:
            if s.mqtt is None:
                continue
            self._by_topic[s.mqtt.topic] = s
            self._availability[f"{s.mqtt.topic}/availability"] = s

    def topics(self) -> list[str]:
        return sorted([*self._by_topic, *self._availability])

    def decode(
        self, topic: str, payload: bytes, at: datetime, clock_trusted: bool = True
    ) -> list[SensorEvent]:
        """Events in this message; raises DecodeError or UnknownTopic, never anything else."""
        sensor = self._by_topic.get(topic)
        if sensor is not None and sensor.mqtt is not None:
            if sensor.mqtt.style == "zigbee2mqtt":
                readings = decode_z2m(sensor.kind, payload)
            else:
                readings = decode_plain(sensor.kind, payload)
        elif (sensor := self._availability.get(topic)) is not None and sensor.mqtt is not None:
            if sensor.mqtt.style == "zigbee2mqtt":
                readings = decode_z2m_availability(payload)
            else:
                readings = decode_plain_availability(payload)
        else:
            raise UnknownTopic(topic)
        return self._use.events(sensor.id, at, readings, clock_trusted)
