"""Each detector's learning, as ``hearth status`` and ``hearth explain`` say it: the days
learned first, then what a detector needs of its own (nights, whole days of records); and what
the agent notes of its links and its clock beside its watching."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from agent.cli.status import HubStatus, words
from agent.config import HearthConfig, load_config
from agent.pipeline import Pipeline
from agent.replay import replay
from agent.runtime.agent import Agent, watching_note
from agent.simulation.persona import Persona
from agent.store import Store
from models.detectors import registered
from models.learning import learning
from tests.conftest import CONFIG, config_with

LONDON = ZoneInfo("Europe/London")
DEMO = load_config(CONFIG / "demo-home.yaml")


def learned_after(days: int, cfg: HearthConfig = DEMO) -> dict[str, str]:
    pipeline = Pipeline(cfg)
    replay(cfg, Persona(date(2026, 3, 2), LONDON, seed=5).events(days), pipeline=pipeline)
    return {x.detector: x.words() for x in learning(pipeline.monitor)}


def test_every_detector_is_learning_at_first_and_says_what_it_waits_for() -> None:
    said = learned_after(5)
    # Every detector the YAML runs (the weekly summary is off unless turned on).
    assert list(said) == [spec.name for spec in registered() if spec.enabled_by_default]
    assert said["inactivity"] == (
        "inactivity: learning, 5 of 14 days learned (its safety limit is on meanwhile)"
    )
    assert said["night_exit"] == "night exit: learning, 5 of 14 days learned"
    assert all(": learning, " in words for words in said.values())


def test_with_the_days_learned_each_detector_waits_for_what_it_needs_of_its_own() -> None:
    said = learned_after(5, config_with(DEMO, ("learning", "days"), 3))
    assert said == {
        "inactivity": "inactivity: learned, 5 days",
        "missed_morning": "missed morning: learned, 5 days",
        # The usual night needs a week of nights; the longest stretch up at night, two.
        "night_exit": "night exit: learning, 4 of 7 nights",
        "not_returned": "not returned: learning, 5 of 7 days of outings"
        " (its safety limit is on meanwhile)",
        "night_restlessness": "night restlessness: learning, 5 of 14 nights",
        "digest": "digest: learning, 5 of 19 whole days",
    }


def test_past_the_days_learned_a_detector_that_needs_more_of_its_own_still_learns() -> None:
    said = learned_after(17)
    assert said["inactivity"] == "inactivity: learned, 17 days"
    assert said["missed_morning"] == "missed morning: learned, 17 days"
    assert said["night_restlessness"] == "night restlessness: learned, 17 days"
    # The digest compares a recent week with a baseline of two weeks before it.
    assert said["digest"] == "digest: learning, 17 of 19 whole days"
    assert learned_after(21)["digest"] == "digest: learned, 20 days"


def test_the_note_says_each_link_and_a_clock_not_trusted(tmp_path: Path) -> None:
    store = asyncio.run(Store.open(tmp_path / "home.sqlite"))
    agent = Agent(DEMO, store)
    note = watching_note(agent)
    assert note == {
        "status": "online",
        "links": {"upstream broker": False},
        "problems": {},
        "sensors": {},
    }
    agent.upstream.connected.set()
    # A hub booted with no clock: the guard holds the watching and says why.
    booted = datetime(2000, 1, 1, tzinfo=UTC)
    assert agent.clock_guard.check(booted, lambda _sure, _now: None, 0.0) == "wait"
    note = watching_note(agent)
    why = "the hub's clock is not set (it reads 2000-01-01 00:00 UTC)"
    assert note["links"] == {"upstream broker": True}
    assert note["problems"] == {"clock": why}
    assert note["status"] == f"degraded: {why}"
    status = HubStatus(
        household="demo",
        store="home.sqlite",
        checked_at="2026-12-02T10:00:00+00:00",
        watching=True,
        last_looked="2026-12-02T10:00:00+00:00",
        agent_status=str(note["status"]),
        links={"upstream broker": False, "home broker": True},
        clock_problem=why,
        days_learned=3,
        learning_days=14,
        alerts_waiting=0,
        oldest_waiting=None,
        store_bytes=0,
        disk_free_bytes=0,
    )
    text = words(status)
    assert "links: upstream broker NOT connected, home broker connected" in text
    assert f"clock: NOT trusted ({why})" in text
    assert "routine: learning, 3 days (learned alerts after 14)" in text
    asyncio.run(store.close())
