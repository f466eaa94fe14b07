"""A FHIR Bundle from the hub as a shared care record would check it: against FHIR R4 itself by
two libraries from PyPI (fhirclient's models, generated from R4 4.0.1, the version UK Core
builds on, in strict mode: every element's type and cardinality, no unknown element; and
fhir.resources' pydantic models of R4B, whose Flag, Observation, Device and Communication are
R4's), then against what neither checks: the codes whose value sets FHIR binds as *required*,
the elements UK Core's profiles add, and that every reference inside the Bundle resolves."""

from __future__ import annotations

from typing import Any

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
    out += _codes("Bundle.type", bundle.get("type"))
    ids = {f"{e['resource']['resourceType']}/{e['resource'].get('id')}" for e in bundle["entry"]}
    full = [e.get("fullUrl") for e in bundle["entry"]]
    if len(set(full)) != len(full):
        out.append("bdl-7: two entries have one fullUrl")
    for i, entry in enumerate(bundle["entry"]):
        r = entry["resource"]
        where = f"entry {i} ({r['resourceType']})"
        request = entry.get("request") or {}
        out += [
            f"{where}: {p}" for p in _codes("Bundle.entry.request.method", request.get("method"))
        ]
        if (
            request.get("method") == "PUT"
            and request.get("url") != f"{r['resourceType']}/{r.get('id')}"
        ):
            out.append(f"{where}: PUT to {request.get('url')} but the resource is {r.get('id')}")
        out += [f"{where}: {p}" for p in _resource(r, ids)]
    return out


def _codes(element: str, value: object) -> list[str]:
    if value not in REQUIRED_CODES[element]:
        return [f"{element} is {value!r}, not a code of its required value set"]
    return []


def _reference(element: str, ref: object, kinds: set[str], ids: set[str]) -> list[str]:
    if not isinstance(ref, dict):
        return [f"{element} is missing"]
    if "reference" not in ref:
        if kinds == SUBJECTS and "identifier" in ref:
            ident = ref["identifier"]
            if ident.get("system") and ident.get("value"):
                return []
        return [f"{element} names nothing: no reference, no identifier with system and value"]
    kind, _, _ = str(ref["reference"]).partition("/")
    if kind not in kinds:
        return [f"{element} is a {kind}, not one of {sorted(kinds)}"]
    if kind != "Patient" and ref["reference"] not in ids:
        return [f"{element} {ref['reference']} is not in the Bundle"]
    return []


def _resource(r: dict[str, Any], ids: set[str]) -> list[str]:
    kind = r["resourceType"]
    out = []
    if UK_CORE + kind not in (r.get("meta") or {}).get("profile", []):
        out.append(f"meta.profile does not claim UK Core's {kind}")
    if "text" in r:
        out += _codes("Narrative.status", r["text"].get("status"))
        if 'xmlns="http://www.w3.org/1999/xhtml"' not in r["text"].get("div", ""):
            out.append("text.div is not XHTML")
    for ident in r.get("identifier", []):
        if not (ident.get("system") and ident.get("value")):  # UK Core: both, if one is given
            out.append("an identifier lacks its system or value")
    if kind == "Flag":
        out += _codes("Flag.status", r.get("status"))
        out += _reference("Flag.subject", r.get("subject"), SUBJECTS, ids)
        out += _reference("Flag.author", r.get("author"), AUTHORS, ids)
        for ext in r.get("extension", []):
            if ext["url"].endswith("/flag-priority"):
                codes = {c.get("code") for c in ext["valueCodeableConcept"]["coding"]}
                if not codes <= FLAG_PRIORITY_CODES:
                    out.append(f"flag-priority {codes} is not PN, PL, PM or PH")
            elif ext["url"].endswith("/flag-detail"):
                out += _reference("flag-detail", ext.get("valueReference"), {"Observation"}, ids)
    elif kind == "Observation":
        out += _codes("Observation.status", r.get("status"))
        out += _reference("Observation.subject", r.get("subject"), SUBJECTS, ids)
        out += _reference("Observation.device", r.get("device"), {"Device"}, ids)
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
        out += _reference("Communication.subject", r.get("subject"), SUBJECTS, ids)
        out += _reference("Communication.sender", r.get("sender"), AUTHORS, ids)
        for about in r.get("about", []):
            out += _reference("Communication.about", about, {"Flag"}, ids)
    else:
        out.append(f"{kind}: not a resource Hearth writes")
    return out


def assert_valid_fhir(bundle: dict[str, Any]) -> None:
    found = problems(bundle)
    assert not found, found
