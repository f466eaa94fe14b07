"""An alert as FHIR R4, for a shared care record that takes FHIR rather than Hearth's JSON: a
``transaction`` Bundle of a ``Flag`` (the alert, UK Core's profile), an ``Observation`` for each
piece of evidence, the hub as the ``Device`` that wrote them, and a ``Communication`` (the
notification itself, naming the recipients). Each is a ``PUT`` under an id derived from the
alert's, so a message sent twice changes nothing, and an episode's end rewrites its alert's
Flag as ``inactive`` with the period's end.

It is rendered from the alert's JSON as it is about to leave (``on_the_wire``), so what is in the
outbox, what the audit records and what consent allows are the same for both formats.

>>> doc = {"id": "4d3c8a5e-2f1b-5c7d-9e0f-1a2b3c4d5e6f", "household": "h1",
...        "type": "inactivity", "severity": "urgent", "phase": "raised", "ends": None,
...        "started_at": "2026-03-28T13:38:36+00:00", "detected_at": "2026-03-28T15:28:00+00:00",
...        "title": "h1: No movement.", "summary": "No movement.", "action": "Ring now.",
...        "evidence": {"quiet_minutes": 109.4}, "recipients": ["GP"]}
>>> bundle = fhir_bundle(doc, {"reference": "Patient/p1"}, "Margaret's home")
>>> [e["resource"]["resourceType"] for e in bundle["entry"]]
['Device', 'Flag', 'Observation', 'Communication']
>>> bundle["entry"][2]["resource"]["valueQuantity"]["code"]
'min'
"""

from __future__ import annotations

import html
import uuid
from datetime import datetime
from typing import Any

from models.finding import JsonValue

UK_CORE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-"
NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
# Hearth's own code systems: a type of alert and a piece of evidence are Hearth's ideas, with
# no SNOMED CT concept that means the same (a code that nearly fits would mislead a record).
ALERT_TYPE_SYSTEM = "urn:hearth:alert-type"
EVIDENCE_SYSTEM = "urn:hearth:evidence"
ALERT_ID_SYSTEM = "urn:hearth:alert-id"
HUB_ID_SYSTEM = "urn:hearth:household"
_TERMINOLOGY = "http://terminology.hl7.org/CodeSystem/"
FLAG_PRIORITY = "http://hl7.org/fhir/StructureDefinition/flag-priority"
FLAG_PRIORITY_CODES = "http://hl7.org/fhir/flag-priority-code"
FLAG_DETAIL = "http://hl7.org/fhir/StructureDefinition/flag-detail"
_IDS = uuid.UUID("6f0f3a52-8d55-4f57-9a44-3c2f1b0e7d21")

# What each severity asks of the reader, in FHIR's words (flag-priority: PH high, PM medium,
# PL low; request-priority for the notification: an urgent alert says "ring now").
_PRIORITY = {"urgent": ("PH", "High priority"), "warning": ("PM", "Medium priority")}
_NOTIFY = {"urgent": "asap", "warning": "urgent"}

# Evidence keys end in their unit (schema 4): as UCUM, the units FHIR quantities use.
_UNITS = {
    "_minutes": ("min", "minutes"),
    "_hours": ("h", "hours"),
    "_days": ("d", "days"),
    "_percent": ("%", "percent"),
    "_ratio": ("1", "ratio"),
    "_count": ("1", "count"),
}


def _id(*parts: str) -> str:
    return str(uuid.uuid5(_IDS, "/".join(parts)))


def _ref(kind: str, rid: str, display: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"reference": f"{kind}/{rid}"}
    if display:
        out["display"] = display
    return out


def _narrative(*lines: str) -> dict[str, str]:
    paras = "".join(f"<p>{html.escape(line)}</p>" for line in lines if line)
    return {
        "status": "generated",
        "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{paras}</div>',
    }


def patient_reference(patient: dict[str, str], display: str) -> dict[str, Any]:
    """The resident in the care record: its own reference (``Patient/<id>``), or a logical one
    by NHS number, as the recipient's YAML gives it."""
    if "reference" in patient:
        return {"reference": patient["reference"], "display": display}
    return {
        "identifier": {"system": NHS_NUMBER, "value": patient["nhs_number"]},
        "display": display,
    }


def _is_datetime(text: str) -> bool:
    if len(text) < 19 or text[10] != "T":
        return False
    try:
        return datetime.fromisoformat(text).tzinfo is not None
    except ValueError:
        return False


def _words(value: JsonValue) -> str:
    if isinstance(value, list):
        return ", ".join(_words(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_words(v)}" for k, v in value.items())
    return str(value)


def _value(key: str, value: JsonValue) -> dict[str, Any]:
    """One piece of evidence as an Observation's ``value[x]``."""
    if isinstance(value, bool):
        return {"valueBoolean": value}
    if isinstance(value, int | float):
        for suffix, (code, unit) in _UNITS.items():
            if key.endswith(suffix):
                return {
                    "valueQuantity": {
                        "value": value,
                        "unit": unit,
                        "system": "http://unitsofmeasure.org",
                        "code": code,
                    }
                }
        return {"valueQuantity": {"value": value}}
    if isinstance(value, str) and _is_datetime(value):
        return {"valueDateTime": value}
    return {"valueString": _words(value)}


def _device(doc: dict[str, Any], home: str) -> dict[str, Any]:
    return {
        "resourceType": "Device",
        "id": _id("device", doc["household"]),
        "meta": {"profile": [UK_CORE + "Device"]},
        "identifier": [{"system": HUB_ID_SYSTEM, "value": doc["household"]}],
        "status": "active",
        "manufacturer": "Hearth (open source)",
        "deviceName": [{"name": f"Hearth hub, {home}", "type": "user-friendly-name"}],
        "type": {"text": "Home activity monitoring hub"},
    }


def _observations(doc: dict[str, Any], subject: dict[str, Any], hub: str) -> list[dict[str, Any]]:
    out = []
    for key, value in (doc.get("evidence") or {}).items():
        if value is None or value == [] or value == {}:
            continue
        words = key.replace("_", " ")
        out.append(
            {
                "resourceType": "Observation",
                "id": _id("observation", doc["id"], key),
                "meta": {"profile": [UK_CORE + "Observation"]},
                "status": "final",
                "category": [
                    {
                        "coding": [
                            {
                                "system": _TERMINOLOGY + "observation-category",
                                "code": "activity",
                                "display": "Activity",
                            }
                        ]
                    }
                ],
                "code": {
                    "coding": [{"system": EVIDENCE_SYSTEM, "code": key, "display": words}],
                    "text": words,
                },
                "subject": subject,
                "effectiveDateTime": doc["detected_at"],
                "device": _ref("Device", hub),
                **_value(key, value),
            }
        )
    return out


def _flag(
    doc: dict[str, Any], subject: dict[str, Any], hub: str, details: list[str]
) -> dict[str, Any]:
    raised = doc["ends"] or doc["id"]
    ended = doc["phase"] == "ended"
    period = {"start": doc["started_at"]}
    end = (doc.get("evidence") or {}).get("ended_at") if ended else None
    if ended:
        period["end"] = end if isinstance(end, str) else doc["detected_at"]
    extension = [{"url": FLAG_DETAIL, "valueReference": _ref("Observation", o)} for o in details]
    if doc["severity"] in _PRIORITY:
        code, display = _PRIORITY[doc["severity"]]
        coding = {"system": FLAG_PRIORITY_CODES, "code": code, "display": display}
        extension.insert(0, {"url": FLAG_PRIORITY, "valueCodeableConcept": {"coding": [coding]}})
    technical = doc["severity"] == "technical"
    category = ("admin", "Administrative") if technical else ("safety", "Safety")
    flag: dict[str, Any] = {
        "resourceType": "Flag",
        "id": raised,
        "meta": {"profile": [UK_CORE + "Flag"]},
        "text": _narrative(doc["title"], doc["summary"], doc.get("context") or "", doc["action"]),
        "identifier": [{"system": ALERT_ID_SYSTEM, "value": raised}],
        "status": "inactive" if ended else "active",
        "category": [
            {
                "coding": [
                    {
                        "system": _TERMINOLOGY + "flag-category",
                        "code": category[0],
                        "display": category[1],
                    }
                ]
            }
        ],
        "code": {
            "coding": [
                {
                    "system": ALERT_TYPE_SYSTEM,
                    "code": doc["type"],
                    "display": doc["type"].replace("_", " "),
                }
            ],
            "text": doc["title"],
        },
        "subject": subject,
        "period": period,
        "author": _ref("Device", hub),
    }
    if extension:
        flag = {"resourceType": "Flag", "id": raised, "extension": extension} | flag
    return flag


def _communication(doc: dict[str, Any], subject: dict[str, Any], hub: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "resourceType": "Communication",
        "id": _id("communication", doc["id"]),
        "meta": {"profile": [UK_CORE + "Communication"]},
        "text": _narrative(doc["title"], doc["action"]),
        "identifier": [{"system": ALERT_ID_SYSTEM, "value": doc["id"]}],
        "status": "completed",
        "category": [
            {
                "coding": [
                    {
                        "system": _TERMINOLOGY + "communication-category",
                        "code": "alert" if doc["phase"] == "raised" else "notification",
                    }
                ]
            }
        ],
        "priority": _NOTIFY.get(doc["severity"], "routine"),
        "subject": subject,
        "about": [_ref("Flag", doc["ends"] or doc["id"])],
        "sent": doc["detected_at"],
        "recipient": [{"display": name} for name in doc.get("recipients", [])],
        "sender": _ref("Device", hub),
        "payload": [
            {"contentString": text}
            for text in (doc["title"], doc["summary"], doc.get("context"), doc["action"])
            if text
        ],
    }
    if not out["recipient"]:
        del out["recipient"]
    return out


def fhir_bundle(doc: dict[str, Any], patient: dict[str, str], home: str) -> dict[str, Any]:
    """Hearth's JSON alert ``doc`` (schema 4) as a FHIR R4 transaction Bundle, about the
    resident ``patient`` (``patient_reference``), from the hub of ``home``. The evidence is in
    it only if ``doc`` has it: a recipient who agreed to the summary only gets no
    Observations."""
    device = _device(doc, home)
    subject = patient_reference(patient, home)
    observations = _observations(doc, subject, device["id"])
    flag = _flag(doc, subject, device["id"], [o["id"] for o in observations])
    resources = [device, flag, *observations, _communication(doc, subject, device["id"])]
    return {
        "resourceType": "Bundle",
        "id": _id("bundle", doc["id"]),
        "type": "transaction",
        "timestamp": doc["detected_at"],
        "entry": [
            {
                "fullUrl": f"urn:uuid:{r['id']}",
                "resource": r,
                "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"},
            }
            for r in resources
        ],
    }
