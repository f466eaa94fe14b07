"""Deadlines instead of minute polling: a replay ticks only the minutes something may be due
at, and raises the same alerts, word for word, as one that ticks every minute."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.config import household_of, load_config
from agent.config.schema import HearthConfig
from agent.evaluation.continuous import plan, write_in
from agent.pipeline import Pipeline
from agent.replay import drive, replay
from agent.simulation.persona import BadDay, Persona
from agent.sources.recordings import ReadReport, read_recording
from models.detectors.contract import earliest
from models.events import SensorEvent
from tests.conftest import CONFIG, DATASETS, dataset

LONDON = ZoneInfo("Europe/London")
DEMO = load_config(CONFIG / "demo-home.yaml")
TIHM = load_config(CONFIG / "tihm-home.yaml")
# Homes of the dev set with many alerts of several kinds (and one with outages of days).
SOME_HOMES = ("55cd4", "93c14", "e87bd")


class Counted(Pipeline):
    """A pipeline that counts the minutes it is ticked at."""

    ticks = 0

    def tick(self, now: datetime, also: object = ()) -> list[object]:  # type: ignore[override]
        self.ticks += 1
        return super().tick(now)  # type: ignore[return-value]


def both_ways(cfg: HearthConfig, events: list[SensorEvent]) -> tuple[list[str], int, int]:
    """The alerts (as sent, in order) of a replay by deadlines, after checking that a replay
    ticking every minute raises exactly the same; and the minutes each ticked."""
    by_minute, by_deadline = Counted(cfg), Counted(cfg)
    minute = replay(cfg, events, pipeline=by_minute, every_minute=True).alerts
    deadline = replay(cfg, events, pipeline=by_deadline).alerts
    as_sent = [json.dumps(a.to_json(), sort_keys=True) for a in deadline]
    assert [json.dumps(a.to_json(), sort_keys=True) for a in minute] == as_sent
    return as_sent, by_minute.ticks, by_deadline.ticks


def types(alerts: list[str]) -> set[str]:
    return {json.loads(a)["type"] for a in alerts}


def tihm(home: str) -> list[SensorEvent]:
    path = dataset("tihm-dev", "activity", f"{home}.csv")
    return read_recording(f"tihm:{path}", TIHM, ReadReport())


def with_anomalies(home: str) -> list[SensorEvent]:
    """A dev home with falls, night exits, missed mornings and outings not returned from
    written in, as ``hearth eval --method continuous`` writes them."""
    events = tihm(home)
    household = household_of(TIHM)
    return write_in(events, plan(events, household, 14, random.Random(home)), household)


@pytest.mark.slow
@pytest.mark.parametrize("home", SOME_HOMES)
def test_a_dev_home_with_anomalies_written_in_raises_the_same_alerts_by_deadlines(
    home: str,
) -> None:
    alerts, by_minute, by_deadline = both_ways(TIHM, with_anomalies(home))
    assert {"inactivity", "night_exit", "not_returned"} <= types(alerts)
    assert by_deadline * 4 < by_minute


def test_simulated_months_with_falls_mornings_and_a_flat_battery_raise_the_same_alerts() -> None:
    bad = tuple(
        BadDay(day, kind)
        for day, kind in zip(
            range(20, 120, 9), ["fall", "missed_morning", "flat_battery"] * 4, strict=False
        )
    )
    events = list(Persona(date(2025, 1, 6), LONDON, seed=2).events(120, bad))
    alerts, by_minute, by_deadline = both_ways(DEMO, events)
    assert {"inactivity", "missed_morning", "battery_low"} <= types(alerts)
    assert by_deadline * 4 < by_minute


@pytest.mark.long
def test_every_dev_home_and_a_simulated_year_raise_the_same_alerts_by_deadlines() -> None:
    homes = sorted((DATASETS / "tihm-dev" / "activity").glob("*.csv"))
    assert len(homes) == 19
    raised = 0
    for path in homes:
        raised += len(both_ways(TIHM, tihm(path.stem))[0])
        raised += len(both_ways(TIHM, with_anomalies(path.stem))[0])
    year = list(Persona(date(2025, 1, 6), LONDON, seed=1).events(365))
    raised += len(both_ways(DEMO, year)[0])
    assert raised > 300


def test_the_clock_ticks_from_each_deadline_and_plans_again_after_each_event() -> None:
    t0 = datetime(2025, 1, 1, 8, tzinfo=UTC)
    events = [
        SensorEvent(t0 + timedelta(minutes=m, seconds=20), "hall", "motion", 1.0) for m in (0, 30)
    ]
    looked: list[datetime] = []
    ticked: list[datetime] = []

    def next_look(now: datetime) -> datetime | None:
        looked.append(now)
        # Something is due ten and a half minutes after each sign of life, and then each
        # minute while it lasts.
        last = max(e.at for e in events if e.at <= now)
        return max(now, last + timedelta(minutes=10, seconds=30))

    drive(
        events, lambda e: None, ticked.append, until=t0 + timedelta(minutes=45), next_look=next_look
    )
    every: list[datetime] = []
    drive(events, lambda e: None, every.append, until=t0 + timedelta(minutes=45))
    assert len(every) == 45
    due = [
        t
        for t in every
        if t - max(e.at for e in events if e.at <= t) >= timedelta(minutes=10, seconds=30)
    ]
    assert len(due) == 20 + 5
    assert ticked == due
    assert looked[0] == events[0].at
    assert events[1].at in looked
    # And with nothing ever due, nothing is ticked.
    nothing: list[datetime] = []
    drive(
        events,
        lambda e: None,
        nothing.append,
        next_look=lambda now: None,
        until=t0 + timedelta(hours=2),
    )
    assert nothing == []


@given(st.integers(0, 24 * 60 * 60 * 2), st.integers(0, 59))
def test_earliest_is_never_after_the_first_time_it_holds(threshold_s: int, second: int) -> None:
    start = datetime(2025, 1, 1, 0, 0, second)
    at = start + timedelta(seconds=threshold_s)
    found = earliest(start, lambda t: t >= at, timedelta(hours=24))
    if threshold_s <= 24 * 3600:
        assert at - timedelta(minutes=1) <= found <= at
    else:
        assert found == start + timedelta(hours=24)


def test_a_deadline_across_a_change_of_summer_time_is_brought_forward() -> None:
    from models.local_time import local_instant, not_after

    now = datetime(2025, 3, 29, 12, tzinfo=LONDON)
    spring = local_instant(date(2025, 3, 30), 8 * 60, LONDON)
    assert not_after(spring, now, LONDON) == spring - timedelta(hours=2)
    same = local_instant(date(2025, 3, 29), 20 * 60, LONDON)
    assert not_after(same, now, LONDON) == same
    assert not_after(same, same + timedelta(hours=1), LONDON) == same + timedelta(hours=1)


def test_hearth_replay_every_minute_writes_the_same_alerts(tmp_path: Path) -> None:
    from agent.cli import main

    recording = f"tihm:{dataset('tihm-dev', 'activity', '0d5ef.csv')}"
    written = []
    for flags in ([], ["--every-minute"]):
        out = tmp_path / f"alerts{len(flags)}.jsonl"
        args = ["replay", "--config", str(CONFIG / "tihm-home.yaml"), "--input", recording]
        assert main([*args, "--alerts-out", str(out), "-q", *flags]) == 0
        written.append(out.read_text())
    assert written[0].count("\n") >= 10
    assert written[0] == written[1]
