"""How unusual one day was for this household: a single daily deviation score and what drove it.

Each of the day's figures (``models.routine.daily_record``) is set against the same figure over the
whole days before it (up to ``BASELINE_DAYS``), as a robust z-score: the distance from their
median in units of their spread (scaled MAD, never taken below a floor that stops a steady
figure from making every small change look huge). The score is the root mean square of the
z-scores, each capped at ``CAP``; the contributors are the figures at least 2 spreads out,
largest first. It needs ``MIN_DAYS`` days before it; until then there is no score.

A second, one-sided score, ``restlessness``, is the mean of how far above usual the day's
activity and its night-time activity were (z-scores, negatives counted as 0): agitation shows
as more moving about, not less (why it was added: ``docs/lab-notes.md``).

They rank days, they are not alerts: ``hearth replay --daily-out`` writes them so that days
with outside labels (the TIHM clinical ``Agitation`` events, say) can be scored against them.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from models.routine.daily_record import DayRecord

BASELINE_DAYS = 28
MIN_DAYS = 7
CAP = 6.0


def _sleep(d: DayRecord) -> float | None:
    return None if d.wake is None or d.sleep_onset is None else d.wake - d.sleep_onset


# Each figure, how to read it from a day, and the least spread it is given (counts: about a
# Poisson's; clock times: 20 minutes).
FIGURES: tuple[tuple[str, Callable[[DayRecord], float | None], Callable[[float], float]], ...] = (
    ("active_minutes", lambda d: d.active_minutes, lambda m: math.sqrt(max(m, 1.0))),
    ("kitchen_uses", lambda d: d.kitchen_uses, lambda m: math.sqrt(max(m, 1.0))),
    ("night_bathroom", lambda d: d.night_bathroom, lambda m: math.sqrt(max(m, 1.0))),
    ("night_active", lambda d: d.night_active, lambda m: math.sqrt(max(m, 1.0))),
    ("outings", lambda d: d.outings, lambda m: math.sqrt(max(m, 1.0))),
    ("first_activity", lambda d: d.morning_min, lambda _: 20.0),
    ("wake", lambda d: d.wake, lambda _: 20.0),
    ("sleep_length", _sleep, lambda _: 30.0),
)


RESTLESS_FIGURES = ("active_minutes", "night_active")


def daily_score(
    day: DayRecord, before: list[DayRecord]
) -> tuple[float | None, list[str], float | None]:
    """The day's score against the whole days ``before`` it, its main contributors, and its
    restlessness.

    >>> from datetime import date, timedelta
    >>> from models.routine.daily_record import DayRecord
    >>> past = [DayRecord(date(2024, 1, 1) + timedelta(days=i), active_minutes=300 + i % 5,
    ...        first_min=420.0, last_min=1380.0) for i in range(20)]
    >>> score, why, restless = daily_score(DayRecord(date(2024, 1, 21), active_minutes=150,
    ...                          first_min=420.0, last_min=1380.0), past)
    >>> why
    ['active_minutes -6.0']
    """
    base = [d for d in before if d.whole][-BASELINE_DAYS:]
    if len(base) < MIN_DAYS:
        return None, [], None
    zs: list[tuple[str, float]] = []
    for name, get, floor in FIGURES:
        x = get(day)
        past = [v for d in base if (v := get(d)) is not None]
        if x is None or len(past) < MIN_DAYS:
            continue
        med = statistics.median(past)
        spread = max(1.4826 * statistics.median(abs(v - med) for v in past), floor(med))
        z = max(-CAP, min(CAP, (x - med) / spread))
        zs.append((name, z))
    if not zs:
        return None, [], None
    score = math.sqrt(sum(z * z for _, z in zs) / len(zs))
    out = sorted((p for p in zs if abs(p[1]) >= 2), key=lambda p: -abs(p[1]))
    up = [max(z, 0.0) for name, z in zs if name in RESTLESS_FIGURES]
    restless = round(sum(up) / len(up), 3) if up else None
    return round(score, 3), [f"{name} {z:+.1f}" for name, z in out[:3]], restless
