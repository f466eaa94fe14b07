"""Detector ``digest``: the slow changes, read once a day from the daily records and sent
together, not one by one.

The last ``recent_days`` (7) are compared with the ``baseline_days`` (28) before them, and, for
activity and kitchen use, also with the weeks before that (a gradual decline, each week a little
less than the last, never looks large against the month just before it). A change is reported
when it is both large (a ratio or a shift a carer would care about) and unlikely by chance
under the baseline (a Poisson tail for counts, a z-score for daily figures). Each change is
reported once and then not again for ``quiet_days``, unless it comes back after going away.

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
from datetime import date, datetime, timedelta

from models.daily_record import DayRecord
from models.finding import Finding, JsonValue
from models.local_time import clock_text, duration_text, local_date, local_instant
from models.routine import HouseholdRoutine

# Figures tested each day (the bathroom's two windows count as one, each at half the p-value).
FIGURES_TESTED = 8


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
class TrendSettings:
    recent_days: int = 7
    baseline_days: int = 28
    # Fewest baseline days (with data) before anything is compared.
    min_baseline_days: int = 14
    digest_hour: int = 9
    # A change once reported is not reported again for this long.
    quiet_days: int = 7
    # How unlikely under the baseline a change must be (see p_value_for_budget).
    p_value: float = 0.0045


@dataclass(frozen=True, slots=True)
class Change:
    key: str
    text: str
    evidence: dict[str, JsonValue]


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


class TrendDigest:
    type = "digest"

    def __init__(self, settings: TrendSettings | None = None) -> None:
        self.settings = settings or TrendSettings()
        self._today: tuple[date, Finding | None] | None = None
        # The household's core of sleep (minutes since noon), to count every night's bathroom
        # visits in the same window as well as in each night's own sleep.
        self._core: tuple[float, float] | None = None

    def needs(self, routine: HouseholdRoutine) -> frozenset[str]:
        return frozenset()  # a day's figures with a broken sensor show as a gap, not a change

    def check(self, routine: HouseholdRoutine, now: datetime, learned: bool) -> Finding | None:
        tz = routine.household.tz
        today = local_date(now, tz)
        if not learned or now.astimezone(tz).hour < self.settings.digest_hour:
            return None
        if self._today is not None and self._today[0] == today:
            return self._today[1]
        core = routine.sleep.core()
        self._core = None if core is None else (core.start, core.end)
        changes = self.changes(list(routine.daily.history), today)
        reported = routine.daily.reported
        quiet = timedelta(days=self.settings.quiet_days)
        new = [c for c in changes if c.key not in reported or today - reported[c.key] > quiet]
        for c in changes:
            if c.key in reported and today - reported[c.key] <= quiet:
                reported[c.key] = today  # still going on: stays quiet while it lasts
        finding = None
        if new:
            for c in new:
                reported[c.key] = today
            finding = Finding(
                type=self.type,
                severity="info",
                started_at=local_instant(today - timedelta(days=1), 0, tz),
                detected_at=now,
                summary=" ".join(c.text for c in new),
                episode=f"digest:{today.isoformat()}",
                evidence={
                    "changes": list[JsonValue]([c.key for c in new]),
                    **{c.key: dict[str, JsonValue](c.evidence) for c in new},
                },
            )
        self._today = (today, finding)
        return finding

    def changes(self, history: list[DayRecord], today: date) -> list[Change]:
        """What has changed, from the daily records of the days before ``today``."""
        st = self.settings
        # Only whole days: a day cut short by a gap in the data is not a quiet day.
        days = [r for r in history if r.day < today and r.whole]
        recent_from = today - timedelta(days=st.recent_days)
        base_from = recent_from - timedelta(days=st.baseline_days)
        recent = [r for r in days if r.day >= recent_from]
        base = [r for r in days if base_from <= r.day < recent_from]
        older = [r for r in days if r.day < base_from]
        if len(base) < st.min_baseline_days or len(recent) < st.recent_days - 2:
            return []
        out: list[Change] = []
        for check in (
            self._night_bathroom,
            self._wake_time,
            self._sleep_length,
            self._no_kitchen_yesterday,
        ):
            c = check(recent, base, today)
            if c is not None:
                out.append(c)
        for key, what, unit, get in (
            ("less_active", "Less active", "active minutes a day", _active),
            ("fewer_kitchen_uses", "Fewer kitchen uses", "kitchen uses a day", _kitchen),
        ):
            c = self._falling(key, what, unit, get, recent, base, "the 4 weeks before")
            if c is None and len(older) >= st.min_baseline_days:
                c = self._falling(key, what, unit, get, recent, older, "a month or two ago")
            if c is not None:
                out.append(c)
        c = self._fewer_outings(recent, base)
        if c is not None:
            out.append(c)
        return out

    def _night_bathroom(
        self, recent: list[DayRecord], base: list[DayRecord], today: date
    ) -> Change | None:
        """Counted in two windows, each tested at half the p-value: the household's core of
        sleep (few ordinary visits, so a few more stand out) and each night's own sleep, bedtime
        to waking (which also holds the visits of a short or broken night, and moves with a
        routine that moves)."""
        # None: each night's own sleep, as the record counted it.
        windows: list[tuple[float, float] | None] = [self._core, None] if self._core else [None]
        for window in windows:
            c = self._bathroom_in(window, recent, base, self.settings.p_value / len(windows))
            if c is not None:
                return c
        return None

    def _bathroom_in(
        self,
        window: tuple[float, float] | None,
        recent: list[DayRecord],
        base: list[DayRecord],
        p_value: float,
    ) -> Change | None:
        def visits(d: DayRecord) -> int:
            if window is None or d.sleep_onset is None or d.wake is None:
                return d.night_bathroom
            # Inside the core and that night's own sleep: a visit before bed is not a night's.
            return d.bathroom_visits(max(window[0], d.sleep_onset), min(window[1], d.wake))

        r = [visits(d) for d in recent if d.wake is not None]
        b = [visits(d) for d in base if d.wake is not None]
        if len(r) < 5 or len(b) < self.settings.min_baseline_days:
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
        self,
        values: Callable[[DayRecord], float | None],
        recent: list[DayRecord],
        base: list[DayRecord],
        least_min: float,
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
        if len(r) < 5 or len(b) < self.settings.min_baseline_days:
            return None
        r_med, b_med = statistics.median(r), statistics.median(b)
        if abs(r_med - b_med) < least_min:
            return None
        q10, q90 = b[int(0.1 * (len(b) - 1))], b[math.ceil(0.9 * (len(b) - 1))]
        beyond = sum(1 for v in r if v > q90) if r_med > b_med else sum(1 for v in r if v < q10)
        if binomial_sf(beyond, len(r), 0.1) > self.settings.p_value:
            return None
        return r_med, b_med

    def _wake_time(self, recent: list[DayRecord], base: list[DayRecord], _: date) -> Change | None:
        got = self._shift(lambda d: d.wake, recent, base, 45.0)
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

    def _sleep_length(
        self, recent: list[DayRecord], base: list[DayRecord], _: date
    ) -> Change | None:
        def length(d: DayRecord) -> float | None:
            return None if d.wake is None or d.sleep_onset is None else d.wake - d.sleep_onset

        got = self._shift(length, recent, base, 60.0)
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

    def _no_kitchen_yesterday(
        self, recent: list[DayRecord], base: list[DayRecord], today: date
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

    def _falling(
        self,
        key: str,
        what: str,
        unit: str,
        get: Callable[[DayRecord], int],
        recent: list[DayRecord],
        base: list[DayRecord],
        when: str,
    ) -> Change | None:
        r = [get(d) for d in recent]
        b = [get(d) for d in base]
        b_mean = statistics.fmean(b)
        if b_mean < 3:
            return None
        r_mean = statistics.fmean(r)
        sd = max(statistics.pstdev(b), math.sqrt(b_mean))  # at least Poisson's spread
        z = (r_mean - b_mean) / (sd / math.sqrt(len(r)))
        if r_mean > 0.8 * b_mean or z > _z_for(self.settings.p_value):
            return None
        drop = 1 - r_mean / b_mean
        return Change(
            key,
            f"{what}: {r_mean:.0f} {unit} over the last week, against {b_mean:.0f} in {when}"
            f" ({drop:.0%} fewer).",
            {
                "recent_per_day": round(r_mean, 1),
                "usual_per_day": round(b_mean, 1),
                "z": round(z, 1),
            },
        )

    def _fewer_outings(self, recent: list[DayRecord], base: list[DayRecord]) -> Change | None:
        weekly = sum(d.outings for d in base) / len(base) * 7
        expected = weekly * len(recent) / 7
        seen = sum(d.outings for d in recent)
        if weekly < 2 or seen > expected / 3 or poisson_cdf(seen, expected) > self.settings.p_value:
            return None
        return Change(
            "fewer_outings",
            f"Fewer outings: {seen} in the last week, usually about {weekly:.0f} a week.",
            {"recent": seen, "usual_per_week": round(weekly, 1)},
        )


def _active(d: DayRecord) -> int:
    return d.active_minutes


def _kitchen(d: DayRecord) -> int:
    return d.kitchen_uses
