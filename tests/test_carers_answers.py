"""The carers' answers (issue 18): a recipient answers an alert on the care team's broker; the
agent records it in the audit, learns an episode they say was ordinary, and reports the share of
alerts they say were needed. Anything else is a counted drop that stops nothing. A real
Mosquitto for each broker, a real SQLite file, the agent running."""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.cli.audit import read_audit, words
from agent.cli.status import read_status
from agent.clock import ManualClock
from agent.runtime import Agent
from models.carers_answers import (
    ANSWERS,
    Answered,
    AnswerError,
    answers_topic,
    parse_answer,
    precision,
)
from tests.conftest import Mosquitto
from tests.test_live_mqtt import (
    LIVE_DAY,
    LONDON,
    Upstream,
    listen,
    live_config,
    prelearn,
    publish,
    until,
    with_agent,
)

ID = "4d3c8a5e-2f1b-5c7d-9e0f-1a2b3c4d5e6f"
TOPIC = answers_topic("hearth", "h1", ID)


def at(hh: int, mm: int) -> datetime:
    d = LIVE_DAY
    return datetime(d.year, d.month, d.day, hh, mm, tzinfo=LONDON).astimezone(UTC)


def test_an_answer_names_its_alert_what_and_who() -> None:
    a = parse_answer(TOPIC, b'{"answer": "visitor", "by": " Sarah ", "note": "her son"}',
                     "hearth", "h1")  # fmt: skip
    assert (a.alert_id, a.answer, a.by, a.note, a.learned) == (ID, "visitor", "Sarah", "her son",
                                                               False)  # fmt: skip
    assert parse_answer(TOPIC, b'{"answer": "false_alarm", "by": "Ann"}', "hearth", "h1").learned


@pytest.mark.parametrize(
    ("topic", "payload", "said"),
    [
        (TOPIC, b"was fine", "not JSON"),
        (TOPIC, b"[1]", "is not"),
        (TOPIC, b'{"answer": "maybe", "by": "Ann"}', "unknown answer 'maybe'"),
        (TOPIC, b'{"answer": "snooze", "by": "Ann"}', 'must say how long: "for"'),
        (TOPIC, b'{"answer": "visitor", "by": "Ann", "for": "2h"}', "only a snooze has a for"),
        (TOPIC, b'{"answer": "confirmed"}', "who gives it"),
        (TOPIC, b'{"answer": "confirmed", "by": "Ann", "colour": 1}', "unknown keys: colour"),
        (TOPIC, b'{"answer": "confirmed", "by": "Ann", "note": 3}', "note must be text"),
        ("hearth/h1/answers/42", b'{"answer": "confirmed", "by": "Ann"}', "alert's id"),
        ("hearth/h2/answers/" + ID, b'{"answer": "confirmed", "by": "Ann"}', "not an answers"),
        (TOPIC, b"\xff\xfe", "not JSON"),
    ],
)
def test_what_is_not_an_answer_is_said_why(topic: str, payload: bytes, said: str) -> None:
    with pytest.raises(AnswerError, match=said):
        parse_answer(topic, payload, "hearth", "h1")


@given(st.binary(max_size=300), st.text(max_size=60))
def test_no_payload_or_topic_breaks_the_parser(payload: bytes, tail: str) -> None:
    with contextlib.suppress(AnswerError):
        parse_answer("hearth/h1/answers/" + tail, payload, "hearth", "h1")


def test_precision_is_the_share_needed_the_last_answer_counting() -> None:
    p = precision([Answered("a", "false_alarm"), Answered("a", "confirmed"),
                   Answered("b", "was_fine"), Answered("c", "away"),
                   Answered("d", "snooze")])  # fmt: skip
    assert (p.answered, p.needed) == (3, 1)
    assert p.value is not None
    assert abs(p.value - 1 / 3) < 1e-9
    assert p.words() == "3 alerts answered: 1 needed, 2 not (away 1, was fine 1); precision 0.33"
    assert precision([]).words() == "no alert answered yet"
    assert set(ANSWERS) >= {"confirmed", "false_alarm", "was_fine", "visitor", "away"}


async def answer(b: Mosquitto, alert_id: str, doc: dict[str, Any] | bytes) -> None:
    raw = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    async with aiomqtt.Client(b.host, b.port, identifier="a-carer") as c:
        await c.publish(answers_topic("hearth", "live-home", alert_id), raw, qos=1)


def test_a_carers_answer_is_audited_learned_and_counted_and_a_bad_one_stops_nothing(
    broker: Mosquitto, upstream_broker: Mosquitto, tmp_path: Path
) -> None:
    cfg = live_config(broker, upstream_broker, tmp_path / "home.sqlite")
    clock = ManualClock(at(7, 30))
    received = Upstream()
    facts: dict[str, Any] = {}

    async def body(agent: Agent) -> None:
        ready = asyncio.Event()
        listener = asyncio.create_task(listen(upstream_broker, received, ready))
        await until(ready.is_set, "care team listening")
        await publish(broker, agent, clock, at(7, 40), "zigbee2mqtt/bedroom_motion",
                      {"occupancy": True})  # fmt: skip
        await publish(broker, agent, clock, at(12, 0), "zigbee2mqtt/lounge_motion",
                      {"occupancy": True})  # fmt: skip
        # No kettle by noon, then stillness: the first urgent alert is the one answered.
        while not [a for a in received.on("hearth/live-home/alerts/") if a["severity"] == "urgent"]:
            clock.advance(timedelta(minutes=10))
            await asyncio.sleep(0.03)
            assert clock.wall < at(20, 0), "no urgent alert by 20:00"
        fall = next(a for a in received.on("hearth/live-home/alerts/") if a["severity"] == "urgent")
        held = agent.pipeline.monitor.routine.withheld.by_alert
        facts["held_before"] = fall["id"] in held
        # Three that are not answers, then one from someone the resident never named, then
        # one to an alert never sent: each dropped, said why; the watching goes on.
        for bad in (b"{", {"answer": "maybe", "by": "Home-care team"},
                    {"answer": "confirmed", "by": "A stranger"}):  # fmt: skip
            await answer(upstream_broker, fall["id"], bad)
        await answer(upstream_broker, ID, {"answer": "confirmed", "by": "Home-care team"})
        await until(lambda: agent.dropped["bad_answer"] == 4, "four bad answers dropped", 30)
        await answer(upstream_broker, fall["id"], {"answer": "was_fine", "by": "Home-care team",
                                                   "note": "asleep in her chair"})  # fmt: skip
        await until(lambda: fall["id"] not in held, "the episode released to learning", 30)
        # A snooze longer than the YAML allows is refused; one within it is told to everyone.
        await answer(upstream_broker, fall["id"], {"answer": "snooze", "by": "Home-care team",
                                                   "for": "3h"})  # fmt: skip
        await until(lambda: agent.dropped["bad_answer"] == 5, "the long snooze refused", 30)
        await answer(upstream_broker, fall["id"], {"answer": "snooze", "by": "Home-care team",
                                                   "for": "90min"})  # fmt: skip
        snoozes = "/alerts/household_control"
        await until(lambda: any(m[0].endswith(snoozes) for m in received.messages),
                    "the snooze told", 30)  # fmt: skip
        facts["snoozed"] = dict(agent.pipeline.policy.snoozed)
        facts["fall"] = fall
        facts["status"] = agent.health.status()
        await publish(broker, agent, clock, at(17, 0), "zigbee2mqtt/lounge_motion",
                      {"occupancy": True})  # fmt: skip
        listener.cancel()

    async def scenario() -> None:
        await prelearn(cfg)
        await with_agent(cfg, clock, body)

    asyncio.run(scenario())
    fall = facts["fall"]
    assert facts["held_before"], "an urgent alert holds its episode out of learning"
    assert facts["status"] == "online"
    audit = read_audit(cfg, datetime(2000, 1, 1, tzinfo=UTC))
    taken, snoozing = [m for m in audit if m["kind"] == "answer"]
    assert snoozing["payload"]["answer"] == "snooze"
    assert snoozing["payload"]["for"] == "90min"
    assert taken["payload"]["episode_alert"] == fall["id"]
    assert taken["payload"]["answer"] == "was_fine"
    lines = words(cfg, audit, timedelta(days=3650))
    assert any(f"answer from Home-care team to the urgent {fall['type']} alert of" in line
               and 'the usual in this home ("asleep in her chair")' in line
               for line in lines), lines  # fmt: skip
    (snooze,) = received.on("hearth/live-home/alerts/household_control")
    assert snooze["evidence"] == {"command": "snooze", "until": snooze["evidence"]["until"],
                                  "alert_type": fall["type"], "by": "Home-care team"}  # fmt: skip
    assert "alerts snoozed by Home-care team until" in snooze["title"]
    assert snooze["recipients"] == ["Home-care team"]  # the daughter's copy, on her own topic
    assert list(facts["snoozed"]) == [fall["type"]]
    status = read_status(cfg, datetime.now(UTC))
    # The false alarm taught where it came: that detector waits longer there, and says so.
    (tightened,) = status.tightened
    assert tightened.startswith(fall["type"].replace("_", " "))
    assert tightened.endswith("waits longer after 1 false alarm")
    told = status.answers
    assert told["answered"] == 1
    assert told["needed"] == 0
    assert told["not_needed"] == {"was_fine": 1}
    assert told["precision"] == 0.0


def test_a_snooze_holds_back_alerts_of_its_type_until_it_ends_and_no_others() -> None:
    from models.alert_policy import AlertPolicy
    from models.finding import Finding

    t = datetime(2026, 3, 28, 15, 0, tzinfo=UTC)
    policy = AlertPolicy("h1")
    policy.snoozed["inactivity"] = t + timedelta(hours=2)
    still = Finding("inactivity", "urgent", t, t + timedelta(hours=1), "Still.", "inactivity:a")
    door = Finding("night_exit", "urgent", t, t + timedelta(hours=1), "Door.", "night_exit:a")
    assert policy.decide(still) is None
    assert policy.suppressed == {"snoozed": 1}
    assert policy.decide(door) is not None  # another type still comes
    assert policy.decide(still) is None  # the same, a minute on: counted once
    assert policy.suppressed == {"snoozed": 1}
    # Still going on when the snooze ends: raised then, the same episode.
    going_on = Finding("inactivity", "urgent", t, t + timedelta(hours=2, minutes=1), "Still.",
                       "inactivity:a")  # fmt: skip
    assert policy.decide(going_on) is not None
    later = Finding("inactivity", "urgent", t, t + timedelta(hours=3), "Still.", "inactivity:b")
    assert policy.decide(later) is not None  # after the snooze
    again = AlertPolicy.from_state(json.loads(json.dumps(policy.to_state())), "h1")
    assert again.snoozed == policy.snoozed  # kept across a restart


def test_an_answer_counts_only_from_its_recipient_on_their_broker_about_what_they_were_sent_once(
    tmp_path: Path,
) -> None:
    """A real agent and store; the answers handed in as each broker's link would."""
    from agent.config import load_config_text
    from agent.runtime.answers import take_answer
    from agent.store import Store, record_left

    alert = "4d3c8a5e-2f1b-5c7d-9e0f-1a2b3c4d5e6f"
    doc = {
        "household": {"id": "h1", "timezone": "Europe/London"},
        "sensors": [{"id": "k", "kind": "power", "room": "kitchen", "role": "kettle"}],
        "upstream": {"host": "127.0.0.1", "port": 1, "topic_prefix": "hearth"},
        "store": {"path": str(tmp_path / "hub.sqlite")},
        "alerts": {"recipients": [
            {"name": "Team", "severities": ["urgent"]},
            {"name": "GP", "severities": ["urgent"],
             "upstream": {"host": "127.0.0.1", "port": 2, "topic_prefix": "gp"}},
        ]},
    }  # fmt: skip
    cfg = load_config_text(json.dumps(doc))
    sent = {"id": alert, "type": "inactivity", "severity": "urgent", "ends": None,
            "started_at": "2026-03-28T13:38:00+00:00", "detected_at": "2026-03-28T15:28:00+00:00",
            "evidence": {"last_activity_room": "lounge"}, "recipients": ["Team"]}  # fmt: skip

    def said(by: str, answer: str = "false_alarm") -> bytes:
        return json.dumps({"answer": answer, "by": by}).encode()

    async def go() -> tuple[Agent, list[str]]:
        async with await Store.open(tmp_path / "hub.sqlite") as store:
            at = datetime(2026, 3, 28, 15, 29, tzinfo=UTC)
            await record_left(store, at, "hearth/h1/alerts/inactivity", json.dumps(sent))
            agent = Agent(cfg, store, ManualClock(at))
            mine, gps = f"hearth/h1/answers/{alert}", f"gp/h1/answers/{alert}"
            await take_answer(agent, "", mine, said("GP"))  # not on the broker GP reads
            await take_answer(agent, "GP", gps, said("GP"))  # GP was not sent it
            await take_answer(agent, "", mine, said("Team"), retained=True)
            await take_answer(agent, "", mine, said("Team"))  # taken
            await take_answer(agent, "", mine, said("Team"))  # the same again: once is enough
            # The household's own changes are always told: not to be snoozed.
            pause = dict(sent, id=alert.replace("4d3c", "5e4d"), type="household_control",
                         severity="warning")  # fmt: skip
            await record_left(store, at, "hearth/h1/alerts/household_control", json.dumps(pause))
            snooze = json.dumps({"answer": "snooze", "by": "Team", "for": "1h"}).encode()
            await take_answer(agent, "", f"hearth/h1/answers/{pause['id']}", snooze)
            async with store.db.execute(
                "SELECT payload FROM audit WHERE topic LIKE '%/answers/%'"
            ) as cur:
                rows = [r[0] for r in await cur.fetchall()]
            return agent, rows

    agent, rows = asyncio.run(go())
    assert agent.dropped["bad_answer"] == 4
    assert agent.pipeline.policy.snoozed == {}
    assert [json.loads(r)["by"] for r in rows] == ["Team"]
    assert len(agent.pipeline.tightening.answers) == 1
