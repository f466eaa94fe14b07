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
MAX_SHAPE = 0.45
# The tail's mean excess is never taken as less than this, nor under a tenth of its threshold.
SHORTEST_EXCESS_S = 300.0


def bin_of(seconds: float) -> int:
    if seconds <= SHORTEST_S:
        return 0
    i = int(math.log2(seconds / SHORTEST_S) * BINS_PER_OCTAVE)
    return min(i, N_BINS - 1)


def lower_edge(i: int) -> float:
    return SHORTEST_S * 2 ** (i / BINS_PER_OCTAVE)


def midpoint(i: int) -> float:
    return SHORTEST_S * 2 ** ((i + 0.5) / BINS_PER_OCTAVE)


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
    the count its tail wants), by moments of the excesses, each tail's scaled by its own mean:
    for a generalised Pareto tail, variance / mean^2 = 1 / (1 - 2 xi). Kept in [0, 0.45]: 0 is
    the exponential tail, and above 0.5 the variance would not exist.

    >>> shape_of([])
    0.0
    """
    s0 = s1 = s2 = 0.0
    for hist, wanted in tails:
        u_bin, excess = tail_of(hist, wanted)
        if u_bin is None:
            continue
        u = lower_edge(u_bin)
        for i in range(u_bin, N_BINS):
            if hist[i]:
                z = (midpoint(i) - u) / excess
                s0 += hist[i]
                s1 += hist[i] * z
                s2 += hist[i] * z * z
    xi = 0.0
    if s0 >= SHAPE_MIN_COUNT and s1 > 0:
        mean = s1 / s0
        cv2 = (s2 / s0 - mean * mean) / (mean * mean)
        if cv2 > 1:
            xi = min((1 - 1 / cv2) / 2, MAX_SHAPE)
    return xi
