"""The household's learned routine in words, for the technician and a family meeting: when the
day usually begins, the usual night, how long a stillness Hearth lets pass at each hour before
it says so, outings, nights up, and how far each detector has learned.

>>> from datetime import datetime, timedelta, timezone
>>> from zoneinfo import ZoneInfo
>>> from models.events import SensorEvent
>>> from models.household import Household, SensorInfo
>>> from models.monitor import Monitor
>>> h = Household("h1", ZoneInfo("UTC"), (SensorInfo("hall", "motion", "hall", "hallway"),))
>>> m = Monitor(h)
>>> _ = m.observe(SensorEvent(datetime(2024, 1, 1, 8, tzinfo=timezone.utc), "hall", "motion", 1.0))
>>> routine_in_words(m)[:2]
['household h1: learned from 0 days (alerts on what is learned after 14)', \
'mornings: not learned yet']
"""

from __future__ import annotations

from statistics import mean

from models.detectors.inactivity import InactivityDetector, InactivitySettings
from models.detectors.wording import duration_text
from models.learning import learning
from models.local_time import DayType, clock_text, local_instant
from models.monitor import Monitor
from models.routine.sleep import clock_of

# The hours the stillness limit is told at: every two, a day's shape without a wall of figures.
TOLD_HOURS = range(0, 24, 2)
# The outings counted over the last four weeks of whole days.
OUTING_DAYS = 28


def routine_in_words(monitor: Monitor) -> list[str]:
    r = monitor.routine
    out = [
        f"household {monitor.household.id}: learned from {r.days_learned} days"
        f" (alerts on what is learned after {monitor.settings.learning_days})"
    ]
    out += _mornings(monitor)
    night = r.sleep.usual_night()
    in_bed = r.sleep.in_bed()
    if night is None or in_bed is None:
        out.append("nights: not learned yet")
    else:
        out.append(
            f"nights: usually asleep from {clock_of(night.start)} to {clock_of(night.end)}"
            f" ({len(r.sleep.history)} nights); in bed on all but a few nights from"
            f" {clock_of(in_bed.start)} to {clock_of(in_bed.end)}"
        )
    longest = r.night_activity.usual_longest()
    if longest is not None:
        out.append(
            f"up at night: the longest stretch up and about is {duration_text(longest)}"
            f" or less on most nights ({len(r.night_activity.history)} nights)"
        )
    out += _stillness(monitor)
    days = [d for d in r.daily.history if d.whole][-OUTING_DAYS:]
    if days:
        out.append(
            f"outings: {mean(d.outings for d in days):.1f} a day over the last {len(days)}"
            " whole days"
        )
    out.append("learning:")
    out += [f"  {x.words()}" for x in learning(monitor)]
    return out


def _mornings(monitor: Monitor) -> list[str]:
    m = monitor.routine.mornings
    out = []
    kinds: tuple[tuple[DayType, str], ...] = (("weekday", "weekdays"), ("weekend", "weekends"))
    for kind, name in kinds:
        begun = m.day_begun.usual(kind)
        if begun is None:
            continue
        line = (
            f"mornings ({name}): the day begins around {clock_text(begun.median)}, by"
            f" {clock_text(begun.typical_latest)} on most days ({begun.days} mornings)"
        )
        first = m.first_use.usual(kind)
        if first is not None:
            line += f"; first use of the kettle or kitchen around {clock_text(first.median)}"
        out.append(line)
    return out or ["mornings: not learned yet"]


def _stillness(monitor: Monitor) -> list[str]:
    """The inactivity alert's limit by the hour a stillness begins, after a room where long
    stillness begins as often as anywhere."""
    settings = monitor.settings.detectors.get("inactivity")
    if not isinstance(settings, InactivitySettings):
        return ["stillness: not watched (inactivity is off)"]
    r = monitor.routine
    if r.current_day is None:
        return []
    limits = []
    for hour in TOLD_HOURS:
        at = local_instant(r.current_day, hour * 60, r.household.tz)
        limit = r.spells.limit(at, settings.once_in_days, settings.shortest, settings.ceiling)
        if InactivityDetector.by_day(r, at):
            limit = min(limit, settings.long_lie.total_seconds())
        limits.append(f"{hour:02d}:00 {duration_text(limit)}")
    out = [
        "stillness: 'no movement' is said after this long still, by the hour it begins"
        + ("" if monitor.learned else " (while learning, the safety limit alone)")
        + ":",
        "  " + ", ".join(limits),
    ]
    if r.sleep.in_bed() is not None:
        out.append("  in bed in the night hours, she is taken to be asleep until her usual waking")
    out.append(f"  never longer than {duration_text(settings.ceiling.total_seconds())}")
    return out
