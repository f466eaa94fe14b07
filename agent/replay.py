"""Replay recorded events through the live pipeline, as fast as it goes, on the recorded clock.

Timers fire as they would have live: before each event, the detectors are ticked at every
minute that passed since the previous one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from agent.config.schema import HearthConfig
from agent.pipeline import TICK, Pipeline
from models.alert_policy import Alert
from models.events import SensorEvent
from models.routine.daily_record import DayRecord


def _first_tick_after(at: datetime) -> datetime:
    step = TICK.total_seconds()
    return datetime.fromtimestamp((at.timestamp() // step + 1) * step, UTC)


def drive(
    events: Iterable[SensorEvent],
    observe: Callable[[SensorEvent], None],
    tick: Callable[[datetime], None],
    start: datetime | None = None,
    until: datetime | None = None,
) -> None:
    """The replay clock: ``tick`` at every minute from ``start`` (or the first event) on, each
    event observed once the clock has reached it, and ticks on to ``until`` after the last."""
    next_tick = None if start is None else _first_tick_after(start - TICK)
    for event in events:
        if next_tick is None:
            next_tick = _first_tick_after(event.at)
        while next_tick <= event.at:
            tick(next_tick)
            next_tick += TICK
        observe(event)
    if next_tick is not None and until is not None:
        while next_tick <= until:
            tick(next_tick)
            next_tick += TICK


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
    on_day: Callable[[DayRecord], None] | None = None,
) -> ReplayResult:
    """Run ``events`` (in time order) through a pipeline (a fresh one by default); collect its
    alerts, and hand each local day, once closed, to ``on_day``."""
    result = ReplayResult(pipeline or Pipeline(cfg))
    days_seen = 0

    def observe(event: SensorEvent) -> None:
        if result.first_event is None:
            result.first_event = event.at
        result.last_event = event.at
        result.pipeline.observe(event)

    def tick(now: datetime) -> None:
        nonlocal days_seen
        for alert in result.pipeline.tick(now):
            result.alerts.append(alert)
            if on_alert is not None:
                on_alert(alert)
        daily = result.pipeline.monitor.routine.daily
        if on_day is not None and daily.closed > days_seen:
            for rec in list(daily.history)[days_seen - daily.closed :]:
                on_day(rec)
            days_seen = daily.closed

    drive(events, observe, tick, until=until)
    return result
