"""What a carer reads first (issue 18): every alert the demo and a real recorded home raise,
with falls, missed mornings and doors at night written into it as the continuous evaluation
writes them, and with the longest home name a household may choose: its title fits one SMS
without being cut, says nothing its summary and evidence do not, its "since 13:38 (1 h 49 min)"
adds up to when it was raised, and it validates against the published schema, and as FHIR R4
(``tests.fhir_checks``)."""

from __future__ import annotations

import json
import random
import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from agent.config import household_of, load_config_text
from agent.config.schema import HearthConfig
from agent.delivery.fhir import fhir_bundle
from agent.delivery.rendering import alert_payload
from agent.evaluation.continuous import plan, write_in
from agent.pipeline import Pipeline
from agent.replay import drive
from agent.simulation.persona import DEMO_BAD_DAYS, Persona
from agent.sources.recordings import ReadReport, read_recording
from models.alert_context import ABOUT_THE_RESIDENT
from models.alert_policy import Alert, AlertPolicy
from models.detectors.link_findings import (
    agent_fault,
    bridge_silent,
    home_broker_lost,
    storage_full,
)
from models.household_changes import CHANGES, household_change, snoozed
from models.what_to_do import HOME_NAME_MOST, TITLE_MOST, suggested_action, title
from tests.conftest import CONFIG, dataset
from tests.fhir_checks import assert_valid_fhir
from tests.published import assert_valid_alert

LONGEST_NAME = "Flat 12, Riverside Court (Mrs Beatrice)"[:HOME_NAME_MOST].ljust(HOME_NAME_MOST, ".")
CLOCK = re.compile(r"\b\d{2}:\d{2}\b")
DURATION = re.compile(r"\((\d+ (?:h|min)(?: \d+ min)?|\d+ days)[);]")
SINCE = re.compile(r"since (\d{2}):(\d{2}) \((\d+ (?:h|min)(?: \d+ min)?)[);]")
RARITY = re.compile(r"(?:about|less than) once in \d+ (?:days|months|years)")
CARERS_TYPES = {"inactivity", "missed_morning", "night_exit", "not_returned"}


def named(path: str) -> HearthConfig:
    doc = yaml.safe_load((CONFIG / path).read_text())
    doc["household"]["display_name"] = LONGEST_NAME
    return load_config_text(yaml.safe_dump(doc), path)


def replayed(cfg: HearthConfig, events: list[Any]) -> list[Alert]:
    p, alerts = Pipeline(cfg), []

    def tick(now: datetime) -> None:
        alerts.extend(p.tick(now))

    drive(events, p.observe, tick, next_look=p.next_due)
    return alerts


def demo_alerts() -> tuple[HearthConfig, list[Alert]]:
    cfg = named("demo-home.yaml")
    persona = Persona(datetime(2026, 3, 2).date(), household_of(cfg).tz, seed=7)
    return cfg, replayed(cfg, list(persona.events(42, DEMO_BAD_DAYS)))


def home_alerts(home: str) -> tuple[HearthConfig, list[Alert]]:
    """A TIHM dev home with anomalies written in, as ``hearth eval --method continuous``."""
    cfg = named("tihm-home.yaml")
    events = read_recording(f"tihm:{dataset('tihm-dev', 'activity', home)}", cfg, ReadReport())
    household = household_of(cfg)
    planned = plan(events, household, cfg.learning.days, random.Random(f"1/{home}"))
    return cfg, replayed(cfg, write_in(events, planned, household))


def _minutes(duration: str) -> int:
    h = re.search(r"(\d+) h", duration)
    m = re.search(r"(\d+) min", duration)
    d = re.search(r"(\d+) days", duration)
    return (int(h[1]) * 60 if h else 0) + (int(m[1]) if m else 0) + (int(d[1]) * 1440 if d else 0)


def _local_clocks(value: Any, tz: ZoneInfo) -> set[str]:
    """Every time of day the evidence holds, as a carer reads it (ISO times in local time)."""
    if isinstance(value, dict):
        return set().union(*(_local_clocks(v, tz) for v in value.values()), set())
    if isinstance(value, list):
        return set().union(*(_local_clocks(v, tz) for v in value), set())
    if isinstance(value, str):
        if CLOCK.fullmatch(value):
            return {value}
        try:
            return {f"{datetime.fromisoformat(value).astimezone(tz):%H:%M}"}
        except ValueError:
            return set()
    return set()


def problems(cfg: HearthConfig, alert: Alert) -> list[str]:
    """What is wrong with how this alert reads; none, for an alert Hearth should send."""
    doc = alert.to_json(cfg.household.display_name)
    head, summary = str(doc["title"]), str(doc["summary"])
    tz = household_of(cfg).tz
    out = []
    if len(head) > TITLE_MOST or head.endswith("…"):
        out.append(f"title of {len(head)} characters, or cut: {head}")
    if not head.startswith(f"{LONGEST_NAME}: "):
        out.append(f"title does not name the home first: {head}")
    known = set(CLOCK.findall(summary)) | _local_clocks(doc["evidence"], tz)
    if alert.type != "digest":
        known |= {f"{alert.detected_at.astimezone(tz):%H:%M}"}
    out += [f"{c} is in the title alone: {head}" for c in set(CLOCK.findall(head)) - known]
    durations = set(DURATION.findall(summary))
    out += [f"({d}) is in the title alone" for d in set(DURATION.findall(head)) - durations]
    out += [f"{r!r} is in the title alone" for r in set(RARITY.findall(head)) - set(
        RARITY.findall(summary))]  # fmt: skip
    raised = alert.detected_at.astimezone(tz)
    now = raised.hour * 60 + raised.minute + raised.second / 60
    for hh, mm, duration in SINCE.findall(head) + SINCE.findall(summary):
        # A time of day and a duration: they agree with the time raised, on whichever day.
        gap = (now - (int(hh) * 60 + int(mm)) - _minutes(duration)) % 1440
        if 2 < gap < 1440 - 2:
            out.append(f"since {hh}:{mm} ({duration}) is not {raised:%H:%M}: {head}")
    context = doc["context"]
    if (context is None) != (alert.type not in ABOUT_THE_RESIDENT or alert.ends is not None):
        out.append(f"context {context!r} on a {alert.type} {doc['phase']}")
    seen = re.search(r"Last sign of life: [^.]* at (?:\w{3} )?(\d{2}:\d{2})\.", str(context))
    last = doc["evidence"].get("last_activity_at") if isinstance(doc["evidence"], dict) else None
    if seen and isinstance(last, str):
        said = f"{datetime.fromisoformat(last).astimezone(tz):%H:%M}"
        if seen[1] != said:
            out.append(f"context says the last sign of life at {seen[1]}, evidence {said}")
    if doc["action"] != suggested_action(alert.type, alert.ends is not None):
        out.append(f"action of another type: {doc['action']}")
    return out


def check_all(cfg: HearthConfig, alerts: list[Alert]) -> set[str]:
    found = [f"{a.type}: {p}" for a in alerts for p in problems(cfg, a)]
    assert found == []
    for a in alerts:
        doc = json.loads(alert_payload(cfg, a))
        assert_valid_alert(doc)
        # As a shared care record that takes FHIR R4 receives it.
        assert_valid_fhir(fhir_bundle(doc, {"nhs_number": "9434765919"}, LONGEST_NAME))
    return {a.type for a in alerts}


def test_every_alert_of_the_demo_and_a_real_home_reads_as_one_line_that_adds_up() -> None:
    types = check_all(*demo_alerts()) | check_all(*home_alerts("0d5ef.csv"))
    # Not vacuous: the carers' urgent kinds, and the technician's, are all among them.
    assert types >= CARERS_TYPES, types
    assert {"battery_low", "monitoring_gap"} <= types, types


@pytest.mark.slow
@pytest.mark.parametrize(
    "home", sorted(p.name for p in dataset("tihm-dev", "activity").glob("*.csv"))
)
def test_every_alert_of_each_dev_home_reads_as_one_line_that_adds_up(home: str) -> None:
    check_all(*home_alerts(home))


def test_a_title_that_would_be_too_long_is_cut_at_a_word_and_says_so() -> None:
    long = title(LONGEST_NAME, "No movement at home since 13:38 " + "and more " * 20)
    assert len(long) <= TITLE_MOST
    assert long.endswith("…")
    assert not long[:-1].endswith(" ")
    assert title("Ann's", "Short.") == "Ann's: Short."


def test_the_checks_find_a_title_that_says_what_the_summary_does_not() -> None:
    cfg, alerts = demo_alerts()
    fall = next(a for a in alerts if a.type == "inactivity")
    assert problems(cfg, fall) == []
    wrong_time = Alert(**{**_fields(fall), "headline": fall.headline.replace("13:38", "12:38")})
    assert any("12:38 is in the title alone" in p for p in problems(cfg, wrong_time))
    wrong_sum = Alert(**{**_fields(fall), "headline": fall.headline.replace("49 min", "9 min")})
    assert any("is not" in p or "title alone" in p for p in problems(cfg, wrong_sum))
    assert fall.context is not None
    later = Alert(**{**_fields(fall), "context": fall.context.replace("13:38", "12:38")})
    assert any("context says the last sign of life at 12:38" in p for p in problems(cfg, later))
    assert any(
        "context None" in p for p in problems(cfg, Alert(**{**_fields(fall), "context": None}))
    )
    cut = Alert(**{**_fields(fall), "headline": fall.headline + " and more" * 20})
    assert any("cut" in p for p in problems(cfg, cut))


def test_the_alerts_no_recording_raises_read_as_one_line_that_adds_up_too() -> None:
    """The household's controls and the hub's own failures, at their longest."""
    cfg, tz = named("demo-home.yaml"), ZoneInfo("Europe/London")
    at = datetime(2026, 12, 1, 23, 59, tzinfo=tz)
    later = at + timedelta(hours=26, minutes=7)
    sensors = [s.id for s in cfg.sensors] * 2
    longest_by = "A recipient with a very long name indeed, as the YAML allows it, for once"
    findings = [household_change(c, later, at, tz) for c in CHANGES] + [
        snoozed("night_restlessness", later, longest_by, at, tz),
        snoozed("inactivity", later, "Sarah", at, tz),
        home_broker_lost("mosquitto.home.example.org:8883", at, later, sensors, tz),
        bridge_silent(
            "/dev/serial/by-id/usb-Raspberry_Pi_Pico_E66138935F2A1234-if00",
            at,
            at,
            (later - at).total_seconds(),
            30,
            later,
            sensors,
            True,
            tz,
        ),
        agent_fault("home", "reading the home broker failed (" + "x" * 120 + ")", at, later),
        storage_full(
            "/var/lib/hearth/" + "a" * 80 + ".sqlite",
            "No space left on device" * 3,
            at,
            later,
            123_456,
        ),
    ]
    policy = AlertPolicy(cfg.household.id)
    alerts = [a for f in findings if (a := policy.decide(f)) is not None]
    assert len(alerts) == len(findings)
    assert check_all(cfg, alerts) == {"household_control", "sensor_silent", "agent_fault",
                                      "storage_full"}  # fmt: skip


def _fields(a: Alert) -> dict[str, Any]:
    return {f: getattr(a, f) for f in Alert.__dataclass_fields__}
