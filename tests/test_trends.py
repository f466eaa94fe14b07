"""The daily digest: slow changes read from daily records, reported once, not by chance."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta

from models.detectors import slow_changes
from models.detectors.digest import Digest
from models.routine.daily_record import DayRecord
from tests.test_models import learned_monitor

TODAY = date(2025, 6, 2)


def ordinary_days(n: int, seed: int, end: date = TODAY) -> list[DayRecord]:
    """``n`` days up to the day before ``end``, with day-to-day noise like a real home's."""
    rng = random.Random(seed)
    out = []
    for i in range(n, 0, -1):
        visits = min(4, int(rng.expovariate(1.0)))
        out.append(
            DayRecord(
                end - timedelta(days=i),
                night_bathroom=visits,
                bathroom_at=[rng.uniform(840, 960) for _ in range(visits)],  # 02:00 to 04:00
                sleep_onset=rng.gauss(660, 25),
                wake=rng.gauss(1140, 25),
                active_minutes=max(0, int(rng.gauss(300, 45))),
                kitchen_uses=max(1, int(rng.gauss(12, 3))),
                outings=1 if rng.random() < 0.5 else 0,
                first_min=rng.gauss(420, 20),
                last_min=rng.gauss(1350, 20),
            )
        )
    return out


def more_visits(d: DayRecord, n: int) -> None:
    d.night_bathroom += n
    d.bathroom_at += [900.0 + 10 * i for i in range(n)]


def keys(history: list[DayRecord]) -> list[str]:
    return [c.key for c in Digest().changes(history, TODAY)]


def test_ordinary_weeks_report_nothing_on_almost_every_day() -> None:
    flagged = sum(bool(keys(ordinary_days(35, seed))) for seed in range(200))
    # Eight figures, each at p < 0.005: about one day in 25 shows a change by chance, and a
    # change once reported stays quiet for a week: well within one false digest a fortnight.
    assert flagged <= 10


def test_more_night_bathroom_visits_over_a_week() -> None:
    days = ordinary_days(35, 1)
    for d in days[-7:]:
        more_visits(d, 2)
    assert "night_bathroom" in keys(days)
    change = next(c for c in Digest().changes(days, TODAY) if c.key == "night_bathroom")
    assert change.text.startswith("Bathroom visits at night:")


def test_getting_up_later_is_a_longer_night() -> None:
    days = ordinary_days(35, 2)
    for d in days[-7:]:
        assert d.wake is not None
        d.wake += 90
    assert keys(days) == ["wake_time", "sleep_length"]
    text = " ".join(c.text for c in Digest().changes(days, TODAY))
    assert "Getting up later" in text
    assert "Sleeping more" in text


def test_activity_thinned_by_a_third() -> None:
    days = ordinary_days(35, 3)
    for d in days[-7:]:
        d.active_minutes = int(d.active_minutes * 0.66)
    assert "less_active" in keys(days)


def test_a_gradual_decline_is_still_reported_against_the_older_weeks() -> None:
    days = ordinary_days(90, 4)
    for i, d in enumerate(days):
        d.active_minutes = int(d.active_minutes * (1 - 0.35 * i / len(days)))
    assert "less_active" in keys(days)
    # A week each a little less than the one before: against the month before, not enough.
    recent_only = slow_changes.falling(
        slow_changes.LESS_ACTIVE,
        days[-7:],
        days[-35:-7],
        "the 4 weeks before",
        slow_changes.p_value_for_budget(1.0),
    )
    assert recent_only is None


def test_no_kitchen_use_for_a_day() -> None:
    days = ordinary_days(35, 5)
    days[-1].kitchen_uses = 0
    assert "no_kitchen" in keys(days)


def test_fewer_outings() -> None:
    days = ordinary_days(35, 6)
    for d in days[:-7]:
        d.outings = 1
    for d in days[-7:]:
        d.outings = 0
    assert "fewer_outings" in keys(days)


def test_a_day_cut_short_by_a_gap_in_the_data_is_not_compared() -> None:
    days = ordinary_days(35, 5)
    days[-1].kitchen_uses = 0
    days[-1].last_min = 200.0  # the hub went off at 03:20
    assert keys(days) == []


def test_too_little_history_compares_nothing() -> None:
    days = ordinary_days(18, 7)
    for d in days[-7:]:
        more_visits(d, 5)
    assert keys(days) == []


def test_the_digest_is_sent_at_nine_once_and_a_lasting_change_is_not_repeated() -> None:
    m, _ = learned_monitor()
    days = ordinary_days(35, 1)
    for d in days[-7:]:
        more_visits(d, 2)
    m.routine.daily.history.clear()
    m.routine.daily.history.extend(days)
    digest = Digest()
    at8 = datetime(2025, 6, 2, 7, 59, tzinfo=UTC)  # 08:59 in London
    assert digest.check(m.routine, at8, True) is None
    f = digest.check(m.routine, at8 + timedelta(minutes=1), True)
    assert f is not None
    assert f.type == "digest"
    assert f.severity == "info"
    assert f.evidence["changes"] == ["night_bathroom"]
    assert digest.check(m.routine, at8 + timedelta(hours=1), True) is None  # once a day
    # Next day (after a restart), the same change still going on: nothing new to say.
    nxt = Digest.from_state(json.loads(json.dumps(digest.to_state())), digest.settings)
    m.routine.daily.history.append(
        DayRecord(
            date(2025, 6, 2),
            night_bathroom=3,
            sleep_onset=660.0,
            wake=1140.0,
            active_minutes=300,
            kitchen_uses=12,
            outings=1,
            first_min=420.0,
            last_min=1350.0,
        )
    )
    assert nxt.check(m.routine, at8 + timedelta(days=1, minutes=1), True) is None
