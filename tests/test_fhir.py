"""FHIR R4 for a shared care record (issue 18): a recipient with ``fhir:`` gets each alert as a
transaction Bundle (a UK Core Flag, an Observation for each piece of evidence, the hub as
Device, a Communication), validated by two FHIR libraries and UK Core's required elements
(``tests.fhir_checks``); every alert of the demo and the dev replays is checked so in
``tests/test_alert_text.py``. Here: the Bundle's meaning, the YAML, and a real broker."""

from __future__ import annotations

import asyncio
import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.config.schema import HearthConfig
from agent.delivery.rendering import alert_payload, deliveries, on_the_wire, what_each_receives
from agent.delivery.upstream import Upstream
from agent.errors import ConfigError
from agent.store import Store
from models.alert_policy import Alert
from tests.conftest import Mosquitto
from tests.fhir_checks import assert_valid_fhir, problems
from tests.test_consent import home, listen

AT = datetime(2026, 3, 28, 15, 28, tzinfo=UTC)
FALL_ID = "00000000-0000-5000-8000-000000000001"
END_ID = "00000000-0000-5000-8000-000000000002"
GP = {"name": "GP practice", "severities": ["urgent"], "detail": "evidence",
      "topic": "hearth/h1/to/gp", "fhir": {"nhs_number": "943 476 5919"}}  # fmt: skip
DAUGHTER = {"name": "Sarah", "severities": ["urgent"], "topic": "hearth/h1/to/sarah"}
FALL = Alert(
    FALL_ID, "h1", "inactivity", "urgent", AT - timedelta(minutes=110), AT,
    "No movement at home since 13:38 (1 h 50 min). Usually some within 1 h 49 min here.",
    {"last_activity_at": (AT - timedelta(minutes=110)).isoformat(), "quiet_minutes": 110.0,
     "last_activity_room": "lounge", "after_this_sensor_ratio": 0.74, "days_learned": 26},
    headline="No movement at home since 13:38 (1 h 50 min), last in the lounge.",
)  # fmt: skip
ENDED = Alert(
    END_ID, "h1", "inactivity", "urgent", FALL.started_at, AT + timedelta(hours=3),
    "Movement again at 18:28, in the hall: still for 4 h 50 min.",
    {"ended_at": (AT + timedelta(hours=3)).isoformat(), "lasted_minutes": 290.0,
     "sensor": "front_door", "room": "hall"},
    ends=FALL_ID,
)  # fmt: skip


def bundle_of(alert: Alert, detail: str = "evidence", fhir: Any = None) -> dict[str, Any]:
    every: list[str] = ["urgent", "warning", "info", "technical"]
    cfg = home([dict(GP, detail=detail, fhir=fhir or GP["fhir"], severities=every)])
    (d,) = deliveries(cfg, alert)
    return dict(json.loads(on_the_wire(cfg, d.payload)))


def resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def entry(bundle: dict[str, Any], kind: str) -> dict[str, Any]:
    (e,) = [e for e in bundle["entry"] if e["resource"]["resourceType"] == kind]
    return dict(e)


def ident(resource: dict[str, Any], system: str) -> str:
    (value,) = [i["value"] for i in resource["identifier"] if i["system"] == system]
    return str(value)


def test_an_alert_is_a_flag_on_the_resident_with_its_evidence_and_its_notification() -> None:
    b = bundle_of(FALL)
    assert_valid_fhir(b)
    assert b["timestamp"] == AT.isoformat()
    flag = entry(b, "Flag")["resource"]
    assert ident(flag, "urn:hearth:alert-id") == FALL_ID
    assert flag["status"] == "active"
    assert flag["subject"]["identifier"] == {"system": "https://fhir.nhs.uk/Id/nhs-number",
                                             "value": "9434765919"}  # fmt: skip
    assert flag["period"] == {"start": FALL.started_at.isoformat()}
    assert flag["code"]["text"].startswith("h1: No movement at home since 13:38")
    assert flag["category"][0]["coding"][0]["code"] == "safety"
    device = entry(b, "Device")
    assert flag["author"] == {"reference": device["fullUrl"]}
    quiet = {o["code"]["coding"][0]["code"]: o for o in resources(b, "Observation")}
    assert set(quiet) == set(FALL.evidence)
    assert quiet["quiet_minutes"]["valueQuantity"] == {
        "value": 110.0,
        "unit": "minutes",
        "system": "http://unitsofmeasure.org",
        "code": "min",
    }
    assert quiet["days_learned"]["valueQuantity"]["code"] == "d"
    assert quiet["after_this_sensor_ratio"]["valueQuantity"]["code"] == "1"
    assert quiet["last_activity_at"]["valueDateTime"] == FALL.evidence["last_activity_at"]
    assert quiet["last_activity_room"]["valueString"] == "lounge"
    assert {o["effectiveDateTime"] for o in quiet.values()} == {AT.isoformat()}
    details = {e["valueReference"]["reference"] for e in flag["extension"][1:]}
    full = {e["fullUrl"] for e in b["entry"] if e["resource"]["resourceType"] == "Observation"}
    assert details == full
    priority = flag["extension"][0]
    assert priority["url"] == "http://hl7.org/fhir/StructureDefinition/flag-priority"
    assert priority["valueCodeableConcept"]["coding"][0] == {
        "system": "http://hl7.org/fhir/flag-priority-code", "code": "PH",
        "display": "High priority"}  # fmt: skip
    told = entry(b, "Communication")["resource"]
    assert told["priority"] == "asap"
    assert told["category"][0]["coding"][0]["code"] == "alert"
    assert told["recipient"] == [{"display": "GP practice"}]
    assert told["about"] == [{"reference": entry(b, "Flag")["fullUrl"]}]
    assert [p["contentString"] for p in told["payload"]][1] == FALL.summary


def test_each_is_created_once_and_an_end_updates_its_alerts_flag() -> None:
    raised, ended = bundle_of(FALL), bundle_of(ENDED)
    assert_valid_fhir(ended)
    flag = entry(raised, "Flag")
    record = ident(flag["resource"], "urn:hearth:record-id")
    only_if_new = f"identifier=urn:hearth:record-id|{record}"
    assert flag["request"] == {"method": "POST", "url": "Flag", "ifNoneExist": only_if_new}
    end = entry(ended, "Flag")
    assert end["request"] == {
        "method": "PUT",
        "url": f"Flag?identifier=urn:hearth:record-id|{record}",
    }
    assert end["resource"]["status"] == "inactive"
    assert ident(end["resource"], "urn:hearth:alert-id") == FALL_ID
    # Its period ends when the movement came, not when the end was told.
    assert end["resource"]["period"] == {"start": FALL.started_at.isoformat(),
                                         "end": ENDED.evidence["ended_at"]}  # fmt: skip
    assert "extension" not in end["resource"] or all(
        "flag-priority" not in x["url"] for x in end["resource"]["extension"])  # fmt: skip
    told = entry(ended, "Communication")["resource"]
    assert told["priority"] == "routine"
    assert told["category"][0]["coding"][0]["code"] == "notification"
    assert told["about"] == [{"reference": end["fullUrl"]}]
    assert ident(told, "urn:hearth:alert-id") == END_ID
    for e in raised["entry"][1:]:  # everything but the hub: created only if not there yet
        assert e["request"]["method"] == "POST"
        assert e["request"]["ifNoneExist"].startswith("identifier=urn:hearth:record-id|")


def test_the_same_alert_sent_twice_is_the_same_bundle_and_another_residents_is_another() -> None:
    assert bundle_of(FALL) == bundle_of(FALL)
    other = bundle_of(FALL, fhir={"nhs_number": "4010232137"})
    mine = {ident(e["resource"], "urn:hearth:record-id") for e in bundle_of(FALL)["entry"]}
    theirs = {ident(e["resource"], "urn:hearth:record-id") for e in other["entry"]}
    assert mine.isdisjoint(theirs)  # one household id on two hubs: two records untouched


def test_a_recipient_who_agreed_to_the_summary_gets_no_observations() -> None:
    b = bundle_of(FALL, detail="summary")
    assert_valid_fhir(b)
    assert resources(b, "Observation") == []
    flag = resources(b, "Flag")[0]
    assert [x["url"] for x in flag["extension"]] == [
        "http://hl7.org/fhir/StructureDefinition/flag-priority"]  # fmt: skip


def test_what_fhir_cannot_carry_is_left_out_or_made_so() -> None:
    odd = Alert(
        FALL_ID, "h1", "night_exit", "warning", AT, AT, "Door <b>open</b> & \x07 still.",
        {"about_once_in_days": None, "sensors": [], "door": "", "nan_minutes": float("nan"),
         "opened_at": "2026-03-28T09:00:00+05:30:30", "count": 3, "timeout_s": 30},
        headline="Door <open>.",
    )  # fmt: skip
    b = bundle_of(odd)
    assert_valid_fhir(b)
    said = {o["code"]["coding"][0]["code"]: o for o in resources(b, "Observation")}
    assert set(said) == {"opened_at", "count", "timeout_s"}
    assert said["opened_at"]["valueDateTime"] == "2026-03-28T03:29:30+00:00"
    assert said["timeout_s"]["valueQuantity"]["code"] == "s"
    assert said["count"]["valueQuantity"] == {"value": 3}
    flag = resources(b, "Flag")[0]
    assert flag["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "PM"
    assert "&lt;b&gt;open&lt;/b&gt; &amp;" in flag["text"]["div"]
    technical = Alert(FALL_ID, "h1", "battery_low", "technical", AT, AT, "Battery low.",
                      {"sensor": "k", "battery_percent": 9.0})  # fmt: skip
    flag = resources(bundle_of(technical), "Flag")[0]
    assert flag["category"][0]["coding"][0]["code"] == "admin"
    assert all("flag-priority" not in x["url"] for x in flag["extension"])


def test_a_notice_is_no_standing_warning_on_the_record() -> None:
    week = Alert(FALL_ID, "h1", "weekly_summary", "info", AT, AT, "All well this week.",
                 {"days_recorded": 7})  # fmt: skip
    pause = Alert(END_ID, "h1", "household_control", "warning", AT, AT, "Paused.",
                  {"command": "pause", "until": None})  # fmt: skip
    for notice in (week, pause):
        b = bundle_of(notice)
        assert_valid_fhir(b)
        flag = resources(b, "Flag")[0]
        assert flag["status"] == "inactive"
        assert flag["period"] == {"start": AT.isoformat(), "end": AT.isoformat()}
    assert resources(bundle_of(FALL), "Flag")[0]["status"] == "active"


def test_an_alert_it_cannot_render_leaves_as_json_and_the_rest_still_leave() -> None:
    cfg = home([GP])
    (d,) = deliveries(cfg, FALL)
    old = json.loads(d.payload)
    del old["phase"], old["title"]  # a row queued by a release before these
    payload = json.dumps(old)
    assert on_the_wire(cfg, payload) == payload
    assert json.loads(on_the_wire(cfg, d.payload))["resourceType"] == "Bundle"


def test_the_checks_refuse_what_a_care_record_would() -> None:
    """Not vacuous: each check finds the fault it is there for."""
    good = bundle_of(FALL)
    assert problems(good) == []

    def broken(change: Any) -> list[str]:
        b = copy.deepcopy(good)
        change(b)
        return problems(b)

    def flag(b: dict[str, Any]) -> dict[str, Any]:
        return resources(b, "Flag")[0]

    assert any("fhirclient" in p for p in broken(lambda b: flag(b).pop("subject")))
    assert any("fhir.resources" in p for p in broken(lambda b: flag(b).update(colour="red")))
    assert any("Flag.status" in p for p in broken(lambda b: flag(b).update(status="open")))
    assert any(
        "no entry's fullUrl" in p
        for p in broken(lambda b: flag(b).update(author={"reference": "Device/x"}))
    )
    assert any(
        "is a Flag" in p
        for p in broken(lambda b: flag(b).update(author={"reference": b["entry"][1]["fullUrl"]}))
    )
    assert any("UK Core" in p for p in broken(lambda b: flag(b).update(meta={})))
    assert any("identifier" in p for p in broken(lambda b: flag(b)["identifier"][0].pop("system")))
    assert any(
        "priority" in p
        for p in broken(lambda b: resources(b, "Communication")[0].update(priority="soon"))
    )
    assert any(
        "not by its identifier" in p
        for p in broken(lambda b: b["entry"][1]["request"].update(ifNoneExist="x"))
    )
    assert any(
        "not an update" in p
        for p in broken(lambda b: b["entry"][0]["request"].update(url="Device?identifier=a|b"))
    )
    assert any(
        "not XML" in p
        for p in broken(
            lambda b: flag(b)["text"].update(div='<div xmlns="http://www.w3.org/1999/xhtml"><p>a<')
        )
    )
    assert any("blank" in p for p in broken(lambda b: flag(b)["code"].update(text="  ")))
    assert any(
        "control character" in p for p in broken(lambda b: flag(b)["code"].update(text="a\x07"))
    )
    assert any(
        "not a FHIR dateTime" in p
        for p in broken(lambda b: flag(b)["period"].update(start="2026-03-28"))
    )
    assert any(
        "not urn:uuid" in p for p in broken(lambda b: b["entry"][2].update(fullUrl="urn:uuid:x"))
    )
    assert broken(  # the libraries refuse it before the checks' own look
        lambda b: resources(b, "Observation")[0].update(valueQuantity={"value": float("inf")})
    )


def test_the_yaml_names_the_resident_once_and_checks_her_nhs_number() -> None:
    for wrong, said in [
        ({"nhs_number": "943 476 5918"}, "check digit"),
        ({"nhs_number": "12345"}, "ten digits"),
        ({}, "one of patient: or nhs_number:"),
        ({"patient": "Patient/p1", "nhs_number": "9434765919"}, "not both"),
        ({"patient": "p1"}, "not a Patient reference: Patient/ then"),
        ({"nhs_number": "٩٤٣٤٧٦٥٩١٩"}, "ten digits 0-9"),
        ({"nhs_number": 9434765919}, "in quotes"),
    ]:
        with pytest.raises(ConfigError, match=said):
            home([dict(GP, fhir=wrong)])
    by_id = home([dict(GP, fhir={"patient": "Patient/p1"})])
    (d,) = deliveries(by_id, FALL)
    flag = resources(json.loads(on_the_wire(by_id, d.payload)), "Flag")[0]
    assert flag["subject"] == {"reference": "Patient/p1", "display": "h1"}


def test_a_fhir_reader_and_a_json_reader_cannot_share_a_topic() -> None:
    with pytest.raises(ConfigError, match="different formats"):
        home(
            [dict(GP, topic=None), {"name": "Team", "severities": ["urgent"], "detail": "evidence"}]
        )
    # A topic: that spells out the household's is the household's, as sent.
    with pytest.raises(ConfigError, match="different formats"):
        home([dict(GP, topic="hearth/h1"), {"name": "Team", "severities": ["urgent"],
                                            "detail": "evidence"}])  # fmt: skip
    said = what_each_receives(home([GP, DAUGHTER]))
    assert "as FHIR R4 about the NHS number ending 5919" in said[0]
    assert "FHIR" not in said[2]


def test_only_the_fhir_readers_topic_is_fhir() -> None:
    cfg = home([GP, DAUGHTER])
    wire = {d.topic: json.loads(on_the_wire(cfg, d.payload)) for d in deliveries(cfg, FALL)}
    assert wire["hearth/h1/to/gp/alerts/inactivity"]["resourceType"] == "Bundle"
    assert wire["hearth/h1/to/sarah/alerts/inactivity"]["type"] == "inactivity"
    assert on_the_wire(cfg, "not json") == "not json"
    assert json.loads(alert_payload(cfg, FALL))["id"] == FALL_ID


async def hub_sends(cfg: HearthConfig, store_at: Path, alerts: list[Alert]) -> None:
    """The hub's real outbox: ``alerts`` queued, then sent until none waits."""
    async with await Store.open(store_at) as store:
        up = Upstream(cfg, store, lambda: datetime.now(UTC))
        for a in alerts:
            await up.enqueue(a)
        up.stopping.set()
        await asyncio.wait_for(up.run(), 60)
        assert await store.unsent() == []


def test_a_real_broker_carries_the_bundles_a_care_record_takes(
    upstream_broker: Mosquitto, tmp_path: Path
) -> None:
    doc = {
        "household": {"id": "h1", "timezone": "Europe/London", "display_name": "Margaret's home"},
        "sensors": [{"id": "k", "kind": "power", "room": "kitchen", "role": "kettle"}],
        "upstream": {"host": upstream_broker.host, "port": upstream_broker.port},
        "store": {"path": str(tmp_path / "hub.sqlite")},
    }
    cfg = home([GP, DAUGHTER], doc)
    heard: list[tuple[str, bytes]] = []

    async def go() -> None:
        ready = asyncio.Event()
        listener = asyncio.create_task(listen(upstream_broker, heard, ready))
        await asyncio.wait_for(ready.wait(), 10)
        await hub_sends(cfg, tmp_path / "hub.sqlite", [FALL, ENDED])
        await asyncio.sleep(0.5)
        listener.cancel()

    asyncio.run(go())
    gp = [json.loads(p) for t, p in heard if t == "hearth/h1/to/gp/alerts/inactivity"]
    assert [resources(b, "Flag")[0]["status"] for b in gp] == ["active", "inactive"]
    for b in gp:
        assert_valid_fhir(b)
        assert resources(b, "Device")[0]["deviceName"][0]["name"] == "Hearth hub, Margaret's home"
    sarah = [json.loads(p) for t, p in heard if t == "hearth/h1/to/sarah/alerts/inactivity"]
    assert [m["phase"] for m in sarah] == ["raised", "ended"]
