"""Each alert type's severity and evidence, key by key with what each means and its unit: what
``agent.delivery.alert_schema`` publishes. A key a detector adds without saying here what it
means fails the tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from models.alert_policy import ALERT_ID_PATTERN
from models.episode_ends import SILENCES
from models.finding import Severity

_TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)$"
_CLOCK = r"^\d{2}:\d{2}$"
_UUID = ALERT_ID_PATTERN


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
    "weekly_summary": "info",
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
    "weekly_summary": {
        "days_recorded": Key("integer", "whole days of the week recorded"),
        "usual_up": Key(("string", "null"), "getting up, typically (HH:MM)"),
        "usual_to_bed": Key(("string", "null"), "going to bed, typically (HH:MM)"),
        "active_minutes_a_day": Key("number", "minutes with movement a day, on average"),
        "kitchen_uses_a_day": Key("number", "kitchen uses a day, on average"),
        "outings_count": Key("integer", "outings in the week"),
        "night_bathroom_visits_a_night": Key("number", "bathroom visits a night, on average"),
        "changes": _names("the digest's changes against the weeks before, if any"),
        "alerts_this_week": _names("the types the carers were alerted of this week", False),
    },
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
            "string",
            "what the household did, or a carer's snooze",
            extra={"enum": ["pause", "resume", "away", "home", "snooze"]},
        ),
        "until": _time("until when (null: until resumed)", nullable=True),
        "alert_type": Key("string", "for a snooze: the alert type held back", False),
        "by": Key("string", "for a snooze: the recipient who asked for it", False),
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
