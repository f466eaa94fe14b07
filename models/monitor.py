"""The household monitor: the routine it learns and the detectors that watch it.

>>> from datetime import datetime, timezone
>>> from zoneinfo import ZoneInfo
>>> from models.household import Household, SensorInfo
>>> h = Household("h1", ZoneInfo("UTC"), (SensorInfo("hall", "motion", "hall", "hallway"),))
>>> m = Monitor(h)
>>> m.observe(SensorEvent(datetime(2024, 1, 1, 8, tzinfo=timezone.utc), "hall", "motion", 1.0))
True
>>> [f.type for f in m.tick(datetime(2024, 1, 1, 23, tzinfo=timezone.utc))]
['inactivity']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from models.events import SensorEvent
from models.finding import Finding, JsonValue
from models.household import Household
from models.inactivity import InactivityDetector, InactivitySettings
from models.missed_morning import MissedMorningDetector, MissedMorningSettings
from models.night_exit import NightExitDetector, NightExitSettings
from models.night_restlessness import NightRestlessnessDetector, NightRestlessnessSettings
from models.not_returned import NotReturnedDetector, NotReturnedSettings
from models.routine import HouseholdRoutine, RoutineSettings
from models.sensor_health import PAUSING, SensorHealth, SensorHealthSettings, SensorProblem
from models.trends import TrendDigest, TrendSettings

STATE_VERSION = 1


class Detector(Protocol):
    type: str

    def needs(self, routine: HouseholdRoutine) -> frozenset[str]:
        """The sensors whose silence this detector cannot tell from the resident's."""
        ...

    def check(self, routine: HouseholdRoutine, now: datetime, learned: bool) -> Finding | None: ...


@dataclass(frozen=True, slots=True)
class MonitorSettings:
    learning_days: int = 14
    routine: RoutineSettings = field(default_factory=RoutineSettings)
    inactivity: InactivitySettings | None = field(default_factory=InactivitySettings)
    missed_morning: MissedMorningSettings | None = field(default_factory=MissedMorningSettings)
    night_exit: NightExitSettings | None = field(default_factory=NightExitSettings)
    not_returned: NotReturnedSettings | None = field(default_factory=NotReturnedSettings)
    night_restlessness: NightRestlessnessSettings | None = field(
        default_factory=NightRestlessnessSettings
    )
    digest: TrendSettings | None = field(default_factory=TrendSettings)
    health: SensorHealthSettings = field(default_factory=SensorHealthSettings)


class Monitor:
    def __init__(self, household: Household, settings: MonitorSettings | None = None) -> None:
        self.household = household
        self.settings = settings or MonitorSettings()
        self.routine = HouseholdRoutine(household, self.settings.routine)
        self.health = SensorHealth(household, self.settings.health)
        # Away mode: the house is empty on purpose (a holiday, a stay in hospital) until then.
        self.away_until: datetime | None = None
        st = self.settings
        self.inactivity = InactivityDetector(st.inactivity) if st.inactivity else None
        self.missed_morning = (
            MissedMorningDetector(st.missed_morning) if st.missed_morning else None
        )
        self.night_exit = NightExitDetector(st.night_exit) if st.night_exit else None
        self.not_returned = NotReturnedDetector(st.not_returned) if st.not_returned else None
        self.night_restlessness = (
            NightRestlessnessDetector(st.night_restlessness) if st.night_restlessness else None
        )
        self.detectors: list[Detector] = [
            d
            for d in (
                self.inactivity,
                self.missed_morning,
                self.night_exit,
                self.not_returned,
                self.night_restlessness,
                TrendDigest(st.digest) if st.digest else None,
            )
            if d is not None
        ]

    @property
    def learned(self) -> bool:
        return self.routine.days_learned >= self.settings.learning_days

    def set_away(self, now: datetime, until: datetime | None) -> None:
        """Away mode until ``until`` (None: home again now)."""
        if until is None and self.away_until is not None:
            self.routine.watch_from = now
        self.away_until = until if until is not None and until > now else None

    def observe(self, event: SensorEvent) -> bool:
        """Learn from one event; False if it was not learned from (see HouseholdRoutine.observe).

        Findings come from :meth:`tick`, which the runtime calls every few seconds.
        """
        self.health.heard(event)
        return self.routine.observe(event)

    def tick(self, now: datetime) -> list[Finding]:
        """What is unusual at ``now``, given everything observed so far.

        A detector that needs a sensor which is offline or unusually silent abstains, and one
        ``monitoring_gap`` finding says which alerts are paused and why.
        """
        self.routine.advance(now)
        learned = self.learned
        problems = self.health.problems(now, self.routine.last_activity_at)
        findings = self.health.findings(now, problems) if problems or self._any_battery_low else []
        broken = {p.sensor: p for p in problems if p.kind in PAUSING}
        paused: dict[str, list[str]] = {}
        if self.away_until is not None and now >= self.away_until:
            # Back from away: quiet time and time out count from now, not from the departure.
            self.routine.watch_from = self.away_until
            self.away_until = None
        for d in self.detectors if self.away_until is None else ():
            missing = d.needs(self.routine) & broken.keys()
            if missing:
                paused[d.type] = sorted(missing)
            elif (f := d.check(self.routine, now, learned)) is not None:
                findings.append(f)
        if paused:
            findings.append(self._monitoring_gap(now, paused, broken))
        return findings

    @property
    def _any_battery_low(self) -> bool:
        return any(r.battery_low_since is not None for r in self.health.records.values())

    def _monitoring_gap(
        self, now: datetime, paused: dict[str, list[str]], broken: dict[str, SensorProblem]
    ) -> Finding:
        sensors = sorted({s for missing in paused.values() for s in missing})
        since = min(broken[s].since for s in sensors)
        what = " and ".join(sorted({f"{broken[s].kind} {self._sensor_text(s)}" for s in sensors}))
        alerts = ", ".join(t.replace("_", " ") for t in paused)
        return Finding(
            type="monitoring_gap",
            severity="warning",
            started_at=since,
            detected_at=now,
            summary=(
                f"Alerts paused ({alerts}): the {what} cannot be relied on."
                " Until it is working again, stillness there cannot be told from a broken"
                " sensor, so these alerts are not raised."
            ),
            episode=f"monitoring_gap:{','.join(sensors)}:{since.isoformat()}",
            evidence={
                "paused": list[JsonValue](sorted(paused)),
                "sensors": {s: broken[s].kind for s in sensors},
                "since": since.isoformat(),
            },
        )

    def _sensor_text(self, sensor: str) -> str:
        info = self.household.sensor(sensor)
        return f"{info.room} sensor ({sensor})" if info else sensor

    def to_state(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "household": self.household.id,
            "routine": self.routine.to_state(),
            "health": self.health.to_state(),
            "away_until": self.away_until.isoformat() if self.away_until else None,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"model state version {state.get('version')!r} is not {STATE_VERSION}")
        if state.get("household") != self.household.id:
            raise ValueError(
                f"model state is for household {state.get('household')!r}, not {self.household.id!r}"
            )
        self.routine.load_state(state["routine"])
        self.health.load_state(state.get("health", {}))
        away = state.get("away_until")
        self.away_until = datetime.fromisoformat(away) if away else None
