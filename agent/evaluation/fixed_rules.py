"""The peer Hearth is measured against: fixed rules, as a hand-configured smart home sets them.

- ``inactivity``: no sign of life for 4 hours, between 08:00 and 22:00;
- ``missed_morning``: no morning signal (kettle, or the configured roles) by 10:00;
- ``night_exit``: an outside door opened between 23:00 and 06:00.

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


class FixedRules:
    def __init__(self, household: Household, settings: RuleSettings | None = None) -> None:
        self.household = household
        self.settings = settings or RuleSettings()
        self.doors = household.outside_doors()
        self.morning = household.with_roles(self.settings.morning_roles)
        self.last_activity: datetime | None = None
        self.morning_seen: date | None = None
        self.night_doors: list[datetime] = []

    def observe(self, event: SensorEvent) -> None:
        if not event.is_activity or self.household.sensor(event.sensor) is None:
            return
        tz = self.household.tz
        self.last_activity = event.at
        minute = minutes_since_midnight(event.at, tz)
        if event.sensor in self.morning and minute >= 4 * 60:
            self.morning_seen = local_date(event.at, tz)
        s = self.settings
        if event.sensor in self.doors and (minute >= s.night_from_min or minute < s.night_to_min):
            self.night_doors.append(event.at)

    def tick(self, now: datetime) -> list[Finding]:
        s, tz = self.settings, self.household.tz
        found = [
            Finding(
                "night_exit",
                "urgent",
                at,
                now,
                f"Outside door opened at night ({clock_text(minutes_since_midnight(at, tz))}).",
                f"night_exit:{at.isoformat()}",
                {"rule": "door opened 23:00-06:00"},
            )
            for at in self.night_doors
        ]
        self.night_doors.clear()
        minute = minutes_since_midnight(now, tz)
        since = self.last_activity
        if (
            since is not None
            and s.day_from_min <= minute < s.day_to_min
            and now - since >= s.quiet_limit
        ):
            found.append(
                Finding(
                    "inactivity",
                    "urgent",
                    since,
                    now,
                    "No movement for 4 hours during the day.",
                    f"inactivity:{since.isoformat()}",
                    {"rule": "no activity for 4 h, 08:00-22:00"},
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
                    "No morning activity by 10:00.",
                    f"missed_morning:{today.isoformat()}",
                    {"rule": "morning signal by 10:00"},
                )
            )
        return found
