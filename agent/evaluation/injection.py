"""The anomalies ``hearth eval`` writes into ordinary recorded days, and which alerts count as
catching each (the method: ``agent.evaluation``)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from agent.config import household_of
from agent.config.schema import HearthConfig
from models.alert_policy import Alert
from models.events import SensorEvent
from models.household import Household
from models.local_time import local_date, local_instant, minutes_since_midnight
from models.routine.daily_record import KITCHEN_ROLES

FALL_HOURS = 8
# Where inject() writes each anomaly, in local minutes since midnight (scripts/tradeoff.py
# counts the ordinary stretches of the same shapes).
FALL_FROM_MIN, FALL_TO_MIN = 9 * 60, 18 * 60
MISSED_MORNING_FROM_MIN, MISSED_MORNING_UNTIL_MIN = 5 * 60, 11.5 * 60
NIGHT_EXIT_FROM_MIN, NIGHT_EXIT_UNTIL_MIN = 3 * 60, 7.5 * 60
OUT_HOURS = 12
# Where an outing with no return starts, and how late a day may wake to have a morning missed.
OUT_FROM_MIN, OUT_TO_MIN = 9 * 60, 17 * 60
WAKING_BY_MIN = 10 * 60
ANOMALIES = (
    "fall",
    "missed_morning",
    "night_exit",
    "not_returned",
    "bathroom_nights",
    "no_kitchen",
    "thinning",
)
# The slow changes: how many days each spans, and the digest's name for it.
SLOW: dict[str, tuple[int, str]] = {
    "bathroom_nights": (8, "night_bathroom"),
    "no_kitchen": (2, "no_kitchen"),
    "thinning": (21, "less_active"),
}
SLOW_FROM_DAY = 35
SLOW_DAYS_PER_HOME = 4


# The alert types that count as catching each anomaly (and, on ordinary days, as crying wolf).
# ``anomaly`` is the Half-Space Trees peer's one alert type, for whatever is unusual.
EXPECTED_TYPES: dict[str, frozenset[str]] = {
    # A fall just after an outside door looks like going out; not_returned's alert says "not
    # back, or back and not moving", which is the fall in the hall.
    "fall": frozenset({"inactivity", "not_returned", "anomaly"}),
    # When the last sign of life before the missing morning is an outside door, the morning
    # left looks like going out at dawn, and a door's alert (night_exit or not_returned: the
    # door, then no one indoors) is the one a carer needs.
    "missed_morning": frozenset(
        {"missed_morning", "inactivity", "night_exit", "not_returned", "anomaly"}
    ),
    "night_exit": frozenset({"night_exit", "not_returned", "anomaly"}),
    "not_returned": frozenset({"not_returned", "inactivity", "anomaly"}),
    **{kind: frozenset({"digest"}) for kind in SLOW},
}


@dataclass(frozen=True, slots=True)
class Injection:
    kind: str
    day: date
    start: datetime
    end: datetime
    expects: frozenset[str]
    # For a digest: the change it must name.
    change: str | None = None

    def caught_by(self, alert: Alert) -> bool:
        if alert.type not in self.expects:
            return False
        changes = alert.evidence.get("changes")
        return self.change is None or (isinstance(changes, list) and self.change in changes)


def inject(
    kind: str, day: date, events: list[SensorEvent], cfg: HearthConfig, rng: random.Random
) -> tuple[list[SensorEvent], Injection] | None:
    """``events`` (a stretch around ``day``) with one anomaly written in, or None if the day has
    no room for it."""
    household = household_of(cfg)
    tz, doors = household.tz, household.outside_doors()

    def minute(e: SensorEvent) -> float:
        return minutes_since_midnight(e.at, tz)

    on_day = [e for e in events if e.is_activity and local_date(e.at, tz) == day]
    if kind == "fall":
        candidates = [
            e for e in on_day if FALL_FROM_MIN <= minute(e) < FALL_TO_MIN and e.sensor not in doors
        ]
        if not candidates:
            return None
        t0 = rng.choice(candidates).at
        end = t0 + timedelta(hours=FALL_HOURS)
        kept = [e for e in events if not (t0 < e.at <= end)]
        return kept, Injection(kind, day, t0, end, EXPECTED_TYPES[kind])
    if kind == "missed_morning":
        wake = next((e for e in on_day if minute(e) >= MISSED_MORNING_FROM_MIN), None)
        if wake is None or minute(wake) >= WAKING_BY_MIN:
            return None
        end = local_instant(day, MISSED_MORNING_UNTIL_MIN, tz)
        kept = [e for e in events if not (wake.at <= e.at < end)]
        return kept, Injection(kind, day, wake.at, end, EXPECTED_TYPES[kind])
    if kind == "night_exit":
        if not doors:
            return None
        t0 = local_instant(day, NIGHT_EXIT_FROM_MIN + rng.uniform(0, 60), tz)
        end = local_instant(day, NIGHT_EXIT_UNTIL_MIN, tz)
        merged = door_then_nothing(events, sorted(doors)[0], t0, end, timedelta(seconds=30))
        return merged, Injection(kind, day, t0, end, EXPECTED_TYPES[kind])
    if kind == "not_returned":
        candidates = [
            e for e in on_day if OUT_FROM_MIN <= minute(e) < OUT_TO_MIN and e.sensor not in doors
        ]
        if not doors or not candidates:
            return None
        t0 = rng.choice(candidates).at + timedelta(minutes=1)
        end = t0 + timedelta(hours=OUT_HOURS)
        merged = door_then_nothing(events, sorted(doors)[0], t0, end, timedelta(seconds=20))
        return merged, Injection(kind, day, t0, end, EXPECTED_TYPES[kind])
    if kind in SLOW:
        return _inject_slow(kind, day, events, household, rng)
    raise ValueError(f"unknown anomaly {kind!r}")


def door_then_nothing(
    events: list[SensorEvent], door: str, t0: datetime, end: datetime, closed_after: timedelta
) -> list[SensorEvent]:
    """``events`` with ``door`` opened at ``t0`` and closed ``closed_after`` later, and nothing
    else from ``t0`` until ``end``."""
    kept = [e for e in events if not (t0 <= e.at < end)]
    door_events = [
        SensorEvent(t0, door, "contact", 1.0),
        SensorEvent(t0 + closed_after, door, "contact", 0.0),
    ]
    return sorted(kept + door_events, key=lambda e: e.at)


def _inject_slow(
    kind: str, day: date, events: list[SensorEvent], household: Household, rng: random.Random
) -> tuple[list[SensorEvent], Injection] | None:
    tz = household.tz
    span, change = SLOW[kind]
    start = local_instant(day, 0, tz)
    end = local_instant(day + timedelta(days=span), 12 * 60, tz)
    expects = EXPECTED_TYPES[kind]
    if kind == "bathroom_nights":
        bathroom = sorted(household.with_roles(frozenset({"bathroom"})))
        if not bathroom:
            return None
        extra = []
        for night in range(1, 8):
            for _ in range(2):
                t = local_instant(day + timedelta(days=night), 60 + rng.uniform(0, 240), tz)
                extra += [
                    SensorEvent(t + timedelta(minutes=m), bathroom[0], "motion", 1.0)
                    for m in (0, 2, 4)
                ]
        merged = sorted(events + extra, key=lambda e: e.at)
        return merged, Injection(kind, day, start, end, expects, change)
    if kind == "no_kitchen":
        kitchen = household.with_roles(KITCHEN_ROLES)
        on_day = [e for e in events if e.sensor in kitchen and local_date(e.at, tz) == day]
        if not on_day:
            return None
        kept = [e for e in events if not (e.sensor in kitchen and local_date(e.at, tz) == day)]
        return kept, Injection(kind, day, start, end, expects, change)
    # thinning
    ramp = timedelta(days=14).total_seconds()

    def keep(e: SensorEvent) -> bool:
        if not e.is_activity or e.at < start:
            return True
        share = min(1.0, (e.at - start).total_seconds() / ramp) / 3
        return rng.random() >= share

    return [e for e in events if keep(e)], Injection(kind, day, start, end, expects, change)
