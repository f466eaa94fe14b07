"""Normalised sensor events: what every source (MQTT, serial, replay file) decodes into."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

Reading = Literal[
    "contact",  # 1.0 = open, 0.0 = closed
    "motion",  # 1.0 = movement seen, 0.0 = cleared
    "presence",  # 1.0 = someone there (an mmWave sensor: still, too), 0.0 = no one
    "power",  # watts drawn by an appliance
    "appliance",  # 1.0 = switched on / in use, 0.0 = off (derived from power)
    "battery",  # percent
    "battery_low",  # 1.0 = the device reports a low battery
    "link_quality",  # radio link quality as the device reports it
    "availability",  # 1.0 = online, 0.0 = offline
]
READINGS: tuple[str, ...] = get_args(Reading)

# Readings that say a person did something; the others describe the sensor itself.
ACTIVITY_READINGS = frozenset({"contact", "motion", "presence", "appliance"})


@dataclass(frozen=True, slots=True)
class SensorEvent:
    """One reading from one sensor at one instant (``at`` is timezone-aware, UTC).

    ``clock_trusted`` is False when the hub had not yet synchronised its clock, so ``at`` may be
    wrong; such events are stored but not learned from.

    >>> from datetime import timezone
    >>> e = SensorEvent(datetime(2024, 3, 1, 7, 5, tzinfo=timezone.utc), "kettle", "appliance", 1.0)
    >>> e.is_activity
    True
    """

    at: datetime
    sensor: str
    reading: Reading
    value: float
    clock_trusted: bool = True

    @property
    def is_activity(self) -> bool:
        """True for an event that shows a person acting (a door, a movement, an appliance on)."""
        if self.reading not in ACTIVITY_READINGS:
            return False
        # A contact closing is still a person acting; motion clearing or an appliance
        # switching off is the sensor timing out, not a new action. Presence is a sign of life
        # when it begins (someone came in): held, it is a person there, maybe still, maybe on
        # the floor, and never taken as movement (see agent.decode.appliance: changes only).
        return self.reading == "contact" or self.value > 0.5
