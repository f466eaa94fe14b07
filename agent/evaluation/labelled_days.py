"""Scoring daily deviation scores against outside labels: which days were labelled (the TIHM
clinical ``Agitation`` events), and how well the scores rank those days above the others.

ROC-AUC is the chance that a labelled day scores above an unlabelled one (ties count half).
Its 95% interval comes from a bootstrap over homes: days of one home are not independent, so
homes, not days, are resampled.

>>> roc_auc([3.0, 2.0], [1.0, 2.0, 0.0])
0.917
"""

from __future__ import annotations

import csv
import random
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path


def labelled_days(path: Path, kind: str = "Agitation") -> dict[str, set[date]]:
    """Home id to the local dates with a label of ``kind``, from TIHM's ``Labels.csv``."""
    out: dict[str, set[date]] = {}
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if (row.get("type") or "").strip() != kind:
                continue
            try:
                day = datetime.fromisoformat((row.get("date") or "").strip()).date()
            except ValueError:
                continue
            out.setdefault((row.get("patient_id") or "").strip(), set()).add(day)
    return out


def roc_auc(positives: Sequence[float], negatives: Sequence[float]) -> float | None:
    if not positives or not negatives:
        return None
    ranked = sorted([(s, 1) for s in positives] + [(s, 0) for s in negatives])
    # Mann-Whitney U from mid-ranks.
    rank_sum = 0.0
    i = 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        mid = (i + 1 + j) / 2
        rank_sum += mid * sum(1 for k in range(i, j) if ranked[k][1] == 1)
        i = j
    n_pos, n_neg = len(positives), len(negatives)
    u = rank_sum - n_pos * (n_pos + 1) / 2
    return round(u / (n_pos * n_neg), 3)


def auc_with_interval(
    scores: Mapping[str, Mapping[date, float]],
    labels: Mapping[str, set[date]],
    reps: int = 1000,
    seed: int = 1,
) -> dict[str, float | int | None]:
    """Pooled ROC-AUC over homes' scored days, and a 95% bootstrap interval over homes."""

    def split(homes: Sequence[str]) -> tuple[list[float], list[float]]:
        pos: list[float] = []
        neg: list[float] = []
        for h in homes:
            for day, s in scores[h].items():
                (pos if day in labels.get(h, set()) else neg).append(s)
        return pos, neg

    homes = sorted(scores)
    pos, neg = split(homes)
    auc = roc_auc(pos, neg)
    rng = random.Random(seed)
    boots = []
    for _ in range(reps if auc is not None else 0):
        p, n = split([rng.choice(homes) for _ in homes])
        if (b := roc_auc(p, n)) is not None:
            boots.append(b)
    boots.sort()
    low = boots[int(0.025 * len(boots))] if boots else None
    high = boots[min(len(boots) - 1, int(0.975 * len(boots)))] if boots else None
    return {
        "auc": auc,
        "low": low,
        "high": high,
        "labelled_days": len(pos),
        "other_days": len(neg),
        "homes_with_labels": sum(1 for h in homes if labels.get(h, set()) & set(scores[h])),
    }
