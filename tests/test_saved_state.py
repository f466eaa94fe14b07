"""Saved state is versioned, and a state file saved by the release before version 2 (made with
that release, tests/fixtures/README.md) is read with its migration: carrying on from it raises
exactly the alerts that release raised carrying on from it, byte for byte."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from agent.config import load_config
from agent.delivery.rendering import alert_payload
from agent.errors import StateError
from agent.pipeline import Pipeline
from agent.replay import drive
from agent.runtime import STATE_KEY, keeping
from agent.simulation.persona import DEMO_BAD_DAYS, Persona
from agent.store import Store
from models.saved_state import STATE_VERSION, migrate, version_of
from tests.conftest import CONFIG, config_with

FIXTURES = Path(__file__).parent / "fixtures"
DEMO = load_config(CONFIG / "demo-home.yaml")
# The detectors as that release had them: no long-lie limit (as long as the ceiling), and
# inactivity's budget at once in 30 days.
THEN = config_with(
    config_with(DEMO, ("detectors", "inactivity", "long_lie"), "14h"),
    ("detectors", "inactivity", "once_in_days"),
    30.0,
)
LONDON = ZoneInfo("Europe/London")
# Where the fixtures were saved: the demo's day 26, mid-afternoon, in the middle of its fall.
CUT = datetime(2026, 3, 28, 14, 30, tzinfo=LONDON).astimezone(UTC)
END = datetime(2026, 4, 12, 23, 0, tzinfo=LONDON).astimezone(UTC)


def saved(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return doc


def without_recipients(payload: str) -> dict[str, Any]:
    """The alert itself: not whom it is for, nor the version of its envelope, nor what
    versions since added or renamed without changing a figure (docs/schema/CHANGELOG.md: the
    title and action, added in 3, and the context, added in 4, say in other words what the
    summary and the evidence say, or what Hearth knew around it)."""
    doc: dict[str, Any] = json.loads(payload)
    for added in ("recipients", "schema_version", "title", "action", "phase", "ends", "context"):
        doc.pop(added, None)
    evidence = doc.get("evidence", {})
    if "after_this_sensor" in evidence:
        evidence["after_this_sensor_ratio"] = evidence.pop("after_this_sensor")
    evidence.pop("usual_rate_per_day", None)  # removed in 3: about_once_in_days says it
    evidence.pop("last_activity_room", None)  # added in 3
    return doc


def carry_on(state: dict[str, Any]) -> list[str]:
    p = Pipeline(THEN, state)
    events = Persona(date(2026, 3, 2), LONDON, seed=7).events(42, DEMO_BAD_DAYS)
    alerts: list[str] = []

    def tick(now: datetime) -> None:
        # What it raised: the ends of episodes, told since version 3, are not in that release.
        alerts.extend(alert_payload(THEN, a) for a in p.tick(now) if a.ends is None)

    drive([e for e in events if e.at >= CUT], p.observe, tick, start=CUT, until=END)
    return alerts


@pytest.mark.parametrize("name", ["state-v1", "state-v1-ac04737"])
def test_a_state_saved_by_version_1_carries_on_as_that_release_did(name: str) -> None:
    expected = (FIXTURES / f"{name}-alerts.jsonl").read_text().splitlines()
    assert json.loads(expected[0])["type"] == "inactivity"  # the fall, still to come
    # The same alerts, word for word; whom each is for is the demo's configuration today
    # (it has an installer now), not what the saved state carries on.
    assert [without_recipients(a) for a in carry_on(saved(name))] == [
        without_recipients(a) for a in expected
    ]


def test_the_migration_gives_todays_layout_and_leaves_the_saved_file_as_it_was() -> None:
    old = saved("state-v1")
    kept = copy.deepcopy(old)
    new = migrate(old, Pipeline(DEMO).household)
    assert old == kept
    assert version_of(old) == 1
    assert new["version"] == STATE_VERSION == 2
    routine = new["monitor"]["routine"]
    assert {"mornings", "presence"} <= routine.keys()
    assert not any(k.startswith("todays_") for k in routine)
    assert "reported" not in routine["daily"]
    assert "digest" in new["monitor"]["detectors"]
    assert migrate(new, Pipeline(DEMO).household) is new  # today's layout: nothing to do


def test_todays_state_round_trips() -> None:
    p = Pipeline(DEMO, saved("state-v1"))
    again = Pipeline(DEMO, json.loads(json.dumps(p.to_state())))
    assert again.to_state() == p.to_state()


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda s: s | {"version": 9}, "newer than this release"),
        (lambda s: {k: v for k, v in s.items() if k != "version"}, "no version"),
        (lambda s: s | {"monitor": s["monitor"] | {"household": "elsewhere"}}, "household"),
        (
            lambda s: s | {"monitor": {k: v for k, v in s["monitor"].items() if k != "routine"}},
            "routine",
        ),
    ],
)
def test_state_that_cannot_be_read_is_a_state_error(change: Any, says: str) -> None:
    today = Pipeline(DEMO, saved("state-v1")).to_state()
    with pytest.raises(StateError, match=says):
        Pipeline(DEMO, change(today))
    assert Pipeline(DEMO, today).monitor.routine.days_learned > 14


def test_the_agent_starts_afresh_from_state_it_cannot_read_and_says_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def restored(state: dict[str, Any]) -> Pipeline:
        async with await Store.open(tmp_path / "home.sqlite") as store:
            await store.save_state(STATE_KEY, state, CUT)
            pipeline = (await keeping.restore(DEMO, store)).pipeline
            return pipeline

    good = asyncio.run(restored(saved("state-v1")))
    assert good.monitor.learned
    with caplog.at_level(logging.ERROR, logger="hearth.runtime"):
        fresh = asyncio.run(restored(saved("state-v1") | {"version": 9}))
    assert fresh.monitor.routine.days_learned == 0
    assert not fresh.monitor.learned
    assert "saved routine could not be read (ValueError: saved state version 9" in caplog.text
