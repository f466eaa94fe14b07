"""The continuous evaluation: anomalies placed days apart and recurring, never by an outage;
written in as they say; each contender replayed once; and the careful technician's rules."""

from __future__ import annotations

import itertools
import json
import random
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from agent.cli import main
from agent.config import household_of, load_config
from agent.evaluation.contenders import HearthContender, RulesContender
from agent.evaluation.continuous import (
    KINDS,
    SPACING_DAYS,
    evaluate_home,
    outage_days,
    plan,
    write_in,
)
from agent.evaluation.fixed_rules import TECHNICIAN, FixedRules
from agent.simulation.persona import Persona
from models.events import SensorEvent
from tests.conftest import CONFIG, dataset

LONDON = ZoneInfo("Europe/London")
DEMO = load_config(CONFIG / "demo-home.yaml")
HOME = household_of(DEMO)
START = date(2025, 5, 5)


def persona(days: int, outage: tuple[int, int] | None = None) -> list[SensorEvent]:
    events = list(Persona(START, LONDON, seed=4).events(days))
    if outage is None:
        return events
    lo = datetime(2025, 5, 5, tzinfo=LONDON) + timedelta(days=outage[0])
    hi = datetime(2025, 5, 5, tzinfo=LONDON) + timedelta(days=outage[1])
    return [e for e in events if not lo <= e.at < hi]


def test_anomalies_recur_days_apart_and_keep_clear_of_an_outage() -> None:
    events = persona(70, outage=(40, 42))
    outages = outage_days(events, LONDON)
    assert date(2025, 6, 15) in outages  # day 41, in the middle of it
    planned = plan(events, HOME, 14, random.Random(1))
    days = [p.day for p in planned]
    assert days == sorted(days)
    assert all(b - a >= timedelta(days=SPACING_DAYS) for a, b in itertools.pairwise(days))
    assert all(d >= START + timedelta(days=14) for d in days)
    for p in planned:
        assert not {p.day - timedelta(days=1), p.day, p.day + timedelta(days=1)} & outages
    assert [p.kind for p in planned[:8]] == [*KINDS, *KINDS]
    for kind in KINDS:
        repeats = [p.repeat for p in planned if p.kind == kind]
        assert repeats == list(range(len(repeats)))
        assert len(repeats) >= 3
    falls = [p for p in planned if p.kind == "fall"]
    assert all(2 <= (p.fall_hours or 0) <= 8 for p in falls)
    assert all(p.end - p.start == timedelta(hours=p.fall_hours or 0) for p in falls)


def test_each_anomaly_is_written_in_as_it_says() -> None:
    events = persona(40)
    planned = plan(events, HOME, 14, random.Random(2))
    changed = write_in(events, planned, HOME)
    for p in planned:
        inside = [e for e in changed if p.start < e.at < p.end]
        if p.kind == "fall":
            assert inside == []
            assert any(e.at == p.start for e in changed)  # the last sign of life stays
            after = [e for e in events if p.end < e.at < p.end + timedelta(hours=3)]
            assert [e for e in changed if p.end < e.at < p.end + timedelta(hours=3)] == after
        elif p.kind == "missed_morning":
            assert inside == []
        else:  # a door opened and closed, then nothing
            assert [e.sensor for e in changed if p.start <= e.at < p.end] == ["front_door"] * 2


def test_each_contender_replays_the_whole_home_once_and_is_scored_on_each_anomaly() -> None:
    events = persona(45)
    result = evaluate_home(
        "demo",
        events,
        DEMO,
        {"hearth": HearthContender, "fixed_rules": RulesContender},
    )
    planned = plan(events, HOME, DEMO.learning.days, random.Random("1/demo"))
    assert len(result.outcomes) == 2 * len(planned)
    hearth = [o for o in result.outcomes if o.contender == "hearth"]
    assert [(o.kind, o.day) for o in hearth] == [(p.kind, p.day.isoformat()) for p in planned]
    # The first night exit in a home Hearth has learned is caught within minutes.
    first_exit = next(o for o in hearth if o.kind == "night_exit" and o.repeat == 0)
    assert first_exit.caught
    assert first_exit.latency_min is not None
    assert first_exit.latency_min <= 30
    assert all(o.latency_min is None for o in hearth if not o.caught)
    assert result.ordinary_days > 0
    assert set(result.false_alerts) == {"hearth", "fixed_rules"}


def at(day: int, hour: int, minute: int = 0) -> datetime:
    d = START + timedelta(days=day)
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=LONDON)


def test_the_technician_waits_for_stillness_after_a_door_at_night() -> None:
    rules = FixedRules(HOME, TECHNICIAN)
    rules.observe(SensorEvent(at(1, 2), "front_door", "contact", 1.0))
    rules.observe(SensorEvent(at(1, 2, 5), "hall_motion", "motion", 1.0))  # a look outside
    assert [f for m in range(1, 40) for f in rules.tick(at(1, 2, m))] == []
    rules.observe(SensorEvent(at(2, 3), "front_door", "contact", 1.0))
    found = [(m, f.type) for m in range(1, 40) for f in rules.tick(at(2, 3, m))]
    assert found == [(15, "night_exit")]


def test_the_technicians_stillness_is_indoors_only() -> None:
    def still(rules: FixedRules, now: datetime) -> list[str]:
        return [f.type for f in rules.tick(now) if f.type == "inactivity"]

    rules = FixedRules(HOME, TECHNICIAN)
    rules.observe(SensorEvent(at(1, 10), "front_door", "contact", 1.0))  # out at 10:00
    assert still(rules, at(1, 14)) == []
    rules.observe(SensorEvent(at(1, 15), "kitchen_motion", "motion", 1.0))  # home, then still
    assert still(rules, at(1, 17, 59)) == []
    assert still(rules, at(1, 18)) == ["inactivity"]
    plain = FixedRules(HOME)
    plain.observe(SensorEvent(at(1, 10), "front_door", "contact", 1.0))
    assert still(plain, at(1, 14)) == ["inactivity"]


def test_hearth_eval_continuous_on_a_real_home_writes_its_frontier(tmp_path: Path) -> None:
    data = dataset("tihm-dev", "activity", "0d5ef.csv").parent
    out = tmp_path / "cont"
    code = main(
        ["eval", "--method", "continuous", "--data", str(data), "--homes", "2", "--out", str(out)]
    )
    assert code == 0
    doc = json.loads((out / "eval.json").read_text())
    points = {(p["contender"], p["label"]) for p in doc["points"]}
    assert ("hearth", "defaults") in points
    assert ("technician_rules", "defaults") in points
    assert ("fixed_rules", "2 h, 09:00") in points
    assert {o["kind"] for o in doc["outcomes"]} == set(KINDS)
    text = (out / "eval.md").read_text()
    assert "hearth eval --method continuous" in text
    assert "| hearth | defaults |" in text
