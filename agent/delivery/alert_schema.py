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

from dataclasses import dataclass, field
from typing import Any, get_args

from models.alert_policy import ALERT_SCHEMA_VERSION
from models.episode_ends import SILENCES
from models.finding import ALERT_TYPES, Severity
from models.what_to_do import TITLE_MOST

_TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)$"
_CLOCK = r"^\d{2}:\d{2}$"
_UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


@dataclass(frozen=True, slots=True)
class Key:
    """One evidence key: its JSON type(s), and what it means, with its unit."""

    json: str | tuple[str, ...]
    means: str
    required: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def schema(self) -> dict[str, Any]:
        types = self.json if isinstance(self.json, str) else list(self.json)
        out: dict[str, Any] = {"type": types, "description": self.means}
        return out | self.extra


def _time(means: str, nullable: bool = False, required: bool = True) -> Key:
    return Key(("string", "null") if nullable else "string", means, required, {"pattern": _TIME})


def _clock(means: str, required: bool = True) -> Key:
    return Key("string", f"{means} (local time, HH:MM)", required, {"pattern": _CLOCK})


def _names(means: str, required: bool = True) -> Key:
    return Key("array", means, required, {"items": {"type": "string"}})


_BASIS = "what set the limit: learned from this home, or a fixed safety limit"
_RARITY = "how rarely this comes here, in days (null until enough is learned)"
_SLEEP_FROM = _clock("when the household usually falls asleep")
_SLEEP_TO = _clock("when the household usually wakes")
# Each type's severity is fixed: a carer's system may route on either.
SEVERITY: dict[str, Severity] = {
    "inactivity": "urgent",
    "missed_morning": "urgent",
    "night_exit": "urgent",
    "not_returned": "urgent",
    "night_restlessness": "urgent",
    "digest": "info",
    "monitoring_gap": "warning",
    "household_control": "warning",
    "sensor_silent": "technical",
    "sensor_offline": "technical",
    "battery_low": "technical",
    "agent_fault": "technical",
    "storage_full": "technical",
}
_CHANGE = {"type": "object", "additionalProperties": {"type": ["number", "string"]}}
# The digest's changes (``models.detectors.slow_changes``), each with its figures.
DIGEST_CHANGES = {
    "night_bathroom": "bathroom visits at night: recent (count), nights, usual_per_night",
    "wake_time": "getting up: recent and usual (local time, HH:MM)",
    "sleep_length": "time asleep: recent_minutes, usual_minutes",
    "no_kitchen": "no kitchen use yesterday: yesterday (count), usual_per_day, fewest",
    "less_active": "active minutes a day: recent_per_day, usual_per_day, z (robust z score)",
    "fewer_kitchen_uses": "kitchen uses a day: recent_per_day, usual_per_day, z (robust z score)",
    "fewer_outings": "outings: recent (count in the last week), usual_per_week",
}
EVIDENCE: dict[str, dict[str, Key]] = {
    "inactivity": {
        "last_activity_at": _time("the last sign of life"),
        "last_activity_sensor": Key("string", "the sensor that last saw movement (its id)"),
        "last_activity_room": Key(("string", "null"), "the room of that sensor"),
        "quiet_minutes": Key("number", "minutes without movement, when the alert was raised"),
        "alert_after_minutes": Key("number", "the limit crossed, in minutes"),
        "after_this_sensor_ratio": Key(
            "number",
            "how many times as often a long stillness begins"
            " after this sensor as after any (a ratio)",
        ),
        "about_once_in_days": Key(("number", "null"), _RARITY),
        "basis": Key(
            "string",
            _BASIS,
            extra={"enum": ["learned", "usual_waking", "long_lie", "safety_ceiling"]},
        ),
        "days_learned": Key("integer", "days of this home learned so far"),
    },
    "missed_morning": {
        "signal": Key(
            "string",
            "what shows the day has begun",
            extra={"enum": ["first_use", "getting_up", "day_begun"]},
        ),
        "usual_first_use": _clock("the appliance's usual first use", required=False),
        "usual_up_and_about": _clock("when the resident is usually up and about", required=False),
        "usual_day_begun": _clock("when the day has usually begun", required=False),
        "minutes_with_movement": Key("integer", "minutes with movement this morning", False),
        "typical_latest": _clock("the latest it usually comes, on most days"),
        "alert_after": _clock("the deadline crossed"),
        "now": _clock("when the alert was raised"),
        "days_later_or_unused": Key("integer", "days compared on which it came later or not"),
        "days_compared": Key("integer", "days of the same type compared"),
        "day_type": Key(
            "string", "the kind of day compared", extra={"enum": ["weekday", "weekend"]}
        ),
        "signal_sensors": _names("the sensors that would have shown it (ids)"),
    },
    "night_exit": {
        "door_sensor": Key("string", "the outside door (its sensor id)"),
        "door_at": _time("when the door opened"),
        "still_minutes": Key("number", "minutes since, with no sign of life indoors"),
        "usual_sleep_from": _SLEEP_FROM,
        "usual_sleep_to": _SLEEP_TO,
        "nights_learned": Key("integer", "nights learned so far"),
        "nights_with_a_door": Key(
            "integer", "of the nights compared, those with an outside door in the sleep hours"
        ),
        "nights_compared": Key("integer", "nights compared"),
        "outings_this_long_per_day": Key("number", "how often such an outing comes, per day"),
    },
    "not_returned": {
        "door_sensor": Key("string", "the outside door (its sensor id)"),
        "door_at": _time("when the door was last used to go out"),
        "out_minutes": Key("number", "minutes out, when the alert was raised"),
        "alert_after_minutes": Key("number", "the limit crossed, in minutes"),
        "about_once_in_days": Key(("number", "null"), _RARITY),
        "basis": Key("string", _BASIS, extra={"enum": ["learned", "safety_ceiling"]}),
    },
    "night_restlessness": {
        "active_since": _time("when this stretch of night activity began"),
        "active_minutes": Key("number", "minutes active so far"),
        "usual_longest_minutes": Key("number", "the usual longest stretch, in minutes"),
        "alert_after_minutes": Key("number", "the limit crossed, in minutes"),
        "nights_as_long": Key("integer", "nights compared with a stretch as long"),
        "nights_compared": Key("integer", "nights compared"),
        "usual_sleep_from": _SLEEP_FROM,
        "usual_sleep_to": _SLEEP_TO,
    },
    "digest": {
        "changes": _names("the changes named, in order (keys below)"),
    }
    | {k: Key("object", v, False, _CHANGE) for k, v in DIGEST_CHANGES.items()},
    "monitoring_gap": {
        "paused": _names("the alert types paused"),
        "sensors": Key(
            "object",
            "each broken sensor (id) and how",
            extra={"additionalProperties": {"type": "string"}},
        ),
        "since": _time("since when"),
    },
    "household_control": {
        "command": Key(
            "string", "what the household did", extra={"enum": ["pause", "resume", "away", "home"]}
        ),
        "until": _time("until when (null: until resumed)", nullable=True),
    },
    "sensor_silent": {
        "sensor": Key("string", "the silent sensor (its id)", False),
        "kind": Key(
            "string",
            "silent, or quiet while the rest of the home is active",
            False,
            {"enum": ["silent", "quiet"]},
        ),
        "last_heard": _time("when it was last heard", required=False),
        "silent_minutes": Key("number", "minutes silent", False),
        "alert_after_minutes": Key("number", "the limit crossed, in minutes", False),
        "source": Key(
            "string",
            "a link lost, not one sensor",
            False,
            {"enum": ["home_broker", "serial_bridge"]},
        ),
        "broker": Key("string", "the home broker (host:port)", False),
        "lost_at": _time("when the home broker was lost", required=False),
        "port": Key("string", "the serial bridge's port", False),
        "heartbeat_timeout_s": Key("number", "the bridge's limit, in seconds", False),
        "last_heard_at": _time("when the bridge was last heard", True, False),
        "port_open": Key("boolean", "whether the port is open", False),
        "sensors": _names("the sensors not being read, or told of together (ids)", False),
        "problems": Key(
            "object",
            "sensors told of together: each (id) and how (silent, quiet or offline)",
            False,
            {"additionalProperties": {"enum": ["silent", "quiet", "offline"]}},
        ),
    },
    "sensor_offline": {
        "sensor": Key("string", "the sensor (its id)"),
        "offline_since": _time("when its bridge said it was offline"),
    },
    "battery_low": {
        "sensor": Key("string", "the sensor (its id)"),
        "battery_percent": Key(("number", "null"), "its battery, in percent"),
    },
    "agent_fault": {
        "part": Key("string", "the part of Hearth that stopped"),
        "why": Key("string", "its error"),
        "since": _time("since when"),
    },
    "storage_full": {
        "path": Key("string", "the store's file on the hub"),
        "why": Key("string", "the error writing to it"),
        "since": _time("since when"),
        "waiting": Key("integer", "sensor events waiting in memory to be written"),
    },
}


# The types whose episodes are told when they end (``models.episode_ends``).
ENDED_TYPES = (*sorted(SILENCES), "monitoring_gap")
_ENDED = {
    "ended_at": _time("when it ended: the first sign of life, or the sensors working again"),
    "lasted_minutes": Key("number", "minutes from its start (the last sign of life) to its end"),
}
ENDED_EVIDENCE: dict[str, dict[str, Key]] = {
    "silence": _ENDED
    | {
        "sensor": Key("string", "the sensor that saw the first sign of life (its id)"),
        "room": Key(("string", "null"), "that sensor's room"),
    },
    "monitoring_gap": _ENDED | {"sensors": _names("the sensors working again (ids)")},
}


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
