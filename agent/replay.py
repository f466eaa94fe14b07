"""Replay recorded events through the live pipeline, as fast as it goes, on the recorded clock.

Timers fire as they would have live: before each event, the detectors are ticked at the
minutes that passed since the previous one, each minute or only those something may be due at.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from agent.config.schema import HearthConfig
from agent.pipeline import TICK, Pipeline
from models.alert_policy import Alert
from models.events import SensorEvent
from models.routine.daily_record import DayRecord


def _first_tick_after(at: datetime) -> datetime:
    step = TICK.total_seconds()
    return datetime.fromtimestamp((at.timestamp() // step + 1) * step, UTC)


_JUST = timedelta(microseconds=1)

# What a pipeline can promise: the earliest time anything could be due if nothing is observed
# before it (None: nothing until the next event); the time it is asked at, if anything may be.
NextLook = Callable[[datetime], datetime | None]


def drive(
    events: Iterable[SensorEvent],
    observe: Callable[[SensorEvent], None],
    tick: Callable[[datetime], None],
    start: datetime | None = None,
    until: datetime | None = None,
    next_look: NextLook | None = None,
) -> None:
    """The replay clock: each event observed once the clock has reached it, and ``tick`` at the
    minutes from ``start`` (or the first event) on, and on to ``until`` after the last.

    Without ``next_look``, every minute. With it, after each tick and each event, the clock
    jumps to the first minute on or after what ``next_look`` says: the minutes at which
    anything can be found are the same, and the rest are not ticked.
    """
    grid = None if start is None else _first_tick_after(start - TICK)
    now = start
    planned = next_look is None

    def ticks_to(end: datetime) -> None:
        nonlocal grid, now, planned
        while grid is not None and grid <= end:
            if not planned:
                assert next_look is not None
                assert now is not None
                planned = True
                due = next_look(now)
                past = _first_tick_after(end)
                grid = max(grid, past if due is None else min(past, _first_tick_after(due - _JUST)))
                continue
            tick(grid)
            now = grid
            grid += TICK
            planned = next_look is None

    for event in events:
        if grid is None:
            grid = _first_tick_after(event.at)
        ticks_to(event.at)
        observe(event)
        now = event.at
        planned = next_look is None
    if until is not None:
        ticks_to(until)


@dataclass
class ReplayResult:
    pipeline: Pipeline
    alerts: list[Alert] = field(default_factory=list)  # raised
    ends: list[Alert] = field(default_factory=list)  # episodes' ends (``models.episode_ends``)
    first_event: datetime | None = None
    last_event: datetime | None = None


def replay(
    cfg: HearthConfig,
    events: Iterable[SensorEvent],
    on_alert: Callable[[Alert], None] | None = None,
    until: datetime | None = None,
    pipeline: Pipeline | None = None,
    on_day: Callable[[DayRecord], None] | None = None,
    every_minute: bool = False,
) -> ReplayResult:
    """Run ``events`` (in time order) through a pipeline (a fresh one by default); collect its
    alerts, and the ends of their episodes apart (``on_alert`` is handed both, in order), and
    hand each local day, once closed, to ``on_day``. The pipeline is ticked when anything may
    be due (``Pipeline.next_due``), or, ``every_minute``, at each minute."""
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
            (result.alerts if alert.ends is None else result.ends).append(alert)
            if on_alert is not None:
                on_alert(alert)
        daily = result.pipeline.monitor.routine.daily
        if on_day is not None and daily.closed > days_seen:
            for rec in list(daily.history)[days_seen - daily.closed :]:
                on_day(rec)
            days_seen = daily.closed

    next_look = None if every_minute else result.pipeline.next_due
    drive(events, observe, tick, until=until, next_look=next_look)
    return result
