"""The household monitor: the routine it learns and the registered detectors that watch it.

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

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from models.detectors import REGISTRY, Detector, registered
from models.detectors.sensor_findings import sensor_findings
from models.detectors.sensor_health import (
    PAUSING,
    SensorHealth,
    SensorHealthSettings,
    SensorProblem,
    next_problem_due,
)
from models.events import SensorEvent
from models.finding import Finding, JsonValue
from models.household import Household
from models.routine import HouseholdRoutine, RoutineSettings
from models.routine.held import LEARNERS
from models.what_to_do import HEADLINE_MOST


def every_detector() -> dict[str, Any]:
    """Every registered detector, with its default settings."""
    return {spec.name: spec.settings() for spec in registered()}


@dataclass(frozen=True, slots=True)
class MonitorSettings:
    learning_days: int = 14
    routine: RoutineSettings = field(default_factory=RoutineSettings)
    # The detectors watching, by name, with their settings; a detector left out is off.
    detectors: Mapping[str, Any] = field(default_factory=every_detector)
    health: SensorHealthSettings = field(default_factory=SensorHealthSettings)

    def with_detector(self, name: str, settings: Any | None) -> MonitorSettings:
        """The same, with one detector's settings changed (None: that detector off)."""
        chosen = {k: v for k, v in self.detectors.items() if k != name}
        if settings is not None:
            chosen[name] = settings
        return replace(self, detectors=chosen)


class Monitor:
    def __init__(
        self,
        household: Household,
        settings: MonitorSettings | None = None,
        detector_states: Mapping[str, dict[str, Any]] | None = None,
    ) -> None:
        self.household = household
        self.settings = settings or MonitorSettings()
        self.routine = HouseholdRoutine(household, self.settings.routine)
        self.health = SensorHealth(household, self.settings.health)
        # Away mode: the house is empty on purpose (a holiday, a stay in hospital) until then.
        self.away_until: datetime | None = None
        # The sensors whose problems paused detectors at the last tick (a gap's end).
        self.broken_now: set[str] = set()
        unknown = set(self.settings.detectors) - REGISTRY.keys()
        if unknown:
            raise ValueError(f"no detector is registered as {', '.join(sorted(unknown))}")
        states = detector_states or {}
        self.detectors: dict[str, Detector] = {
            spec.name: spec.build(self.settings.detectors[spec.name], states.get(spec.name, {}))
            for spec in registered()
            if spec.name in self.settings.detectors
        }

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
        self.health.observe(event)
        return self.routine.observe(event)

    def tick(self, now: datetime) -> list[Finding]:
        """What is unusual at ``now``, given everything observed so far.

        A detector that needs a sensor which is offline or unusually silent abstains, and one
        ``monitoring_gap`` finding says which alerts are paused and why.
        """
        self.routine.advance(now)
        learned = self.learned
        problems = self.health.problems(now, self.routine.last_activity_at)
        findings = (
            sensor_findings(self.health, now, problems) if problems or self._any_battery_low else []
        )
        broken = {p.sensor: p for p in problems if p.kind in PAUSING}
        self.broken_now = set(broken)
        paused: dict[str, list[str]] = {}
        if self.away_until is not None and now >= self.away_until:
            # Back from away: quiet time and time out count from now, not from the departure.
            self.routine.watch_from = self.away_until
            self.away_until = None
        for d in self.detectors.values() if self.away_until is None else ():
            missing = d.needs(self.routine) & broken.keys()
            if missing:
                paused[d.type] = sorted(missing)
            elif (f := d.check(self.routine, now, learned)) is not None:
                findings.append(f)
        if paused:
            findings.append(self._monitoring_gap(now, paused, broken))
        return findings

    def next_due(self, now: datetime, settled: frozenset[str] = frozenset()) -> datetime:
        """The earliest time :meth:`tick` could find anything new, if nothing is observed
        before; ``now`` while anything may be found at any minute. ``settled``: the types of
        what :meth:`tick` found at ``now``, every one of them raised already; what it found
        goes on being found, as the same episodes, until something is observed, and so is not
        looked at again before then. A replay ticks from here (``agent.replay.drive``)."""
        routine, learned = self.routine, self.learned
        last = routine.last_activity_at
        problems = self.health.problems(now, last)
        if (problems and not settled) or (self._any_battery_low and "battery_low" not in settled):
            return now
        present = {p.sensor for p in problems}
        due = [routine.turn or now, next_problem_due(self.health, now, last, present)]
        if self.away_until is not None:
            due.append(self.away_until)
        else:
            broken = {p.sensor for p in problems if p.kind in PAUSING}
            for d in self.detectors.values():
                if d.type in settled or d.needs(routine) & broken:
                    continue  # its finding raised, or it is paused, until something is heard
                next_due = getattr(d, "next_due", None)
                due.append(now if next_due is None else next_due(routine, now, learned))
        return max(now, min(at for at in due if at is not None))

    def alerted(self, finding: Finding, alert_id: str) -> None:
        """An alert was raised on ``finding``: an urgent one's episode is not learned as
        ordinary (``models.routine.held``) unless it is called ordinary later."""
        if finding.severity != "urgent" or finding.holds is None:
            return
        learner, key = finding.holds
        if learner in LEARNERS:
            self.routine.hold(alert_id, learner, key, finding.detected_at)

    def ordinary(self, alert_id: str, now: datetime) -> str | None:
        """The episode of this alert was ordinary: learn it after all; what, or None."""
        return self.routine.ordinary(alert_id, now)

    def shift(self, jump: timedelta, now: datetime | None = None) -> None:
        """The wall clock moved by ``jump`` without time passing (set at ``now``; None: Hearth
        was stopped): quiet time is not lost or gained."""
        self.routine.shift(jump, now)
        self.health.shift(jump)

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
        paused_since = f"Alerts paused since {since.astimezone(self.household.tz):%H:%M}"
        headline = f"{paused_since} ({len(paused)} kinds): the {what} cannot be relied on."
        if len(headline) > HEADLINE_MOST:
            headline = f"{paused_since}: {len(sensors)} sensors cannot be relied on."
        return Finding(
            type="monitoring_gap",
            severity="warning",
            started_at=since,
            detected_at=now,
            headline=headline,
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
            "household": self.household.id,
            "routine": self.routine.to_state(),
            "health": self.health.to_state(),
            "detectors": {
                name: state for name, d in self.detectors.items() if (state := d.to_state())
            },
            "away_until": self.away_until.isoformat() if self.away_until else None,
        }

    @classmethod
    def from_state(
        cls, state: dict[str, Any], household: Household, settings: MonitorSettings | None = None
    ) -> Monitor:
        """The monitor as saved (in today's layout: see ``models.saved_state`` for older ones)."""
        if state["household"] != household.id:
            raise ValueError(
                f"model state is for household {state['household']!r}, not {household.id!r}"
            )
        m = cls(household, settings, state["detectors"])
        m.routine = HouseholdRoutine.from_state(state["routine"], household, m.settings.routine)
        m.health = SensorHealth.from_state(state["health"], household, m.settings.health)
        away = state["away_until"]
        m.away_until = datetime.fromisoformat(away) if away else None
        return m
