"""The far end of a histogram of lengths on a log scale: where it starts, and a generalised
Pareto tail beyond it, so that a length never yet seen still has a rate rather than zero.

Lengths are binned from one minute up, ``BINS_PER_OCTAVE`` bins to each doubling. The tail
starts at the lowest bin above which ``wanted`` lengths lie; its mean excess sets the Pareto's
scale and the shape ``xi`` (one for the household, :func:`shape_of`) its weight.

>>> hist = [0.0] * N_BINS
>>> hist[bin_of(600.0)] = 30.0
>>> hist[bin_of(3600.0)] = 10.0
>>> u_bin, excess = tail_of(hist, 10.0)
>>> round(lower_edge(u_bin)), round(excess)
(3229, 323)
>>> round(survival(excess * 2, excess, 0.0), 3)  # an exponential tail
0.135
"""

from __future__ import annotations

import math
from collections.abc import Iterable

BINS_PER_OCTAVE = 4
SHORTEST_S = 60.0
N_BINS = 14 * BINS_PER_OCTAVE  # 1 minute to about 11 days
# Fewest (weighted) lengths in the tail for its fit to be worth trusting.
TAIL_MIN_COUNT = 8.0
# Long lengths, over all of the household's histograms, needed before the shape is estimated.
SHAPE_MIN_COUNT = 60.0
MAX_SHAPE = 0.75
# The tail's mean excess is never taken as less than this, nor under a tenth of its threshold.
SHORTEST_EXCESS_S = 300.0


def bin_of(seconds: float) -> int:
    if seconds <= SHORTEST_S:
        return 0
    i = int(math.log2(seconds / SHORTEST_S) * BINS_PER_OCTAVE)
    return min(i, N_BINS - 1)


def lower_edge(i: int) -> float:
    return SHORTEST_S * 2 ** (i / BINS_PER_OCTAVE)


def _midpoint(i: int) -> float:
    return SHORTEST_S * 2 ** ((i + 0.5) / BINS_PER_OCTAVE)


# Asked for over a million times in a long replay: worked out once.
_MIDPOINTS = tuple(_midpoint(i) for i in range(N_BINS))


def midpoint(i: int) -> float:
    return _MIDPOINTS[i] if 0 <= i < N_BINS else _midpoint(i)


def twice_the_longest(hist: list[float]) -> float:
    """Twice the longest length seen (the top of its bin), or no limit if none was."""
    top = max((i for i, c in enumerate(hist) if c > 0), default=None)
    return math.inf if top is None else 2 * lower_edge(top + 1)


def tail_of(hist: list[float], wanted: float) -> tuple[int | None, float]:
    """The tail's starting bin (``wanted`` lengths or more at or above it, and at least
    ``TAIL_MIN_COUNT``) and its mean excess in seconds; no bin if there are too few."""
    wanted = max(TAIL_MIN_COUNT, wanted)
    above = 0.0
    u_bin = None
    for i in range(N_BINS - 1, -1, -1):
        above += hist[i]
        if above >= wanted:
            u_bin = i
            break
    if u_bin is None:
        return None, 0.0
    u = lower_edge(u_bin)
    n = sum(hist[u_bin:])
    excess = sum(hist[i] * (midpoint(i) - u) for i in range(u_bin, N_BINS)) / n
    return u_bin, max(excess, SHORTEST_EXCESS_S, 0.1 * u)


def counted_past(hist: list[float], days: float, target_per_day: float) -> float:
    """The shortest length past every bin whose lengths (that long or longer) were seen more
    often than ``target_per_day``: a limit never falls among lengths that keep coming.

    >>> hist = [0.0] * N_BINS
    >>> hist[bin_of(3 * 3600.0)] = 6.0  # six spells of about 3 hours in 30 days
    >>> round(counted_past(hist, 30.0, 0.1) / 3600, 2), counted_past(hist, 30.0, 0.5)
    (3.02, 0.0)
    """
    above = 0.0
    for i in range(N_BINS - 1, -1, -1):
        above += hist[i]
        if above / days > target_per_day:
            return lower_edge(i + 1)
    return 0.0


def survival(over_s: float, excess: float, xi: float) -> float:
    """The share of the tail's lengths that reach ``over_s`` past its start."""
    sigma = excess * (1 - xi)
    if xi < 1e-6:
        return math.exp(-over_s / sigma)
    return float((1 + xi * over_s / sigma) ** (-1 / xi))


def excess_for(share: float, excess: float, xi: float) -> float:
    """How far past the tail's start only ``share`` of its lengths reach."""
    sigma = excess * (1 - xi)
    if xi < 1e-6:
        return sigma * math.log(1 / share)
    return sigma / xi * (float((1 / share) ** xi) - 1)


def shape_of(tails: Iterable[tuple[list[float], float]]) -> float:
    """The generalised Pareto shape ``xi`` of many histograms' tails together (each given with
    the count its tail wants), each tail's excesses scaled by its own mean, by probability-
    weighted moments (Hosking and Wallis, 1987): with ``a0`` the mean excess and ``a1`` the
    mean of each excess times the share of the excesses above it, xi = 2 - a0 / (a0 - 2 a1).
    Kept in [0, 0.75]: 0 is the exponential tail. (The method of moments, used before, needs
    the variance, which a tail as heavy as stillness's barely has: it read the shape too
    light, and so long stillness as rarer than it comes; docs/lab-notes.md.)

    >>> shape_of([])
    0.0

    Spells drawn evenly from a generalised Pareto tail past half an hour, exponential and
    heavy (binning reads either a little lighter than it is):

    >>> def drawn(xi, n=400):
    ...     hist = [0.0] * N_BINS
    ...     for j in range(n):
    ...         share = 1 - (j + 0.5) / n
    ...         over = 1800 * (math.log(1 / share) if xi == 0 else (share**-xi - 1) / xi)
    ...         hist[bin_of(1800 + over)] += 1
    ...     return hist
    >>> round(shape_of([(drawn(0.0), 400.0)]), 2), round(shape_of([(drawn(0.5), 400.0)]), 2)
    (0.0, 0.4)
    """
    points: list[tuple[float, float]] = []
    for hist, wanted in tails:
        u_bin, excess = tail_of(hist, wanted)
        if u_bin is None:
            continue
        u = lower_edge(u_bin)
        points.extend(
            ((midpoint(i) - u) / excess, hist[i]) for i in range(u_bin, N_BINS) if hist[i]
        )
    n = sum(w for _, w in points)
    if n < SHAPE_MIN_COUNT:
        return 0.0
    points.sort()
    a0 = sum(z * w for z, w in points) / n
    a1 = 0.0
    above = n
    for z, w in points:
        above -= w
        a1 += w * z * (above + w / 2) / n  # ties share the middle of their ranks
    a1 /= n
    if a0 - 2 * a1 <= 0:
        return 0.0  # every excess alike: nothing says the tail is heavy
    return min(max(2 - a0 / (a0 - 2 * a1), 0.0), MAX_SHAPE)
