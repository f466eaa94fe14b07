"""An alert as FHIR R4, for a shared care record that takes FHIR rather than Hearth's JSON: a
``transaction`` Bundle of a ``Flag`` (the alert, UK Core's profile), an ``Observation`` for each
piece of evidence, the hub as the ``Device`` that wrote them, and a ``Communication`` (the
notification itself, naming the recipients).

Each resource carries an identifier derived from the resident and the alert, and the Bundle
creates it only if none has it yet (``ifNoneExist``): a message delivered twice, or a raised
alert delivered after its end, changes nothing. An episode's end updates its alert's Flag by
that identifier (a conditional ``PUT``): ``inactive``, with the period's end; the words the Flag
had when raised stay in the record's history. The identifiers include the resident, so two hubs
that chose one household id never write on each other's records.

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
>>> bundle["entry"][1]["request"]["method"], bundle["entry"][1]["request"]["url"]
('POST', 'Flag')
"""

from __future__ import annotations

import html
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from models.finding import JsonValue

UK_CORE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-"
NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
# Hearth's own code systems: a type of alert and a piece of evidence are Hearth's ideas, with
# no SNOMED CT concept that means the same (a code that nearly fits would mislead a record).
ALERT_TYPE_SYSTEM = "urn:hearth:alert-type"
EVIDENCE_SYSTEM = "urn:hearth:evidence"
# The alert's id as Hearth's JSON has it; and the record's own, unique to the resident.
ALERT_ID_SYSTEM = "urn:hearth:alert-id"
RECORD_ID_SYSTEM = "urn:hearth:record-id"
HUB_ID_SYSTEM = "urn:hearth:household"
_TERMINOLOGY = "http://terminology.hl7.org/CodeSystem/"
FLAG_PRIORITY = "http://hl7.org/fhir/StructureDefinition/flag-priority"
FLAG_PRIORITY_CODES = "http://hl7.org/fhir/flag-priority-code"
FLAG_DETAIL = "http://hl7.org/fhir/StructureDefinition/flag-detail"
_IDS = uuid.UUID("6f0f3a52-8d55-4f57-9a44-3c2f1b0e7d21")
NOTICES = frozenset({"household_control"})

# What each severity asks of the reader, in FHIR's words (flag-priority: PH high, PM medium;
# request-priority for the notification: an urgent alert says "ring now"). An end asks nothing.
_PRIORITY = {"urgent": ("PH", "High priority"), "warning": ("PM", "Medium priority")}
_NOTIFY = {"urgent": "asap", "warning": "urgent"}

# Evidence keys name their unit (schema 3 on): as UCUM, the units FHIR quantities use.
_SUFFIXES = {
    "_minutes": ("min", "minutes"),
    "_hours": ("h", "hours"),
    "_days": ("d", "days"),
    "_s": ("s", "seconds"),
    "_percent": ("%", "percent"),
    "_ratio": ("1", "ratio"),
}
_PREFIXES = {"minutes_": ("min", "minutes"), "hours_": ("h", "hours"), "days_": ("d", "days")}
# XML 1.0 has no place for these, and a narrative is XML.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean(text: str) -> str:
    return _CONTROL.sub(" ", text).strip()


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(_IDS, "/".join(parts)))


def _local(uid: str) -> dict[str, str]:
    """A reference to another entry of the Bundle, by its fullUrl."""
    return {"reference": f"urn:uuid:{uid}"}


def _utc(text: str) -> str:
    """A time as FHIR takes it: with seconds, and an offset it allows (UTC)."""
    return datetime.fromisoformat(text).astimezone(UTC).isoformat()


def _narrative(*lines: str | None) -> dict[str, str]:
    paras = "".join(
        f"<p>{html.escape(_clean(line))}</p>" for line in lines if line and _clean(line)
    )
    return {
        "status": "generated",
        "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{paras}</div>',
    }


def _patient_key(patient: dict[str, str]) -> str:
    return patient.get("reference") or f"nhs:{patient['nhs_number']}"


def patient_reference(patient: dict[str, str], display: str) -> dict[str, Any]:
    """The resident in the care record: its own reference (``Patient/<id>``), or a logical one
    by NHS number, as the recipient's YAML gives it."""
    if "reference" in patient:
        return {"reference": patient["reference"], "display": display}
    return {
        "identifier": {"system": NHS_NUMBER, "value": patient["nhs_number"]},
        "display": display,
    }


def _is_time(text: str) -> bool:
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
    return _clean(str(value))


def _unit(key: str) -> tuple[str, str] | None:
    for suffix, unit in _SUFFIXES.items():
        if key.endswith(suffix):
            return unit
    return next((unit for p, unit in _PREFIXES.items() if key.startswith(p)), None)


def _value(key: str, value: JsonValue) -> dict[str, Any] | None:
    """One piece of evidence as an Observation's ``value[x]``; None if it says nothing."""
    if isinstance(value, bool):
        return {"valueBoolean": value}
    if isinstance(value, int | float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        unit = _unit(key)
        if unit is None:
            return {"valueQuantity": {"value": value}}
        code, words = unit
        ucum = "http://unitsofmeasure.org"
        return {"valueQuantity": {"value": value, "unit": words, "system": ucum, "code": code}}
    if isinstance(value, str) and _is_time(value):
        return {"valueDateTime": _utc(value)}
    words = _words(value) if value is not None else ""
    return {"valueString": words} if words else None


def _identifiers(record: str, alert_id: str | None = None) -> list[dict[str, str]]:
    out = [{"system": RECORD_ID_SYSTEM, "value": record}]
    return out + ([{"system": ALERT_ID_SYSTEM, "value": alert_id}] if alert_id else [])


def _create(kind: str, record: str) -> dict[str, str]:
    """Created only if the record has none with this identifier yet."""
    return {"method": "POST", "url": kind, "ifNoneExist": f"identifier={RECORD_ID_SYSTEM}|{record}"}


def _update(kind: str, record: str) -> dict[str, str]:
    """The one with this identifier updated, or created if the record has none."""
    return {"method": "PUT", "url": f"{kind}?identifier={RECORD_ID_SYSTEM}|{record}"}


def _device(doc: dict[str, Any], key: str, home: str) -> tuple[str, dict[str, Any]]:
    record = _uuid("device", key, doc["household"])
    return record, {
        "resourceType": "Device",
        "meta": {"profile": [UK_CORE + "Device"]},
        "identifier": [
            {"system": HUB_ID_SYSTEM, "value": doc["household"]},
            *_identifiers(record),
        ],
        "status": "active",
        "manufacturer": "Hearth (open source)",
        "deviceName": [{"name": _clean(f"Hearth hub, {home}"), "type": "user-friendly-name"}],
        "type": {"text": "Home activity monitoring hub"},
    }


def _observations(
    doc: dict[str, Any], key: str, subject: dict[str, Any], hub: str
) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for name, value in (doc.get("evidence") or {}).items():
        said = _value(name, value)
        if said is None:
            continue
        record = _uuid("observation", key, doc["id"], name)
        words = name.replace("_", " ")
        category = {"system": _TERMINOLOGY + "observation-category", "code": "activity"}
        observation = {
            "resourceType": "Observation",
            "meta": {"profile": [UK_CORE + "Observation"]},
            "identifier": _identifiers(record),
            "status": "final",
            "category": [{"coding": [category | {"display": "Activity"}]}],
            "code": {
                "coding": [{"system": EVIDENCE_SYSTEM, "code": name, "display": words}],
                "text": words,
            },
            "subject": subject,
            "effectiveDateTime": _utc(doc["detected_at"]),
            "device": _local(hub),
            **said,
        }
        out.append((record, observation))
    return out


def _flag(
    doc: dict[str, Any], record: str, subject: dict[str, Any], hub: str, details: list[str]
) -> dict[str, Any]:
    raised = doc.get("ends") or doc["id"]
    # A notice (the digest, the week's summary, a household's or a carer's change) is no
    # standing warning: its Flag is over as it is written, not left active on the record.
    ended = doc.get("phase") == "ended" or doc["severity"] == "info" or doc["type"] in NOTICES
    period = {"start": _utc(doc["started_at"])}
    end = (doc.get("evidence") or {}).get("ended_at")
    if ended:
        period["end"] = _utc(end if isinstance(end, str) and _is_time(end) else doc["detected_at"])
    extension = [{"url": FLAG_DETAIL, "valueReference": _local(o)} for o in details]
    if doc["severity"] in _PRIORITY and not ended:
        code, display = _PRIORITY[doc["severity"]]
        coding = {"system": FLAG_PRIORITY_CODES, "code": code, "display": display}
        extension.insert(0, {"url": FLAG_PRIORITY, "valueCodeableConcept": {"coding": [coding]}})
    technical = doc["severity"] == "technical"
    category = (
        {"code": "admin", "display": "Administrative"}
        if technical
        else {"code": "safety", "display": "Safety"}
    )
    kind = {
        "system": ALERT_TYPE_SYSTEM,
        "code": doc["type"],
        "display": doc["type"].replace("_", " "),
    }
    flag: dict[str, Any] = {
        "resourceType": "Flag",
        **({"extension": extension} if extension else {}),
        "meta": {"profile": [UK_CORE + "Flag"]},
        "text": _narrative(doc["title"], doc["summary"], doc.get("context"), doc["action"]),
        "identifier": _identifiers(record, raised),
        "status": "inactive" if ended else "active",
        "category": [{"coding": [{"system": _TERMINOLOGY + "flag-category", **category}]}],
        "code": {"coding": [kind], "text": _clean(doc["title"])},
        "subject": subject,
        "period": period,
        "author": _local(hub),
    }
    return flag


def _communication(
    doc: dict[str, Any], record: str, subject: dict[str, Any], hub: str, flag: str
) -> dict[str, Any]:
    ended = doc.get("phase") == "ended"
    words = [doc["title"], doc["summary"], doc.get("context"), doc["action"]]
    out: dict[str, Any] = {
        "resourceType": "Communication",
        "meta": {"profile": [UK_CORE + "Communication"]},
        "text": _narrative(doc["title"], doc["action"]),
        "identifier": _identifiers(record, doc["id"]),
        "status": "completed",
        "category": [
            {
                "coding": [
                    {
                        "system": _TERMINOLOGY + "communication-category",
                        "code": "notification" if ended else "alert",
                    }
                ]
            }
        ],
        "priority": "routine" if ended else _NOTIFY.get(doc["severity"], "routine"),
        "subject": subject,
        "about": [_local(flag)],
        "sent": _utc(doc["detected_at"]),
        "recipient": [{"display": _clean(n)} for n in doc.get("recipients", []) if _clean(n)],
        "sender": _local(hub),
        "payload": [{"contentString": _clean(w)} for w in words if w and _clean(w)],
    }
    if not out["recipient"]:
        del out["recipient"]
    return out


def fhir_bundle(doc: dict[str, Any], patient: dict[str, str], home: str) -> dict[str, Any]:
    """Hearth's JSON alert ``doc`` (schema 4) as a FHIR R4 transaction Bundle, about the
    resident ``patient`` (``patient_reference``), from the hub of ``home``. The evidence is in
    it only if ``doc`` has it: a recipient who agreed to the summary only gets no
    Observations."""
    key = _patient_key(patient)
    subject = patient_reference(patient, _clean(home) or doc["household"])
    hub, device = _device(doc, key, home)
    observations = _observations(doc, key, subject, hub)
    flag_id = _uuid("flag", key, doc.get("ends") or doc["id"])
    flag = _flag(doc, flag_id, subject, hub, [o for o, _ in observations])
    told_id = _uuid("communication", key, doc["id"])
    told = _communication(doc, told_id, subject, hub, flag_id)
    ended = doc.get("phase") == "ended"
    entries = [
        (hub, device, _update("Device", hub)),
        (flag_id, flag, (_update if ended else _create)("Flag", flag_id)),
        *((o, r, _create("Observation", o)) for o, r in observations),
        (told_id, told, _create("Communication", told_id)),
    ]
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "timestamp": _utc(doc["detected_at"]),
        "entry": [
            {"fullUrl": f"urn:uuid:{uid}", "resource": r, "request": request}
            for uid, r, request in entries
        ],
    }
