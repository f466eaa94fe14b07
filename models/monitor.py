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
from models.finding import Finding
from models.household import Household
from models.inactivity import InactivityDetector, InactivitySettings
from models.missed_morning import MissedMorningDetector, MissedMorningSettings
from models.night_exit import NightExitDetector, NightExitSettings
from models.routine import HouseholdRoutine, RoutineSettings

STATE_VERSION = 1


class Detector(Protocol):
    type: str

    def check(self, routine: HouseholdRoutine, now: datetime, learned: bool) -> Finding | None: ...


@dataclass(frozen=True, slots=True)
class MonitorSettings:
    learning_days: int = 14
    routine: RoutineSettings = field(default_factory=RoutineSettings)
    inactivity: InactivitySettings | None = field(default_factory=InactivitySettings)
    missed_morning: MissedMorningSettings | None = field(default_factory=MissedMorningSettings)
    night_exit: NightExitSettings | None = field(default_factory=NightExitSettings)


class Monitor:
    def __init__(self, household: Household, settings: MonitorSettings | None = None) -> None:
        self.household = household
        self.settings = settings or MonitorSettings()
        self.routine = HouseholdRoutine(household, self.settings.routine)
        st = self.settings
        self.inactivity = InactivityDetector(st.inactivity) if st.inactivity else None
        self.missed_morning = (
            MissedMorningDetector(st.missed_morning) if st.missed_morning else None
        )
        self.night_exit = NightExitDetector(st.night_exit) if st.night_exit else None
        self.detectors: list[Detector] = [
            d for d in (self.inactivity, self.missed_morning, self.night_exit) if d is not None
        ]

    @property
    def learned(self) -> bool:
        return self.routine.days_learned >= self.settings.learning_days

    def observe(self, event: SensorEvent) -> bool:
        """Learn from one event; False if it was not learned from (see HouseholdRoutine.observe).

        Findings come from :meth:`tick`, which the runtime calls every few seconds.
        """
        return self.routine.observe(event)

    def tick(self, now: datetime) -> list[Finding]:
        """What is unusual at ``now``, given everything observed so far."""
        self.routine.advance(now)
        learned = self.learned
        return [f for d in self.detectors if (f := d.check(self.routine, now, learned)) is not None]

    def to_state(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "household": self.household.id,
            "routine": self.routine.to_state(),
        }

    def load_state(self, state: dict[str, Any]) -> None:
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"model state version {state.get('version')!r} is not {STATE_VERSION}")
        if state.get("household") != self.household.id:
            raise ValueError(
                f"model state is for household {state.get('household')!r}, not {self.household.id!r}"
            )
        self.routine.load_state(state["routine"])
