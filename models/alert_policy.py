"""The alert policy: which findings become alerts (once per episode, after a cooldown, not when
paused)."""

from __future__ import annotations

import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from models.finding import Finding, JsonValue, Severity
from models.what_to_do import first_sentence, suggested_action, title

# What each version changed: docs/schema/CHANGELOG.md.
ALERT_SCHEMA_VERSION = 4
ALERT_NAMESPACE = uuid.UUID("0b7c1f0e-6d1c-4f3e-9a51-4e6f2b7d8a90")
# An alert's id as every alert carries it (a UUID, as ``decide`` makes it).
ALERT_ID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


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
    # What the policy and the routine remember of its episode (see :func:`memory_of`): kept
    # with the alert in the outbox, not sent.
    memory: dict[str, JsonValue] = field(default_factory=dict, compare=False)
    # One line: what, where, since when, how unusual (``Finding.headline``).
    headline: str = ""
    # The alert whose episode this message ends (``models.episode_ends``); None: it raises one.
    ends: str | None = None
    # What Hearth knows around it (``models.alert_context``), for an alert about the resident.
    context: str | None = None

    def to_json(self, home: str | None = None) -> dict[str, JsonValue]:
        """As it leaves the hub; ``home`` is the name the household chose for its home (the
        household's id if none)."""
        return {
            "schema_version": ALERT_SCHEMA_VERSION,
            "id": self.id,
            "household": self.household,
            "type": self.type,
            "severity": self.severity,
            "started_at": self.started_at.isoformat(),
            "detected_at": self.detected_at.isoformat(),
            "phase": "raised" if self.ends is None else "ended",
            "ends": self.ends,
            "title": title(home or self.household, self.headline or first_sentence(self.summary)),
            "summary": self.summary,
            "context": self.context,
            "action": suggested_action(self.type, self.ends is not None),
            "evidence": self.evidence,
        }


def memory_of(finding: Finding) -> dict[str, JsonValue]:
    """What must outlive a crash of an alert raised on ``finding``: its episode (not raised
    twice, under one id), its type and time (the cooldown), the silence it covers, and the
    episode an urgent alert keeps out of learning."""
    holds = finding.holds if finding.severity == "urgent" else None
    broken = finding.evidence.get("sensors") if finding.type == "monitoring_gap" else None
    return {
        "episode": finding.episode,
        "type": finding.type,
        "detected_at": finding.detected_at.isoformat(),
        "silence": (
            finding.silence_since.isoformat()
            if finding.covers_silence and finding.silence_since is not None
            else None
        ),
        # What its end needs (``models.episode_ends``): the last sign of life before it, or the
        # door's opening, when it began, and a monitoring gap's sensors.
        "since": (finding.silence_since or finding.started_at).isoformat(),
        "started_at": finding.started_at.isoformat(),
        "broken": list[JsonValue](list(broken)) if isinstance(broken, dict) else [],
        "holds": None if holds is None else list[JsonValue](holds),
        "covers": list[JsonValue](finding.covers),
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
    NOT_SAVED: ClassVar[frozenset[str]] = frozenset({"suppressed", "decided", "_snoozed_episodes"})

    household: str
    cooldown: dict[str, timedelta] = field(default_factory=dict)
    paused_until: datetime | None = None
    _raised: deque[str] = field(default_factory=lambda: deque(maxlen=512))
    _last_of_type: dict[str, datetime] = field(default_factory=dict)
    # The last sign of life before the silence that a raised alert covers.
    _silence_alerted: datetime | None = None
    # Alert types a carer snoozed, until when (``models.carers_answers``).
    snoozed: dict[str, datetime] = field(default_factory=dict)
    _snoozed_episodes: set[str] = field(default_factory=set)
    suppressed: dict[str, int] = field(default_factory=dict)
    # Alerts decided this run (not saved): the agent saves only when each is in the outbox.
    decided: int = 0

    def decide(self, finding: Finding) -> Alert | None:
        if finding.episode in self._raised:
            return None
        if (
            self.paused_until is not None
            and finding.detected_at < self.paused_until
            and finding.severity != "technical"  # the equipment's state is not the resident's
            and finding.type != "household_control"  # the pause itself is told, and its end
        ):
            self._suppress("paused", finding)
            return None
        until = self.snoozed.get(finding.type)
        if (
            until is not None
            and finding.detected_at < until
            and finding.severity != "technical"
            and finding.type != "household_control"  # a snooze, a pause: always told
        ):
            # Not marked raised (unlike a pause): still going on when the snooze ends, it is
            # raised then. Counted once an episode.
            if finding.episode not in self._snoozed_episodes:
                self._snoozed_episodes.add(finding.episode)
                self.suppressed["snoozed"] = self.suppressed.get("snoozed", 0) + 1
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
        self._raised.extend(finding.covers)
        self._last_of_type[finding.type] = finding.detected_at
        self.decided += 1
        return Alert(
            id=str(uuid.uuid5(ALERT_NAMESPACE, f"{self.household}/{finding.episode}")),
            household=self.household,
            type=finding.type,
            severity=finding.severity,
            started_at=finding.started_at,
            detected_at=finding.detected_at,
            summary=finding.summary,
            evidence=finding.evidence,
            memory=memory_of(finding),
            headline=finding.headline or first_sentence(finding.summary),
        )

    def types_since(self, since: datetime) -> list[str]:
        """The alert types last raised at or after ``since``."""
        return sorted(t for t, at in self._last_of_type.items() if at >= since)

    def raised(self, episode: str) -> bool:
        """An alert was raised on this episode: it is not raised again."""
        return episode in self._raised

    def remember(self, memory: dict[str, JsonValue]) -> None:
        """An alert raised before a restart and kept in the outbox (``Alert.memory``): its
        episode is not raised again, and it counts for the cooldown and the silence it covers.

        >>> from datetime import UTC, datetime
        >>> at = datetime(2026, 3, 1, 9, tzinfo=UTC)
        >>> f = Finding("battery_low", "technical", at, at, "Battery low.", "battery:hall")
        >>> first = AlertPolicy("h1").decide(f)
        >>> after_restart = AlertPolicy("h1")
        >>> after_restart.remember(first.memory)
        >>> after_restart.decide(f) is None
        True
        """
        episode, kind, at = memory["episode"], memory["type"], memory["detected_at"]
        if not (isinstance(episode, str) and isinstance(kind, str) and isinstance(at, str)):
            raise ValueError(f"an alert's memory without its episode, type or time: {memory}")
        covers = memory.get("covers")
        also = [c for c in covers if isinstance(c, str)] if isinstance(covers, list) else []
        for told in (episode, *also):
            if told not in self._raised:
                self._raised.append(told)
        detected = datetime.fromisoformat(at)
        last = self._last_of_type.get(kind)
        if last is None or detected > last:
            self._last_of_type[kind] = detected
        silence = memory.get("silence")
        if isinstance(silence, str):  # remembered in the order raised: the last one stands
            self._silence_alerted = datetime.fromisoformat(silence)

    def shift(self, jump: timedelta) -> None:
        """The wall clock set by ``jump``: cooldowns and the silence raised are as long ago."""
        self._last_of_type = {k: at + jump for k, at in self._last_of_type.items()}
        if self._silence_alerted is not None:
            self._silence_alerted += jump

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
            "snoozed": {k: v.isoformat() for k, v in self.snoozed.items()},
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
        policy.snoozed = {k: datetime.fromisoformat(v) for k, v in state.get("snoozed", {}).items()}
        return policy
