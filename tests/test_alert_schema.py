"""The published alert and status schemas: made from the code, current, and strict enough that
a care team's system can rely on them. Every alert of the demo and of each dev home's replay is
validated in ``tests/test_replay.py``, every message of seven weeks on a real broker in
``tests/test_consent.py``, the live agent's in ``tests/test_live_mqtt.py``."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from agent.config import load_config
from agent.delivery.alert_schema import EVIDENCE, SEVERITY
from agent.delivery.rendering import alert_payload
from models.alert_policy import ALERT_SCHEMA_VERSION, AlertPolicy
from models.detectors import link_findings
from models.finding import ALERT_TYPES, TECHNICAL_TYPES, Finding
from models.household_changes import CHANGES, household_change
from tests.conftest import CONFIG, ROOT, hearth
from tests.published import SCHEMA_DIR, assert_valid_alert, assert_valid_status, problems

T = datetime(2026, 3, 28, 15, 41, tzinfo=UTC)


@pytest.mark.parametrize("of", ["alert", "status"])
def test_the_published_schemas_are_those_the_code_makes(of: str) -> None:
    made = hearth("schema", "--of", of)
    assert made.returncode == 0, made.stderr
    published = (SCHEMA_DIR / f"{of}.schema.json").read_text(encoding="utf-8")
    assert made.stdout == published, f"stale: hearth schema --of {of} --output {SCHEMA_DIR}"
    assert f"\n## {ALERT_SCHEMA_VERSION}" in (SCHEMA_DIR / "CHANGELOG.md").read_text()


def test_each_type_has_its_severity_and_its_evidence_described() -> None:
    assert set(SEVERITY) == set(EVIDENCE) == set(ALERT_TYPES)
    assert {t for t, s in SEVERITY.items() if s == "technical"} == TECHNICAL_TYPES
    for t, keys in EVIDENCE.items():
        assert keys, t
        assert all(k.means for k in keys.values()), t


def alerts_of(findings: list[Finding]) -> list[dict[str, Any]]:
    out = []
    for f in findings:
        alert = AlertPolicy("h1").decide(f)
        assert alert is not None, f.type
        out.append(json.loads(alert_payload(load_config(CONFIG / "demo-home.yaml"), alert)))
    return out


def test_what_hearth_says_of_its_own_links_and_the_households_commands_validates() -> None:
    tz = ZoneInfo("Europe/London")
    later = T + timedelta(minutes=30)
    findings = [
        link_findings.home_broker_lost("localhost:1883", T, later, ["hall"], tz),
        link_findings.bridge_silent("/dev/ttyACM0", T, None, 1800, 60, later, ["k"], True, tz),
        link_findings.bridge_silent("/dev/ttyACM0", T, T, 1800, 60, later, ["k"], False, tz),
        link_findings.agent_fault("home", "reading failed (OverflowError)", T, later),
        link_findings.storage_full("/var/lib/hearth/h.sqlite", "disk full", T, later, 12),
        *(household_change(c, later + timedelta(hours=2), later, tz) for c in CHANGES),
        household_change("pause", None, later + timedelta(minutes=1), tz),
    ]
    for doc in alerts_of(findings):
        assert_valid_alert(doc)


def real_alert() -> dict[str, Any]:
    (doc,) = alerts_of([link_findings.agent_fault("home", "reading failed (OverflowError)", T, T)])
    return doc


BROKEN: dict[str, Any] = {
    "an unknown type": lambda d: d.update(type="fell_over"),
    "a severity its type never has": lambda d: d.update(severity="urgent"),
    "a key of no version": lambda d: d.update(room="lounge"),
    "evidence its type does not have": lambda d: d["evidence"].update(room="lounge"),
    "evidence missing a key its type always has": lambda d: d["evidence"].pop("why"),
    "a time with no offset": lambda d: d.update(detected_at="2026-03-28T15:41:00"),
    "no summary": lambda d: d.pop("summary"),
    "an empty summary": lambda d: d.update(summary=""),
    "another version": lambda d: d.update(schema_version=ALERT_SCHEMA_VERSION - 1),
    "an id that is not a UUID": lambda d: d.update(id="1"),
    "a recipient named twice": lambda d: d.update(recipients=["Ann", "Ann"]),
}


@pytest.mark.parametrize("broken", sorted(BROKEN))
def test_the_schema_refuses_what_a_care_system_could_not_trust(broken: str) -> None:
    doc = real_alert()
    assert problems("alert", doc) == []
    worse = copy.deepcopy(doc)
    BROKEN[broken](worse)
    assert problems("alert", worse), broken


def test_the_status_schema_takes_what_the_hub_says_and_nothing_else() -> None:
    for ok in (b"online", b"offline", b"degraded: the clock is not set"):
        assert_valid_status(ok)
    for bad in ("", "ONLINE", "degraded:", "degraded: ", "on line"):
        assert problems("status", bad), bad


def test_the_readme_example_is_an_alert_of_todays_schema() -> None:
    text = (ROOT / "README.md").read_text()
    start = text.index('```json\n{\n "schema_version"')
    doc = json.loads(text[start + len("```json\n") : text.index("```", start + 7)])
    assert_valid_alert(doc)
