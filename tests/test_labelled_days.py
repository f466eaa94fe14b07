"""Scoring daily deviation against labelled days: ROC-AUC and its bootstrap interval."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.evaluation.labelled_days import auc_with_interval, labelled_days, roc_auc
from tests.conftest import dataset


def test_auc_is_one_for_a_perfect_ranking_a_half_for_none_and_zero_reversed() -> None:
    assert roc_auc([5.0, 4.0], [1.0, 2.0, 3.0]) == 1.0
    assert roc_auc([1.0, 1.0], [1.0, 1.0]) == 0.5
    assert roc_auc([0.0], [1.0, 2.0]) == 0.0
    assert roc_auc([], [1.0]) is None


@given(
    st.lists(st.floats(0, 10), min_size=1, max_size=30),
    st.lists(st.floats(0, 10), min_size=1, max_size=30),
)
@settings(max_examples=100, deadline=None)
def test_auc_is_the_share_of_pairs_ranked_right(pos: list[float], neg: list[float]) -> None:
    pairs = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg)
    auc = roc_auc(pos, neg)
    assert auc is not None
    assert abs(auc - pairs / (len(pos) * len(neg))) < 0.001


def test_the_tihm_agitation_days_are_read_from_the_real_labels() -> None:
    days = labelled_days(dataset("tihm-dev", "Labels.csv"))
    assert sum(len(d) for d in days.values()) == 37
    assert len(days) == 9
    assert len(days["0d5ef"]) == 10
    assert all(d.year == 2019 for d in days["0d5ef"])


def test_the_interval_holds_the_estimate_and_narrows_nothing_it_should_not() -> None:
    start = date(2024, 1, 1)
    scores = {
        f"h{h}": {
            start + timedelta(days=i): float(i % 7 + (5 if i % 10 == 0 else 0)) for i in range(60)
        }
        for h in range(6)
    }
    labels = {f"h{h}": {start + timedelta(days=i) for i in range(0, 60, 10)} for h in range(6)}
    got = auc_with_interval(scores, labels, reps=300)
    auc, low, high = got["auc"], got["low"], got["high"]
    assert isinstance(auc, float)
    assert isinstance(low, float)
    assert isinstance(high, float)
    assert auc > 0.9
    assert low <= auc <= high
    assert got["labelled_days"] == 36
    assert got["homes_with_labels"] == 6
