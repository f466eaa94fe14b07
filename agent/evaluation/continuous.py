"""``hearth eval --method continuous``: one continuous replay per home, with anomalies that
recur and falls that end, as life has them.

For each home, every few days after learning (never on a day touching a recording outage of a
day or more, nor the day after one), one anomaly is written into the real recording, the kinds
taking turns, so each kind comes back several times in the same home:

- ``fall``: from an ordinary sign of life in a room (not a door) between 09:00 and 18:00,
  nothing for 2 to 8 hours, and then the day's recorded activity resumes (she gets up, or is
  found); caught by ``inactivity`` or ``not_returned`` while she is still on the floor;
- ``missed_morning``: nothing from the day's first activity after 05:00 until 11:30; caught
  before 11:30 by ``missed_morning`` or ``inactivity``, or by a door's alert when the last sign
  of life was an outside door;
- ``night_exit``: an outside door between 03:00 and 04:00, then nothing until 07:30;
- ``not_returned``: an outside door between 09:00 and 17:00, then nothing for 12 hours.

Each contender replays the whole changed recording once, from a fresh start: what it learns
from an anomaly it alerted on is what it will know at the next one. Alerts on days that no
anomaly touches are false; those inside a whole-home outage are counted apart (from inside the
home an outage looks like a still person) and not against the detectors.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from agent.config import household_of
from agent.config.schema import HearthConfig
from agent.evaluation.contenders import Contender
from agent.evaluation.homes import OUTAGE, in_outage
from agent.evaluation.injection import (
    EXPECTED_TYPES,
    FALL_FROM_MIN,
    FALL_TO_MIN,
    MISSED_MORNING_FROM_MIN,
    MISSED_MORNING_UNTIL_MIN,
    NIGHT_EXIT_FROM_MIN,
    NIGHT_EXIT_UNTIL_MIN,
    OUT_FROM_MIN,
    OUT_HOURS,
    OUT_TO_MIN,
    WAKING_BY_MIN,
    door_then_nothing,
)
from agent.replay import drive
from models.alert_policy import Alert
from models.events import SensorEvent
from models.household import Household
from models.local_time import local_date, local_instant, minutes_since_midnight

KINDS = ("fall", "night_exit", "missed_morning", "not_returned")
# How long she lies before she gets up, or is found (the windows are injection.py's).
FALL_HOURS = (2.0, 2.5, 3.0, 4.0, 6.0, 8.0)
# Between one anomaly and the next: each kind comes back every len(KINDS) * this many days.
SPACING_DAYS = 2
# Days with fewer signs of life than this are too thin to write an anomaly into.
FEWEST_EVENTS = 20
# The urgent alerts a carer is rung for: the false-alert budget covers them together (and the
# Half-Space Trees peer's one alert, for whatever is unusual).
URGENT_TYPES = frozenset(
    {"inactivity", "missed_morning", "night_exit", "not_returned", "night_restlessness", "anomaly"}
)


@dataclass(frozen=True, slots=True)
class Planned:
    kind: str
    day: date
    start: datetime
    end: datetime
    # 0 for a kind's first time in the home, 1 for its second, and so on.
    repeat: int
    fall_hours: float | None = None
    # Where the stillness began (a fall's room), or "" for the others.
    room: str = ""


@dataclass
class Caught:
    # A contender at one operating point ("hearth", "fixed_rules 3h"...).
    contender: str
    home: str
    kind: str
    day: str
    repeat: int
    fall_hours: float | None
    room: str
    caught: bool
    latency_min: float | None


@dataclass
class ContinuousResult:
    home: str
    # Days after learning that no anomaly touches (the ordinary days), with data.
    ordinary_days: int
    outcomes: list[Caught] = field(default_factory=list)
    # Per contender: urgent alerts on ordinary days, by type; and those inside outages.
    false_alerts: dict[str, dict[str, int]] = field(default_factory=dict)
    in_outage: dict[str, int] = field(default_factory=dict)


def outage_days(events: list[SensorEvent], tz: ZoneInfo) -> set[date]:
    """Local days that a stretch of ``OUTAGE`` or more with no sign of life touches."""
    acts = [e.at for e in events if e.is_activity]
    out: set[date] = set()
    for a, b in itertools.pairwise(acts):
        if b - a >= OUTAGE:
            d, last = local_date(a, tz), local_date(b, tz)
            while d <= last:
                out.add(d)
                d += timedelta(days=1)
    return out


def plan(
    events: list[SensorEvent], household: Household, learning_days: int, rng: random.Random
) -> list[Planned]:
    """Where each anomaly goes: every ``SPACING_DAYS`` on the days with room for one."""
    tz, doors = household.tz, household.outside_doors()
    by_day: dict[date, list[SensorEvent]] = {}
    for e in events:
        if e.is_activity:
            by_day.setdefault(local_date(e.at, tz), []).append(e)
    if not by_day:
        return []
    days = sorted(by_day)
    outages = outage_days(events, tz)
    first = days[0] + timedelta(days=learning_days)
    one = timedelta(days=1)

    def room_for_one(d: date) -> bool:
        near = (d - one, d, d + one)
        return (
            d >= first
            and not any(n in outages for n in near)
            and all(len(by_day.get(n, [])) >= FEWEST_EVENTS for n in (d, d + one))
        )

    planned: list[Planned] = []
    seen: dict[str, int] = {}
    last: date | None = None
    for d in days:
        if last is not None and d - last < timedelta(days=SPACING_DAYS):
            continue
        if not room_for_one(d):
            continue
        kind = KINDS[len(planned) % len(KINDS)]
        one_plan = _place(kind, d, by_day[d], tz, doors, rng, seen.get(kind, 0))
        if one_plan is None:
            continue
        planned.append(one_plan)
        seen[kind] = seen.get(kind, 0) + 1
        last = d
    return planned


def _place(
    kind: str,
    d: date,
    on_day: list[SensorEvent],
    tz: ZoneInfo,
    doors: frozenset[str],
    rng: random.Random,
    repeat: int,
) -> Planned | None:
    def minute(e: SensorEvent) -> float:
        return minutes_since_midnight(e.at, tz)

    if kind == "fall":
        candidates = [
            e for e in on_day if FALL_FROM_MIN <= minute(e) < FALL_TO_MIN and e.sensor not in doors
        ]
        if not candidates:
            return None
        e = rng.choice(candidates)
        hours = rng.choice(FALL_HOURS)
        end = e.at + timedelta(hours=hours)
        return Planned(kind, d, e.at, end, repeat, hours, e.sensor)
    if kind == "missed_morning":
        wake = next((e for e in on_day if minute(e) >= MISSED_MORNING_FROM_MIN), None)
        if wake is None or minute(wake) >= WAKING_BY_MIN:
            return None
        return Planned(kind, d, wake.at, local_instant(d, MISSED_MORNING_UNTIL_MIN, tz), repeat)
    if not doors:
        return None
    if kind == "night_exit":
        t0 = local_instant(d, NIGHT_EXIT_FROM_MIN + rng.uniform(0, 60), tz)
        return Planned(kind, d, t0, local_instant(d, NIGHT_EXIT_UNTIL_MIN, tz), repeat)
    candidates = [
        e for e in on_day if OUT_FROM_MIN <= minute(e) < OUT_TO_MIN and e.sensor not in doors
    ]
    if not candidates:
        return None
    t0 = rng.choice(candidates).at + timedelta(minutes=1)
    return Planned(kind, d, t0, t0 + timedelta(hours=OUT_HOURS), repeat)


def write_in(
    events: list[SensorEvent], planned: list[Planned], household: Household
) -> list[SensorEvent]:
    """The recording with every planned anomaly written in."""
    door = sorted(household.outside_doors())[0] if household.outside_doors() else ""
    out = events
    for p in planned:
        if p.kind == "fall":
            out = [e for e in out if not (p.start < e.at <= p.end)]
        elif p.kind == "missed_morning":
            out = [e for e in out if not (p.start <= e.at < p.end)]
        else:
            closed = timedelta(seconds=30 if p.kind == "night_exit" else 20)
            out = door_then_nothing(out, door, p.start, p.end, closed)
    return out


def evaluate_home(
    home: str,
    events: list[SensorEvent],
    cfg: HearthConfig,
    contenders: dict[str, Callable[[HearthConfig], Contender]],
    seed: int = 1,
) -> ContinuousResult:
    """``events`` with the planned anomalies written in, replayed once by each contender."""
    household = household_of(cfg)
    tz = household.tz
    planned = plan(events, household, cfg.learning.days, random.Random(f"{seed}/{home}"))
    changed = write_in(events, planned, household)
    acts = sorted(e.at for e in changed if e.is_activity)
    days = sorted({local_date(t, tz) for t in acts})
    first = days[0] + timedelta(days=cfg.learning.days) if days else date.max
    touched = {local_date(t, tz) for p in planned for t in (p.start, p.end)}
    ordinary = [d for d in days if d >= first and d not in touched]
    result = ContinuousResult(home, len(ordinary))
    ordinary_set = set(ordinary)
    for name, make in contenders.items():
        alerts = _replay(make(cfg), changed)
        for p in planned:
            hits = [
                a
                for a in alerts
                if a.type in EXPECTED_TYPES[p.kind] and p.start <= a.detected_at <= p.end
            ]
            latency = (hits[0].detected_at - p.start).total_seconds() / 60 if hits else None
            result.outcomes.append(
                Caught(
                    name,
                    home,
                    p.kind,
                    p.day.isoformat(),
                    p.repeat,
                    p.fall_hours,
                    _room(household, p.room),
                    bool(hits),
                    None if latency is None else round(latency, 1),
                )
            )
        false: dict[str, int] = {}
        outage = 0
        for a in alerts:
            if a.type not in URGENT_TYPES or local_date(a.detected_at, tz) not in ordinary_set:
                continue
            if in_outage(acts, a.detected_at):
                outage += 1
            else:
                false[a.type] = false.get(a.type, 0) + 1
        result.false_alerts[name] = dict(sorted(false.items()))
        result.in_outage[name] = outage
    return result


def _replay(contender: Contender, events: list[SensorEvent]) -> list[Alert]:
    alerts: list[Alert] = []

    def tick(now: datetime) -> None:
        alerts.extend(contender.tick(now))

    drive(events, contender.observe, tick, next_look=contender.next_due)
    return alerts


def _room(household: Household, sensor: str) -> str:
    info = household.sensor(sensor)
    return info.room if info is not None else ""
