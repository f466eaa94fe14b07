"""What a carer answers to an alert: it was needed (``confirmed``), or it was not, and why. An
answer arrives on the carers' broker, ``<prefix>/<household>/answers/<alert id>``, as JSON
``{"answer": "was_fine", "by": "Sarah", "note": "watching the cricket"}``; ``by`` is the
recipient's name as the household's YAML gives it.

An answer that the episode was ordinary in this home (``was_fine``, ``false_alarm``) lets Hearth
learn it after all, as the household's own ``ordinary`` does: the alert held that episode out
of what is learned. A visitor or an absence explains an alert without making it the resident's
routine, so those are not learned. Learning an episode never silences an urgent detector: the
limits no learning moves (``long_lie``, ``ceiling``) still hold. A ``snooze`` (``"for": "2h"``,
at most the YAML's ``alerts.longest_snooze``) holds back new alerts of that type for that long,
and every recipient told of the resident is told that it did.

>>> a = parse_answer("hearth/h1/answers/" + "0" * 8 + "-0000-5000-8000-" + "0" * 12,
...                  b'{"answer": "was_fine", "by": "Sarah"}', "hearth", "h1")
>>> (a.answer, a.by, a.learned)
('was_fine', 'Sarah', True)
>>> precision([Answered("a1", "confirmed"), Answered("a2", "visitor")]).words()
'2 alerts answered: 1 needed, 1 not (visitor 1); precision 0.50'
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass

from models.alert_policy import ALERT_ID_PATTERN

ANSWERS = ("confirmed", "false_alarm", "was_fine", "visitor", "away", "snooze")
# In words, for the audit and ``hearth listen``.
SAID = {
    "confirmed": "the alert was needed",
    "false_alarm": "a false alarm",
    "was_fine": "all was well: the usual in this home",
    "visitor": "a visitor explains it",
    "away": "the resident was away",
    "snooze": "no more alerts of this kind for a while",
}
# The episode was ordinary for her: learn it after all.
LEARNED = frozenset({"was_fine", "false_alarm"})
ALERT_ID = re.compile(ALERT_ID_PATTERN)
LONGEST_NAME = 80
LONGEST_NOTE = 500


class AnswerError(ValueError):
    """An answer that is not one: said why, and dropped (counted)."""


@dataclass(frozen=True, slots=True)
class Answer:
    alert_id: str
    answer: str
    by: str
    note: str = ""
    # For a snooze: how long, as written ("2h"); the agent reads it and holds it to the YAML's
    # alerts.longest_snooze.
    for_: str = ""

    @property
    def learned(self) -> bool:
        return self.answer in LEARNED

    def to_json(self) -> dict[str, str]:
        out = {"alert": self.alert_id, "answer": self.answer, "by": self.by, "note": self.note}
        return out | ({"for": self.for_} if self.for_ else {})


def answers_topic(prefix: str, household: str, alert_id: str = "+") -> str:
    return f"{prefix}/{household}/answers/{alert_id}"


def parse_answer(topic: str, payload: bytes, prefix: str, household: str) -> Answer:
    head = f"{prefix}/{household}/answers/"
    if not topic.startswith(head):
        raise AnswerError(f"not an answers topic of {household}: {topic}")
    alert_id = topic[len(head) :].lower()
    if not ALERT_ID.match(alert_id):
        raise AnswerError(f"{topic}: the last level must be the alert's id, as the alert has it")
    try:
        doc = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AnswerError(f"the answer to {alert_id} is not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise AnswerError(f'the answer to {alert_id} is not {{"answer": ..., "by": ...}}')
    unknown = set(doc) - {"answer", "by", "note", "for"}
    if unknown:
        keys = ", ".join(sorted(unknown))
        raise AnswerError(f"the answer to {alert_id} has unknown keys: {keys}")
    answer, by, note = doc.get("answer"), doc.get("by"), doc.get("note", "")
    if answer not in ANSWERS:
        raise AnswerError(f"unknown answer {answer!r} to {alert_id}; known: {', '.join(ANSWERS)}")
    if not isinstance(by, str) or not by.strip() or len(by) > LONGEST_NAME:
        raise AnswerError(f"the answer to {alert_id} must say who gives it (by: their name)")
    if not isinstance(note, str) or len(note) > LONGEST_NOTE:
        raise AnswerError(f"the answer to {alert_id}: note must be text of {LONGEST_NOTE} at most")
    how_long = doc.get("for", "")
    if answer == "snooze" and (not isinstance(how_long, str) or not how_long.strip()):
        raise AnswerError(f'a snooze of {alert_id} must say how long: "for": "2h"')
    if answer != "snooze" and "for" in doc:
        raise AnswerError(f"the answer to {alert_id}: only a snooze has a for")
    return Answer(alert_id, answer, by.strip(), note.strip(), str(how_long).strip())


@dataclass(frozen=True, slots=True)
class Answered:
    """An alert's answer, as the audit recorded it: the last one given counts."""

    alert_id: str
    answer: str


@dataclass(frozen=True, slots=True)
class Precision:
    needed: int
    not_needed: Counter[str]

    @property
    def answered(self) -> int:
        return self.needed + sum(self.not_needed.values())

    @property
    def value(self) -> float | None:
        return None if self.answered == 0 else self.needed / self.answered

    def words(self) -> str:
        if self.value is None:
            return "no alert answered yet"
        why = ", ".join(f"{k.replace('_', ' ')} {n}" for k, n in sorted(self.not_needed.items()))
        nots = sum(self.not_needed.values())
        return (
            f"{self.answered} alerts answered: {self.needed} needed, {nots} not"
            + (f" ({why})" if why else "")
            + f"; precision {self.value:.2f}"
        )


def precision(answers: list[Answered]) -> Precision:
    """Of the alerts the carers answered, the share they say was needed; a later answer to one
    alert replaces an earlier, and a snooze says neither."""
    last = {a.alert_id: a.answer for a in answers if a.answer != "snooze"}  # no verdict
    nots = Counter(v for v in last.values() if v != "confirmed")
    return Precision(sum(1 for v in last.values() if v == "confirmed"), nots)
