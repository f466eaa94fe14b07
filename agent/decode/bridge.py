"""Bridge readings to :class:`SensorEvent`, by each sensor's id on the bridge (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from agent.config.schema import SensorConfig
from agent.decode.appliance import ApplianceUse
from agent.errors import DecodeError, UnknownTopic
from agent.sources.bridge_protocol import Reading as BridgeReading
from models.events import Reading, SensorEvent


class BridgeDecoder:
    def __init__(self, sensors: Sequence[SensorConfig]) -> None:
        self._by_bridge_id = {s.serial.id: s for s in sensors if s.serial is not None}
        self._use = ApplianceUse(self._by_bridge_id.values())

    @property
    def sensor_ids(self) -> list[str]:
        return sorted(s.id for s in self._by_bridge_id.values())

    def decode(
        self, reading: BridgeReading, at: datetime, clock_trusted: bool = True
    ) -> list[SensorEvent]:
        sensor = self._by_bridge_id.get(reading.sensor)
        if sensor is None:
            raise UnknownTopic(f"bridge sensor {reading.sensor!r}")
        if reading.kind != sensor.kind:
            raise DecodeError(
                f"bridge sensor {reading.sensor!r} sent {reading.kind}; the YAML says {sensor.kind}"
            )
        kind: Reading = (
            "power"
            if sensor.kind == "power"
            else ("contact" if sensor.kind == "contact" else "motion")
        )
        return self._use.events(sensor.id, at, [(kind, reading.value)], clock_trusted)
