"""Each sensor's health: heard from as often as it usually is, online, its battery not low.

A sensor that stops talking looks, from inside the models, exactly like a person who stopped
moving. So each sensor's own usual silence is learned: for each local day, the longest it went
unheard (any reading counts: a motion, a battery report, a link-quality report). A silence
longer than ``margin`` times the 95th percentile of those daily longest silences, over the last
``window_days``, is unusual for that sensor. Zigbee sensors that report every hour learn an
hour or two; a back door used twice a week learns days.

The detectors that depend on an unhealthy sensor abstain (see ``models.monitor``): a flat
battery must never look like an inactive person. What is said to the technician is in
``models.detectors.sensor_findings``.

>>> from datetime import datetime, timedelta, timezone
>>> from zoneinfo import ZoneInfo
>>> from models.household import Household, SensorInfo
>>> h = Household("h1", ZoneInfo("UTC"), (SensorInfo("hall", "motion", "hall", "hallway"),))
>>> health = SensorHealth(h)
>>> t = datetime(2024, 1, 1, tzinfo=timezone.utc)
>>> for i in range(20 * 24):  # twenty days of hourly reports
...     health.observe(SensorEvent(t + timedelta(hours=i), "hall", "link_quality", 80.0))
>>> health.usual_silence_s("hall") / 3600
2.0
>>> [p.kind for p in health.problems(t + timedelta(days=20, hours=3), None)]
['silent']
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, ClassVar, Literal

from models.detectors.contract import ROUNDING, Settings, setting
from models.events import SensorEvent
from models.household import Household
from models.local_time import instant_or_none, local_date

# offline: the sensor (or its link) says it is gone. silent: a sensor that reports on its own
# (battery, link quality) stopped reporting. quiet: a sensor that speaks only when someone acts
# stayed quiet while the rest of the home was active: faulty, or that room went unused.
ProblemKind = Literal["offline", "silent", "quiet"]
# The problems that are sure enough to pause the detectors needing the sensor. A quiet sensor
# is not: pausing on it would pause fall detection whenever a room goes unused (what that cost
# on TIHM: docs/lab-notes.md), so it is only reported to the technician.
PAUSING = frozenset({"offline", "silent"})
# Readings a device sends about itself, whether or not anyone is about. Power is not one: a plug
# reports watts when something is switched on or off, so it falls quiet when the kettle does.
REPORTS = frozenset({"battery", "battery_low", "link_quality", "availability"})


@dataclass(frozen=True, slots=True)
class SensorHealthSettings(Settings):
    margin: float = setting(
        2.0,
        "Silence margin",
        "A sensor is silent after this many times its usual longest daily silence.",
        gt=1,
    )
    # Radio reports are not that punctual.
    shortest_silence: timedelta = setting(
        timedelta(hours=1), "Shortest silence", "Never call a sensor silent sooner than this."
    )
    # With fewer, the longest silence yet seen says too little of the longest to come.
    learn_days: int = setting(
        14,
        "Learning days",
        "Days with a reading before a sensor's usual silence is trusted.",
        ge=3,
    )
    battery_low_percent: float = setting(
        15.0, "Low battery", "Battery percent that is low.", ge=0, le=100
    )
    # Zigbee2MQTT flips availability on a missed ping; a short blip is not an outage.
    offline_grace: timedelta = setting(
        timedelta(minutes=10),
        "Offline grace",
        "How long a sensor may be marked offline before it counts as down.",
    )
    window_days: int = 60


@dataclass(frozen=True, slots=True)
class SensorProblem:
    sensor: str
    kind: ProblemKind
    since: datetime


@dataclass
class _Record:
    last_heard: datetime | None = None
    longest_by_day: dict[date, float] = field(default_factory=dict)
    offline_since: datetime | None = None
    battery: float | None = None
    battery_low_since: datetime | None = None
    # Sends readings of its own (battery, link quality), not only when someone acts.
    reports: bool = False
    # Offline because the link it comes through is down, which is reported as the link's alert.
    link_down: bool = False


class SensorHealth:
    # Worked out again from what is saved.
    NOT_SAVED: ClassVar[frozenset[str]] = frozenset({"_usual"})

    def __init__(self, household: Household, settings: SensorHealthSettings | None = None) -> None:
        self.household = household
        self.settings = settings or SensorHealthSettings()
        self.records: dict[str, _Record] = {s.id: _Record() for s in household.sensors}
        # Each sensor's usual silence, worked out again only when its daily longest change:
        # problems() is asked every minute.
        self._usual: dict[str, float | None] = {}

    def observe(self, event: SensorEvent) -> None:
        """Note any reading from a known sensor with a trusted clock; others are ignored."""
        rec = self.records.get(event.sensor)
        if rec is None or not event.clock_trusted:
            return
        st = self.settings
        if rec.last_heard is not None and event.at > rec.last_heard:
            gap = (event.at - rec.last_heard).total_seconds()
            day = local_date(event.at, self.household.tz)
            if gap > rec.longest_by_day.get(day, 0.0):
                rec.longest_by_day[day] = gap
                self._usual.pop(event.sensor, None)
            oldest = day - timedelta(days=st.window_days)
            for d in [d for d in rec.longest_by_day if d <= oldest]:
                del rec.longest_by_day[d]
                self._usual.pop(event.sensor, None)
        if rec.last_heard is None or event.at > rec.last_heard:
            rec.last_heard = event.at
        if event.reading in REPORTS:
            rec.reports = True
        if event.reading == "availability" and event.value < 0.5:
            rec.offline_since = rec.offline_since or event.at
        else:
            # Any other reading means it is talking again, whatever availability said last.
            rec.offline_since = None
            rec.link_down = False
        if event.reading == "battery":
            rec.battery = event.value
            if event.value <= st.battery_low_percent:
                rec.battery_low_since = rec.battery_low_since or event.at
            elif event.value > st.battery_low_percent + 5:
                # A new battery, not a reading that wobbled over the line and back.
                rec.battery_low_since = None
        elif event.reading == "battery_low":
            if event.value > 0.5:
                rec.battery_low_since = rec.battery_low_since or event.at
            elif rec.battery is None or rec.battery > st.battery_low_percent:
                rec.battery_low_since = None

    def source_down(self, sensors: list[str], since: datetime) -> None:
        """Everything these sensors say comes through one link (a serial bridge) that has gone
        quiet: they are offline from ``since``, whatever they said last."""
        for sensor in sensors:
            rec = self.records.get(sensor)
            if rec is not None and rec.offline_since is None:
                rec.offline_since = since
                rec.link_down = True

    def source_up(self, sensors: list[str]) -> None:
        for sensor in sensors:
            rec = self.records.get(sensor)
            if rec is not None and rec.link_down:
                rec.offline_since = None
                rec.link_down = False

    def shift(self, jump: timedelta) -> None:
        """The wall clock jumped by ``jump``: silences are carried across, not lost or gained."""
        for rec in self.records.values():
            if rec.last_heard is not None:
                rec.last_heard += jump

    def usual_silence_s(self, sensor: str) -> float | None:
        """Seconds unheard that are unusual for this sensor, or None while still learning it."""
        if sensor in self._usual:
            return self._usual[sensor]
        longest = sorted(self.records[sensor].longest_by_day.values())
        usual = None
        if len(longest) >= self.settings.learn_days:
            q95 = longest[max(0, math.ceil(0.95 * len(longest)) - 1)]
            usual = max(self.settings.margin * q95, self.settings.shortest_silence.total_seconds())
        self._usual[sensor] = usual
        return usual

    def problems(self, now: datetime, last_activity: datetime | None) -> list[SensorProblem]:
        """Sensors that cannot be relied on at ``now``: offline past the grace, or unusually silent.

        A sensor that speaks only when someone acts (a PIR that reports nothing else) is silent
        for the same reason when the person is still: that is the inactivity detector's case,
        not a broken sensor. So such a sensor is only called quiet, and only when the household
        went on being active elsewhere for its usual silence after it was last heard
        (``last_activity`` is the household's latest sign of life).
        """
        out = []
        for sensor, rec in self.records.items():
            if (
                rec.offline_since is not None
                and now - rec.offline_since >= self.settings.offline_grace
            ):
                out.append(SensorProblem(sensor, "offline", rec.offline_since))
                continue
            usual = self.usual_silence_s(sensor)
            if rec.last_heard is None or usual is None:
                continue
            if (now - rec.last_heard).total_seconds() < usual:
                continue
            if rec.reports:
                out.append(SensorProblem(sensor, "silent", rec.last_heard))
            elif (
                last_activity is not None
                and (last_activity - rec.last_heard).total_seconds() >= usual
            ):
                out.append(SensorProblem(sensor, "quiet", rec.last_heard))
        return out

    def unwell(self, now: datetime, last_activity: datetime | None) -> dict[str, list[str]]:
        """Each sensor with a problem at ``now`` (as ``problems`` has them, and a low battery),
        in words with since when, for the technician.

        >>> from zoneinfo import ZoneInfo
        >>> from models.household import Household, SensorInfo
        >>> door = SensorInfo("door", "contact", "hall", "front_door")
        >>> h = Household("h1", ZoneInfo("UTC"), (door,))
        >>> health = SensorHealth(h)
        >>> t = datetime(2024, 1, 1, 9, tzinfo=ZoneInfo("UTC"))
        >>> health.observe(SensorEvent(t, "door", "battery", 4.0))
        >>> health.observe(SensorEvent(t, "door", "availability", 0.0))
        >>> health.unwell(t + timedelta(hours=1), None)
        {'door': ['offline since 2024-01-01T09:00:00+00:00', \
'battery low since 2024-01-01T09:00:00+00:00']}
        """
        out: dict[str, list[str]] = {}
        for p in self.problems(now, last_activity):
            out.setdefault(p.sensor, []).append(f"{p.kind} since {p.since.isoformat()}")
        for sensor, rec in self.records.items():
            if rec.battery_low_since is not None:
                low = f"battery low since {rec.battery_low_since.isoformat()}"
                out.setdefault(sensor, []).append(low)
        return out

    def to_state(self) -> dict[str, Any]:
        return {
            sensor: {
                "last_heard": rec.last_heard.isoformat() if rec.last_heard else None,
                "longest_by_day": {d.isoformat(): s for d, s in rec.longest_by_day.items()},
                "offline_since": rec.offline_since.isoformat() if rec.offline_since else None,
                "battery": rec.battery,
                "battery_low_since": rec.battery_low_since.isoformat()
                if rec.battery_low_since
                else None,
                "reports": rec.reports,
                "link_down": rec.link_down,
            }
            for sensor, rec in self.records.items()
        }

    @classmethod
    def from_state(
        cls, state: dict[str, Any], household: Household, settings: SensorHealthSettings
    ) -> SensorHealth:
        health = cls(household, settings)
        for sensor, s in state.items():
            if sensor not in health.records:
                continue  # a sensor since removed from the configuration
            health.records[sensor] = _Record(
                last_heard=instant_or_none(s["last_heard"]),
                longest_by_day={
                    date.fromisoformat(d): float(v) for d, v in s["longest_by_day"].items()
                },
                offline_since=instant_or_none(s["offline_since"]),
                battery=None if s["battery"] is None else float(s["battery"]),
                battery_low_since=instant_or_none(s["battery_low_since"]),
                reports=bool(s["reports"]),
                link_down=bool(s["link_down"]),
            )
        return health


def next_problem_due(
    health: SensorHealth,
    now: datetime,
    last_activity: datetime | None,
    present: set[str] | None = None,
) -> datetime | None:
    """When ``SensorHealth.problems`` would next find a problem it does not find at ``now``,
    if nothing is heard before (None: not before then). ``present``: the sensors with a problem
    at ``now``, which stays until they are heard again; only going offline is new for them."""
    soonest: datetime | None = None
    for sensor, rec in health.records.items():
        due: list[datetime] = []
        if rec.offline_since is not None:
            due.append(rec.offline_since + health.settings.offline_grace)
        usual = health.usual_silence_s(sensor)
        if present and sensor in present:
            due = [at for at in due if at > now]
        elif rec.last_heard is not None and usual is not None:
            if rec.reports:
                due.append(rec.last_heard + timedelta(seconds=usual) - ROUNDING)
            elif (
                last_activity is not None
                and (last_activity - rec.last_heard).total_seconds() >= usual
            ):
                due.append(now)
        for at in due:
            soonest = at if soonest is None else min(soonest, at)
    return None if soonest is None else max(soonest, now)
