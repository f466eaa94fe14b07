"""A home in which every built-in detector has something to find: the demo persona for seven
weeks, with a day of stillness while still learning, a fall, a missed morning, a night exit, an
outing with no return, a restless night and a week of more bathroom visits at night.

Every stretch is written into the persona's own days, so that each detector sees it against
a routine like the one it learned. ``ANOMALIES`` says which detector each is for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from agent.simulation.persona import BadDay, Persona
from models.events import SensorEvent

LONDON = ZoneInfo("Europe/London")
START = date(2025, 1, 6)  # a Monday
DAYS = 50


def at(day: int, hour: int, minute: int = 0) -> datetime:
    d = START + timedelta(days=day)
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=LONDON).astimezone(UTC)


@dataclass(frozen=True)
class Anomaly:
    detector: str
    day: int
    what: str


ANOMALIES = (
    Anomaly("inactivity", 6, "still from 10:00 to 01:00 while learning: the 14 h safety net"),
    Anomaly("inactivity", 22, "a fall after lunch (the persona's own bad day)"),
    Anomaly("missed_morning", 27, "a slow, late morning with no kettle (the persona's own)"),
    Anomaly("night_exit", 31, "the front door at 03:10, then no one indoors until 08:00"),
    Anomaly("not_returned", 36, "the front door at 10:05, then no one indoors until 23:00"),
    Anomaly("night_restlessness", 40, "up and about in the hall from 01:30 to 03:30"),
    Anomaly("digest", 41, "three more bathroom visits a night for a week"),
)


def _without(events: list[SensorEvent], lo: datetime, hi: datetime) -> list[SensorEvent]:
    return [e for e in events if not lo <= e.at < hi]


def _door(t: datetime) -> list[SensorEvent]:
    return [
        SensorEvent(t, "front_door", "contact", 1.0),
        SensorEvent(t + timedelta(seconds=20), "front_door", "contact", 0.0),
    ]


def _motion(t: datetime, sensor: str) -> list[SensorEvent]:
    return [
        SensorEvent(t, sensor, "motion", 1.0),
        SensorEvent(t + timedelta(seconds=90), sensor, "motion", 0.0),
    ]


def events(seed: int = 3) -> list[SensorEvent]:
    bad = (BadDay(22, "fall"), BadDay(27, "missed_morning"))
    ev = list(Persona(START, LONDON, seed).events(DAYS, bad))
    ev = _without(ev, at(6, 10), at(7, 1))
    ev = _without(ev, at(31, 3, 10), at(31, 8)) + _door(at(31, 3, 10))
    ev = _without(ev, at(36, 10, 5), at(36, 23)) + _door(at(36, 10, 5))
    ev = _without(ev, at(40, 1, 30), at(40, 3, 30))
    up = at(40, 1, 30)
    ev += [e for m in range(0, 120, 2) for e in _motion(up + timedelta(minutes=m), "hall_motion")]
    for night in range(41, 48):
        for hour in (1, 2, 4):
            ev += _motion(at(night, hour, 15), "bathroom_motion")
    return sorted(ev, key=lambda e: e.at)
