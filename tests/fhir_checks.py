"""A FHIR Bundle from the hub as a shared care record would check it: against FHIR R4 itself by
two libraries from PyPI (fhirclient's models, generated from R4 4.0.1, the version UK Core
builds on, in strict mode: every element's type and cardinality, no unknown element; and
fhir.resources' pydantic models of R4B, whose Flag, Observation, Device and Communication are
R4's), then against what neither checks: the codes whose value sets FHIR binds as *required*,
the elements UK Core's profiles add, and that every reference inside the Bundle resolves."""

from __future__ import annotations

import math
import re
import uuid
from typing import Any
from xml.etree import ElementTree

from fhir.resources.R4B.bundle import Bundle as R4BBundle
from fhirclient.models.bundle import Bundle as R4Bundle

from agent.delivery.fhir import UK_CORE

# The value sets FHIR R4 binds as required, for the elements Hearth writes.
REQUIRED_CODES: dict[str, set[str]] = {
    "Bundle.type": {
        "document", "message", "transaction", "transaction-response", "batch",
        "batch-response", "history", "searchset", "collection",
    },
    "Bundle.entry.request.method": {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"},
    "Flag.status": {"active", "inactive", "entered-in-error"},
    "Observation.status": {
        "registered", "preliminary", "final", "amended", "corrected", "cancelled",
        "entered-in-error", "unknown",
    },
    "Device.status": {"active", "inactive", "entered-in-error", "unknown"},
    "Device.deviceName.type": {
        "udi-label-name", "user-friendly-name", "patient-reported-name", "manufacturer-name",
        "model-name", "other",
    },
    "Communication.status": {
        "preparation", "in-progress", "not-done", "on-hold", "stopped", "completed",
        "entered-in-error", "unknown",
    },
    "Communication.priority": {"routine", "urgent", "asap", "stat"},
    "Narrative.status": {"generated", "extensions", "additional", "empty"},
}  # fmt: skip
FLAG_PRIORITY_CODES = {"PN", "PL", "PM", "PH"}
# UK Core's Flag, Observation and Communication name a UK Core Patient (among others) as their
# subject, and UK Core's Device among a Flag's authors and a Communication's senders.
SUBJECTS = {"Patient"}
AUTHORS = {"Device"}


# FHIR R4's own patterns for the times Hearth writes (a dateTime with a time, an instant).
_DATETIME = re.compile(
    r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])"
    r"T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
)
_TIMES = {"timestamp", "effectiveDateTime", "valueDateTime", "sent", "start", "end"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def problems(bundle: dict[str, Any]) -> list[str]:
    """What a care record would refuse in ``bundle``, each with where; none if it is sound."""
    out: list[str] = []
    try:
        R4Bundle(bundle, strict=True)
    except Exception as exc:  # FHIRValidationError, or a TypeError on a wrong shape
        out.append(f"FHIR R4 4.0.1 (fhirclient): {exc}")
    try:
        R4BBundle.model_validate(bundle)
    except Exception as exc:  # pydantic's ValidationError
        out.append(f"FHIR R4B (fhir.resources): {exc}")
    if out:
        return out
    out += _values("Bundle", bundle)
    out += _codes("Bundle.type", bundle.get("type"))
    full = [str(e.get("fullUrl")) for e in bundle["entry"]]
    if len(set(full)) != len(full):
        out.append("bdl-7: two entries have one fullUrl")
    for url in full:
        try:
            uuid.UUID(url.removeprefix("urn:uuid:"))
        except ValueError:
            out.append(f"fullUrl {url} is not urn:uuid: and a UUID")
    for i, entry in enumerate(bundle["entry"]):
        r = entry["resource"]
        where = f"entry {i} ({r['resourceType']})"
        out += [f"{where}: {p}" for p in _request(r, entry.get("request") or {})]
        types = {str(e.get("fullUrl")): e["resource"]["resourceType"] for e in bundle["entry"]}
        out += [f"{where}: {p}" for p in _resource(r, types)]
    return out


def _values(where: str, value: object) -> list[str]:
    """No empty or blank text, no character XML refuses, no number JSON cannot carry, each
    time as FHIR writes it: anywhere in the Bundle."""
    if isinstance(value, dict):
        out = []
        for k, v in value.items():
            out += _values(f"{where}.{k}", v)
            if k in _TIMES and isinstance(v, str) and not _DATETIME.fullmatch(v):
                out.append(f"{where}.{k} {v!r} is not a FHIR dateTime with its time")
        return out
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _values(f"{where}[{i}]", v)]
    if isinstance(value, str) and (not value.strip() or _CONTROL.search(value)):
        return [f"{where} is blank or holds a control character: {value!r}"]
    if isinstance(value, float) and not math.isfinite(value):
        return [f"{where} is {value}, not a decimal"]
    return []


def _request(r: dict[str, Any], request: dict[str, Any]) -> list[str]:
    """A create only if none has its identifier (POST, ifNoneExist), or an update of the one
    that has it (a conditional PUT): either way by an identifier the resource carries."""
    out = _codes("Bundle.entry.request.method", request.get("method"))
    kind, idents = (
        r["resourceType"],
        {f"{i.get('system')}|{i.get('value')}" for i in r.get("identifier", [])},
    )
    if request.get("method") == "POST":
        cond = str(request.get("ifNoneExist", ""))
        if request.get("url") != kind or cond.removeprefix("identifier=") not in idents:
            out.append(f"POST {request.get('url')} if none has {cond}: not by its identifier")
    elif request.get("method") == "PUT":
        url = str(request.get("url", ""))
        if url.partition("?identifier=")[::2] not in [(kind, i) for i in idents]:
            out.append(f"PUT {url}: not an update of this {kind} by its identifier")
    return out


def _codes(element: str, value: object) -> list[str]:
    if value not in REQUIRED_CODES[element]:
        return [f"{element} is {value!r}, not a code of its required value set"]
    return []


def _reference(element: str, ref: object, kinds: set[str], full: dict[str, str]) -> list[str]:
    """To the resident (``Patient/<id>`` or by an identifier), or to another entry by its
    fullUrl: the reference within a transaction that a server resolves as it writes it."""
    if not isinstance(ref, dict):
        return [f"{element} is missing"]
    if "reference" not in ref:
        ident = ref.get("identifier") or {}
        if kinds == SUBJECTS and ident.get("system") and ident.get("value"):
            return []
        return [f"{element} names nothing: no reference, no identifier with system and value"]
    target = str(ref["reference"])
    if target.startswith("Patient/"):
        return [] if kinds == SUBJECTS else [f"{element} is a Patient, not one of {sorted(kinds)}"]
    if target not in full:
        return [f"{element} {target} is no entry's fullUrl in the Bundle"]
    if full[target] not in kinds:
        return [f"{element} is a {full[target]}, not one of {sorted(kinds)}"]
    return []


def _resource(r: dict[str, Any], full: dict[str, str]) -> list[str]:
    kind = r["resourceType"]
    out = []
    if UK_CORE + kind not in (r.get("meta") or {}).get("profile", []):
        out.append(f"meta.profile does not claim UK Core's {kind}")
    if "text" in r:
        out += _codes("Narrative.status", r["text"].get("status"))
        try:
            div = ElementTree.fromstring(r["text"].get("div", ""))
            if div.tag != "{http://www.w3.org/1999/xhtml}div":
                out.append("text.div is not an XHTML div")
        except ElementTree.ParseError as exc:
            out.append(f"text.div is not XML: {exc}")
    for ident in r.get("identifier", []):
        if not (ident.get("system") and ident.get("value")):  # UK Core: both, if one is given
            out.append("an identifier lacks its system or value")
    if kind == "Flag":
        out += _codes("Flag.status", r.get("status"))
        out += _reference("Flag.subject", r.get("subject"), SUBJECTS, full)
        out += _reference("Flag.author", r.get("author"), AUTHORS, full)
        for ext in r.get("extension", []):
            if ext["url"].endswith("/flag-priority"):
                codes = {c.get("code") for c in ext["valueCodeableConcept"]["coding"]}
                if not codes <= FLAG_PRIORITY_CODES:
                    out.append(f"flag-priority {codes} is not PN, PL, PM or PH")
            elif ext["url"].endswith("/flag-detail"):
                out += _reference("flag-detail", ext.get("valueReference"), {"Observation"}, full)
    elif kind == "Observation":
        out += _codes("Observation.status", r.get("status"))
        out += _reference("Observation.subject", r.get("subject"), SUBJECTS, full)
        out += _reference("Observation.device", r.get("device"), {"Device"}, full)
        q = r.get("valueQuantity")
        if q is not None and "code" in q and "system" not in q:
            out.append("qty-3: a quantity's code without its system")
    elif kind == "Device":
        out += _codes("Device.status", r.get("status"))
        for name in r.get("deviceName", []):
            out += _codes("Device.deviceName.type", name.get("type"))
    elif kind == "Communication":
        out += _codes("Communication.status", r.get("status"))
        out += _codes("Communication.priority", r.get("priority", "routine"))
        out += _reference("Communication.subject", r.get("subject"), SUBJECTS, full)
        out += _reference("Communication.sender", r.get("sender"), AUTHORS, full)
        for about in r.get("about", []):
            out += _reference("Communication.about", about, {"Flag"}, full)
    else:
        out.append(f"{kind}: not a resource Hearth writes")
    return out


def assert_valid_fhir(bundle: dict[str, Any]) -> None:
    found = problems(bundle)
    assert not found, found
