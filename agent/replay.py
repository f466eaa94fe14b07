"""Replay recorded events through the live pipeline, as fast as it goes, on the recorded clock.

Timers fire as they would have live: before each event, the detectors are ticked at every
minute that passed since the previous one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from agent.config_schema import HearthConfig
from agent.pipeline import TICK, Pipeline
from models.alert_policy import Alert
from models.events import SensorEvent


def _first_tick_after(at: datetime) -> datetime:
    step = TICK.total_seconds()
    return datetime.fromtimestamp((at.timestamp() // step + 1) * step, UTC)


@dataclass
class ReplayResult:
    pipeline: Pipeline
    alerts: list[Alert] = field(default_factory=list)
    first_event: datetime | None = None
    last_event: datetime | None = None


def replay(
    cfg: HearthConfig,
    events: Iterable[SensorEvent],
    on_alert: Callable[[Alert], None] | None = None,
    until: datetime | None = None,
    pipeline: Pipeline | None = None,
) -> ReplayResult:
    """Run ``events`` (in time order) through a pipeline (a fresh one by default); collect its alerts."""
    result = ReplayResult(pipeline or Pipeline(cfg))
    pipeline = result.pipeline
    next_tick: datetime | None = None

    def run_ticks_to(t: datetime) -> None:
        nonlocal next_tick
        assert next_tick is not None
        while next_tick <= t:
            for alert in pipeline.tick(next_tick):
                result.alerts.append(alert)
                if on_alert is not None:
                    on_alert(alert)
            next_tick += TICK

    for event in events:
        if next_tick is None:
            next_tick = _first_tick_after(event.at)
            result.first_event = event.at
        run_ticks_to(event.at)
        pipeline.observe(event)
        result.last_event = event.at
    if next_tick is not None and until is not None:
        run_ticks_to(until)
    return result
