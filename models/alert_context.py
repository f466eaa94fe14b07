"""What Hearth knows around an alert about the resident, for the carer deciding what to do: where
it last saw a sign of life, when an outside door was last used, and whether every sensor is
working (a stillness with the kitchen sensor offline reads differently).

>>> from datetime import UTC, datetime, timedelta
>>> from zoneinfo import ZoneInfo
>>> from models.events import SensorEvent
>>> from models.household import Household, SensorInfo
>>> from models.monitor import Monitor
>>> h = Household("h1", ZoneInfo("Europe/London"),
...               (SensorInfo("door", "contact", "hall", "front_door"),
...                SensorInfo("lounge", "motion", "lounge", "living")))
>>> m = Monitor(h)
>>> t = datetime(2026, 3, 28, 11, 52, tzinfo=UTC)
>>> _ = m.observe(SensorEvent(t, "door", "contact", 1.0))
>>> _ = m.observe(SensorEvent(t + timedelta(minutes=106), "lounge", "motion", 1.0))
>>> import textwrap
>>> print(textwrap.fill(context_of(m, t + timedelta(hours=3)), 90))
Last sign of life: movement in the lounge at 13:38. The front door was last used at 11:52.
All 2 sensors are working.
"""

from __future__ import annotations

from datetime import datetime

from models.detectors.sensor_findings import sensor_name
from models.detectors.wording import door_name
from models.local_time import local_date
from models.monitor import Monitor

# The alerts about the resident, for the carers: the technician's carry their own context.
ABOUT_THE_RESIDENT = frozenset(
    {"inactivity", "missed_morning", "night_exit", "not_returned", "night_restlessness"}
)
PROBLEM_WORDS = {"offline": "offline", "silent": "silent", "quiet": "unusually quiet"}


def context_of(monitor: Monitor, now: datetime) -> str:
    """Three sentences: the last sign of life, the outside doors, the sensors' health."""
    h, routine = monitor.household, monitor.routine
    out = []
    last_at, last = routine.last_activity_at, routine.last_activity_sensor
    info = h.sensor(last) if last else None
    if last_at is None or info is None:
        out.append("No sign of life seen yet since Hearth began watching.")
    else:
        where = (
            f"the {door_name(info.role)}" if last in h.outside_doors() else
            f"movement in the {info.room}" if info.kind in ("motion", "presence") else
            f"the {info.room} {info.role or info.kind}"
        )  # fmt: skip
        out.append(f"Last sign of life: {where} at {_when(monitor, last_at, now)}.")
    if h.outside_doors():
        door_at, door = routine.presence.last_door_at, routine.presence.last_door_sensor
        door_info = h.sensor(door) if door else None
        if door_at is None or door_info is None:
            out.append("No outside door used since Hearth began watching.")
        else:
            name = door_name(door_info.role)
            out.append(f"The {name} was last used at {_when(monitor, door_at, now)}.")
    problems = monitor.health.problems(now, last_at)
    if not problems:
        out.append(f"All {len(h.sensors)} sensors are working.")
    else:
        said = ", ".join(
            f"the {sensor_name(monitor.health, p.sensor)} ({PROBLEM_WORDS.get(p.kind, p.kind)}"
            f" since {_when(monitor, p.since, now)})"
            for p in problems
        )
        out.append(f"Not working as usual: {said}.")
    return " ".join(out)


def _when(monitor: Monitor, at: datetime, now: datetime) -> str:
    """13:38 today; 'Fri 13:38' on another day this week; a date beyond."""
    tz = monitor.household.tz
    clock = f"{at.astimezone(tz):%H:%M}"  # as the titles say it: the minute it happened in
    days = (local_date(now, tz) - local_date(at, tz)).days
    if days == 0:
        return clock
    if 0 < days < 7:
        return f"{at.astimezone(tz):%a} {clock}"
    return f"{local_date(at, tz).isoformat()} {clock}"
