"""A household's learned routine: quiet spells by time of day, first use of the day, presence.

It takes events in time order and a clock value; it never reads a clock itself.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from models.daily_record import DailyRecords
from models.events import SensorEvent
from models.first_use import FirstUse
from models.household import Household
from models.local_time import day_type, local_date, minutes_since_midnight
from models.night_activity import NightActivity
from models.quiet_spells import QuietSpells
from models.sleep import NightSleep
from models.stillness_by_place import StillnessByPlace

# A spell longer than this is a gap in the data (hub off, sensors gone), not a quiet person.
LONGEST_LEARNED_SPELL = timedelta(hours=24)
# Door events closer together than this are one going out (open, close), not an outing.
SHORTEST_OUTING = timedelta(minutes=2)
# Two rooms' motion sensors firing this close together is two people, not one walking through.
VISITOR_COINCIDENCE = timedelta(seconds=3)
# Three such coincidences within this long, and there are visitors...
VISITOR_EVIDENCE = timedelta(minutes=10)
# ...taken to stay this long after the last coincidence.
VISITOR_STAY = timedelta(hours=1)
# Movement in the door's own room this soon after an outside door is her walking out past the
# hall sensor, as much as coming in: only movement elsewhere, or later, says she is in.
LEAVING_WINDOW = timedelta(minutes=2)
# A quiet spell runs long for its hour when spells that long start there at most this often
# (a day): about once in five days. Where such spells begin weighs inactivity's limits, set
# far rarer still, so the nearer this is to that rarity the truer the weights; but the rarer,
# the fewer spells a young home has to learn them from. Counted from spells that come every
# other day, inactivity on the TIHM homes came at twice its budget; from once in ten days, two
# of the six falls injected into a home learned for a week (Ordonez A) went unseen. Shorter
# ones never count.
LONG_FOR_ITS_HOUR_PER_DAY = 0.2
LONG_FOR_ITS_HOUR_AT_LEAST = timedelta(minutes=20)
# The day's first use only counts from this local hour: a kettle at 02:00 is a night, not a morning.
MORNING_FROM_MIN = 4 * 60


def long_for_its_hour(spells: QuietSpells, started_at: datetime, length: timedelta) -> bool:
    """Whether a quiet spell ran long for the hour it began in, as the hour was known before it.

    >>> from zoneinfo import ZoneInfo
    >>> m = QuietSpells(ZoneInfo("UTC"))
    >>> at = datetime(2024, 1, 1, 14, 5, tzinfo=ZoneInfo("UTC"))
    >>> for day in range(30):
    ...     m.start_day("weekday")
    ...     m.learn(at, (30 + day) * 60.0)
    >>> long_for_its_hour(m, at, timedelta(minutes=45)), long_for_its_hour(m, at, timedelta(hours=6))
    (False, True)
    """
    return length >= LONG_FOR_ITS_HOUR_AT_LEAST and (
        spells.rate_per_day(started_at, length.total_seconds()) <= LONG_FOR_ITS_HOUR_PER_DAY
    )


@dataclass(frozen=True, slots=True)
class RoutineSettings:
    morning_roles: frozenset[str] = frozenset({"kettle"})
    # How the carer reads the morning signal in an alert: "No kettle use yet this morning".
    morning_label: str = "kettle use"
    half_life_days: float = 60.0
    first_use_window_days: int = 28
    # Up and about: the morning's this-many-th minute with movement indoors (0: not watched).
    # One trip to the bathroom at dawn makes a few; getting up for the day makes ten within
    # the half hour, in homes with one sensor a room.
    getting_up_minutes: int = 10


class HouseholdRoutine:
    def __init__(self, household: Household, settings: RoutineSettings | None = None) -> None:
        self.household = household
        self.settings = settings or RoutineSettings()
        self.spells = QuietSpells(household.tz, self.settings.half_life_days)
        # Outings: from an outside door to the next sign of life, by the hour they start.
        self.outings = QuietSpells(household.tz, self.settings.half_life_days)
        # After which sensor's sign of life the long quiet spells tend to begin.
        self.stillness = StillnessByPlace(self.settings.half_life_days)
        self.first_use = FirstUse(self.settings.first_use_window_days)
        # When the resident is up and about each morning, learned the same way as first use.
        self.getting_up = FirstUse(self.settings.first_use_window_days)
        # When the day has begun by either sign: the earlier of the two.
        self.day_begun = FirstUse(self.settings.first_use_window_days)
        self.sleep = NightSleep(household.tz)
        self.night_activity = NightActivity(household.tz)
        self.daily = DailyRecords(household)
        self.outside_doors = household.outside_doors()
        self.morning_sensors = household.with_roles(self.settings.morning_roles)
        self.last_activity_at: datetime | None = None
        # Stillness and time out are not counted before this (the end of an away spell).
        self.watch_from: datetime | None = None
        # When Hearth came back after being stopped: what happened before it was not seen.
        self.observing_since: datetime | None = None
        self.last_activity_sensor: str | None = None
        self.current_day: date | None = None
        self.current_day_active = False
        self.todays_first_use: float | None = None
        self.todays_up: float | None = None
        self.todays_moving_minutes = 0
        self._last_moving_minute = -1
        # Today's first sign of life came after a gap in the data: when the day began was not seen.
        self.todays_start_unseen = False
        # A sign of life after 04:00 seen today (the first one decides whether it was).
        self.todays_morning_seen = False
        self.last_motion_by_room: dict[str, datetime] = {}
        self.coincidences: deque[datetime] = deque(maxlen=3)
        self.visitors_until: datetime | None = None
        # The last outside door used, and whether only its own room has stirred since.
        self.last_door_at: datetime | None = None
        self.last_door_sensor: str | None = None
        self.door_room_only = False
        # An outside door used while visitors were here: they left, the resident stayed.
        self.door_with_visitors = False
        self.days_learned = 0
        self.late_events = 0
        self.unknown_sensor_events = 0

    @property
    def quiet_since(self) -> datetime | None:
        """The last sign of life, or the end of away mode if that came later."""
        last, start = self.last_activity_at, self.watch_from
        if last is None or start is None:
            return last
        return max(last, start)

    @property
    def maybe_out(self) -> bool:
        """True when the last sign of life was an outside door, or movement in the door's own
        room just after it (a hall sensor sees her go): the resident may have gone out.

        Not when the door was used while visitors were in: then it was most likely the visitors
        leaving, and stillness afterwards is the resident's, watched as inactivity.
        """
        last, door_at = self.last_activity_at, self.last_door_at
        if last is None or door_at is None or not self.door_room_only:
            return False
        if self.door_with_visitors:
            return False
        return self.last_activity_sensor in self.outside_doors or last - door_at <= LEAVING_WINDOW

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

    def visitors(self, now: datetime) -> bool:
        """Motion in two rooms at once, three times in ten minutes, within the last hour."""
        return self.visitors_until is not None and now < self.visitors_until

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

    def advance(self, now: datetime) -> None:
        """Move the day forward to ``now``'s local date, closing each day passed."""
        self.night_activity.advance(now)
        night = self.sleep.usual_night()
        self.daily.advance(now, None if night is None else (night.start, night.end))
        today = local_date(now, self.household.tz)
        if self.current_day is None:
            self.current_day = today
            self.spells.start_day(day_type(today))
            self.outings.start_day(day_type(today))
            self.stillness.start_day()
            return
        if today <= self.current_day:
            return
        if self.current_day_active:
            # A morning that began unseen would teach a late start that never happened.
            if not self.todays_start_unseen:
                self.first_use.add_day(day_type(self.current_day), self.todays_first_use)
                self.getting_up.add_day(day_type(self.current_day), self.todays_up)
                signs = [t for t in (self.todays_first_use, self.todays_up) if t is not None]
                self.day_begun.add_day(day_type(self.current_day), min(signs, default=None))
            self.days_learned += 1
        # Days with no events at all are gaps in the data, not days to learn from.
        self.current_day = today
        self.current_day_active = False
        self.todays_first_use = None
        self.todays_up = None
        self.todays_moving_minutes = 0
        self._last_moving_minute = -1
        self.todays_start_unseen = False
        self.todays_morning_seen = False
        self.spells.start_day(day_type(today))
        self.outings.start_day(day_type(today))
        self.stillness.start_day()

    def observe(self, event: SensorEvent) -> bool:
        """Learn from one event. Returns False when the event was not learned from."""
        if not event.clock_trusted or not event.is_activity:
            return False
        if self.household.sensor(event.sensor) is None:
            self.unknown_sensor_events += 1
            return False
        if self.last_activity_at is not None and event.at < self.last_activity_at:
            self.late_events += 1
            return False
        self.advance(event.at)
        if not self.current_day_active and (
            self.last_activity_at is None
            or event.at - self.last_activity_at > LONGEST_LEARNED_SPELL
        ):
            self.todays_start_unseen = True
        if not self.todays_morning_seen and (
            minutes_since_midnight(event.at, self.household.tz) >= MORNING_FROM_MIN
        ):
            self.todays_morning_seen = True
            if self.maybe_out or event.sensor in self.outside_doors:
                # Out when the morning began, or first seen coming in: her morning happened
                # elsewhere, and coming home at 16:00 is not a late start to learn.
                self.todays_start_unseen = True
        if self.last_activity_at is not None:
            spell = event.at - self.last_activity_at
            if not self.maybe_out and timedelta(0) < spell <= LONGEST_LEARNED_SPELL:
                if self.last_activity_sensor is not None:
                    # Judged against the hour as known before this spell is learned.
                    long = long_for_its_hour(self.spells, self.last_activity_at, spell)
                    self.stillness.learn(self.last_activity_sensor, long)
                self.spells.learn(self.last_activity_at, spell.total_seconds())
                self.sleep.spell(self.last_activity_at, spell.total_seconds())
                self.daily.quiet_spell(self.last_activity_at, spell.total_seconds())
            elif self.maybe_out and SHORTEST_OUTING <= spell <= LONGEST_LEARNED_SPELL:
                self.outings.learn(self.last_activity_at, spell.total_seconds())
                self.daily.outing(event.at, spell.total_seconds())
        self._notice_visitors(event)
        self._notice_door(event)
        self.last_activity_at = event.at
        self.last_activity_sensor = event.sensor
        self.current_day_active = True
        self.night_activity.activity(event.at, self.sleep.core())
        self.daily.activity(event.at, event.sensor)
        self._notice_morning(event)
        return True

    def _notice_morning(self, event: SensorEvent) -> None:
        morning = event.sensor in self.morning_sensors and self.todays_first_use is None
        moving = event.sensor in self.household.presence_sensors() and self.todays_up is None
        if not (morning or moving):
            return
        minute = minutes_since_midnight(event.at, self.household.tz)
        if minute < MORNING_FROM_MIN:
            return
        if morning:
            self.todays_first_use = minute
        if moving and int(minute) != self._last_moving_minute:
            self._last_moving_minute = int(minute)
            self.todays_moving_minutes += 1
            if self.todays_moving_minutes == self.settings.getting_up_minutes:
                self.todays_up = minute

    def to_state(self) -> dict[str, Any]:
        return {
            "spells": self.spells.to_state(),
            "outings": self.outings.to_state(),
            "stillness": self.stillness.to_state(),
            "first_use": self.first_use.to_state(),
            "getting_up": self.getting_up.to_state(),
            "day_begun": self.day_begun.to_state(),
            "sleep": self.sleep.to_state(),
            "night_activity": self.night_activity.to_state(),
            "daily": self.daily.to_state(),
            "last_activity_at": self.last_activity_at.isoformat()
            if self.last_activity_at
            else None,
            "last_activity_sensor": self.last_activity_sensor,
            "current_day": self.current_day.isoformat() if self.current_day else None,
            "current_day_active": self.current_day_active,
            "todays_first_use": self.todays_first_use,
            "todays_up": self.todays_up,
            "todays_moving_minutes": self.todays_moving_minutes,
            "last_moving_minute": self._last_moving_minute,
            "todays_start_unseen": self.todays_start_unseen,
            "todays_morning_seen": self.todays_morning_seen,
            "days_learned": self.days_learned,
            "watch_from": self.watch_from.isoformat() if self.watch_from else None,
            "visitors_until": self.visitors_until.isoformat() if self.visitors_until else None,
            "door_with_visitors": self.door_with_visitors,
            "last_door_at": self.last_door_at.isoformat() if self.last_door_at else None,
            "last_door_sensor": self.last_door_sensor,
            "door_room_only": self.door_room_only,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        self.spells = QuietSpells.from_state(self.household.tz, state["spells"])
        if "outings" in state:
            self.outings = QuietSpells.from_state(self.household.tz, state["outings"])
        if "stillness" in state:
            self.stillness = StillnessByPlace.from_state(state["stillness"])
        self.first_use = FirstUse.from_state(state["first_use"])
        if "getting_up" in state:
            self.getting_up = FirstUse.from_state(state["getting_up"])
        if "day_begun" in state:
            self.day_begun = FirstUse.from_state(state["day_begun"])
        self.sleep = NightSleep.from_state(self.household.tz, state["sleep"])
        if "daily" in state:
            self.daily.load_state(state["daily"])
        if "night_activity" in state:
            self.night_activity = NightActivity.from_state(
                self.household.tz, state["night_activity"]
            )
        last = state["last_activity_at"]
        self.last_activity_at = datetime.fromisoformat(last) if last else None
        self.last_activity_sensor = state["last_activity_sensor"]
        day = state["current_day"]
        self.current_day = date.fromisoformat(day) if day else None
        self.current_day_active = bool(state["current_day_active"])
        fu = state["todays_first_use"]
        self.todays_first_use = None if fu is None else float(fu)
        up = state.get("todays_up")
        self.todays_up = None if up is None else float(up)
        self.todays_moving_minutes = int(state.get("todays_moving_minutes", 0))
        self._last_moving_minute = int(state.get("last_moving_minute", -1))
        self.todays_start_unseen = bool(state.get("todays_start_unseen", False))
        self.todays_morning_seen = bool(
            state.get(
                "todays_morning_seen",
                self.todays_first_use is not None or self.todays_moving_minutes > 0,
            )
        )
        self.days_learned = int(state["days_learned"])
        vu = state.get("visitors_until")
        self.visitors_until = datetime.fromisoformat(vu) if vu else None
        self.door_with_visitors = bool(state.get("door_with_visitors", False))
        ld = state.get("last_door_at")
        self.last_door_at = datetime.fromisoformat(ld) if ld else None
        self.last_door_sensor = state.get("last_door_sensor")
        # Saved before doors were kept apart: the last sign of life was the door, or was not.
        self.door_room_only = bool(
            state.get("door_room_only", self.last_activity_sensor in self.outside_doors)
        )
        if self.last_door_at is None and self.last_activity_sensor in self.outside_doors:
            self.last_door_at, self.last_door_sensor = (
                self.last_activity_at,
                self.last_activity_sensor,
            )
        wf = state.get("watch_from")
        self.watch_from = datetime.fromisoformat(wf) if wf else None
