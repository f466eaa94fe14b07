"""One household's pipeline, the same for a live run and a replay: events in, alerts out.

Time is always an argument: the live runtime passes the wall clock, a replay the recorded one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from agent.config import household_of, monitor_settings_of
from agent.config.schema import HearthConfig
from agent.errors import StateError
from agent.household_commands import apply_command
from agent.sources.control import Command
from models.alert_context import ABOUT_THE_RESIDENT, context_of
from models.alert_policy import Alert, AlertPolicy
from models.check_in import CheckIns
from models.detectors.sensor_findings import told_together
from models.detectors.weekly_summary import with_the_weeks_alerts
from models.episode_ends import SILENCES, EpisodeEnds
from models.events import SensorEvent
from models.finding import Finding, JsonValue
from models.household_changes import snoozed
from models.monitor import Monitor
from models.routine.held import LEARNERS
from models.saved_state import STATE_VERSION, migrate
from models.tightening import Place, Tightening

WEEK = timedelta(days=7)
log = logging.getLogger("hearth.pipeline")

# How often the detectors look at the time: a minute is as precise as any carer needs.
TICK = timedelta(minutes=1)


@dataclass
class Counters:
    events: int = 0
    learned: int = 0
    unknown_sensor: int = 0
    alerts: int = 0


class Pipeline:
    def __init__(self, cfg: HearthConfig, state: dict[str, Any] | None = None) -> None:
        """A fresh pipeline, or (with ``state``, as :meth:`to_state` gave it) a restored one;
        state that cannot be read is a ``StateError``."""
        self.cfg = cfg
        self.household = household_of(cfg)
        self.settings = monitor_settings_of(cfg)
        cooldown = dict(cfg.alerts.cooldown)
        self.counters = Counters()
        # The types found at the last tick, when every one was raised already and nothing has
        # been observed since (see Monitor.next_due); None otherwise.
        self._settled: frozenset[str] | None = None
        # The household's changes to what is watched, to tell the care team at the next tick.
        self.told: list[Finding] = []
        # When the household last paused alerts or went away (not saved: after a restart in
        # one, no end seen is told until it is over).
        self.quiet_from: datetime | None = None
        long_lie = getattr(cfg.detectors, "inactivity").long_lie  # noqa: B009 (a registry section)
        self.check_ins = CheckIns(cfg.check_in.settings(long_lie))
        self.tightening = Tightening(long_lie=long_lie)
        if state is None:
            self.monitor = Monitor(self.household, self.settings)
            self.policy = AlertPolicy(cfg.household.id, cooldown)
            self.ends = EpisodeEnds()
            return
        try:
            state = migrate(state, self.household, self.settings.routine)
            self.monitor = Monitor.from_state(state["monitor"], self.household, self.settings)
            self.policy = AlertPolicy.from_state(state["policy"], cfg.household.id, cooldown)
            # Saved since episodes were ended; none open in a state saved before.
            self.ends = EpisodeEnds.from_state(state.get("open_episodes", {}))
            self.tightening = Tightening.from_state(state.get("tightened", {}), long_lie)
            asking = state.get("check_ins", {})
            self.check_ins = CheckIns.from_state(asking, cfg.check_in.settings(long_lie))
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            raise StateError(f"{type(exc).__name__}: {exc}") from exc

    def observe(self, event: SensorEvent) -> None:
        self._settled = None
        self.counters.events += 1
        if self.household.sensor(event.sensor) is None:
            self.counters.unknown_sensor += 1
            log.warning("event from unknown sensor %r dropped", event.sensor)
            return
        if self.monitor.observe(event):
            self.counters.learned += 1
        self.ends.observe(event, self.household)
        if (
            self.check_ins.asking
            and event.is_activity  # a battery or signal report is the sensor's, not hers
            and event.sensor in self.household.presence_sensors()
        ):
            info = self.household.sensor(event.sensor)
            self.check_ins.answered(event.at, f"movement in the {info.room if info else 'home'}")

    def counts(self) -> dict[str, int]:
        return {**asdict(self.counters), "out_of_order": self.monitor.routine.late_events}

    def tick(self, now: datetime, also: Iterable[Finding] = ()) -> list[Alert]:
        """Alerts due at ``now``: the detectors' findings, and ``also`` (sensor health, say),
        through the one alert policy."""
        alerts = []
        found = [*self.monitor.tick(now), *also, *self.told]
        findings = told_together(found, self.policy.raised, self.household.tz)
        # Where the carers called alerts false, those wait longer (``models.tightening``);
        # those being asked about first (``models.check_in``) wait for the resident's answer.
        findings = self.tightening.gate(findings, now, self.household.tz)
        findings = self.check_ins.gate(findings, now)
        self.told.clear()
        for finding in findings:
            if finding.type == "weekly_summary":  # not "all well" in a week with alerts
                week = [t for t in self.policy.types_since(now - WEEK) if t in ABOUT_THE_RESIDENT]
                finding = with_the_weeks_alerts(finding, week)
            alert = self.policy.decide(finding)
            if alert is not None and alert.type in ABOUT_THE_RESIDENT:
                asked = self.check_ins.asked(finding.episode, self.household.tz)
                said = " ".join(filter(None, (context_of(self.monitor, now), asked)))
                alert = replace(alert, context=said)
            if alert is not None:
                self.counters.alerts += 1
                self.monitor.alerted(finding, alert.id)
                alerts.append(alert)
                self._open(finding, alert)
        self.ends.working(self.monitor.broken_now, now)
        paused = self.policy.paused_until is not None and now < self.policy.paused_until
        if paused or self.monitor.away_until is not None:
            dropped = self.ends.drop_due(self.quiet_from)
            self.policy.suppressed["ended_paused"] = (
                self.policy.suppressed.get("ended_paused", 0) + dropped
            )
        ended = self.ends.due(self.household)
        self.policy.decided += len(ended)  # each goes to the outbox as an alert does
        alerts += ended
        raised = all(self.policy.raised(f.episode) for f in findings)
        held = self.check_ins.holding()
        self._settled = frozenset(f.type for f in findings) | held if raised else None
        return alerts

    def _open(self, finding: Finding, alert: Alert) -> None:
        """An alert with an end to tell: a silence (a missed morning only while she has hardly
        moved: else the first movement ends nothing), or a monitoring gap."""
        if finding.type == "monitoring_gap":
            broken = finding.evidence.get("sensors")
            self.ends.opened(alert, None, tuple(broken) if isinstance(broken, dict) else ())
        elif finding.type in SILENCES and (
            finding.type != "missed_morning" or finding.covers_silence
        ):
            self.ends.opened(alert, finding.silence_since)

    def settled(self, queued: int) -> bool:
        """Every alert decided is among the ``queued`` (in the outbox), and no change the
        household made waits to be told: else a save now would lose one at a crash."""
        return self.policy.decided == queued and not self.told and not self.ends.pending

    def next_due(self, now: datetime) -> datetime:
        """The earliest time :meth:`tick` could raise anything, if nothing is observed before."""
        if self.told or self.ends.pending:
            return now
        due = self.monitor.next_due(now, self._settled or frozenset())
        answer_by = self.check_ins.next_due()
        return due if answer_by is None else max(now, min(due, answer_by))

    def remember(self, alert_id: str, memory: dict[str, JsonValue]) -> None:
        """An alert raised before a restart (its outbox row's memory): not raised again, and
        its episode, if urgent, not learned as ordinary, and, if it is still open, ended when
        it ends. An ended message raised before it closes its alert's episode, and no more."""
        ends = memory.get("ends")
        if isinstance(ends, str):
            self.ends.closed(ends)
            return
        self.policy.remember(memory)
        self.ends.reopen(alert_id, memory)
        holds, at = memory.get("holds"), memory["detected_at"]
        if isinstance(holds, list) and len(holds) == 2 and isinstance(at, str):
            learner, key = holds
            if learner in LEARNERS and isinstance(key, str):
                self.monitor.routine.hold(alert_id, learner, key, datetime.fromisoformat(at))

    def command(self, cmd: Command, now: datetime) -> str:
        """Apply a household command (``agent.household_commands``); what was done, for the log."""
        self._settled = None
        return apply_command(self, cmd, now)

    def tighten(self, place: Place, at: datetime, alert_id: str = "") -> None:
        """The carers called an alert here false: its detector waits longer here."""
        self._settled = None
        self.tightening.add(place, at, alert_id)

    def snooze(self, kind: str, until: datetime, by: str, now: datetime) -> None:
        """A carer's snooze: no alert of ``kind`` until ``until``; told to everyone at the next
        tick, as a change to what is watched is."""
        self._settled = None
        self.policy.snoozed[kind] = until
        self.told.append(snoozed(kind, until, by, now, self.household.tz))

    def resumed(self, stopped: timedelta, now: datetime) -> None:
        """Hearth was stopped for ``stopped`` until ``now``: nobody watched meanwhile. Quiet time
        is carried across the stop, and a morning that began unseen is not called missed."""
        self._settled = None
        self.monitor.shift(stopped)
        self.check_ins.shift(stopped)
        self.monitor.routine.observing_since = now

    def clock_jumped(self, jump: timedelta, now: datetime) -> None:
        """The wall clock was set by ``jump`` (it reads ``now``) without time passing: quiet
        time is not lost or gained, and the policy's times move with it."""
        self._settled = None
        self.monitor.shift(jump, now)
        self.policy.shift(jump)
        self.ends.shift(jump)
        self.check_ins.shift(jump)

    def to_state(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "monitor": self.monitor.to_state(),
            "policy": self.policy.to_state(),
            "open_episodes": self.ends.to_state(),
            "check_ins": self.check_ins.to_state(),
            "tightened": self.tightening.to_state(),
        }
