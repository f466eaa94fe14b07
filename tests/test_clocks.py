"""Clocks that change: both clock-change days, and the wall clock set while Hearth watches
(forward and back, by an hour up to a year). No lost detection, no false alert, each daily
alert once, and the time of the last activity never in the future."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from agent.clock import ManualClock
from agent.config import load_config
from agent.pipeline import Pipeline
from agent.replay import replay
from agent.runtime import Agent
from agent.simulation.persona import BadDay, Persona
from models.events import SensorEvent
from models.local_time import local_date
from tests.conftest import CONFIG, Mosquitto
from tests.test_live_mqtt import (
    live_config,
    local,
    prelearn,
    until,
    up_with_the_kettle,
    with_agent,
)

LONDON = ZoneInfo("Europe/London")
DEMO = load_config(CONFIG / "demo-home.yaml")
# 2026's clock changes in London: spring forward (a 23-hour day), fall back (25 hours).
CHANGES = (date(2026, 3, 29), date(2026, 10, 25))
BEFORE = 30  # days of ordinary life before the change, to learn from


@pytest.mark.parametrize("change", CHANGES, ids=["spring", "autumn"])
@pytest.mark.parametrize("bad", [None, "missed_morning", "fall"])
def test_a_clock_change_day_is_watched_like_any_other(change: date, bad: str | None) -> None:
    start = change - timedelta(days=BEFORE)
    days = BEFORE + 3
    bad_days = () if bad is None else (BadDay(BEFORE, bad),)
    alerts = replay(DEMO, Persona(start, LONDON, seed=3).events(days, bad_days)).alerts
    on_the_day = [a for a in alerts if a.detected_at.astimezone(LONDON).date() == change]
    urgent = Counter(a.type for a in on_the_day if a.severity == "urgent")
    expected = {None: {}, "missed_morning": {"missed_morning": 1}, "fall": {"inactivity": 1}}
    assert dict(urgent) == expected[bad]
    # Each daily alert once a local day, the short and the long day included.
    for kind in ("digest", "missed_morning"):
        dates = Counter(a.detected_at.astimezone(LONDON).date() for a in alerts if a.type == kind)
        assert all(n == 1 for n in dates.values()), (kind, dates)
    assert len({a.id for a in alerts}) == len(alerts)


def still_when_alerted(
    broker: Mosquitto, upstream: Mosquitto, tmp_path: Path, jump: timedelta | None
) -> tuple[float, dict[str, Any]]:
    """Up at 07:40, in the lounge at 08:00, then still; the wall clock set by ``jump`` five
    minutes later. How long she had really been still (by the monotonic clock, in minutes)
    when the one inactivity alert came, and that alert's evidence."""
    cfg = live_config(broker, upstream, tmp_path / "home.sqlite")
    clock = ManualClock(local(7, 30))
    got: list[tuple[float, dict[str, Any]]] = []

    async def body(agent: Agent) -> None:
        await up_with_the_kettle(broker, agent, clock, local(8, 0))
        last = clock.mono
        clock.advance(timedelta(minutes=5))
        if jump is not None:
            clock.jump(jump)
            await until(lambda: agent.jumps.jumps == 1, "the jump noticed")
        while agent.pipeline.counters.alerts == 0 and clock.mono - last < 16 * 3600:
            clock.advance(timedelta(minutes=5))
            await asyncio.sleep(0.04)
            at = agent.pipeline.monitor.routine.last_activity_at
            assert at is not None
            assert at <= clock.wall, "last activity in the future"
        async with agent.store.db.execute("SELECT payload FROM outbox") as cur:
            alerts = [json.loads(r[0]) for r in await cur.fetchall()]
        assert [a["type"] for a in alerts] == ["inactivity"]
        got.append(((clock.mono - last) / 60, alerts[0]["evidence"]))

    async def scenario() -> None:
        await prelearn(cfg)
        await with_agent(cfg, clock, body)

    asyncio.run(scenario())
    return got[0]


@pytest.mark.parametrize(
    "jump",
    [None, timedelta(hours=6), timedelta(hours=-1), timedelta(days=365), timedelta(days=-365)],
    ids=["unset", "6h-forward", "1h-back", "a-year-forward", "a-year-back"],
)
def test_the_clock_set_while_she_is_still_neither_hastens_nor_loses_the_alert(
    broker: Mosquitto, upstream_broker: Mosquitto, tmp_path: Path, jump: timedelta | None
) -> None:
    """The stillness is measured across the jump: the alert comes when she has really been
    still as long as the hour's limit (the hour the clock now says), and says so."""
    still, evidence = still_when_alerted(broker, upstream_broker, tmp_path, jump)
    step = 5.0  # the test moves the clock five minutes at a time
    assert abs(evidence["quiet_minutes"] - still) <= step, (still, evidence)
    assert evidence["alert_after_minutes"] <= still < evidence["alert_after_minutes"] + step


@pytest.mark.parametrize(
    ("jump", "set_clock", "relabelled"),
    [
        (timedelta(hours=39), False, False),  # stopped Saturday 18:00 to Monday 09:00
        (timedelta(hours=13), True, False),  # set from 02:00 to 15:00 the same Sunday
        (timedelta(days=365), True, True),  # set a year on: the same day, under its new date
        (timedelta(days=-365), True, True),
    ],
)
def test_only_a_clock_set_by_days_moves_the_day_in_progress(
    jump: timedelta, set_clock: bool, relabelled: bool
) -> None:
    """A stop is real time passing: the days it covered end as days (once, a weekend's stop
    relabelled Saturday as Monday). Only a clock set by a day or more carries the day on."""
    p = Pipeline(DEMO)
    sat = datetime(2026, 5, 9, 9, 0, tzinfo=LONDON).astimezone(UTC)
    p.observe(SensorEvent(sat, "kettle", "appliance", 1.0))
    p.observe(SensorEvent(sat + timedelta(minutes=2), "kettle", "appliance", 0.0))
    r = p.monitor.routine
    day = r.current_day
    assert day == date(2026, 5, 9)
    now = sat + jump
    if set_clock:
        p.clock_jumped(jump, now)
    else:
        p.resumed(jump, now)
    assert r.current_day == (local_date(now, LONDON) if relabelled else day)
