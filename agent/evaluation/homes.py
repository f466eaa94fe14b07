"""One home evaluated: replayed as recorded (its false alerts), then each injected day replayed
from that day's saved state (caught or not, how soon)."""

from __future__ import annotations

import bisect
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from agent.config import household_of
from agent.config.schema import HearthConfig
from agent.evaluation.contenders import CONTENDERS, Contender, HearthContender
from agent.evaluation.injection import (
    ANOMALIES,
    SLOW,
    SLOW_DAYS_PER_HOME,
    SLOW_FROM_DAY,
    Injection,
    inject,
)
from agent.evaluation.rarity import RarityCheck
from agent.replay import drive
from models.alert_policy import Alert
from models.events import SensorEvent
from models.local_time import local_date, local_instant

# A stretch this long with no sign of life at all is the recording stopping (sensors or hub
# off), which from inside the home looks like a person who has stopped moving.
OUTAGE = timedelta(hours=24)


@dataclass
class Outcome:
    contender: str
    home: str
    kind: str
    day: str
    caught: bool
    latency_min: float | None
    other_alerts: int


@dataclass
class HomeResult:
    home: str
    days_evaluated: int
    false_alerts: dict[str, dict[str, int]] = field(default_factory=dict)
    outcomes: list[Outcome] = field(default_factory=list)
    # Each contender's false carer alerts inside a day or more with no data at all.
    in_gap: dict[str, int] = field(default_factory=dict)
    # Each contender's daily deviation score, by local day after learning.
    daily: dict[str, dict[date, float]] = field(default_factory=dict)
    # Hearth's budgeted limits in the ordinary replay: per detector and budget (once in so
    # many days), how many quiet spells or outings after learning ran past the limit.
    crossings: dict[str, dict[int, int]] = field(default_factory=dict)
    # And each detector's own budget.
    budgets: dict[str, int] = field(default_factory=dict)
    # By-day spells a day that alerts at the long-lie limit would state, summed over the
    # days; and how many by-day spells reached that limit.
    long_lie_stated: float = 0.0
    long_lie_crossed: int = 0


def ordinary_run(
    contender: Contender,
    events: list[SensorEvent],
    snapshot_days: set[date],
    first_eval: date,
    tz: Any,
    per_day: dict[date, int] | None = None,
    carer_alerts: list[Alert] | None = None,
    before: Callable[[SensorEvent], None] | None = None,
) -> tuple[dict[date, tuple[datetime, object]], dict[str, int]]:
    """Replay as recorded: the state at each of ``snapshot_days``' first minute, and the alerts
    raised from ``first_eval`` on (all false, as far as anyone knows), by type; also counted
    by local day into ``per_day``."""
    snaps: dict[date, tuple[datetime, object]] = {}
    false_alerts: dict[str, int] = {}
    current: date | None = None

    def tick(now: datetime) -> None:
        nonlocal current
        d = local_date(now, tz)
        if d != current:
            current = d
            if d in snapshot_days:
                snaps[d] = (now, contender.snapshot())
        for a in contender.tick(now):
            day = local_date(a.detected_at, tz)
            if day >= first_eval:
                false_alerts[a.type] = false_alerts.get(a.type, 0) + 1
                if carer_alerts is not None and a.severity != "technical":
                    carer_alerts.append(a)
            if per_day is not None and a.severity != "technical":
                per_day[day] = per_day.get(day, 0) + 1

    def observe(event: SensorEvent) -> None:
        if before is not None:
            before(event)
        contender.observe(event)

    drive(events, observe, tick, next_look=contender.next_due)
    return snaps, false_alerts


def in_a_gap(alerts: list[Alert], events: list[SensorEvent]) -> int:
    """How many of ``alerts`` came inside a day or more with no sign of life at all: the
    recording stopped (sensors or hub off), which from inside looks the same as a person who
    has stopped moving. An alert on the third morning of a three-day gap counts, as well as
    one just before a gap begins."""
    acts = [e.at for e in events if e.is_activity]
    return sum(1 for a in alerts if in_outage(acts, a.detected_at))


def in_outage(acts: list[datetime], at: datetime) -> bool:
    """``at`` falls in a day or more with no sign of life (``acts``, in time order), or before
    the first or after the last."""
    i = bisect.bisect_right(acts, at)
    before = acts[i - 1] if i > 0 else None
    after = acts[i] if i < len(acts) else None
    return before is None or after is None or after - before >= OUTAGE


def injected_run(
    contender: Contender, state: object, start: datetime, events: list[SensorEvent], inj: Injection
) -> list[Alert]:
    contender.restore(state)
    raised: list[Alert] = []

    def tick(now: datetime) -> None:
        raised.extend(contender.tick(now))

    drive(events, contender.observe, tick, start=start, until=inj.end, next_look=contender.next_due)
    return raised


def evaluate_home(
    home: str,
    events: list[SensorEvent],
    cfg: HearthConfig,
    contenders: Iterable[str],
    days_per_kind: int = 12,
    seed: int = 1,
) -> HomeResult:
    tz = household_of(cfg).tz
    per_day: dict[date, int] = {}
    for e in events:
        if e.is_activity:
            d = local_date(e.at, tz)
            per_day[d] = per_day.get(d, 0) + 1
    days = sorted(per_day)
    if not days:
        return HomeResult(home, 0)
    first_eval = days[0] + timedelta(days=cfg.learning.days)
    # Days with a fair amount of data, followed by another: room for an anomaly and its aftermath.
    eligible = [
        d
        for d in days
        if d >= first_eval and per_day[d] >= 20 and per_day.get(d + timedelta(days=1), 0) >= 20
    ]
    result = HomeResult(home, sum(1 for d in days if d >= first_eval))
    step = max(1, len(eligible) // days_per_kind)
    chosen = eligible[::step][:days_per_kind]
    # Slow changes need a month of history before them and their whole span of data after.
    slow_eligible = [
        d
        for d in eligible
        if d >= days[0] + timedelta(days=SLOW_FROM_DAY)
        and sum(1 for k in range(22) if per_day.get(d + timedelta(days=k), 0) >= 20) >= 21
    ]
    slow_step = max(1, len(slow_eligible) // SLOW_DAYS_PER_HOME)
    slow_chosen = slow_eligible[::slow_step][:SLOW_DAYS_PER_HOME]
    for name in contenders:
        contender = CONTENDERS[name](cfg)
        alerts_by_day: dict[date, int] = {}
        carer: list[Alert] = []
        check = (
            RarityCheck(contender, first_eval) if isinstance(contender, HearthContender) else None
        )
        snaps, result.false_alerts[name] = ordinary_run(
            contender,
            events,
            set(chosen) | set(slow_chosen),
            first_eval,
            tz,
            alerts_by_day,
            carer,
            None if check is None else check.before,
        )
        if check is not None:
            result.crossings, result.budgets = check.crossings, check.budgets
            result.long_lie_stated = check.long_lie_stated
            result.long_lie_crossed = check.long_lie_crossed
        result.in_gap[name] = in_a_gap(carer, events)
        # A contender without a daily score of its own is scored by its alerts that day.
        own = contender.daily_scores()
        result.daily[name] = {
            d: own[d] if own is not None else float(alerts_by_day.get(d, 0))
            for d in days
            if d >= first_eval and (own is None or d in own)
        }
        if isinstance(contender, HearthContender):
            restless = contender.restlessness()
            result.daily["hearth_restlessness"] = {
                d: v for d, v in restless.items() if d >= first_eval
            }
        for kind in ANOMALIES:
            if kind in SLOW and not contender.has_digest:
                continue
            for day in slow_chosen if kind in SLOW else chosen:
                start, state = snaps[day]
                span = SLOW[kind][0] if kind in SLOW else 1
                stretch_end = local_instant(day + timedelta(days=span), 12 * 60, tz)
                stretch = [e for e in events if start <= e.at < stretch_end]
                injected = inject(
                    kind, day, stretch, cfg, random.Random(f"{seed}/{home}/{kind}/{day}")
                )
                if injected is None:
                    continue
                changed, inj = injected
                raised = injected_run(contender, state, start, changed, inj)
                in_window = [a for a in raised if inj.start <= a.detected_at <= inj.end]
                hits = [a for a in in_window if inj.caught_by(a)]
                latency = (hits[0].detected_at - inj.start).total_seconds() / 60 if hits else None
                result.outcomes.append(
                    Outcome(
                        name,
                        home,
                        kind,
                        day.isoformat(),
                        bool(hits),
                        None if latency is None else round(latency, 1),
                        sum(
                            1
                            for a in in_window
                            if not inj.caught_by(a) and (kind not in SLOW or a.type == "digest")
                        ),
                    )
                )
    return result
