"""The alert policy: which findings become alerts (once per episode, after a cooldown, not when
paused)."""

from __future__ import annotations

import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from models.finding import Finding, JsonValue, Severity

ALERT_SCHEMA_VERSION = 1
_ALERT_NAMESPACE = uuid.UUID("0b7c1f0e-6d1c-4f3e-9a51-4e6f2b7d8a90")


@dataclass(frozen=True, slots=True)
class Alert:
    id: str
    household: str
    type: str
    severity: Severity
    started_at: datetime
    detected_at: datetime
    summary: str
    evidence: dict[str, JsonValue]

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "schema_version": ALERT_SCHEMA_VERSION,
            "id": self.id,
            "household": self.household,
            "type": self.type,
            "severity": self.severity,
            "started_at": self.started_at.isoformat(),
            "detected_at": self.detected_at.isoformat(),
            "summary": self.summary,
            "evidence": self.evidence,
        }


@dataclass
class AlertPolicy:
    """Raise each episode once, and a type at most once per cooldown.

    A finding that covers its silence (a missed morning) is the one alert for it: later findings
    about the same silence, with no sign of life since, are held back. Not the other way round:
    after a stillness alert in the night, a morning that does not begin is news.

    The id is derived from the household and episode, so a replay or a restart that sees the
    same episode again produces the same id, and the receiving side can drop the repeat.
    """

    # Counted from this run's start, for the log.
    NOT_SAVED: ClassVar[frozenset[str]] = frozenset({"suppressed"})

    household: str
    cooldown: dict[str, timedelta] = field(default_factory=dict)
    paused_until: datetime | None = None
    _raised: deque[str] = field(default_factory=lambda: deque(maxlen=512))
    _last_of_type: dict[str, datetime] = field(default_factory=dict)
    # The last sign of life before the silence that a raised alert covers.
    _silence_alerted: datetime | None = None
    suppressed: dict[str, int] = field(default_factory=dict)

    def decide(self, finding: Finding) -> Alert | None:
        if finding.episode in self._raised:
            return None
        if (
            self.paused_until is not None
            and finding.detected_at < self.paused_until
            and finding.severity != "technical"  # the equipment's state is not the resident's
        ):
            self._suppress("paused", finding)
            return None
        last = self._last_of_type.get(finding.type)
        wait = self.cooldown.get(finding.type)
        if last is not None and wait is not None and finding.detected_at - last < wait:
            self._suppress("cooldown", finding)
            return None
        if finding.silence_since is not None and finding.silence_since == self._silence_alerted:
            self._suppress("same_silence", finding)
            return None
        if finding.covers_silence:
            self._silence_alerted = finding.silence_since
        self._raised.append(finding.episode)
        self._last_of_type[finding.type] = finding.detected_at
        return Alert(
            id=str(uuid.uuid5(_ALERT_NAMESPACE, f"{self.household}/{finding.episode}")),
            household=self.household,
            type=finding.type,
            severity=finding.severity,
            started_at=finding.started_at,
            detected_at=finding.detected_at,
            summary=finding.summary,
            evidence=finding.evidence,
        )

    def _suppress(self, why: str, finding: Finding) -> None:
        # Marked raised so that the same episode is not raised the moment the pause ends.
        self._raised.append(finding.episode)
        self.suppressed[why] = self.suppressed.get(why, 0) + 1

    def to_state(self) -> dict[str, Any]:
        return {
            "paused_until": self.paused_until.isoformat() if self.paused_until else None,
            "raised": list(self._raised),
            "last_of_type": {k: v.isoformat() for k, v in self._last_of_type.items()},
            "silence_alerted": self._silence_alerted.isoformat() if self._silence_alerted else None,
        }

    @classmethod
    def from_state(
        cls, state: dict[str, Any], household: str, cooldown: dict[str, timedelta] | None = None
    ) -> AlertPolicy:
        policy = cls(household, dict(cooldown or {}))
        policy._raised.extend(state["raised"])
        paused = state["paused_until"]
        policy.paused_until = datetime.fromisoformat(paused) if paused else None
        policy._last_of_type = {
            k: datetime.fromisoformat(v) for k, v in state["last_of_type"].items()
        }
        silence = state["silence_alerted"]
        policy._silence_alerted = datetime.fromisoformat(silence) if silence else None
        return policy
