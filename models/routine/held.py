"""Episodes kept out of the learned routine: an urgent alert's quiet spell, outing, morning or
night is not learned as ordinary, so that the second night-time wandering is as unusual as the
first, unless the household or the carers say it was ordinary (``hearth ordinary``).

A held episode goes on being recorded as a fact (the day's records count it); only the models
of what is usual leave it out. Once it is over, what it would have taught is kept with it, so
that saying "ordinary" later teaches it then (at the weight it would have by now). After
``HOLD_DAYS`` it is dropped: an episode nobody called ordinary stays out.

>>> from datetime import datetime, timezone
>>> h = Withheld()
>>> t = datetime(2026, 3, 28, 3, 10, tzinfo=timezone.utc)
>>> h.hold("a1", "outing", t.isoformat(), t)
>>> h.holding("outing", t.isoformat())
'a1'
>>> h.keep("a1", {"length_s": 10800.0})
>>> h.release("a1").kept
{'length_s': 10800.0}
>>> h.holding("outing", t.isoformat()) is None
True
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

Learner = Literal["spell", "outing", "morning", "night"]
LEARNERS: tuple[Learner, ...] = ("spell", "outing", "morning", "night")
# Held this long without being called ordinary, an episode is dropped: it is never learned.
HOLD_DAYS = 28
# More held at once than this, and the oldest is dropped (an alert storm must not grow state).
MOST_HELD = 64


@dataclass
class Held:
    learner: Learner
    # Which episode: when the spell or outing began (ISO), the morning's date, the night.
    key: str
    alerted_at: datetime
    # What it would have taught, once it is over; None while it goes on.
    kept: dict[str, Any] | None = None


class Withheld:
    def __init__(self) -> None:
        self.by_alert: dict[str, Held] = {}

    def hold(self, alert_id: str, learner: Learner, key: str, at: datetime) -> None:
        if alert_id not in self.by_alert:
            self.by_alert[alert_id] = Held(learner, key, at)
        while len(self.by_alert) > MOST_HELD:
            del self.by_alert[next(iter(self.by_alert))]

    def holding(self, learner: Learner, key: str) -> str | None:
        """The alert holding this episode back from ``learner``, if one does."""
        if not self.by_alert:
            return None  # asked at every sign of life: nearly always nothing is held
        for alert_id, h in self.by_alert.items():
            if h.learner == learner and h.key == key and h.kept is None:
                return alert_id
        return None

    def keep(self, alert_id: str, kept: dict[str, Any]) -> None:
        """The episode is over: this is what it would have taught."""
        self.by_alert[alert_id].kept = kept

    def release(self, alert_id: str) -> Held | None:
        """Called ordinary: no longer held (what it kept, if over, is for the caller to learn)."""
        return self.by_alert.pop(alert_id, None)

    def redate(self, learner: Learner, old: str, new: str) -> None:
        """The clock set by days: an episode of ``learner`` known as ``old`` is now ``new``."""
        for h in self.by_alert.values():
            if h.learner == learner and h.key == old:
                h.key = new

    def expire(self, now: datetime) -> None:
        oldest = now - timedelta(days=HOLD_DAYS)
        for alert_id in [a for a, h in self.by_alert.items() if h.alerted_at < oldest]:
            del self.by_alert[alert_id]

    def to_state(self) -> dict[str, Any]:
        return {
            alert_id: {
                "learner": h.learner,
                "key": h.key,
                "alerted_at": h.alerted_at.isoformat(),
                "kept": h.kept,
            }
            for alert_id, h in self.by_alert.items()
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Withheld:
        w = cls()
        for alert_id, h in state.items():
            learner = h["learner"]
            if learner not in LEARNERS:
                raise ValueError(f"held episode of an unknown learner {learner!r}")
            w.by_alert[alert_id] = Held(
                learner, h["key"], datetime.fromisoformat(h["alerted_at"]), h["kept"]
            )
        return w
