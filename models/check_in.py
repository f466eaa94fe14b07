"""A check-in before the call (off unless the household's YAML turns it on): when a stillness or
a missed morning first becomes unusual, Hearth asks the resident (a Zigbee button's LED, a smart
speaker, a tablet, on the home broker) and waits a few minutes before the carers are alerted.

- No answer within ``wait``: the alert goes to the carers at once, saying it was asked.
- An answer (a press of the button, or movement indoors: a motion sensor seeing someone, not
  its battery or signal report) holds that episode back for ``recheck``, a stillness at most
  the long-lie limit past the question. An answer says she is all right now, not for the rest
  of the day: if the same stillness or late morning is still found after that, the alert goes
  out, without asking again.
- An episode that ends while Hearth is asking (she got up, the kettle went on) is never sent.

Every ask, answer and outcome is kept in ``records``, for the audit. The episodes being asked
about are saved with the routine.

>>> from datetime import UTC, datetime, timedelta
>>> from models.finding import Finding
>>> c = CheckIns(CheckInSettings(enabled=True))
>>> at = datetime(2026, 3, 28, 15, 28, tzinfo=UTC)
>>> still = Finding("inactivity", "urgent", at, at, "No movement.", "inactivity:1")
>>> c.gate([still], at), c.gate([still], at + timedelta(minutes=5)) == [still]
([], True)
>>> [r["check_in"] for r in c.records]
['asked', 'not answered']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from models.detectors.wording import duration_text
from models.finding import Finding

ASKED_ABOUT = ("inactivity", "missed_morning")


@dataclass(frozen=True, slots=True)
class CheckInSettings:
    enabled: bool = False
    wait: timedelta = timedelta(minutes=5)
    recheck: timedelta = timedelta(hours=1)
    types: tuple[str, ...] = ASKED_ABOUT
    # The inactivity detector's long-lie limit: an answer holds a stillness back no longer
    # than this past the question (a press made from the floor must not hold it for hours).
    long_lie: timedelta = timedelta(hours=2)


@dataclass
class Ask:
    type: str
    asked_at: datetime
    # When the resident answered (a press, or movement), and how; None while unanswered.
    answered_at: datetime | None = None
    how: str = ""
    told: bool = False  # let through to the alert policy


@dataclass
class CheckIns:
    settings: CheckInSettings = field(default_factory=CheckInSettings)
    asking: dict[str, Ask] = field(default_factory=dict)
    # For the audit, and for the home broker (``questions``): taken by the agent.
    records: list[dict[str, Any]] = field(default_factory=list)
    questions: list[dict[str, Any]] = field(default_factory=list)

    def gate(self, findings: list[Finding], now: datetime) -> list[Finding]:
        """The findings the alert policy may see at ``now``; the rest are being asked about."""
        out = []
        found = {f.episode for f in findings}
        for episode in [e for e, a in self.asking.items() if e not in found]:
            over = self.asking.pop(episode)
            if not over.told:
                self._record("over before the call", episode, over, now)
        for f in findings:
            if not self.settings.enabled or f.type not in self.settings.types:
                out.append(f)
                continue
            ask = self.asking.get(f.episode)
            if ask is None:
                self.asking[f.episode] = Ask(f.type, now)
                self._record("asked", f.episode, self.asking[f.episode], now)
                self.questions.append({"episode": f.episode, "type": f.type, "asked_at": now,
                                       "answer_by": now + self.settings.wait})  # fmt: skip
                del self.questions[:-100]  # a replay takes none: kept short
            elif ask.told or now >= self._until(ask):
                if not ask.told:
                    ask.told = True
                    self._record("not answered" if ask.answered_at is None else "still so",
                                 f.episode, ask, now)  # fmt: skip
                out.append(f)
        return out

    def answered(self, at: datetime, how: str) -> None:
        """The resident answered (``how``: 'the button', 'movement in the hall'): each open
        question is answered."""
        for episode, ask in self.asking.items():
            if ask.answered_at is None and not ask.told and at >= ask.asked_at:
                ask.answered_at, ask.how = at, how
                self._record("answered", episode, ask, at)

    def unreachable(self, now: datetime) -> None:
        """The question cannot reach the resident (the home broker is down): no wait."""
        for ask in self.asking.values():
            if ask.answered_at is None:
                ask.asked_at = now - self.settings.wait

    def asked(self, episode: str, tz: tzinfo) -> str | None:
        """For the alert's context: what the check-in found, if one was made."""
        ask = self.asking.get(episode)
        if ask is None:
            return None
        when = f"{ask.asked_at.astimezone(tz):%H:%M}"
        if ask.answered_at is None:
            wait = duration_text(self.settings.wait.total_seconds())
            return f"Hearth asked the resident at {when} and had no answer in {wait}."
        answered = f"{ask.answered_at.astimezone(tz):%H:%M}"
        return (
            f"Hearth asked the resident at {when} and was answered at {answered} ({ask.how}),"
            " but it went on."
        )

    def shift(self, jump: timedelta) -> None:
        """The wall clock set by ``jump`` without time passing: a question asked a minute ago
        was still asked a minute ago, and its episode (named by when it began, which moved
        with the clock) is the same one."""
        moved = {}
        for episode, ask in self.asking.items():
            ask.asked_at += jump
            if ask.answered_at is not None:
                ask.answered_at += jump
            moved[shifted_episode(episode, jump)] = ask
        self.asking = moved

    def next_due(self) -> datetime | None:
        """When a question's wait, or an answer's recheck, runs out."""
        times = [self._until(a) for a in self.asking.values() if not a.told]
        return min(times) if times else None

    def holding(self) -> frozenset[str]:
        """The types being asked about: found, and not yet for the alert policy."""
        return frozenset(a.type for a in self.asking.values() if not a.told)

    def _until(self, ask: Ask) -> datetime:
        if ask.answered_at is None:
            return ask.asked_at + self.settings.wait
        held = ask.answered_at + self.settings.recheck
        if ask.type == "inactivity":
            return min(held, ask.asked_at + max(self.settings.long_lie, self.settings.wait))
        return held

    def _record(self, what: str, episode: str, ask: Ask, at: datetime) -> None:
        self.records.append({"check_in": what, "episode": episode, "type": ask.type,
                             "asked_at": ask.asked_at.isoformat(), "at": at.isoformat(),
                             "how": ask.how})  # fmt: skip
        del self.records[:-100]

    def to_state(self) -> dict[str, Any]:
        return {
            e: {"type": a.type, "asked_at": a.asked_at.isoformat(), "how": a.how, "told": a.told,
                "answered_at": a.answered_at.isoformat() if a.answered_at else None}
            for e, a in self.asking.items()
        }  # fmt: skip

    @classmethod
    def from_state(cls, state: dict[str, Any], settings: CheckInSettings) -> CheckIns:
        c = cls(settings)
        for e, a in state.items():
            answered = a.get("answered_at")
            c.asking[e] = Ask(a["type"], datetime.fromisoformat(a["asked_at"]),
                              datetime.fromisoformat(answered) if answered else None,
                              a.get("how", ""), bool(a.get("told")))  # fmt: skip
        return c


def shifted_episode(episode: str, jump: timedelta) -> str:
    """An episode named by an instant (``inactivity:<when it began>``), as it is named once
    the clock moved by ``jump``; one named by a day keeps its name.

    >>> shifted_episode("inactivity:2026-03-28T13:38:00+00:00", timedelta(hours=1))
    'inactivity:2026-03-28T14:38:00+00:00'
    >>> shifted_episode("missed_morning:2026-03-28", timedelta(hours=1))
    'missed_morning:2026-03-28'
    """
    kind, _, when = episode.partition(":")
    if "T" not in when:
        return episode
    try:
        return f"{kind}:{(datetime.fromisoformat(when) + jump).isoformat()}"
    except ValueError:
        return episode
