"""Scoring daily deviation scores against outside labels: which days were labelled (the TIHM
clinical ``Agitation`` events), and how well the scores rank those days above the others.

ROC-AUC (scikit-learn's) is the chance that a labelled day scores above an unlabelled one
(ties count half). Its 95% interval comes from a bootstrap over homes (numpy): days of one home
are not independent, so homes, not days, are resampled.

>>> roc_auc([3.0, 2.0], [1.0, 2.0, 0.0])
0.917
"""

from __future__ import annotations

import csv
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
    """scikit-learn's ROC-AUC of labelled (positive) days against the others, to 3 places."""
    if not positives or not negatives:
        return None
    from sklearn.metrics import roc_auc_score

    truth = [1] * len(positives) + [0] * len(negatives)
    return round(float(roc_auc_score(truth, [*positives, *negatives])), 3)


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

    import numpy as np

    homes = sorted(scores)
    pos, neg = split(homes)
    auc = roc_auc(pos, neg)
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(reps if auc is not None else 0):
        p, n = split([homes[i] for i in rng.integers(0, len(homes), len(homes))])
        if (b := roc_auc(p, n)) is not None:
            boots.append(b)
    low = round(float(np.percentile(boots, 2.5)), 3) if boots else None
    high = round(float(np.percentile(boots, 97.5)), 3) if boots else None
    return {
        "auc": auc,
        "low": low,
        "high": high,
        "labelled_days": len(pos),
        "other_days": len(neg),
        "homes_with_labels": sum(1 for h in homes if labels.get(h, set()) & set(scores[h])),
    }
