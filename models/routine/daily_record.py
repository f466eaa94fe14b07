"""One line a day of how the day went: the figures the weekly trends are read from.

A day's record covers its night (from 18:00 the evening before to noon) and its waking day
(midnight to midnight):

- ``night_bathroom``: visits to the bathroom inside that night's own sleep (``sleep_onset`` to
  ``wake``); a run of bathroom events with under 10 minutes between them is one visit (the
  visit times are kept, for ``models.detectors.digest`` to count in other windows too);
- ``sleep_onset`` / ``wake``, in minutes since the previous noon (so 23:00 is 660 and 07:00
  is 1140): the start of the first long (45 min or more) quiet spell still going at midnight
  or starting after it, and the end of the last one starting before 09:00. An evening doze in
  the armchair, over by midnight, is not the night; nor is sitting still after lunch;
- ``active_minutes``: minutes of the day with any sign of life;
- ``kitchen_uses``: uses of the kitchen appliances and the fridge (one use per sensor per
  5 minutes);
- ``outings``: times out of the house for 10 minutes or more, by when they ended;
- ``night_active``: minutes with any sign of life inside the household's usual night (median
  bedtime to median waking, ``models.routine.sleep``; before it is learned, the night's own sleep);
- ``score`` and ``contributors``: how unusual the day was (``models.routine.daily_score``);
- ``first_min`` / ``last_min``: the day's first and last sign of life (local minutes), which
  tell a whole day from one cut short by a gap in the data.

>>> from datetime import datetime, timedelta, timezone
>>> from zoneinfo import ZoneInfo
>>> from models.household import Household, SensorInfo
>>> h = Household("h", ZoneInfo("UTC"), (SensorInfo("bath", "motion", "bathroom", "bathroom"),))
>>> days = DailyRecords(h)
>>> t = datetime(2024, 1, 2, tzinfo=timezone.utc)
>>> days.quiet_spell(t - timedelta(hours=1), 3 * 3600)      # 23:00 to 02:00
>>> days.activity(t + timedelta(hours=2), "bath")
>>> days.quiet_spell(t + timedelta(hours=2, minutes=5), 4 * 3600)  # back to sleep until 06:05
>>> days.advance(t + timedelta(days=1))
>>> r = days.history[-1]
>>> (r.night_bathroom, r.sleep_onset, r.wake)
(1, 660.0, 1085.0)
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from models.household import Household
from models.local_time import instant_or_none, iso_or_none, local_date, minutes_since_midnight
from models.routine.daily_score import daily_score

LONG_SPELL_S = 45 * 60
MIDNIGHT = 12 * 60  # in minutes since noon
LAST_SLEEP_START = 21 * 60  # 09:00
VISIT_GAP = timedelta(minutes=10)
USE_GAP = timedelta(minutes=5)
SHORTEST_OUTING_S = 10 * 60
KITCHEN_ROLES = frozenset({"kettle", "fridge", "microwave", "appliance"})


# A day whose signs of life span less than this is taken as cut short by a gap in the data.
WHOLE_DAY_MIN = 12 * 60


@dataclass
class DayRecord:
    day: date
    night_bathroom: int = 0
    sleep_onset: float | None = None
    wake: float | None = None
    active_minutes: int = 0
    kitchen_uses: int = 0
    outings: int = 0
    # First and last sign of life of the waking day, local minutes since midnight.
    first_min: float | None = None
    last_min: float | None = None
    # The day's first sign of life from 04:00 on: getting up, not a night visit.
    morning_min: float | None = None
    # Minutes with a sign of life inside the night's sleep (as for night_bathroom).
    night_active: int = 0
    # How unusual the day was against the weeks before it (daily_score), set on closing.
    score: float | None = None
    contributors: list[str] = field(default_factory=list)
    restlessness: float | None = None
    # Each bathroom visit of the night, in minutes since noon: kept, so that the digest counts
    # them all against the same (latest) usual night.
    bathroom_at: list[float] = field(default_factory=list)
    # Each use of an outside door in the night (18:00 to noon), in minutes since noon.
    door_at: list[float] = field(default_factory=list)
    # Minutes with a sign of life, and long quiet spells, in the night (minutes since noon),
    # until the day is closed and the main sleep is known.
    _active_at: list[float] = field(default_factory=list)
    _spells: list[list[float]] = field(default_factory=list)

    def door_between(self, start: float, end: float) -> bool:
        """An outside door used between ``start`` and ``end`` (minutes since the previous noon)."""
        return any(start <= t < end for t in self.door_at)

    def bathroom_visits(self, start: float, end: float) -> int:
        """Visits between ``start`` and ``end`` (minutes since the previous noon)."""
        return sum(1 for t in self.bathroom_at if start < t < end)

    @property
    def whole(self) -> bool:
        """Observed from morning to evening, not cut short by a gap in the data."""
        if self.first_min is None or self.last_min is None:
            return False
        return self.last_min - self.first_min >= WHOLE_DAY_MIN


def _night_sleep(spells: list[list[float]]) -> tuple[float | None, float | None]:
    onsets = [start for start, end in spells if end > MIDNIGHT]
    wakes = [end for start, end in spells if start < LAST_SLEEP_START]
    return (min(onsets) if onsets else None, max(wakes) if wakes else None)


class DailyRecords:
    # Counted from this run's start, for whoever writes the days out.
    NOT_SAVED: ClassVar[frozenset[str]] = frozenset({"closed"})

    def __init__(self, household: Household, window: int = 90) -> None:
        self.household = household
        self.tz = household.tz
        self.history: deque[DayRecord] = deque(maxlen=window)
        self.open: dict[date, DayRecord] = {}
        self._bathroom = household.with_roles(frozenset({"bathroom"}))
        self._kitchen = household.with_roles(KITCHEN_ROLES)
        self._doors = household.outside_doors()
        self._last_minute: datetime | None = None
        self._last_visit: datetime | None = None
        self._last_use: dict[str, datetime] = {}
        # Days closed since this run began, for whoever writes them out (not saved).
        self.closed = 0

    def _record(self, d: date) -> DayRecord:
        rec = self.open.get(d)
        if rec is None:
            rec = self.open[d] = DayRecord(d)
        return rec

    def _night_of(self, at: datetime) -> tuple[DayRecord, float] | None:
        """The record whose night ``at`` falls in, and minutes since that night's noon."""
        local = at.astimezone(self.tz)
        m = minutes_since_midnight(at, self.tz)
        if m >= 18 * 60:
            return self._record(local.date() + timedelta(days=1)), m - 12 * 60
        if m < 12 * 60:
            return self._record(local.date()), m + 12 * 60
        return None

    def activity(self, at: datetime, sensor: str) -> None:
        """A sign of life (events come in time order)."""
        day = self._record(local_date(at, self.tz))
        m = minutes_since_midnight(at, self.tz)
        if day.first_min is None:
            day.first_min = m
        if day.morning_min is None and m >= 4 * 60:
            day.morning_min = m
        day.last_min = m
        minute = at.replace(second=0, microsecond=0)
        if self._last_minute != minute:
            day.active_minutes += 1
            self._last_minute = minute
            night = self._night_of(at)
            if night is not None:
                night[0]._active_at.append(night[1])
        if sensor in self._bathroom:
            if self._last_visit is None or at - self._last_visit > VISIT_GAP:
                night = self._night_of(at)
                if night is not None:
                    night[0].bathroom_at.append(night[1])
            self._last_visit = at
        if sensor in self._doors:
            night = self._night_of(at)
            if night is not None:
                night[0].door_at.append(night[1])
        if sensor in self._kitchen:
            last = self._last_use.get(sensor)
            if last is None or at - last > USE_GAP:
                day.kitchen_uses += 1
            self._last_use[sensor] = at

    def quiet_spell(self, start: datetime, length_s: float) -> None:
        """A quiet spell while someone was in: long ones in the night mark sleep."""
        if length_s < LONG_SPELL_S:
            return
        night = self._night_of(start)
        if night is None:
            return
        rec, since_noon = night
        end = since_noon + length_s / 60
        if end > 24 * 60:
            return  # past the next noon: a gap in the data, not a night
        rec._spells.append([since_noon, end])

    def outing(self, ended_at: datetime, length_s: float) -> None:
        if length_s >= SHORTEST_OUTING_S:
            self._record(local_date(ended_at, self.tz)).outings += 1

    def shift(self, jump: timedelta) -> None:
        """The wall clock set by ``jump``: the last minute, visit and uses are as long ago."""
        if self._last_minute is not None:
            self._last_minute += jump
        if self._last_visit is not None:
            self._last_visit += jump
        self._last_use = {sensor: at + jump for sensor, at in self._last_use.items()}

    def shift_days(self, days: int) -> None:
        """The clock set by whole days: the days still open carry on under their new dates."""
        moved = timedelta(days=days)
        for r in self.open.values():
            r.day += moved
        self.open = {r.day: r for r in self.open.values()}

    def advance(self, now: datetime, core: tuple[float, float] | None = None) -> None:
        """Close every day that has ended by ``now`` (local midnight), in date order.

        ``core`` is the household's usual night, in minutes since noon."""
        today = local_date(now, self.tz)
        ended = [d for d in self.open if d < today]
        for d in sorted(ended) if ended else ():
            rec = self.open.pop(d)
            rec.sleep_onset, rec.wake = _night_sleep(rec._spells)
            own = None
            if rec.sleep_onset is not None and rec.wake is not None:
                own = (rec.sleep_onset, rec.wake)
                rec.night_bathroom = rec.bathroom_visits(*own)
            night = core or own
            if night is not None:
                rec.night_active = sum(1 for t in rec._active_at if night[0] < t < night[1])
            rec._active_at = []
            rec._spells = []
            if rec.active_minutes:
                # A day with no sign of life at all is a gap in the data, not a day to compare.
                rec.score, rec.contributors, rec.restlessness = daily_score(rec, list(self.history))
                self.history.append(rec)
                self.closed += 1

    def to_state(self) -> dict[str, Any]:
        def as_dict(r: DayRecord) -> dict[str, Any]:
            d = asdict(r)
            d["day"] = r.day.isoformat()
            return d

        return {
            "history": [as_dict(r) for r in self.history],
            "open": [as_dict(r) for r in self.open.values()],
            "window": self.history.maxlen,
            "last_minute": iso_or_none(self._last_minute),
            "last_visit": iso_or_none(self._last_visit),
            "last_use": {sensor: at.isoformat() for sensor, at in self._last_use.items()},
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], household: Household) -> DailyRecords:
        def record(d: dict[str, Any]) -> DayRecord:
            # Copies of the lists: the record goes on changing, the state it came from must not.
            fields: dict[str, Any] = {
                k: list(v) if isinstance(v, list) else v for k, v in d.items()
            }
            fields["day"] = date.fromisoformat(d["day"])
            return DayRecord(**fields)

        days = cls(household, int(state["window"]))
        days.history.extend(record(d) for d in state["history"])
        days.open = {r.day: r for r in (record(d) for d in state["open"])}
        days._last_minute = instant_or_none(state["last_minute"])
        days._last_visit = instant_or_none(state["last_visit"])
        days._last_use = {s: datetime.fromisoformat(t) for s, t in state["last_use"].items()}
        return days
