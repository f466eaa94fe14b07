"""The homes' outcomes summed up: recall, latency, precision and F1 per contender and anomaly,
false alerts per household-week, and issue 3's targets."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from agent.evaluation.homes import HomeResult
from agent.evaluation.injection import ANOMALIES, EXPECTED_TYPES
from models.finding import TECHNICAL_TYPES


@dataclass
class Row:
    contender: str
    anomaly: str
    injected: int
    caught: int
    recall: float
    median_latency_min: float | None
    window_precision: float
    precision: float
    f1: float


def summarise(
    results: list[HomeResult], contenders: Iterable[str]
) -> tuple[list[Row], dict[str, Any]]:
    """Per contender and anomaly: recall, latency and two precisions.

    ``window_precision`` counts as wrong only the other alerts raised inside injected windows.
    ``precision`` (and F1) also count every alert raised on the ordinary days of a type that
    could have caught this anomaly: a detector that cries wolf all week is not precise because
    it also shouts during the fall.
    """
    rows = []
    for name in contenders:
        ordinary: dict[str, int] = {}
        for r in results:
            for t, n in r.false_alerts.get(name, {}).items():
                ordinary[t] = ordinary.get(t, 0) + n
        for kind in ANOMALIES:
            outs = [
                o for r in results for o in r.outcomes if o.contender == name and o.kind == kind
            ]
            if not outs:
                continue
            caught = [o for o in outs if o.caught]
            others = sum(o.other_alerts for o in outs)
            wrong = others + sum(ordinary.get(t, 0) for t in EXPECTED_TYPES[kind])
            recall = len(caught) / len(outs) if outs else 0.0
            window = len(caught) / (len(caught) + others) if caught or others else 0.0
            precision = len(caught) / (len(caught) + wrong) if caught or wrong else 0.0
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            lat = [o.latency_min for o in caught if o.latency_min is not None]
            rows.append(
                Row(
                    name,
                    kind,
                    len(outs),
                    len(caught),
                    round(recall, 3),
                    round(statistics.median(lat), 1) if lat else None,
                    round(window, 3),
                    round(precision, 3),
                    round(f1, 3),
                )
            )
    weeks = sum(r.days_evaluated for r in results) / 7

    def tally(name: str, technical: bool) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in results:
            for t, n in r.false_alerts.get(name, {}).items():
                if (t in TECHNICAL_TYPES) == technical:
                    out[t] = out.get(t, 0) + n
        return dict(sorted(out.items()))

    false_rates = {}
    for name in contenders:
        carer, technical = tally(name, False), tally(name, True)
        false_rates[name] = {
            "in_a_data_gap": sum(r.in_gap.get(name, 0) for r in results),
            "false_alerts": sum(carer.values()),
            "per_household_week": round(sum(carer.values()) / weeks, 2) if weeks else None,
            # Only the alerts that could catch a fall, a night exit or a missed morning.
            "targeted_per_household_week": round(
                sum(n for t, n in carer.items() if t in TARGETED_TYPES) / weeks, 2
            )
            if weeks
            else None,
            "by_type": carer,
            "technical": technical,
        }
    days = sum(r.days_evaluated for r in results)
    crossed: dict[str, dict[int, int]] = {}
    own: dict[str, int] = {}
    for r in results:
        own |= r.budgets
        for kind, by_budget in r.crossings.items():
            totals = crossed.setdefault(kind, {})
            for budget, n in by_budget.items():
                totals[budget] = totals.get(budget, 0) + n
    rarity = {
        kind: [
            {
                "once_in_days": budget,
                "own": budget == own.get(kind),
                "crossed": n,
                "household_days": days,
                "crossed_once_in_days": round(days / n, 1) if n else None,
            }
            for budget, n in sorted(totals.items())
        ]
        for kind, totals in crossed.items()
    }
    stated = sum(r.long_lie_stated for r in results)
    reached = sum(r.long_lie_crossed for r in results)
    long_lie = {
        "household_days": days,
        "stated_once_in_days": round(days / stated, 1) if stated else None,
        "crossed": reached,
        "crossed_once_in_days": round(days / reached, 1) if reached else None,
    }
    return rows, {
        "household_weeks": round(weeks, 1),
        "homes": len(results),
        "rarity": rarity,
        "long_lie_rarity": long_lie,
        "false_alerts": false_rates,
    }


TARGET_RECALL = 0.95
TARGET_FALSE_PER_WEEK = 0.5
TARGET_RARITY_FACTOR = 1.25
TARGET_ANOMALIES = ("fall", "night_exit", "missed_morning")
TARGETED_TYPES = frozenset().union(*(EXPECTED_TYPES[k] for k in TARGET_ANOMALIES))


def targets(rows: list[Row], extra: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """Issues 3 and 14's targets for Hearth: what each asks, what was measured, whether met."""
    out: list[tuple[str, str, bool]] = []
    mine = {r.anomaly: r for r in rows if r.contender == "hearth"}
    for kind in TARGET_ANOMALIES:
        if kind in mine:
            got = mine[kind].recall
            # Three places: 0.947 shown as 0.95 would read as met.
            out.append((f"{kind} recall >= {TARGET_RECALL}", f"{got:.3f}", got >= TARGET_RECALL))
    mine_fa = extra["false_alerts"].get("hearth", {})
    # The target can be read two ways, so both are judged: every alert a carer gets, or only
    # those of the detectors that catch these three.
    for key, which in (
        ("per_household_week", "all carer alerts"),
        ("targeted_per_household_week", ", ".join(sorted(TARGETED_TYPES - {"anomaly"}))),
    ):
        fa = mine_fa.get(key)
        if fa is not None:
            out.append(
                (
                    f"false alerts per household-week <= {TARGET_FALSE_PER_WEEK} ({which})",
                    f"{fa:.2f}",
                    fa <= TARGET_FALSE_PER_WEEK,
                )
            )
    # Issue 14: the rarity an alert states, true within a factor of 1.25.
    for kind, rows_k in extra.get("rarity", {}).items():
        for row in rows_k:
            seen = row["crossed_once_in_days"]
            if row["own"] and seen is not None:
                ratio = seen / row["once_in_days"]
                out.append(
                    (
                        f"{kind}: a limit set for once in {row['once_in_days']} days is crossed"
                        f" that often, within x{TARGET_RARITY_FACTOR}",
                        f"once in {seen}",
                        1 / TARGET_RARITY_FACTOR <= ratio <= TARGET_RARITY_FACTOR,
                    )
                )
    ll = extra.get("long_lie_rarity")
    if ll and ll["stated_once_in_days"] and ll["crossed_once_in_days"]:
        ratio = ll["crossed_once_in_days"] / ll["stated_once_in_days"]
        out.append(
            (
                f"long lie: stillness that long by day as often as stated, within"
                f" x{TARGET_RARITY_FACTOR}",
                f"stated once in {ll['stated_once_in_days']}, seen once in"
                f" {ll['crossed_once_in_days']}",
                1 / TARGET_RARITY_FACTOR <= ratio <= TARGET_RARITY_FACTOR,
            )
        )
    for kind in TARGET_ANOMALIES:
        peers = [r for r in rows if r.anomaly == kind and r.contender != "hearth"]
        if kind in mine and peers:
            best = max(peers, key=lambda r: r.f1)
            out.append(
                (
                    f"{kind} F1 ahead of every peer",
                    f"{mine[kind].f1:.2f} against {best.contender} {best.f1:.2f}",
                    mine[kind].f1 > best.f1,
                )
            )
    return out
