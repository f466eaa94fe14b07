"""A finding: what a detector saw, with its evidence, before the alert policy decides on it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Severity = Literal["urgent", "warning", "info", "technical"]
# Every alert type Hearth raises: carers' (the detectors') and technicians' (sensor health).
ALERT_TYPES = (
    "inactivity",
    "missed_morning",
    "night_exit",
    "not_returned",
    "night_restlessness",
    "digest",
    "weekly_summary",
    "monitoring_gap",
    "sensor_silent",
    "sensor_offline",
    "battery_low",
    "household_control",
    "agent_fault",
    "storage_full",
)
# Alerts about the equipment, for the technician; every other type is for the carers.
TECHNICAL_TYPES = frozenset(
    {"sensor_silent", "sensor_offline", "battery_low", "agent_fault", "storage_full"}
)
JsonValue = str | int | float | bool | None | list["JsonValue"] | dict[str, "JsonValue"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One deviation from the learned routine.

    ``episode`` names the deviation so that the alert policy raises it once: the same
    inactivity spell, the same morning.

    ``silence_since`` is the last sign of life, for a finding about its absence (inactivity, a
    missed morning). One that ``covers_silence`` stands, once raised, for the rest of that
    silence: "her day has not begun" already tells the carers all that "still no movement" hours
    later would, so the policy holds such later findings back.

    ``holds`` names what the episode would teach the routine (a learner of
    ``models.routine.held`` and which episode): once raised, it is not learned as ordinary.

    ``headline`` says it in one line a phone shows whole: what is unusual, where, since when,
    and how unusual (``models.what_to_do.title`` puts the home's name before it); when empty,
    the summary's first sentence is used.
    """

    type: str
    severity: Severity
    started_at: datetime
    detected_at: datetime
    summary: str
    episode: str
    evidence: dict[str, JsonValue] = field(default_factory=dict)
    silence_since: datetime | None = None
    covers_silence: bool = False
    holds: tuple[str, str] | None = None
    headline: str = ""
    # The episodes of other findings this one tells together (sensors failing at once): raised
    # with it, and never apart.
    covers: tuple[str, ...] = ()
