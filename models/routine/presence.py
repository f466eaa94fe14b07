"""Who may be in: the last outside door, whether only its own room has stirred since, and
visitors.

A door, and then movement only in the door's own room within a couple of minutes (a hall
sensor seeing her go), may be the resident going out; movement anywhere else says someone is
in. Motion in two rooms at the same moment, three times in ten minutes, is visitors; an
outside door used while they are in is taken as them leaving, not her.

>>> from datetime import datetime, timedelta, timezone
>>> from zoneinfo import ZoneInfo
>>> from models.events import SensorEvent
>>> from models.household import Household, SensorInfo
>>> h = Household("h", ZoneInfo("UTC"), (SensorInfo("door", "contact", "hall", "front_door"),
...     SensorInfo("hall", "motion", "hall", "hallway"),
...     SensorInfo("lounge", "motion", "lounge", "lounge")))
>>> p = Presence(h)
>>> t = datetime(2024, 1, 1, 10, tzinfo=timezone.utc)
>>> p.observe(SensorEvent(t, "door", "contact", 1.0))
>>> p.maybe_out(t + timedelta(minutes=1), "hall")
True
>>> p.observe(SensorEvent(t + timedelta(minutes=5), "lounge", "motion", 1.0))
>>> p.maybe_out(t + timedelta(minutes=5), "lounge")
False
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta
from typing import Any

from models.events import SensorEvent
from models.household import Household
from models.local_time import instant_or_none, iso_or_none

# Two rooms' motion sensors firing this close together is two people, not one walking through.
VISITOR_COINCIDENCE = timedelta(seconds=3)
# Three such coincidences within this long, and there are visitors...
VISITOR_EVIDENCE = timedelta(minutes=10)
# ...taken to stay this long after the last coincidence.
VISITOR_STAY = timedelta(hours=1)
# Movement in the door's own room this soon after an outside door is her walking out past the
# hall sensor, as much as coming in: only movement elsewhere, or later, says she is in.
LEAVING_WINDOW = timedelta(minutes=2)


class Presence:
    def __init__(self, household: Household) -> None:
        self.household = household
        self.outside_doors = household.outside_doors()
        self.last_motion_by_room: dict[str, datetime] = {}
        self.coincidences: deque[datetime] = deque(maxlen=3)
        self.visitors_until: datetime | None = None
        # The last outside door used, and whether only its own room has stirred since.
        self.last_door_at: datetime | None = None
        self.last_door_sensor: str | None = None
        self.door_room_only = False
        # An outside door used while visitors were here: they left, the resident stayed.
        self.door_with_visitors = False

    def maybe_out(self, last_at: datetime | None, last_sensor: str | None) -> bool:
        """True when the last sign of life (at ``last_at``, from ``last_sensor``) was an outside
        door, or movement in the door's own room just after it: the resident may have gone out.

        Not when the door was used while visitors were in: then it was most likely the visitors
        leaving, and stillness afterwards is the resident's, watched as inactivity.
        """
        door_at = self.last_door_at
        if last_at is None or door_at is None or not self.door_room_only:
            return False
        if self.door_with_visitors:
            return False
        return last_sensor in self.outside_doors or last_at - door_at <= LEAVING_WINDOW

    def visitors(self, now: datetime) -> bool:
        """Motion in two rooms at once, three times in ten minutes, within the last hour."""
        return self.visitors_until is not None and now < self.visitors_until

    def observe(self, event: SensorEvent) -> None:
        """A sign of life from a known sensor (events in time order)."""
        self._notice_visitors(event)
        self._notice_door(event)

    def _in_room_of_last_door(self, sensor: str) -> bool:
        info = self.household.sensor(sensor)
        door = self.household.sensor(self.last_door_sensor or "")
        return info is not None and door is not None and info.room == door.room

    def _notice_door(self, event: SensorEvent) -> None:
        if event.sensor in self.outside_doors:
            self.last_door_at = event.at
            self.last_door_sensor = event.sensor
            self.door_room_only = True
            self.door_with_visitors = self.visitors(event.at)
        elif self.door_room_only and not self._in_room_of_last_door(event.sensor):
            self.door_room_only = False

    def _notice_visitors(self, event: SensorEvent) -> None:
        info = self.household.sensor(event.sensor)
        if info is None or info.kind != "motion" or info.role == "hallway":
            return  # a hall sensor sees into the rooms off it: one person sets off both
        others = [
            t
            for room, t in self.last_motion_by_room.items()
            if room != info.room and abs(event.at - t) <= VISITOR_COINCIDENCE
        ]
        self.last_motion_by_room[info.room] = event.at
        if not others:
            return
        self.coincidences.append(event.at)
        if len(self.coincidences) == 3 and event.at - self.coincidences[0] <= VISITOR_EVIDENCE:
            self.visitors_until = event.at + VISITOR_STAY

    def shift(self, jump: timedelta) -> None:
        """The wall clock jumped by ``jump``: the door is as long ago as it was."""
        if self.last_door_at is not None:
            self.last_door_at += jump

    def to_state(self) -> dict[str, Any]:
        return {
            "last_motion_by_room": {
                room: at.isoformat() for room, at in self.last_motion_by_room.items()
            },
            "coincidences": [at.isoformat() for at in self.coincidences],
            "visitors_until": iso_or_none(self.visitors_until),
            "door_with_visitors": self.door_with_visitors,
            "last_door_at": iso_or_none(self.last_door_at),
            "last_door_sensor": self.last_door_sensor,
            "door_room_only": self.door_room_only,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], household: Household) -> Presence:
        p = cls(household)
        p.last_motion_by_room = {
            room: datetime.fromisoformat(at) for room, at in state["last_motion_by_room"].items()
        }
        p.coincidences.extend(datetime.fromisoformat(at) for at in state["coincidences"])
        p.visitors_until = instant_or_none(state["visitors_until"])
        p.door_with_visitors = bool(state["door_with_visitors"])
        p.last_door_at = instant_or_none(state["last_door_at"])
        p.last_door_sensor = state["last_door_sensor"]
        p.door_room_only = bool(state["door_room_only"])
        return p
