"""The check-in before the call (issue 18): with ``check_in`` on, a stillness or a missed
morning is first put to the resident; no answer in ``wait`` sends the alert, saying so; any
movement indoors, or the resident's button, holds it back (an answer says she is all right
now: the same episode still found after ``recheck`` is sent). The demo's bad days replayed,
then the live agent on real Mosquitto brokers: the question on the home broker, a press."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
import yaml

from agent.cli.audit import read_audit, words
from agent.clock import ManualClock
from agent.config import household_of, load_config_text
from agent.config.schema import HearthConfig
from agent.errors import ConfigError
from agent.pipeline import Pipeline
from agent.replay import drive
from agent.runtime import Agent
from agent.simulation.persona import DEMO_BAD_DAYS, Persona
from agent.sources.control import Command
from models.alert_policy import Alert
from models.events import SensorEvent
from tests.conftest import CONFIG, Mosquitto
from tests.test_live_mqtt import Upstream, listen, live_doc, prelearn, publish, until, with_agent

WAIT = timedelta(minutes=5)


def demo(check_in: dict[str, Any] | None) -> HearthConfig:
    doc = yaml.safe_load((CONFIG / "demo-home.yaml").read_text())
    if check_in is not None:
        doc["check_in"] = check_in
    return load_config_text(yaml.safe_dump(doc))


def events() -> list[SensorEvent]:
    cfg = demo(None)
    persona = Persona(datetime(2026, 3, 2).date(), household_of(cfg).tz, seed=7)
    return list(persona.events(42, DEMO_BAD_DAYS))


def replayed(
    cfg: HearthConfig, evs: list[SensorEvent], at: Any = None
) -> tuple[Pipeline, list[Alert]]:
    """The events through a pipeline, ticking as the live agent would; ``at(p, now)`` is called
    at each tick first (the resident's button, say)."""
    p, alerts = Pipeline(cfg), list[Alert]()

    def tick(now: datetime) -> None:
        if at is not None:
            at(p, now)
        alerts.extend(a for a in p.tick(now) if a.ends is None)

    drive(evs, p.observe, tick, next_look=p.next_due)
    return p, alerts


def first(alerts: list[Alert], kind: str) -> Alert:
    return next(a for a in alerts if a.type == kind)


def test_no_answer_sends_the_alert_after_the_wait_saying_it_asked() -> None:
    evs = events()
    _, plain = replayed(demo(None), evs)
    p, asked = replayed(demo({"enabled": True, "wait": "5min"}), evs)
    for kind in ("inactivity", "missed_morning"):
        before, after = first(plain, kind), first(asked, kind)
        assert after.id == before.id  # the same episode
        late = after.detected_at - before.detected_at
        assert WAIT <= late < WAIT + timedelta(minutes=2), (kind, late)
        assert after.context is not None
        assert "and had no answer in 5 min." in after.context
    # What is not asked about is not delayed.
    assert [a.detected_at for a in plain if a.type == "battery_low"] == [
        a.detected_at for a in asked if a.type == "battery_low"]  # fmt: skip
    said = [r["check_in"] for r in p.check_ins.records]
    assert said.count("asked") == said.count("not answered") >= 2


def test_movement_while_it_asks_holds_the_alert_back() -> None:
    evs = events()
    _, plain = replayed(demo(None), evs)
    fall = first(plain, "inactivity")
    # She moves in the lounge two minutes after the question.
    moved = SensorEvent(fall.detected_at + timedelta(minutes=2), "lounge_motion", "motion", 1.0)
    evs2 = sorted([*evs, moved], key=lambda e: e.at)
    p, asked = replayed(demo({"enabled": True}), evs2)
    assert fall.id not in {a.id for a in asked}
    mine = [r for r in p.check_ins.records if r["type"] == "inactivity"]
    assert [r["check_in"] for r in mine][:3] == ["asked", "answered", "over before the call"]
    assert mine[1]["how"] == "movement in the lounge"
    # Without the check-in, that movement ends an alert already sent instead.
    _, told = replayed(demo(None), evs2)
    assert fall.id in {a.id for a in told}


def test_the_button_holds_it_back_for_the_recheck_and_then_it_goes_if_still_so() -> None:
    evs = events()
    _, plain = replayed(demo(None), evs)
    fall = first(plain, "inactivity")
    pressed: list[datetime] = []

    def press(p: Pipeline, now: datetime) -> None:
        if not pressed and p.check_ins.holding() and now >= fall.detected_at + timedelta(minutes=1):
            p.command(Command("fine", None), now)
            pressed.append(now)

    p, asked = replayed(demo({"enabled": True, "recheck": "1h"}), evs, press)
    assert pressed
    # The demo's stillness lasts hours: past the recheck it is sent, saying so.
    still = next(a for a in asked if a.id == fall.id)
    assert still.detected_at >= pressed[0] + timedelta(hours=1)
    assert still.context is not None
    assert "(the resident's button), but it went on." in still.context
    said = [r["check_in"] for r in p.check_ins.records if r["type"] == "inactivity"]
    assert said[:3] == ["asked", "answered", "still so"]


def test_the_yaml_keeps_the_wait_short() -> None:
    with pytest.raises(ConfigError, match="between 1min and 15min"):
        demo({"enabled": True, "wait": "30min"})
    with pytest.raises(ConfigError, match="only inactivity, missed_morning"):
        demo({"enabled": True, "types": ["night_exit"]})
    assert not demo(None).check_in.enabled


async def home_hears(b: Mosquitto, into: list[dict[str, Any]], ready: asyncio.Event) -> None:
    async with aiomqtt.Client(b.host, b.port, identifier="the-button") as c:
        await c.subscribe("hearth/live-home/check_in", qos=1)
        ready.set()
        async for m in c.messages:
            p = m.payload if isinstance(m.payload, bytes) else str(m.payload).encode()
            into.append(json.loads(p))


def test_live_the_question_reaches_the_home_and_a_press_holds_the_alert(
    broker: Mosquitto, upstream_broker: Mosquitto, tmp_path: Path
) -> None:
    doc = live_doc(broker, upstream_broker, tmp_path / "home.sqlite")
    doc["check_in"] = {"enabled": True, "wait": "5min", "recheck": "1h"}
    cfg = load_config_text(yaml.safe_dump(doc))
    from tests.test_outage import at

    clock = ManualClock(at(0, 7, 30))
    care, home = Upstream(), list[dict[str, Any]]()

    async def body(agent: Agent) -> None:
        ready, ready2 = asyncio.Event(), asyncio.Event()
        tasks = [asyncio.create_task(listen(upstream_broker, care, ready)),
                 asyncio.create_task(home_hears(broker, home, ready2))]  # fmt: skip
        await until(lambda: ready.is_set() and ready2.is_set(), "listening")
        await publish(broker, agent, clock, at(0, 7, 40), "zigbee2mqtt/bedroom_motion",
                      {"occupancy": True})  # fmt: skip
        await publish(broker, agent, clock, at(0, 7, 52), "zigbee2mqtt/kettle", {"power": 2150.0})
        await publish(broker, agent, clock, at(0, 7, 56), "zigbee2mqtt/kettle", {"power": 1.0})
        for minute in range(8 * 60, 12 * 60 + 1, 20):
            await publish(broker, agent, clock, at(0, minute // 60, minute % 60),
                          "zigbee2mqtt/lounge_motion", {"occupancy": True})  # fmt: skip
        while not [q for q in home if q["state"] == "asking"]:
            clock.advance(timedelta(minutes=5))
            await asyncio.sleep(0.05)
            assert clock.wall < at(0, 20, 0), "no question by 20:00"
        (question,) = [q for q in home if q["state"] == "asking"]
        assert question["type"] == "inactivity"
        assert "Press your button" in question["question"]
        async with aiomqtt.Client(broker.host, broker.port) as c:
            await c.publish("hearth/live-home/control/fine", b"", qos=1)
        await until(lambda: any(q["state"] == "answered" for q in home), "the press heard", 30)
        clock.advance(timedelta(minutes=30))  # past the wait: held by the answer
        await asyncio.sleep(0.5)
        assert not care.on("hearth/live-home/alerts/inactivity")
        clock.advance(timedelta(minutes=40))  # past the recheck, still no movement
        await until(lambda: bool(care.on("hearth/live-home/alerts/inactivity")), "sent", 30)
        for t in tasks:
            t.cancel()

    async def scenario() -> None:
        await prelearn(cfg)
        await with_agent(cfg, clock, body)

    asyncio.run(scenario())
    (fall,) = care.on("hearth/live-home/alerts/inactivity")
    assert "(the resident's button), but it went on." in fall["context"]
    lines = words(cfg, read_audit(cfg, datetime(2000, 1, 1).astimezone()), timedelta(days=3650))
    said = [line for line in lines if "check-in with the resident about inactivity" in line]
    button = "(the resident's button)"
    assert [line.split(": ")[-1] for line in said][:3] == [
        "asked", f"answered {button}", f"still so {button}"]  # fmt: skip


def test_a_question_that_cannot_reach_the_home_is_not_waited_for(tmp_path: Path) -> None:
    """No home broker connected: the alert goes at the next look, not after the wait."""
    from agent.runtime.check_in_link import pass_on
    from agent.store import Store

    doc = yaml.safe_load((CONFIG / "demo-home.yaml").read_text())
    doc["check_in"] = {"enabled": True, "wait": "15min"}
    doc["store"] = {"path": str(tmp_path / "hub.sqlite")}
    cfg = load_config_text(yaml.safe_dump(doc))
    evs = events()
    fall = first(replayed(demo(None), evs)[1], "inactivity")
    before = [e for e in evs if e.at <= fall.detected_at]

    async def go() -> list[Alert]:
        async with await Store.open(tmp_path / "hub.sqlite") as store:
            agent = Agent(cfg, store)
            assert agent.home is None
            for e in before:
                agent.pipeline.observe(e)
            assert agent.pipeline.tick(fall.detected_at) == []  # asked
            await pass_on(agent, fall.detected_at)  # nobody to ask
            return agent.pipeline.tick(fall.detected_at + timedelta(minutes=1))

    told = asyncio.run(go())
    assert [a.id for a in told if a.type == "inactivity"] == [fall.id]


def test_a_sensors_own_reports_are_no_answer_and_an_answer_holds_a_stillness_briefly() -> None:
    """A motion sensor's battery or signal report, or its motion clearing, is not her; and a
    press, even with a 4 h recheck, holds a stillness back no longer than the long-lie limit
    past the question."""
    evs = events()
    _, plain = replayed(demo(None), evs)
    fall = first(plain, "inactivity")
    after = fall.detected_at + timedelta(minutes=2)
    reports = [SensorEvent(after, "bathroom_motion", "battery", 87.0),
               SensorEvent(after, "lounge_motion", "link_quality", 120.0),
               SensorEvent(after, "hall_motion", "motion", 0.0)]  # fmt: skip
    _, asked = replayed(demo({"enabled": True, "recheck": "4h"}),
                        sorted([*evs, *reports], key=lambda e: e.at))  # fmt: skip
    sent = first(asked, "inactivity")
    assert sent.id == fall.id
    assert sent.detected_at - fall.detected_at < WAIT + timedelta(minutes=2)
    assert "had no answer in 5 min" in str(sent.context)
    pressed: list[datetime] = []

    def press(p: Pipeline, now: datetime) -> None:
        if not pressed and "inactivity" in p.check_ins.holding() and now >= fall.detected_at:
            p.command(Command("fine", None), now)
            pressed.append(now)

    _, held = replayed(demo({"enabled": True, "recheck": "4h"}), evs, press)
    assert pressed
    long_lie = demo(None).detectors.inactivity.long_lie  # type: ignore[attr-defined]
    late = first(held, "inactivity")
    assert late.detected_at <= fall.detected_at + long_lie + timedelta(minutes=1)
    assert late.detected_at >= fall.detected_at + long_lie - timedelta(minutes=1)


def test_an_answer_before_the_question_is_no_answer() -> None:
    from models.check_in import CheckIns, CheckInSettings
    from models.finding import Finding

    c = CheckIns(CheckInSettings(enabled=True))
    t = datetime(2026, 3, 28, 15, 28).astimezone()
    still = Finding("inactivity", "urgent", t, t, "Still.", "inactivity:x")
    assert c.gate([still], t) == []
    c.answered(t - timedelta(seconds=1), "the resident's button")  # a message from before
    assert c.asking["inactivity:x"].answered_at is None
    c.answered(t + timedelta(seconds=1), "the resident's button")
    assert c.asking["inactivity:x"].answered_at is not None


def test_a_clock_set_while_it_asks_neither_ends_the_question_nor_asks_again() -> None:
    evs = events()
    cfg = demo({"enabled": True, "wait": "5min"})
    fall = first(replayed(demo(None), evs)[1], "inactivity")
    p = Pipeline(cfg)

    def tick(now: datetime) -> None:
        p.tick(now)

    drive([e for e in evs if e.at <= fall.detected_at], p.observe, tick,
          until=fall.detected_at, next_look=p.next_due)  # fmt: skip
    assert "inactivity" in p.check_ins.holding()
    jump = timedelta(hours=1)
    p.clock_jumped(jump, fall.detected_at + jump)
    assert [a for a in p.tick(fall.detected_at + jump + timedelta(minutes=2))
            if a.type == "inactivity"] == []  # fmt: skip
    sent = [a for a in p.tick(fall.detected_at + jump + WAIT) if a.type == "inactivity"]
    assert [a.id for a in sent] != []
    said = [r["check_in"] for r in p.check_ins.records if r["type"] == "inactivity"]
    assert said == ["asked", "not answered"], said
