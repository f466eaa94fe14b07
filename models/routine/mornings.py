"""When each day begins: today's first use of the morning signal (say, the kettle) and the
moment she is up and about, and, learned from the days before, when each usually comes.

Three learners (``models.routine.first_use``): the first use of the morning signal; being up
and about (the morning's ``getting_up_minutes``-th minute with movement indoors); and the
earlier of the two, which varies less than either alone. Only from 04:00: a kettle at 02:00 is
a night, not a morning. A morning whose start was not seen (the day's first sign of life ended
a gap of a day or more, or she was out when it began) is not learned from.

>>> from datetime import datetime, timedelta, timezone
>>> from zoneinfo import ZoneInfo
>>> from models.events import SensorEvent
>>> from models.household import Household, SensorInfo
>>> h = Household("h", ZoneInfo("UTC"), (SensorInfo("kettle", "power", "kitchen", "kettle"),))
>>> m = Mornings(h, RoutineSettings(morning_roles=frozenset({"kettle"})))
>>> at = datetime(2024, 1, 1, 7, 40, tzinfo=timezone.utc)
>>> m.notice(SensorEvent(at, "kettle", "appliance", 1.0))
>>> m.first_use_today
460.0
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from models.events import SensorEvent
from models.household import Household
from models.local_time import DayType, minutes_since_midnight
from models.routine.first_use import FirstUse
from models.routine.settings import RoutineSettings

# The day's first use only counts from this local hour.
MORNING_FROM_MIN = 4 * 60


class Mornings:
    def __init__(self, household: Household, settings: RoutineSettings) -> None:
        self.household = household
        self.settings = settings
        self.sensors = household.with_roles(settings.morning_roles)
        self.getting_up_minutes = settings.getting_up_minutes
        window_days = settings.first_use_window_days
        self.first_use = FirstUse(window_days)
        # When the resident is up and about each morning, learned the same way as first use.
        self.getting_up = FirstUse(window_days)
        # When the day has begun by either sign: the earlier of the two.
        self.day_begun = FirstUse(window_days)
        self.first_use_today: float | None = None
        self.up_today: float | None = None
        self.moving_minutes = 0
        self._last_moving_minute = -1
        # Today's first sign of life came after a gap in the data, or she was out when the
        # morning began: when the day began was not seen.
        self.start_unseen = False
        # A sign of life after 04:00 seen today (the first one decides whether it was).
        self.seen = False

    def notice_start(
        self, event: SensorEvent, after_gap: bool, coming_in: Callable[[], bool]
    ) -> None:
        """A sign of life before any other today ``after_gap`` of a day or more in the data,
        or the first after 04:00 while she may be out (``coming_in``, asked only then): when
        her day began was not seen, and is not learned (coming home at 16:00 is not a late
        start)."""
        if after_gap:
            self.start_unseen = True
        if (
            not self.seen
            and minutes_since_midnight(event.at, self.household.tz) >= MORNING_FROM_MIN
        ):
            self.seen = True
            if coming_in():
                self.start_unseen = True

    def close_day(self, kind: DayType, held: bool) -> dict[str, Any] | None:
        """The day is over: learn when it began, unless that was not seen. A day ``held`` (an
        alert was raised on it) is not learned as usual, but counts among the last week's
        mornings, so that a routine that moves for good is still taken as the new normal;
        what it would teach is returned, to be learned if it is called ordinary."""
        if self.start_unseen:
            return None
        day = {"kind": kind, "first_use": self.first_use_today, "up": self.up_today}
        self.learn(kind, self.first_use_today, self.up_today, usual=not held)
        return day

    def learn(
        self,
        kind: DayType,
        first_use: float | None,
        up: float | None,
        usual: bool = True,
        recent: bool = True,
    ) -> None:
        """One more day: its first use and when she was up and about (None: not at all);
        ``usual`` False for one only counted among the last week's (see ``close_day``),
        ``recent`` False for one counted there already."""
        signs = [t for t in (first_use, up) if t is not None]
        for learner, t in (
            (self.first_use, first_use),
            (self.getting_up, up),
            (self.day_begun, min(signs, default=None)),
        ):
            if usual:
                learner.learn(kind, t, recent)
            elif recent:
                learner.note_recent(kind, t)

    def new_day(self) -> None:
        self.first_use_today = None
        self.up_today = None
        self.moving_minutes = 0
        self._last_moving_minute = -1
        self.start_unseen = False
        self.seen = False

    def notice(self, event: SensorEvent) -> None:
        """A sign of life from a known sensor: a first use, or a minute of being up and about."""
        morning = event.sensor in self.sensors and self.first_use_today is None
        moving = event.sensor in self.household.presence_sensors() and self.up_today is None
        if not (morning or moving):
            return
        minute = minutes_since_midnight(event.at, self.household.tz)
        if minute < MORNING_FROM_MIN:
            return
        if morning:
            self.first_use_today = minute
        if moving and int(minute) != self._last_moving_minute:
            self._last_moving_minute = int(minute)
            self.moving_minutes += 1
            if self.moving_minutes == self.getting_up_minutes:
                self.up_today = minute

    def to_state(self) -> dict[str, Any]:
        return {
            "first_use": self.first_use.to_state(),
            "getting_up": self.getting_up.to_state(),
            "day_begun": self.day_begun.to_state(),
            "first_use_today": self.first_use_today,
            "up_today": self.up_today,
            "moving_minutes": self.moving_minutes,
            "last_moving_minute": self._last_moving_minute,
            "start_unseen": self.start_unseen,
            "seen": self.seen,
        }

    @classmethod
    def from_state(
        cls, state: dict[str, Any], household: Household, settings: RoutineSettings
    ) -> Mornings:
        m = cls(household, settings)
        m.first_use = FirstUse.from_state(state["first_use"])
        m.getting_up = FirstUse.from_state(state["getting_up"])
        m.day_begun = FirstUse.from_state(state["day_begun"])
        fu, up = state["first_use_today"], state["up_today"]
        m.first_use_today = None if fu is None else float(fu)
        m.up_today = None if up is None else float(up)
        m.moving_minutes = int(state["moving_minutes"])
        m._last_moving_minute = int(state["last_moving_minute"])
        m.start_unseen = bool(state["start_unseen"])
        m.seen = bool(state["seen"])
        return m
