"""Consent per recipient: each is told only what they agreed to, in the detail they agreed to,
on their own topic or the household's; an alert nobody agreed to is not sent, and the audit
says so. Then seven weeks of a real home through a real broker, everything on ``#`` read."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
import yaml

from agent.cli.audit import read_audit, words
from agent.config import load_config_text
from agent.config.schema import HearthConfig
from agent.delivery.rendering import as_agreed_now, deliveries
from agent.delivery.upstream import Upstream
from agent.errors import ConfigError
from agent.replay import replay
from agent.sources.recordings import ReadReport, read_recording
from agent.store import Store
from agent.store_schema import WITHHELD
from models.alert_policy import Alert
from models.finding import Severity
from tests.conftest import CONFIG, Mosquitto, dataset, hearth
from tests.published import assert_valid_alert, assert_valid_status
from tests.test_replay import ALERT_KEYS

AT = datetime(2026, 3, 28, 15, 41, tzinfo=UTC)
ID1, ID2 = (f"00000000-0000-5000-8000-00000000000{i}" for i in (1, 2))
RECIPIENTS: list[dict[str, Any]] = [
    {"name": "Daughter (Sarah)", "severities": ["urgent"], "types": ["inactivity"],
     "topic": "hearth/h1/to/sarah"},
    {"name": "Home-care team", "severities": ["urgent", "warning", "info"], "detail": "evidence"},
    {"name": "GP practice", "severities": ["urgent"], "types": ["night_exit", "inactivity"],
     "topic": "hearth/h1/to/gp"},
]  # fmt: skip


async def listen(
    b: Mosquitto, into: list[tuple[str, bytes]], ready: asyncio.Event, topics: str = "#"
) -> None:
    """Everything published on ``b`` (on ``topics``), into ``into``, until cancelled."""
    async with aiomqtt.Client(b.host, b.port) as c:
        await c.subscribe(topics, qos=1)
        ready.set()
        async for m in c.messages:
            p = m.payload if isinstance(m.payload, bytes) else str(m.payload).encode()
            into.append((str(m.topic), p))


def home(recipients: list[dict[str, Any]], doc: dict[str, Any] | None = None) -> HearthConfig:
    doc = doc or {
        "household": {"id": "h1", "timezone": "Europe/London"},
        "sensors": [{"id": "k", "kind": "power", "room": "kitchen", "role": "kettle"}],
    }
    return load_config_text(yaml.safe_dump({**doc, "alerts": {"recipients": recipients}}))


def alert(type_: str, severity: Severity) -> Alert:
    return Alert("a1", "h1", type_, severity, AT, AT, "No movement since 13:05.", {"room": "x"})


def test_each_recipient_is_told_only_what_they_agreed_to() -> None:
    cfg = home(RECIPIENTS)
    sent = {d.topic: json.loads(d.payload) for d in deliveries(cfg, alert("inactivity", "urgent"))}
    assert {t: p["recipients"] for t, p in sent.items()} == {
        "hearth/h1/to/sarah/alerts/inactivity": ["Daughter (Sarah)"],
        "hearth/h1/alerts/inactivity": ["Home-care team"],
        "hearth/h1/to/gp/alerts/inactivity": ["GP practice"],
    }
    # Evidence only to whom agreed to it.
    assert ["evidence" in p for p in sent.values()] == [False, True, False]
    night = deliveries(cfg, alert("night_exit", "urgent"))
    both = [["Home-care team"], ["GP practice"]]
    assert [json.loads(d.payload)["recipients"] for d in night] == both
    # A pause goes to everyone told of the resident, whatever they chose.
    assert len(deliveries(cfg, alert("household_control", "warning"))) == 3
    digest = deliveries(cfg, alert("digest", "info"))
    assert [json.loads(d.payload)["evidence"] for d in digest] == [{"room": "x"}]
    assert deliveries(cfg, alert("battery_low", "technical")) == []
    # One outbox row each, the first under the alert's id (which keeps its memory).
    rows = [d.row_id for d in deliveries(cfg, alert("inactivity", "urgent"))]
    assert rows == ["a1", "a1@hearth/h1/alerts/inactivity", "a1@hearth/h1/to/gp/alerts/inactivity"]


def test_a_queued_message_follows_its_recipient_to_the_topic_she_reads_today() -> None:
    (d,) = deliveries(home([RECIPIENTS[1]]), alert("inactivity", "urgent"))
    assert d.topic == "hearth/h1/alerts/inactivity"
    moved = home([dict(RECIPIENTS[1], topic="care/h1"), dict(RECIPIENTS[1], name="Night team")])
    (now,) = as_agreed_now(moved, d)
    assert (now.row_id, now.topic, now.broker) == (d.row_id, "care/h1/alerts/inactivity", "")
    assert json.loads(now.payload)["recipients"] == ["Home-care team"]
    assert json.loads(now.payload)["evidence"] == {"room": "x"}
    # Whoever reads the topic it leaves on is named, one who joined since too.
    joined = home([RECIPIENTS[1], dict(RECIPIENTS[1], name="Night team")])
    (now,) = as_agreed_now(joined, d)
    assert json.loads(now.payload)["recipients"] == ["Home-care team", "Night team"]
    assert as_agreed_now(home([RECIPIENTS[1]]), d) == [d]
    # To a broker of her own now: it leaves there.
    own = {"host": "gp.example.org", "port": 8883, "tls": {"without_client_certificate": True}}
    (now,) = as_agreed_now(home([dict(RECIPIENTS[1], upstream=own)]), d)
    assert (now.topic, now.broker) == ("hearth/h1/alerts/inactivity", "Home-care team")


def test_recipients_who_shared_a_queued_message_and_now_read_apart_each_get_it() -> None:
    both = [RECIPIENTS[1], dict(RECIPIENTS[1], name="Night team")]
    (d,) = deliveries(home(both), alert("inactivity", "urgent"))
    apart = home([both[0], dict(both[1], topic="night/h1")])
    here, there = as_agreed_now(apart, d)
    assert (here.row_id, here.topic) == (d.row_id, d.topic)
    assert json.loads(here.payload)["recipients"] == ["Home-care team"]
    assert there.topic == "night/h1/alerts/inactivity"
    assert there.row_id == f"{d.row_id}@:night/h1/alerts/inactivity"
    assert json.loads(there.payload)["recipients"] == ["Night team"]


def test_a_recipients_name_is_one_recipient() -> None:
    gp = {"host": "a.example.org", "tls": {"without_client_certificate": True}}
    with pytest.raises(ConfigError, match="'GP' is named twice"):
        home([RECIPIENTS[1], {"name": "GP", "upstream": gp},
              {"name": "GP", "upstream": dict(gp, host="b.example.org")}])  # fmt: skip


def test_check_config_says_what_each_will_and_will_not_receive(tmp_path: Path) -> None:
    doc = yaml.safe_load((CONFIG / "demo-home.yaml").read_text())
    doc["alerts"]["recipients"] = RECIPIENTS
    doc["upstream"] = {"host": "127.0.0.1"}
    path = tmp_path / "home.yaml"
    path.write_text(yaml.safe_dump(doc))
    run = hearth("check-config", str(path))
    assert run.returncode == 0, run.stderr
    said = run.stdout.splitlines()
    at = next(i for i, line in enumerate(said) if ": OK: household" in line)
    assert said[at + 1 :] == [
        "  Daughter (Sarah) receives: urgent inactivity alerts, the summary only, on"
        " hearth/h1/to/sarah/alerts/<type>",
        "    not: urgent alerts of other types; warning, info, technical alerts",
        "  Home-care team receives: urgent/warning/info alerts, with their evidence, on"
        " hearth/demo-home/alerts/<type>",
        "    not: technical alerts",
        "  GP practice receives: urgent night_exit, inactivity alerts, the summary only, on"
        " hearth/h1/to/gp/alerts/<type>",
        "    not: urgent alerts of other types; warning, info, technical alerts",
        "  sent to nobody: technical alerts",
    ]


def test_weeks_of_a_real_home_leave_only_as_each_recipient_agreed(
    upstream_broker: Mosquitto, tmp_path: Path
) -> None:
    doc = yaml.safe_load((CONFIG / "tihm-home.yaml").read_text())
    doc.pop("alerts", None)
    doc["upstream"] = {"host": upstream_broker.host, "port": upstream_broker.port}
    recipients = [
        dict(r, topic=r["topic"].replace("/h1/", "/tihm-home/")) if "topic" in r else r
        for r in RECIPIENTS
    ]
    cfg = home(recipients, doc)
    events = read_recording(
        f"tihm:{dataset('tihm-dev', 'activity', '0d5ef.csv')}", cfg, ReadReport()
    )
    alerts = replay(cfg, events).alerts
    assert len({a.type for a in alerts}) >= 2, [a.type for a in alerts]
    everything: list[tuple[str, bytes]] = []

    async def go() -> None:
        ready = asyncio.Event()
        listener = asyncio.create_task(listen(upstream_broker, everything, ready))
        await asyncio.wait_for(ready.wait(), 10)
        async with await Store.open(tmp_path / "hub.sqlite") as store:
            up = Upstream(cfg, store, lambda: datetime.now(UTC))
            for a in alerts:
                await up.enqueue(a)
            up.stopping.set()
            await asyncio.wait_for(up.run(), 60)
            assert await store.unsent() == []
        await asyncio.sleep(0.5)
        listener.cancel()

    asyncio.run(go())
    readers = {
        "hearth/tihm-home/to/sarah": {"Daughter (Sarah)"},
        "hearth/tihm-home": {"Home-care team"},
        "hearth/tihm-home/to/gp": {"GP practice"},
    }
    names = {r["name"] for r in RECIPIENTS}
    agreed: dict[str, dict[str, Any]] = {r["name"]: r for r in recipients}
    told = 0
    for topic, payload in everything:
        if topic == "hearth/tihm-home/status":
            assert payload in (b"online", b"offline"), payload
            assert_valid_status(payload)
            continue
        prefix, _, kind = topic.rpartition("/alerts/")
        assert prefix in readers, topic  # no raw event, nothing but alerts and the status
        doc = json.loads(payload)
        assert set(doc) <= ALERT_KEYS | {"recipients"}
        assert_valid_alert(doc)
        assert doc["type"] == kind
        assert set(doc["recipients"]) <= readers[prefix]
        for name in doc["recipients"]:
            r = agreed[name]
            assert doc["severity"] in r["severities"]
            assert "types" not in r or doc["type"] in r["types"]
        if "evidence" in doc:
            assert all(agreed[n].get("detail") == "evidence" for n in doc["recipients"])
        # No other recipient's name anywhere in it.
        for other in names - set(doc["recipients"]):
            assert other not in payload.decode()
        told += 1
    expected = sum(len(deliveries(cfg, a)) for a in alerts)
    assert told == expected > 0
    # What nobody agreed to (the sensor health here) was not sent, and the audit says so.
    withheld = [a for a in alerts if not deliveries(cfg, a)]
    assert withheld, "seven weeks of a real home have alerts nobody here agreed to"
    with sqlite3.connect(tmp_path / "hub.sqlite") as db:
        rows = db.execute("SELECT payload FROM audit WHERE topic = ?", (WITHHELD,)).fetchall()
    assert sorted(json.loads(r[0])["id"] for r in rows) == sorted(a.id for a in withheld)


def test_what_waited_in_the_outbox_leaves_only_as_each_recipient_agrees_today(
    upstream_broker: Mosquitto, tmp_path: Path
) -> None:
    """Alerts queued while the care team's broker was out of reach, then the YAML changed
    before they could leave: the daughter withdrew her consent, the care team now wants the
    summary only, the GP practice is gone. A real store, a real broker, everything on # read."""
    doc = {
        "household": {"id": "h1", "timezone": "Europe/London"},
        "sensors": [{"id": "k", "kind": "power", "room": "kitchen", "role": "kettle"}],
        "upstream": {"host": upstream_broker.host, "port": upstream_broker.port},
        "store": {"path": str(tmp_path / "hub.sqlite")},
    }
    then = home(RECIPIENTS, doc)
    today = home(
        [
            dict(RECIPIENTS[0], types=["missed_morning"]),
            {k: v for k, v in RECIPIENTS[1].items() if k != "detail"},
        ],
        doc,
    )
    fall = Alert(ID1, "h1", "inactivity", "urgent", AT, AT, "No movement since 13:05.",
                 {"room": "lounge"})  # fmt: skip
    digest = Alert(ID2, "h1", "digest", "info", AT, AT, "Bathroom visits at night.", {"n": 7})
    everything: list[tuple[str, bytes]] = []

    async def go() -> None:
        async with await Store.open(tmp_path / "hub.sqlite") as store:
            for a in (fall, digest):  # queued under the consent of the time; never sent
                await Upstream(then, store, lambda: datetime.now(UTC)).enqueue(a)
        queued = {i.topic for i in await unsent(tmp_path)}
        assert queued == {"hearth/h1/to/sarah/alerts/inactivity",
                          "hearth/h1/alerts/inactivity", "hearth/h1/to/gp/alerts/inactivity",
                          "hearth/h1/alerts/digest"}  # fmt: skip
        ready = asyncio.Event()
        listener = asyncio.create_task(listen(upstream_broker, everything, ready))
        await asyncio.wait_for(ready.wait(), 10)
        async with await Store.open(tmp_path / "hub.sqlite") as store:  # Hearth restarted
            up = Upstream(today, store, lambda: datetime.now(UTC))
            up.stopping.set()
            await asyncio.wait_for(up.run(), 60)
            assert await store.unsent() == []
        await asyncio.sleep(0.5)
        listener.cancel()

    async def unsent(path: Path) -> list[Any]:
        async with await Store.open(path / "hub.sqlite") as store:
            return await store.unsent()

    asyncio.run(go())
    alerts = {t: json.loads(p) for t, p in everything if "/alerts/" in t}
    # Only the care team's two, each without the evidence it no longer agrees to.
    assert sorted(alerts) == ["hearth/h1/alerts/digest", "hearth/h1/alerts/inactivity"]
    for doc_ in alerts.values():
        assert_valid_alert(doc_)
        assert doc_["recipients"] == ["Home-care team"]
        assert "evidence" not in doc_
    assert alerts["hearth/h1/alerts/inactivity"]["summary"] == fall.summary
    # The audit holds what left as it left, and the two withdrawn as not sent.
    with sqlite3.connect(tmp_path / "hub.sqlite") as db:
        rows = db.execute("SELECT topic, payload FROM audit").fetchall()
    left = {t: json.loads(p) for t, p in rows if "/alerts/" in t}
    assert left == alerts
    withheld = sorted(json.loads(p)["queued_for"] for t, p in rows if t == WITHHELD)
    assert withheld == ["hearth/h1/to/gp/alerts/inactivity", "hearth/h1/to/sarah/alerts/inactivity"]
    said = hearth_audit_words(today)
    assert said.count("NOT SENT (urgent inactivity): its recipients no longer agree") == 2, said


def hearth_audit_words(cfg: HearthConfig) -> str:
    since = datetime.now(UTC) - timedelta(days=1)
    return "\n".join(words(cfg, read_audit(cfg, since), timedelta(days=1)))


def test_a_recipient_with_a_broker_of_its_own_is_sent_there_alone(
    upstream_broker: Mosquitto, broker: Mosquitto, tmp_path: Path
) -> None:
    """The GP practice reads its own broker (``broker`` here), the care team theirs: each
    receives what it agreed to, there alone, with Hearth's status; one broker out of reach
    holds back only its own messages, which leave once it is back."""
    gp = broker
    doc = {
        "household": {"id": "h1", "timezone": "Europe/London"},
        "sensors": [{"id": "k", "kind": "power", "room": "kitchen", "role": "kettle"}],
        "upstream": {"host": upstream_broker.host, "port": upstream_broker.port},
        "store": {"path": str(tmp_path / "hub.sqlite")},
    }
    own = {"host": gp.host, "port": gp.port, "topic_prefix": "surgery"}
    recipients = [RECIPIENTS[1], dict(RECIPIENTS[2], upstream=own, topic=None)]
    recipients[1].pop("topic")
    cfg = home(recipients, doc)
    said = hearth_check_config(tmp_path, cfg)
    assert (
        f"GP practice receives: urgent night_exit, inactivity alerts, the summary only, on"
        f" surgery/h1/alerts/<type> at {gp.host}:{gp.port}, a broker of their own"
    ) in said
    ids = (f"00000000-0000-5000-8000-00000000001{i}" for i in range(3))
    alerts = [
        Alert(next(ids), "h1", "inactivity", "urgent", AT, AT, "No movement since 13:05.", {}),
        Alert(next(ids), "h1", "digest", "info", AT, AT, "Bathroom visits at night.", {}),
        Alert(next(ids), "h1", "night_exit", "urgent", AT, AT, "Front door at 03:12.", {}),
    ]
    seen: dict[str, list[tuple[str, bytes]]] = {"care": [], "gp": []}

    async def deliver(first: bool) -> None:
        ready = [asyncio.Event(), asyncio.Event()]
        listening = [asyncio.create_task(listen(upstream_broker, seen["care"], ready[0]))]
        if not first:
            listening.append(asyncio.create_task(listen(gp, seen["gp"], ready[1])))
        await asyncio.wait_for(ready[0].wait(), 10)
        async with await Store.open(tmp_path / "hub.sqlite") as store:
            up = Upstream(cfg, store, lambda: datetime.now(UTC))
            for a in alerts if first else []:
                await up.enqueue(a)
            up.stopping.set()
            await asyncio.wait_for(up.run(), 60)
        await asyncio.sleep(0.5)
        for t in listening:
            t.cancel()

    gp.stop()  # the surgery's broker is down at first
    asyncio.run(deliver(first=True))
    care = {t: json.loads(p) for t, p in seen["care"] if "/alerts/" in t}
    assert sorted(care) == ["hearth/h1/alerts/digest", "hearth/h1/alerts/inactivity",
                            "hearth/h1/alerts/night_exit"]  # fmt: skip
    assert all(d["recipients"] == ["Home-care team"] for d in care.values())
    assert not any(b"GP practice" in p for _, p in seen["care"])
    with sqlite3.connect(tmp_path / "hub.sqlite") as db:
        waiting = db.execute("SELECT topic, upstream FROM outbox WHERE sent_at IS NULL").fetchall()
    assert sorted(waiting) == [("surgery/h1/alerts/inactivity", "GP practice"),
                               ("surgery/h1/alerts/night_exit", "GP practice")]  # fmt: skip
    gp.start()
    asyncio.run(deliver(first=False))
    there = {t: json.loads(p) for t, p in seen["gp"] if "/alerts/" in t}
    assert sorted(there) == ["surgery/h1/alerts/inactivity", "surgery/h1/alerts/night_exit"]
    for d in there.values():
        assert_valid_alert(d)
        assert d["recipients"] == ["GP practice"]
        assert "evidence" not in d
    statuses = [p for t, p in seen["gp"] if t == "surgery/h1/status"]
    assert (statuses[0], statuses[-1]) == (b"online", b"offline")
    assert {t for t, _ in seen["gp"]} == {*there, "surgery/h1/status"}
    assert not any(b"Home-care team" in p for _, p in seen["gp"])
    # The audit says where each went.
    words_ = hearth_audit_words(cfg)
    assert f"urgent alert to GP practice (at {gp.host}:{gp.port}): Front door at 03:12." in words_
    assert "urgent alert to Home-care team: Front door at 03:12." in words_


def hearth_check_config(tmp_path: Path, cfg: HearthConfig) -> str:
    path = tmp_path / "home.yaml"
    path.write_text(yaml.safe_dump(cfg.model_dump(mode="json", exclude_none=True)))
    run = hearth("check-config", str(path))
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_a_broker_of_ones_own_is_checked_as_the_care_teams_is() -> None:
    gp = {"host": "gp.example.org", "port": 8883, "tls": {"without_client_certificate": True}}
    base = [RECIPIENTS[1]]
    with pytest.raises(ConfigError, match=r"recipients\[1\]\.upstream: alerts .* unencrypted"):
        home([*base, {"name": "GP", "upstream": {"host": "gp.example.org"}}])
    with pytest.raises(ConfigError, match=r"'GP' and 'GP 2' both have gp\.example\.org:8883"):
        home([*base, {"name": "GP", "upstream": gp}, {"name": "GP 2", "upstream": gp}])
    up = {"household": {"id": "h1", "timezone": "Europe/London"},
          "sensors": [{"id": "k", "kind": "power", "room": "kitchen", "role": "kettle"}],
          "upstream": {"host": "gp.example.org", "port": 8883,
                       "tls": {"without_client_certificate": True}}}  # fmt: skip
    with pytest.raises(ConfigError, match="'GP': its own broker is the care team's"):
        home([*base, {"name": "GP", "upstream": gp}], up)
    with pytest.raises(ConfigError, match="names nobody who reads it"):
        home([{"name": "GP", "upstream": dict(gp, host="other.example.org")}], up)
    cfg = home([*base, {"name": "GP", "upstream": gp}])
    assert [r.broker for r in cfg.alerts.recipients] == ["", "GP"]


def test_a_recipients_broker_that_refuses_hearth_holds_back_only_its_own(
    upstream_broker: Mosquitto, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The surgery changed the hub's password: the care team still gets every alert, the
    surgery's wait in the outbox, and the status says why."""
    gp = Mosquitto(tmp_path, users={"hearth-gp": "the-new-one"})
    gp.start()
    monkeypatch.setenv("GP_PASSWORD", "the-old-one")
    try:
        own = {"host": gp.host, "port": gp.port, "username": "hearth-gp",
               "password_env": "GP_PASSWORD"}  # fmt: skip
        doc = {
            "household": {"id": "h1", "timezone": "Europe/London"},
            "sensors": [{"id": "k", "kind": "power", "room": "kitchen", "role": "kettle"}],
            "upstream": {"host": upstream_broker.host, "port": upstream_broker.port},
        }
        cfg = home([RECIPIENTS[1], {"name": "GP practice", "severities": ["urgent"],
                                    "upstream": own}], doc)  # fmt: skip
        fall = Alert(ID1, "h1", "inactivity", "urgent", AT, AT, "No movement since 13:05.", {})
        got: list[str] = []

        async def go() -> str:
            ready = asyncio.Event()

            async def listen() -> None:
                async with aiomqtt.Client(upstream_broker.host, upstream_broker.port) as c:
                    await c.subscribe("hearth/h1/alerts/#", qos=1)
                    ready.set()
                    async for m in c.messages:
                        got.append(str(m.topic))

            listener = asyncio.create_task(listen())
            await asyncio.wait_for(ready.wait(), 10)
            async with await Store.open(tmp_path / "hub.sqlite") as store:
                up = Upstream(cfg, store, lambda: datetime.now(UTC))
                await up.enqueue(fall)
                up.stopping.set()
                await asyncio.wait_for(up.run(), 60)
                waiting = [i.broker for i in await store.unsent()]
            await asyncio.sleep(0.5)
            listener.cancel()
            assert waiting == ["GP practice"]
            return up.health.status()

        status = asyncio.run(go())
    finally:
        gp.stop()
    assert got == ["hearth/h1/alerts/inactivity"]
    assert status.startswith("degraded: GP practice's own broker refused:"), status
    assert "the-old-one" not in status


def test_a_topic_that_spells_out_the_households_is_the_households() -> None:
    """Sarah's topic: is the household's topic written out: she would read the care team's
    evidence she never agreed to."""
    sarah = dict(RECIPIENTS[0], topic="hearth/h1")
    with pytest.raises(ConfigError, match="'Home-care team' and 'Daughter \\(Sarah\\)' are both"):
        home([RECIPIENTS[1], sarah])
    assert home([RECIPIENTS[1], dict(sarah, topic="hearth/h1/to/sarah")])
