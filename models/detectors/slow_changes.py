"""The slow changes the daily ``digest`` reads from the daily records: each a test of the last
week against the weeks before it.

A change is reported when it is both large (a ratio or a shift a carer would care about) and
unlikely by chance under the baseline (a Poisson tail for counts, a binomial tail for days
beyond the usual range, a z-score for daily figures), at the level ``p_value``.

>>> round(poisson_sf(10, 3.0), 4)  # ten night-time visits in a week that usually has three
0.0011
>>> round(binomial_sf(5, 7, 0.1), 5)  # five of seven mornings past the usual latest tenth
0.00018
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from models.detectors.wording import duration_text
from models.finding import JsonValue
from models.local_time import clock_text
from models.routine.daily_record import DayRecord

# Figures tested each day (the bathroom's two windows count as one, each at half the p-value).
FIGURES_TESTED = 8
# Fewest recent days (of a week) with data before anything is compared.
LEAST_RECENT_DAYS = 5


def p_value_for_budget(false_per_fortnight: float) -> float:
    """Each figure's test level for a budget of chance digests a fortnight.

    Fourteen days of checks, eight figures each: a budget of one a fortnight allows 1/112 per
    test. Half of that is used, since the days' checks overlap (a week compared daily) and the
    figures move together, which the count of tests does not see.

    >>> round(p_value_for_budget(1.0), 4)
    0.0045
    """
    return false_per_fortnight / (14 * FIGURES_TESTED) / 2


@dataclass(frozen=True, slots=True)
class Change:
    key: str
    text: str
    evidence: dict[str, JsonValue]


@dataclass(frozen=True, slots=True)
class Comparison:
    """How the weeks are compared: the test level, and the fewest baseline days."""

    p_value: float
    min_baseline_days: int
    # The household's core of sleep (minutes since noon), to count every night's bathroom
    # visits in the same window as well as in each night's own sleep.
    core: tuple[float, float] | None = None


def poisson_sf(k: int, mu: float) -> float:
    """P(X >= k) for X ~ Poisson(mu)."""
    if k <= 0:
        return 1.0
    term = math.exp(-mu)
    cdf = term
    for i in range(1, k):
        term *= mu / i
        cdf += term
    return max(0.0, 1.0 - cdf)


def poisson_cdf(k: int, mu: float) -> float:
    """P(X <= k) for X ~ Poisson(mu)."""
    return 1.0 - poisson_sf(k + 1, mu)


def binomial_sf(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p)."""
    return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1))


def _z_for(p: float) -> float:
    return statistics.NormalDist().inv_cdf(p)


def night_bathroom(
    recent: list[DayRecord], base: list[DayRecord], how: Comparison
) -> Change | None:
    """Counted in two windows, each tested at half the p-value: the household's core of
    sleep (few ordinary visits, so a few more stand out) and each night's own sleep, bedtime
    to waking (which also holds the visits of a short or broken night, and moves with a
    routine that moves)."""
    # None: each night's own sleep, as the record counted it.
    windows: list[tuple[float, float] | None] = [how.core, None] if how.core else [None]
    for window in windows:
        c = _bathroom_in(window, recent, base, how.p_value / len(windows), how.min_baseline_days)
        if c is not None:
            return c
    return None


def _bathroom_in(
    window: tuple[float, float] | None,
    recent: list[DayRecord],
    base: list[DayRecord],
    p_value: float,
    min_baseline_days: int,
) -> Change | None:
    def visits(d: DayRecord) -> int:
        if window is None or d.sleep_onset is None or d.wake is None:
            return d.night_bathroom
        # Inside the core and that night's own sleep: a visit before bed is not a night's.
        return d.bathroom_visits(max(window[0], d.sleep_onset), min(window[1], d.wake))

    r = [visits(d) for d in recent if d.wake is not None]
    b = [visits(d) for d in base if d.wake is not None]
    if len(r) < LEAST_RECENT_DAYS or len(b) < min_baseline_days:
        return None
    rate = (sum(b) + 0.5) / len(b)  # half a visit of prior: never a zero rate
    expected = rate * len(r)
    seen = sum(r)
    # Half as many again, and unlikely by chance: a doubling is the textbook sign of a
    # urinary infection, but two more a night on a baseline of two is no less worth a call.
    if seen < 4 or seen < 1.5 * expected or poisson_sf(seen, expected) > p_value:
        return None
    return Change(
        "night_bathroom",
        f"Bathroom visits at night: {seen} in the last {len(r)} nights, usually about"
        f" {expected:.0f} ({rate:.1f} a night over the {len(b)} nights before).",
        {"recent": seen, "nights": len(r), "usual_per_night": round(rate, 2)},
    )


def _shift(
    values: Callable[[DayRecord], float | None],
    recent: list[DayRecord],
    base: list[DayRecord],
    least_min: float,
    how: Comparison,
) -> tuple[float, float] | None:
    """The recent and usual medians, when the recent days have moved by ``least_min`` or
    more and most of them lie beyond the usual range.

    Distribution-free, since sleep figures from motion sensors are lumpy (an evening doze
    in front of the television may or may not join the night): each recent day past the
    baseline's 10th or 90th percentile is a coin with one chance in ten, and the count of
    them is tested against a binomial tail.
    """
    r = [v for d in recent if (v := values(d)) is not None]
    b = sorted(v for d in base if (v := values(d)) is not None)
    if len(r) < LEAST_RECENT_DAYS or len(b) < how.min_baseline_days:
        return None
    r_med, b_med = statistics.median(r), statistics.median(b)
    if abs(r_med - b_med) < least_min:
        return None
    q10, q90 = b[int(0.1 * (len(b) - 1))], b[math.ceil(0.9 * (len(b) - 1))]
    beyond = sum(1 for v in r if v > q90) if r_med > b_med else sum(1 for v in r if v < q10)
    if binomial_sf(beyond, len(r), 0.1) > how.p_value:
        return None
    return r_med, b_med


def wake_time(recent: list[DayRecord], base: list[DayRecord], how: Comparison) -> Change | None:
    got = _shift(lambda d: d.wake, recent, base, 45.0, how)
    if got is None:
        return None
    r, b = got
    word = "later" if r > b else "earlier"
    return Change(
        "wake_time",
        f"Getting up {word}: around {clock_text(r + 720)} over the last week, usually"
        f" around {clock_text(b + 720)}.",
        {"recent": clock_text(r + 720), "usual": clock_text(b + 720)},
    )


def sleep_length(recent: list[DayRecord], base: list[DayRecord], how: Comparison) -> Change | None:
    def length(d: DayRecord) -> float | None:
        return None if d.wake is None or d.sleep_onset is None else d.wake - d.sleep_onset

    got = _shift(length, recent, base, 60.0, how)
    if got is None:
        return None
    r, b = got
    word = "less" if r < b else "more"
    return Change(
        "sleep_length",
        f"Sleeping {word}: about {duration_text(r * 60)} a night over the last week,"
        f" usually {duration_text(b * 60)}.",
        {"recent_minutes": round(r), "usual_minutes": round(b)},
    )


def no_kitchen_yesterday(
    recent: list[DayRecord], base: list[DayRecord], today: date
) -> Change | None:
    yesterday = next((d for d in recent if d.day == today - timedelta(days=1)), None)
    uses = [d.kitchen_uses for d in base]
    if yesterday is None or yesterday.kitchen_uses > 0 or min(uses) < 2:
        return None
    return Change(
        "no_kitchen",
        f"No kitchen use at all yesterday; usually about {statistics.median(uses):.0f} a day,"
        f" and never fewer than {min(uses)} in the {len(uses)} days before.",
        {"yesterday": 0, "usual_per_day": statistics.median(uses), "fewest": min(uses)},
    )


@dataclass(frozen=True, slots=True)
class Falling:
    """A daily figure that falls: its key, what it is called, and its unit."""

    key: str
    what: str
    unit: str
    get: Callable[[DayRecord], int]


LESS_ACTIVE = Falling(
    "less_active", "Less active", "active minutes a day", lambda d: d.active_minutes
)
FEWER_KITCHEN_USES = Falling(
    "fewer_kitchen_uses", "Fewer kitchen uses", "kitchen uses a day", lambda d: d.kitchen_uses
)


def falling(
    figure: Falling, recent: list[DayRecord], base: list[DayRecord], when: str, p_value: float
) -> Change | None:
    r = [figure.get(d) for d in recent]
    b = [figure.get(d) for d in base]
    b_mean = statistics.fmean(b)
    if b_mean < 3:
        return None
    r_mean = statistics.fmean(r)
    sd = max(statistics.pstdev(b), math.sqrt(b_mean))  # at least Poisson's spread
    z = (r_mean - b_mean) / (sd / math.sqrt(len(r)))
    if r_mean > 0.8 * b_mean or z > _z_for(p_value):
        return None
    drop = 1 - r_mean / b_mean
    return Change(
        figure.key,
        f"{figure.what}: {r_mean:.0f} {figure.unit} over the last week, against {b_mean:.0f} in"
        f" {when} ({drop:.0%} fewer).",
        {
            "recent_per_day": round(r_mean, 1),
            "usual_per_day": round(b_mean, 1),
            "z": round(z, 1),
        },
    )


def fewer_outings(recent: list[DayRecord], base: list[DayRecord], p_value: float) -> Change | None:
    weekly = sum(d.outings for d in base) / len(base) * 7
    expected = weekly * len(recent) / 7
    seen = sum(d.outings for d in recent)
    if weekly < 2 or seen > expected / 3 or poisson_cdf(seen, expected) > p_value:
        return None
    return Change(
        "fewer_outings",
        f"Fewer outings: {seen} in the last week, usually about {weekly:.0f} a week.",
        {"recent": seen, "usual_per_week": round(weekly, 1)},
    )
