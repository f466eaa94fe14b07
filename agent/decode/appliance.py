"""Kettle power to kettle use: on above one threshold, off only below a lower one; and a
presence sensor's changes only.

The gap between the two thresholds keeps a kettle's power wobbling around one value from
counting as many uses. An mmWave presence sensor says "present" again and again while someone
is there, still or not (its distance to them changing as she breathes): each repeat would be
taken as a sign of life, and a fall under the radar never seen as stillness. Only a change is
an event.

>>> h = PowerHysteresis(on_watts=1000, off_watts=50)
>>> [h.update(w) for w in (0, 2200, 1800, 900, 2100, 20, 10)]
[None, 1.0, None, None, None, 0.0, None]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from agent.config.schema import SensorConfig
from models.events import Reading, SensorEvent


class PowerHysteresis:
    def __init__(self, on_watts: float, off_watts: float) -> None:
        self.on_watts = on_watts
        self.off_watts = off_watts
        self.on = False

    def update(self, watts: float) -> float | None:
        """1.0 when it switches on, 0.0 when it switches off, None when nothing changed."""
        if not self.on and watts >= self.on_watts:
            self.on = True
            return 1.0
        if self.on and watts < self.off_watts:
            self.on = False
            return 0.0
        return None


class ApplianceUse:
    """Each power sensor's hysteresis; turns a sensor's readings into events, uses included.

    The MQTT decoder, the serial bridge and the CSV reader all go through it, so a kettle counts
    the same however its watts arrive.

    >>> from datetime import timezone
    >>> radar = SensorConfig.model_validate(
    ...     {"id": "lounge", "kind": "presence", "room": "lounge", "role": "lounge"})
    >>> use, t = ApplianceUse([radar]), datetime(2024, 1, 1, tzinfo=timezone.utc)
    >>> [len(use.events("lounge", t, [("presence", v)])) for v in (1.0, 1.0, 1.0, 0.0, 1.0)]
    [1, 0, 0, 1, 1]
    """

    def __init__(self, sensors: Iterable[SensorConfig]) -> None:
        sensors = list(sensors)
        self._power = {
            s.id: PowerHysteresis(s.power.on_watts, s.power.off_watts)
            for s in sensors
            if s.kind == "power"
        }
        # Each presence sensor's last state (None: not heard since Hearth started).
        self._present: dict[str, float | None] = {
            s.id: None for s in sensors if s.kind == "presence"
        }

    def events(
        self,
        sensor_id: str,
        at: datetime,
        readings: Sequence[tuple[Reading, float]],
        clock_trusted: bool = True,
    ) -> list[SensorEvent]:
        out = []
        hysteresis = self._power.get(sensor_id)
        for reading, value in readings:
            if reading == "presence" and sensor_id in self._present:
                if self._present[sensor_id] == value:
                    continue
                self._present[sensor_id] = value
            out.append(SensorEvent(at, sensor_id, reading, value, clock_trusted))
            if reading == "power" and hysteresis is not None:
                switched = hysteresis.update(value)
                if switched is not None:
                    out.append(SensorEvent(at, sensor_id, "appliance", switched, clock_trusted))
        return out
