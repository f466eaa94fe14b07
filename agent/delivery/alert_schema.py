"""The published schemas of what leaves the hub: an alert (JSON, on ``.../alerts/<type>``) and
the retained status (text, on ``.../status``). A care team's system validates against them;
``hearth schema --of alert`` writes ``docs/schema/alert.schema.json`` from this module, and a
test fails when that file is stale or when any alert the demo or a replay writes does not
validate. Each type's evidence is listed key by key: a key a detector adds without saying here
what it means fails the tests (``additionalProperties`` is false).

>>> schema = alert_schema()
>>> schema["properties"]["schema_version"]["const"] == ALERT_SCHEMA_VERSION
True
>>> sorted(EVIDENCE) == sorted(ALERT_TYPES)
True
"""

from __future__ import annotations

from typing import Any, get_args

from agent.delivery.evidence_keys import (
    _TIME,
    _UUID,
    ENDED_EVIDENCE,
    ENDED_TYPES,
    EVIDENCE,
    SEVERITY,
    Key,
)
from models.alert_policy import ALERT_SCHEMA_VERSION
from models.episode_ends import SILENCES
from models.finding import ALERT_TYPES, Severity
from models.what_to_do import TITLE_MOST

__all__ = ["EVIDENCE", "SCHEMAS", "SEVERITY", "alert_schema", "status_schema"]


def _evidence(keys: dict[str, Key]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {k: key.schema() for k, key in keys.items()},
        "required": [k for k, key in keys.items() if key.required],
        "additionalProperties": False,
    }


def alert_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of an alert as it leaves the hub."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:hearth:schema:alert:{ALERT_SCHEMA_VERSION}",
        "title": "Hearth alert",
        "description": "One alert, as published on <prefix>/<household>/alerts/<type> or a"
        " recipient's <topic>/alerts/<type>, QoS 1. The same id may arrive twice (after a"
        " restart or an outage): drop the repeat. The evidence is present only if everyone"
        " reading the topic agreed to it (detail: evidence). docs/schema/CHANGELOG.md says"
        " what changed between versions.",
        "type": "object",
        "properties": {
            "schema_version": {"const": ALERT_SCHEMA_VERSION},
            "id": {
                "type": "string",
                "pattern": _UUID,
                "description": "derived from the household and the episode",
            },
            "household": {"type": "string", "minLength": 1},
            "type": {"enum": list(ALERT_TYPES)},
            "severity": {"enum": list(get_args(Severity))},
            "started_at": {
                "type": "string",
                "pattern": _TIME,
                "description": "when the episode began: the last sign of life, the door"
                " opening, or the time past which a morning is late",
            },
            "detected_at": {"type": "string", "pattern": _TIME},
            "phase": {
                "enum": ["raised", "ended"],
                "description": "raised: an alert; ended: its episode is over (movement again,"
                " or the sensors of a monitoring gap working again), sent with the alert's"
                " type and severity to whoever was told of it",
            },
            "ends": {
                "type": ["string", "null"],
                "pattern": _UUID,
                "description": "for an ended message, the id of the alert it ends; else null",
            },
            "title": {
                "type": "string",
                "minLength": 1,
                "maxLength": TITLE_MOST,
                "description": "the line a phone shows first, one SMS at most: the home's"
                " name (household.display_name), then what is unusual, where, since when"
                " and how unusual",
            },
            "summary": {
                "type": "string",
                "minLength": 1,
                "description": "the same in full, with the figures it rests on, in words",
            },
            "context": {
                "type": ["string", "null"],
                "minLength": 1,
                "description": "for an alert about the resident: the last sign of life, the"
                " outside doors, the sensors' health; null for the others and an end",
            },
            "action": {
                "type": "string",
                "minLength": 1,
                "description": "what to do, fixed by the type (the urgent ones: ring first)",
            },
            "evidence": {"type": "object"},
            "recipients": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "uniqueItems": True,
                "description": "upstream, the recipients reading this topic and no"
                " others; in a replay's or the demo's file on the hub, everyone it"
                " is for (none if the file names no recipient)",
            },
        },
        "required": [
            "schema_version",
            "id",
            "household",
            "type",
            "severity",
            "started_at",
            "detected_at",
            "phase",
            "ends",
            "title",
            "summary",
            "context",
            "action",
            "recipients",
        ],
        "additionalProperties": False,
        "allOf": [
            *(
                {
                    "if": {"properties": {"type": {"const": t}}},
                    "then": {"properties": {"severity": {"const": SEVERITY[t]}}},
                }
                for t in ALERT_TYPES
            ),
            *(
                {
                    "if": {"properties": {"type": {"const": t}, "phase": {"const": "raised"}}},
                    "then": {
                        "properties": {"evidence": _evidence(EVIDENCE[t]), "ends": {"type": "null"}}
                    },
                }
                for t in ALERT_TYPES
            ),
            {
                "if": {"properties": {"phase": {"const": "ended"}}},
                "then": {
                    "properties": {"type": {"enum": [*ENDED_TYPES]}, "ends": {"type": "string"}}
                },
            },
            {
                "if": {
                    "properties": {"phase": {"const": "ended"}, "type": {"enum": sorted(SILENCES)}}
                },
                "then": {"properties": {"evidence": _evidence(ENDED_EVIDENCE["silence"])}},
            },
            {
                "if": {
                    "properties": {"phase": {"const": "ended"}, "type": {"const": "monitoring_gap"}}
                },
                "then": {"properties": {"evidence": _evidence(ENDED_EVIDENCE["monitoring_gap"])}},
            },
        ],
    }


def status_schema() -> dict[str, Any]:
    """The JSON Schema of the retained status, a UTF-8 text (validate the decoded string)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:hearth:schema:status:{ALERT_SCHEMA_VERSION}",
        "title": "Hearth status",
        "description": "Retained on <prefix>/<household>/status, QoS 1, as plain text (not"
        " JSON): online while every part of the watching works; degraded: and every reason"
        " while one does not; offline at a stop, or as the last will when the hub is lost.",
        "type": "string",
        "anyOf": [{"const": "online"}, {"const": "offline"}, {"pattern": "^degraded: .+"}],
    }


SCHEMAS = {"alert": alert_schema, "status": status_schema}
