"""A simulated household for the demo and for tests: a persona living a weekday/weekend routine.

Mrs A. gets up around 07:30 on weekdays and 08:30 at weekends, puts the kettle on, potters
between kitchen and lounge, goes out for the shopping on some mornings, naps after lunch now and
then, goes to bed around 22:30 and gets up once most nights for the bathroom. Now and then she
has a bad day: a late, slow morning with no kettle, or a fall in the afternoon that leaves the
house still until a visitor comes; or her sensors do (the lounge sensor's battery goes flat).

Sensor ids match ``agent/demo/home.yaml``. Events come out as Z2M-style readings.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from models.events import SensorEvent

MOTION_ROOMS = ("kitchen", "lounge", "bedroom", "bathroom", "hall")


@dataclass(frozen=True, slots=True)
class BadDay:
    day: int  # days from the start
    kind: str  # "missed_morning", "fall" or "flat_battery"


class Persona:
    def __init__(self, start: date, tz: ZoneInfo, seed: int = 7) -> None:
        self.start = start
        self.tz = tz
        self.rng = random.Random(seed)

    def _at(self, d: date, minutes: float) -> datetime:
        local = datetime(d.year, d.month, d.day, tzinfo=self.tz) + timedelta(minutes=minutes)
        return local.astimezone(UTC)

    def _motion(self, d: date, minute: float, room: str) -> list[SensorEvent]:
        at = self._at(d, minute)
        # A PIR reports occupancy and clears it about 90 s later.
        return [
            SensorEvent(at, f"{room}_motion", "motion", 1.0),
            SensorEvent(at + timedelta(seconds=90), f"{room}_motion", "motion", 0.0),
        ]

    def _kettle(self, d: date, minute: float) -> list[SensorEvent]:
        at = self._at(d, minute)
        boil = timedelta(seconds=self.rng.uniform(120, 200))
        return [
            SensorEvent(at, "kettle", "power", 2150.0),
            SensorEvent(at, "kettle", "appliance", 1.0),
            SensorEvent(at + boil, "kettle", "power", 0.0),
            SensorEvent(at + boil, "kettle", "appliance", 0.0),
        ]

    def _door(self, d: date, minute: float) -> list[SensorEvent]:
        at = self._at(d, minute)
        return [
            SensorEvent(at, "front_door", "contact", 1.0),
            SensorEvent(at + timedelta(seconds=20), "front_door", "contact", 0.0),
        ]

    def _potter(
        self, d: date, start: float, end: float, rooms: tuple[str, ...]
    ) -> list[SensorEvent]:
        out: list[SensorEvent] = []
        t = start
        while t < end:
            out += self._motion(d, t, self.rng.choice(rooms))
            # Mostly on the move; now and then sitting still (TV, a book), which a PIR does not see.
            if self.rng.random() < 0.12:
                t += self.rng.uniform(15, 50)
            else:
                t += self.rng.expovariate(1 / 5.0) + 0.5
        return out

    def day(self, n: int, bad: str | None = None) -> list[SensorEvent]:
        d = self.start + timedelta(days=n)
        r = self.rng
        weekend = d.weekday() >= 5
        wake = r.gauss(510 if weekend else 450, 20)
        if bad == "missed_morning":
            wake = 660 + r.uniform(0, 30)  # a slow, late morning: up at 11:00 or later
        ev: list[SensorEvent] = []
        ev += self._motion(d, wake, "bedroom")
        ev += self._motion(d, wake + 3, "bathroom")
        ev += self._motion(d, wake + 9, "kitchen")
        kettle_at = wake + r.uniform(8, 16)
        if bad != "missed_morning":
            ev += self._kettle(d, kettle_at)
        ev += self._potter(d, wake + 15, 600 if not weekend else 660, ("kitchen", "lounge", "hall"))
        t = 600.0 if not weekend else 660.0
        if d.weekday() in (1, 3) or (weekend and r.random() < 0.5):
            ev += self._door(d, t)
            t += r.uniform(60, 120)
            ev += self._door(d, t)
            ev += self._motion(d, t + 1, "hall")
        ev += self._potter(d, max(t + 2, wake + 15), 750, ("kitchen", "lounge"))
        ev += self._kettle(d, 750 + r.uniform(0, 20))
        fall_at = 785 + r.uniform(0, 60) if bad == "fall" else None
        if fall_at is not None:
            ev += self._potter(d, 770, fall_at, ("lounge", "kitchen"))
            # Still until a visitor comes at about 18:30 and raises the alarm herself.
            ev += self._door(d, 1110)
            ev += self._potter(d, 1111, 1320, ("lounge", "hall", "kitchen"))
        else:
            nap = r.random() < 0.4
            ev += self._potter(d, 770, 840, ("lounge", "kitchen"))
            ev += self._potter(d, 840 + (r.uniform(30, 60) if nap else 0), 930, ("lounge",))
            ev += self._kettle(d, 930 + r.uniform(0, 20))
            ev += self._potter(d, 950, 1080, ("lounge", "kitchen", "hall"))
            ev += self._potter(d, 1080, 1350 + r.gauss(0, 15), ("lounge", "kitchen", "bathroom"))
        bed = 1350 + r.gauss(0, 15)
        ev += self._motion(d, bed, "bathroom")
        ev += self._motion(d, bed + 5, "bedroom")
        if r.random() < 0.6:
            night = 1440 + r.uniform(120, 240)
            ev += self._motion(d, night, "bathroom")
            ev += self._motion(d, night + 4, "bedroom")
        if bad == "flat_battery":
            ev = self._flat_battery(d, ev)
        return ev

    def _flat_battery(self, d: date, ev: list[SensorEvent]) -> list[SensorEvent]:
        """The lounge sensor's battery runs low in the morning and goes flat at 14:00, while she
        sits in the lounge until 18:30; the battery is changed at 19:00."""
        flat, dozes_until, changed = self._at(d, 840), self._at(d, 1110), self._at(d, 1140)

        def seen(e: SensorEvent) -> bool:
            if e.sensor == "lounge_motion" and flat <= e.at < changed:
                return False
            return not flat <= e.at < dozes_until

        reports = [
            SensorEvent(self._at(d, 540), "lounge_motion", "battery", 9.0),
            SensorEvent(flat, "lounge_motion", "availability", 0.0),
            SensorEvent(changed, "lounge_motion", "availability", 1.0),
            SensorEvent(changed, "lounge_motion", "battery", 100.0),
        ]
        return [e for e in ev if seen(e)] + reports

    def events(self, days: int, bad_days: tuple[BadDay, ...] = ()) -> Iterator[SensorEvent]:
        bad = {b.day: b.kind for b in bad_days}
        for n in range(days):
            yield from sorted(self.day(n, bad.get(n)), key=lambda e: e.at)


DEMO_BAD_DAYS = (
    BadDay(19, "missed_morning"),
    BadDay(26, "fall"),
    BadDay(33, "flat_battery"),
)
