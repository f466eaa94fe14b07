"""The peers Hearth is measured against: fixed rules, as a hand-configured smart home sets them.

- ``inactivity``: no sign of life for 4 hours, between 08:00 and 22:00;
- ``missed_morning``: no morning signal (kettle, or the configured roles) by 10:00;
- ``night_exit``: an outside door opened between 23:00 and 06:00.

And a careful technician's rules (``TECHNICIAN``): 3 hours still *indoors* by day (not after an
outside door: she may be out), a door at night only once no one has moved indoors for 15
minutes after it, and no morning signal by 11:00.

Nothing is learned; the same thresholds serve every home.

>>> from datetime import datetime, timezone
>>> from zoneinfo import ZoneInfo
>>> from models.household import Household, SensorInfo
>>> h = Household("h", ZoneInfo("UTC"), (SensorInfo("fd", "contact", "hall", "front_door"),))
>>> rules = FixedRules(h)
>>> rules.observe(SensorEvent(datetime(2024, 1, 1, 2, tzinfo=timezone.utc), "fd", "contact", 1.0))
>>> [f.type for f in rules.tick(datetime(2024, 1, 1, 2, 1, tzinfo=timezone.utc))]
['night_exit']
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from models.events import SensorEvent
from models.finding import Finding
from models.household import Household
from models.local_time import clock_text, local_date, local_instant, minutes_since_midnight


@dataclass(frozen=True, slots=True)
class RuleSettings:
    quiet_limit: timedelta = timedelta(hours=4)
    day_from_min: float = 8 * 60
    day_to_min: float = 22 * 60
    morning_by_min: float = 10 * 60
    night_from_min: float = 23 * 60
    night_to_min: float = 6 * 60
    morning_roles: frozenset[str] = frozenset({"kettle"})
    # Stillness only counts when the last sign of life was not an outside door.
    indoors_only: bool = False
    # A door at night is raised only once no one has moved indoors for this long after it.
    door_confirm: timedelta = timedelta(0)


TECHNICIAN = RuleSettings(
    quiet_limit=timedelta(hours=3),
    morning_by_min=11 * 60,
    indoors_only=True,
    door_confirm=timedelta(minutes=15),
)


class FixedRules:
    def __init__(self, household: Household, settings: RuleSettings | None = None) -> None:
        self.household = household
        self.settings = settings or RuleSettings()
        self.doors = household.outside_doors()
        self.morning = household.with_roles(self.settings.morning_roles)
        self.last_activity: datetime | None = None
        self.last_was_door = False
        self.morning_seen: date | None = None
        self.night_doors: list[datetime] = []

    def observe(self, event: SensorEvent) -> None:
        if not event.is_activity or self.household.sensor(event.sensor) is None:
            return
        tz = self.household.tz
        self.last_activity = event.at
        self.last_was_door = event.sensor in self.doors
        if not self.last_was_door and self.settings.door_confirm:
            # Movement indoors after a door at night: a look outside, not someone gone.
            self.night_doors.clear()
        minute = minutes_since_midnight(event.at, tz)
        if event.sensor in self.morning and minute >= 4 * 60:
            self.morning_seen = local_date(event.at, tz)
        s = self.settings
        if event.sensor in self.doors and (minute >= s.night_from_min or minute < s.night_to_min):
            self.night_doors.append(event.at)

    def tick(self, now: datetime) -> list[Finding]:
        s, tz = self.settings, self.household.tz
        due = [at for at in self.night_doors if now - at >= s.door_confirm]
        found = [
            Finding(
                "night_exit",
                "urgent",
                at,
                now,
                f"Outside door opened at night ({clock_text(minutes_since_midnight(at, tz))}).",
                f"night_exit:{at.isoformat()}",
                {"rule": "door opened at night"},
            )
            for at in due
        ]
        self.night_doors = [at for at in self.night_doors if at not in due]
        minute = minutes_since_midnight(now, tz)
        since = self.last_activity
        if (
            since is not None
            and s.day_from_min <= minute < s.day_to_min
            and now - since >= s.quiet_limit
            and not (s.indoors_only and self.last_was_door)
        ):
            found.append(
                Finding(
                    "inactivity",
                    "urgent",
                    since,
                    now,
                    "No movement for a long while during the day.",
                    f"inactivity:{since.isoformat()}",
                    {"rule": f"no activity for {s.quiet_limit}, by day"},
                )
            )
        today = local_date(now, tz)
        if (
            self.morning
            and minute >= s.morning_by_min
            and minute < s.day_to_min
            and self.morning_seen != today
        ):
            found.append(
                Finding(
                    "missed_morning",
                    "urgent",
                    local_instant(today, s.morning_by_min, tz),
                    now,
                    f"No morning activity by {clock_text(s.morning_by_min)}.",
                    f"missed_morning:{today.isoformat()}",
                    {"rule": "morning signal by a fixed time"},
                )
            )
        return found
