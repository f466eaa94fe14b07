"""What ``hearth eval`` measures against each other: Hearth, the fixed rules, and river's
Half-Space Trees (only where river is installed)."""

from __future__ import annotations

import copy
import importlib.util
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from typing import Protocol

from agent.config import household_of
from agent.config.schema import HearthConfig
from agent.evaluation.fixed_rules import FixedRules, RuleSettings
from agent.pipeline import Pipeline
from models.alert_policy import Alert, AlertPolicy
from models.events import SensorEvent


class Contender(Protocol):
    name: str
    has_digest: bool  # reports slow changes (see SLOW)

    def daily_scores(self) -> dict[date, float] | None:
        """Its own deviation score for each day so far, or None if it has none."""
        ...

    def observe(self, event: SensorEvent) -> None: ...
    def tick(self, now: datetime) -> list[Alert]: ...
    def next_due(self, now: datetime) -> datetime | None:
        """The earliest time ``tick`` could raise anything (``agent.replay.NextLook``)."""
        ...

    def snapshot(self) -> object: ...
    def restore(self, snapshot: object) -> None: ...


class HearthContender:
    name = "hearth"
    has_digest = True

    def __init__(self, cfg: HearthConfig) -> None:
        self.cfg = cfg
        self.pipeline = Pipeline(cfg)

    def observe(self, event: SensorEvent) -> None:
        self.pipeline.observe(event)

    def tick(self, now: datetime) -> list[Alert]:
        # What is measured is what it raised; an episode's end is told after, and is neither a
        # find nor a false alert.
        return [a for a in self.pipeline.tick(now) if a.ends is None]

    def next_due(self, now: datetime) -> datetime | None:
        return self.pipeline.next_due(now)

    def snapshot(self) -> object:
        return (
            self.pipeline.to_state()
        )  # built afresh each call: nothing shared with the live state

    def daily_scores(self) -> dict[date, float] | None:
        return {
            r.day: r.score
            for r in self.pipeline.monitor.routine.daily.history
            if r.score is not None
        }

    def restlessness(self) -> dict[date, float]:
        return {
            r.day: r.restlessness
            for r in self.pipeline.monitor.routine.daily.history
            if r.restlessness is not None
        }

    def restore(self, snapshot: object) -> None:
        assert isinstance(snapshot, dict)
        self.pipeline = Pipeline(self.cfg, snapshot)


class RulesContender:
    has_digest = False

    def __init__(
        self, cfg: HearthConfig, settings: RuleSettings | None = None, name: str = "fixed_rules"
    ) -> None:
        self.name = name
        roles = frozenset(cfg.detectors.settings_of("missed_morning").signal_roles)
        settings = replace(settings or RuleSettings(), morning_roles=roles)
        self.rules = FixedRules(household_of(cfg), settings)
        self.policy = AlertPolicy(cfg.household.id)

    def observe(self, event: SensorEvent) -> None:
        self.rules.observe(event)

    def tick(self, now: datetime) -> list[Alert]:
        return [a for f in self.rules.tick(now) if (a := self.policy.decide(f)) is not None]

    def next_due(self, now: datetime) -> datetime | None:
        return now  # the rules are looked at every minute

    def daily_scores(self) -> dict[date, float] | None:
        return None

    def snapshot(self) -> object:
        return copy.deepcopy((self.rules, self.policy))

    def restore(self, snapshot: object) -> None:
        self.rules, self.policy = copy.deepcopy(snapshot)  # type: ignore[misc]


def _half_space_trees(cfg: HearthConfig) -> Contender:
    from agent.evaluation.half_space_trees import HalfSpaceTreesContender  # needs river: eval only

    return HalfSpaceTreesContender(cfg)


CONTENDERS: dict[str, Callable[[HearthConfig], Contender]] = {
    "hearth": HearthContender,
    "fixed_rules": RulesContender,
    "half_space_trees": _half_space_trees,
}


def available_contenders() -> list[str]:
    """Every contender whose libraries are installed (river comes with the eval extra)."""
    names = ["hearth", "fixed_rules"]
    if importlib.util.find_spec("river") is not None:
        names.append("half_space_trees")
    return names
