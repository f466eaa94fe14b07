"""What the models know of a home: its time zone and each sensor's kind, room and role."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from zoneinfo import ZoneInfo

# presence: an mmWave radar, which sees a still person who is there, not only movement.
SensorKind = Literal["contact", "motion", "presence", "power"]

# Roles tell the detectors what a sensor means in the resident's day.
Role = Literal[
    "front_door",
    "back_door",
    "kettle",
    "fridge",
    "microwave",
    "appliance",
    "bathroom",
    "bedroom",
    "kitchen",
    "lounge",
    "hallway",
    "room",
]
OUTSIDE_DOOR_ROLES = frozenset({"front_door", "back_door"})


@dataclass(frozen=True, slots=True)
class SensorInfo:
    id: str
    kind: SensorKind
    room: str
    role: Role


@dataclass(frozen=True)
class Household:
    """A home as the models see it.

    >>> door = SensorInfo("fd", "contact", "hall", "front_door")
    >>> h = Household("h1", ZoneInfo("Europe/London"), (door,))
    >>> h.outside_doors()
    frozenset({'fd'})
    """

    id: str
    tz: ZoneInfo
    sensors: tuple[SensorInfo, ...]
    _by_id: dict[str, SensorInfo] = field(init=False, repr=False, compare=False)
    _presence: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {s.id: s for s in self.sensors})
        motion = frozenset(s.id for s in self.sensors if s.kind in ("motion", "presence"))
        presence = motion or frozenset(s.id for s in self.sensors) - self.outside_doors()
        object.__setattr__(self, "_presence", presence)

    def sensor(self, sensor_id: str) -> SensorInfo | None:
        return self._by_id.get(sensor_id)

    def outside_doors(self) -> frozenset[str]:
        return frozenset(s.id for s in self.sensors if s.role in OUTSIDE_DOOR_ROLES)

    def presence_sensors(self) -> frozenset[str]:
        """The sensors that show someone moving about indoors: the motion and presence
        sensors, or, in a home without any, every sensor but the outside doors."""
        return self._presence

    def with_roles(self, roles: frozenset[str]) -> frozenset[str]:
        return frozenset(s.id for s in self.sensors if s.role in roles)
