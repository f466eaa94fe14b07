"""An episode's end, told to whoever was told of it (issue 18): movement again after a fall's
stillness, a missed morning or an outing, and monitoring resumed once a gap's sensors work
again; once, under one id, across a restart; never counted by the evaluation as a find or a
false alert. The pipeline is tested on the demo household's simulated weeks; the agent on real
Mosquitto brokers."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from agent.clock import ManualClock
from agent.config import load_config
from agent.delivery.rendering import alert_payload
from agent.evaluation.contenders import HearthContender
from agent.pipeline import Pipeline
from agent.replay import drive
from agent.runtime import Agent
from agent.simulation.persona import DEMO_BAD_DAYS, Persona
from agent.sources.control import Command
from models.alert_policy import Alert, AlertPolicy
from models.episode_ends import EpisodeEnds
from models.events import SensorEvent
from models.finding import Finding, JsonValue
from tests.conftest import CONFIG, Mosquitto
from tests.published import assert_valid_alert, problems
from tests.test_live_mqtt import (
    Upstream,
    let_the_afternoon_pass,
    live_config,
    local,
    ordinary_morning_then_still,
    publish,
    run_and_listen,
    until,
)

LONDON = ZoneInfo("Europe/London")
DEMO = load_config(CONFIG / "demo-home.yaml")
EVENTS = list(Persona(date(2026, 3, 2), LONDON, seed=7).events(42, DEMO_BAD_DAYS))


def run(p: Pipeline, events: list[SensorEvent], **span: datetime) -> list[Alert]:
    alerts: list[Alert] = []
    drive(events, p.observe, lambda now: alerts.extend(p.tick(now)), next_look=p.next_due, **span)
    return alerts


def test_a_fall_that_ends_is_told_once_when_she_moves_again_in_the_room_she_is_seen() -> None:
    alerts = run(Pipeline(DEMO), EVENTS)
    fall = next(a for a in alerts if a.type == "inactivity" and a.ends is None)
    (ended,) = [a for a in alerts if a.ends == fall.id]
    first = min((e for e in EVENTS if e.is_activity and e.at > fall.started_at), key=lambda e: e.at)
    assert ended.detected_at == first.at  # the first sign of life, not a later one
    assert (ended.type, ended.severity) == (fall.type, fall.severity)
    assert ended.evidence["sensor"] == first.sensor
    minutes = (first.at - fall.started_at).total_seconds() / 60
    assert ended.evidence["lasted_minutes"] == round(minutes, 1)
    assert "Movement again at" in ended.headline
    # Each raised silence is ended once, and no message ends what was never raised.
    raised = {a.id for a in alerts if a.ends is None}
    ends = [a.ends for a in alerts if a.ends is not None]
    assert len(ends) == len(set(ends)) == 3
    assert set(ends) <= raised


def test_a_monitoring_gap_is_told_resumed_when_its_sensor_works_again() -> None:
    alerts = run(Pipeline(DEMO), EVENTS)
    gap = next(a for a in alerts if a.type == "monitoring_gap" and a.ends is None)
    (resumed,) = [a for a in alerts if a.ends == gap.id]
    assert resumed.evidence["sensors"] == ["lounge_motion"]
    assert resumed.headline.startswith("Monitoring resumed at")
    assert resumed.detected_at > gap.detected_at
    back = [e for e in EVENTS if e.sensor == "lounge_motion" and e.at > gap.detected_at]
    assert back
    assert resumed.detected_at >= back[0].at


def test_a_restart_between_the_alert_and_its_end_tells_the_same_end_once() -> None:
    uninterrupted = run(Pipeline(DEMO), EVENTS)
    fall = next(a for a in uninterrupted if a.type == "inactivity" and a.ends is None)
    (ended,) = [a for a in uninterrupted if a.ends == fall.id]
    cut = fall.detected_at + timedelta(minutes=5)
    before = Pipeline(DEMO)
    run(before, [e for e in EVENTS if e.at < cut], until=cut)
    # Saved after the alert: the open episode is in the state.
    after = Pipeline(DEMO, before.to_state())
    told = run(after, [e for e in EVENTS if e.at >= cut], start=cut)
    assert [a.id for a in told if a.ends == fall.id] == [ended.id]
    # Saved before the alert, which was remembered from the outbox at the start: the same.
    early = fall.detected_at - timedelta(minutes=5)
    saved = Pipeline(DEMO)
    run(saved, [e for e in EVENTS if e.at < early], until=early)
    restarted = Pipeline(DEMO, saved.to_state())
    restarted.remember(fall.id, fall.memory)
    told = run(restarted, [e for e in EVENTS if e.at >= early], start=early)
    assert [a.id for a in told if a.ends == fall.id] == [ended.id]
    assert not [a for a in told if a.id == fall.id]  # the alert itself not raised again
    # And its end, once sent, is not told again after a later restart.
    later = Pipeline(DEMO, saved.to_state())
    later.remember(fall.id, fall.memory)
    later.remember(ended.id, ended.memory)
    told = run(later, [e for e in EVENTS if e.at >= early], start=early)
    assert [a for a in told if a.ends == fall.id] == []


def test_an_end_seen_just_before_a_stop_is_told_after_the_start() -> None:
    alerts = run(Pipeline(DEMO), EVENTS)
    fall = next(a for a in alerts if a.type == "inactivity" and a.ends is None)
    (ended,) = [a for a in alerts if a.ends == fall.id]
    before = Pipeline(DEMO)
    run(before, [e for e in EVENTS if e.at < ended.detected_at], until=ended.detected_at)
    for e in EVENTS:
        if e.at == ended.detected_at:
            before.observe(e)  # seen, and the hub stops before its next look
    assert before.ends.pending
    after = Pipeline(DEMO, before.to_state())
    assert [a.id for a in after.tick(ended.detected_at)] == [ended.id]


def test_a_missed_morning_while_she_is_up_and_about_has_no_end_to_tell() -> None:
    p = Pipeline(DEMO)
    alerts = run(p, EVENTS)
    missed = next(a for a in alerts if a.type == "missed_morning")
    assert missed.memory["silence"] is not None  # this one: she had hardly moved
    assert any(a.ends == missed.id for a in alerts)
    # The same alert, had she been up and about: the first movement ends nothing.
    fresh = Pipeline(DEMO)
    memory = {**missed.memory, "silence": None}
    fresh.remember(missed.id, memory)
    assert fresh.ends.open == {}


def test_the_evaluation_counts_what_was_raised_not_what_ended() -> None:
    contender, alerts = HearthContender(DEMO), []
    drive(EVENTS, contender.observe, lambda now: alerts.extend(contender.tick(now)))
    everything = run(Pipeline(DEMO), EVENTS)
    assert [a.id for a in alerts] == [a.id for a in everything if a.ends is None]
    assert len(everything) > len(alerts)


def test_a_live_hub_tells_the_care_team_when_a_stillness_ends(
    broker: Mosquitto, upstream_broker: Mosquitto, tmp_path: Path
) -> None:
    cfg = live_config(broker, upstream_broker, tmp_path / "home.sqlite")
    clock = ManualClock(local(7, 30))
    received = Upstream()

    def on_topic() -> list[dict[str, object]]:
        return received.on("hearth/live-home/alerts/inactivity")

    async def body(agent: Agent) -> None:
        await ordinary_morning_then_still(broker, agent, clock)
        await let_the_afternoon_pass(agent, clock)
        await until(lambda: len(on_topic()) == 1, "the alert upstream")
        up = clock.wall + timedelta(minutes=3)
        await publish(broker, agent, clock, up, "zigbee2mqtt/kitchen_motion", {"occupancy": True})
        await until(lambda: len(on_topic()) == 2, "its end upstream")

    asyncio.run(run_and_listen(cfg, upstream_broker, clock, body, received))
    alert, ended = on_topic()
    for doc in (alert, ended):
        assert_valid_alert(doc)
    assert (alert["phase"], ended["phase"]) == ("raised", "ended")
    assert ended["ends"] == alert["id"]
    assert ended["id"] != alert["id"]
    assert ended["recipients"] == alert["recipients"] == ["Home-care team"]
    assert "in the kitchen" in str(ended["title"])
    assert str(ended["title"]).startswith("Margaret's home: Movement again at")


def test_sensors_failing_at_once_are_told_in_one_message_and_not_again_after_a_restart() -> None:
    """A Zigbee router lost: three sensors offline in the same minute (and one later)."""
    day = datetime(2026, 4, 1, 12, 0, tzinfo=LONDON)
    lost = ("kitchen_motion", "hall_motion", "bedroom_motion")
    cut = [e for e in EVENTS if not (e.sensor in lost and e.at >= day)]
    cut += [SensorEvent(day, s, "availability", 0.0) for s in lost]
    cut += [SensorEvent(day + timedelta(hours=3), "lounge_motion", "availability", 0.0)]
    cut.sort(key=lambda e: e.at)
    until_ = day + timedelta(hours=6)
    alerts = run(Pipeline(DEMO), [e for e in cut if e.at < until_], until=until_)
    technical = [a for a in alerts if a.severity == "technical" and a.type != "battery_low"]
    together, later = technical[:2]
    assert together.evidence["sensors"] == sorted(lost)
    assert together.evidence["problems"] == dict.fromkeys(lost, "offline")
    assert together.headline.startswith("3 sensors silent or offline, the first since 12:00")
    assert later.evidence["sensor"] == "lounge_motion"  # a new one is told of itself
    assert len(technical) == 2, [a.headline for a in technical]
    # Restarted after the message (remembered from the outbox): no sensor of it told again.
    mid = together.detected_at + timedelta(minutes=1)
    saved = Pipeline(DEMO)
    run(saved, [e for e in cut if e.at < together.detected_at], until=together.detected_at)
    again = Pipeline(DEMO, saved.to_state())
    again.remember(together.id, together.memory)
    told = run(again, [e for e in cut if mid <= e.at < until_], start=mid, until=until_)
    sensors = [a.evidence.get("sensor") for a in told if a.severity == "technical"]
    assert not set(lost) & set(sensors), sensors


# What a hostile reviewer found, each a test (helper review of the first version).
HOME = Pipeline(DEMO).household
AT = datetime(2026, 4, 1, 2, 10, tzinfo=LONDON)


def raised(kind: str, since: datetime, severity: str = "urgent") -> Alert:
    return Alert(f"id-{kind}", "demo-home", kind, severity, since, AT, "x", {},  # type: ignore[arg-type]
                 memory={"episode": f"{kind}:1"})  # fmt: skip


def test_a_door_shut_behind_her_does_not_end_an_outing_movement_indoors_does() -> None:
    ends = EpisodeEnds()
    ends.opened(raised("night_exit", AT - timedelta(minutes=10)), None)
    ends.observe(SensorEvent(AT + timedelta(minutes=2), "front_door", "contact", 0.0), HOME)
    assert ends.due(HOME) == []
    ends.observe(SensorEvent(AT + timedelta(minutes=9), "hall_motion", "motion", 1.0), HOME)
    (ended,) = ends.due(HOME)
    assert ended.evidence["sensor"] == "hall_motion"
    # A stillness indoors, though, is ended by a door opened: someone is up.
    ends.opened(raised("inactivity", AT - timedelta(hours=3)), AT - timedelta(hours=3))
    ends.observe(SensorEvent(AT + timedelta(minutes=20), "front_door", "contact", 1.0), HOME)
    assert len(ends.due(HOME)) == 1


def test_an_outing_and_a_gap_raised_after_the_save_are_ended_after_a_restart() -> None:
    out = Finding("not_returned", "urgent", AT - timedelta(hours=5), AT, "Out.", "nr:1")
    gap = Finding("monitoring_gap", "warning", AT, AT, "Paused.", "gap:1",
                  {"sensors": {"lounge_motion": "offline"}})  # fmt: skip
    policy = AlertPolicy("demo-home")
    alerts = [policy.decide(f) for f in (out, gap)]
    p = Pipeline(DEMO)
    for a in alerts:
        assert a is not None
        p.remember(a.id, a.memory)
    assert {o.type for o in p.ends.open.values()} == {"not_returned", "monitoring_gap"}
    p.observe(SensorEvent(AT + timedelta(minutes=5), "kitchen_motion", "motion", 1.0))
    told = p.tick(AT + timedelta(minutes=5))
    assert [a.type for a in told if a.ends is not None] == ["not_returned", "monitoring_gap"]


def test_after_a_clock_jump_the_end_comes_with_the_first_movement_and_its_true_length() -> None:
    p = Pipeline(DEMO)
    alerts = run(p, EVENTS)
    fall = next(a for a in alerts if a.type == "inactivity" and a.ends is None)
    (ended,) = [a for a in alerts if a.ends == fall.id]
    cut = fall.detected_at + timedelta(minutes=5)
    jumped = Pipeline(DEMO)
    run(jumped, [e for e in EVENTS if e.at < cut], until=cut)
    back = timedelta(hours=-6)
    jumped.clock_jumped(back, cut + back)  # the clock set six hours back, no time passing
    later = [replace(e, at=e.at + back) for e in EVENTS if e.at >= cut]
    told = [a for a in run(jumped, later, start=cut + back) if a.ends == fall.id]
    assert [a.detected_at for a in told] == [ended.detected_at + back]
    assert told[0].evidence["lasted_minutes"] == ended.evidence["lasted_minutes"]


def test_an_end_while_the_household_has_paused_alerts_is_not_told() -> None:
    p = Pipeline(DEMO)
    run(p, [e for e in EVENTS if e.at < AT])
    p.ends.opened(raised("inactivity", AT - timedelta(hours=3)), AT - timedelta(hours=3))
    p.policy.paused_until = AT + timedelta(hours=2)
    p.observe(SensorEvent(AT + timedelta(minutes=5), "kitchen_motion", "motion", 1.0))
    assert [a for a in p.tick(AT + timedelta(minutes=5)) if a.ends is not None] == []
    assert p.policy.suppressed["ended_paused"] == 1


def test_the_schema_refuses_an_end_that_says_what_its_alert_could_not() -> None:
    alerts = run(Pipeline(DEMO), EVENTS)
    fall_end = json.loads(
        alert_payload(DEMO, next(a for a in alerts if a.ends and a.type == "inactivity"))
    )
    gap_end = json.loads(
        alert_payload(DEMO, next(a for a in alerts if a.ends and a.type == "monitoring_gap"))
    )
    assert problems("alert", fall_end) == problems("alert", gap_end) == []
    assert problems("alert", {**fall_end, "severity": "info"})
    assert problems("alert", {**fall_end, "ends": None})
    assert problems("alert", {**fall_end, "evidence": gap_end["evidence"]})
    assert problems("alert", {**gap_end, "evidence": fall_end["evidence"]})
    assert problems("alert", {**fall_end, "type": "digest"})


def test_in_a_home_of_contact_sensors_the_fridge_ends_an_outing_the_front_door_does_not() -> None:
    cfg = load_config(CONFIG / "kasteren-home.yaml")
    home = Pipeline(cfg).household
    door = sorted(home.outside_doors())[0]
    inside = sorted(home.presence_sensors())[0]
    ends = EpisodeEnds()
    ends.opened(raised("not_returned", AT - timedelta(hours=4)), None)
    ends.observe(SensorEvent(AT + timedelta(minutes=1), door, "contact", 0.0), home)
    assert ends.due(home) == []
    ends.observe(SensorEvent(AT + timedelta(minutes=2), inside, "contact", 1.0), home)
    assert [a.evidence["sensor"] for a in ends.due(home)] == [inside]


def test_an_end_seen_before_the_pause_is_told_one_seen_during_it_is_not() -> None:
    p = Pipeline(DEMO)
    run(p, [e for e in EVENTS if e.at < AT])
    for kind in ("inactivity", "missed_morning"):
        p.ends.opened(
            replace(raised(kind, AT - timedelta(hours=3)), id=kind), AT - timedelta(hours=3)
        )
    p.observe(SensorEvent(AT + timedelta(minutes=5), "kitchen_motion", "motion", 1.0))
    p.ends.open.clear()  # the missed morning's end is seen later, during the pause
    p.ends.opened(replace(raised("missed_morning", AT), id="later"), AT)
    pause = Command("pause", AT + timedelta(hours=2), None)
    p.command(pause, AT + timedelta(minutes=6))
    p.observe(SensorEvent(AT + timedelta(minutes=7), "hall_motion", "motion", 1.0))
    told = [a.ends for a in p.tick(AT + timedelta(minutes=8)) if a.ends is not None]
    assert told == ["inactivity", "missed_morning"]  # both ended by 02:15, before the pause
    assert p.policy.suppressed["ended_paused"] == 1  # "later", ended during it


def test_an_alert_queued_by_the_release_before_is_still_ended() -> None:
    p = Pipeline(DEMO)
    since = (AT - timedelta(hours=3)).isoformat()
    memory: dict[str, JsonValue] = {"episode": "inactivity:old", "type": "inactivity",
                                    "detected_at": AT.isoformat(), "silence": None,
                                    "holds": None, "since": since}  # fmt: skip
    p.remember("old", memory)  # no started_at, no broken: as 1182c64 wrote it
    assert p.ends.open["old"].started_at == AT - timedelta(hours=3)
