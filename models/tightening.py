"""What the carers' false alarms teach (``models.carers_answers``): an alert they call a false
alarm, or "all was well", in a context (its hour, the room she was last in, a weekday or the
weekend) makes that detector wait longer there before alerting again.

The limits, so that no answer can silence an urgent detector:

- only the learned limit moves; the fixed ones (``long_lie`` by day, ``ceiling``) never do;
- a stillness waits at most twice its learned limit (each answer adds half), and never past
  the long-lie limit (2 h unless set), by day or night; the others wait, past when they were
  first found, half an hour more for each answer up to an hour (a missed morning, an outing
  not returned from), a quarter of an hour up to half an hour (restlessness at night), ten
  minutes up to twenty (a door at night);
- an answer counts for ``KEEP_DAYS`` (60), then is forgotten;
- every answer is in the audit, and ``hearth status`` lists what is tightened where.

>>> from datetime import UTC, datetime, timedelta
>>> from zoneinfo import ZoneInfo
>>> from models.finding import Finding
>>> tz, t = ZoneInfo("UTC"), datetime(2026, 3, 25, 13, 38, tzinfo=UTC)
>>> still = Finding("inactivity", "urgent", t, t + timedelta(minutes=110), "Still.", "i:1",
...                 evidence={"quiet_minutes": 110.0, "alert_after_minutes": 110.0,
...                           "basis": "learned", "last_activity_room": "lounge"})
>>> tight = Tightening()
>>> tight.add(place_of(still, tz), t)
>>> tight.gate([still], t + timedelta(minutes=110), tz)
[]
>>> tight.wait_of(still, tz)
1.5
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from models.finding import Finding

KEEP_DAYS = 60
# Each answer: a stillness waits half its learned limit more (at most twice it).
STILLNESS_STEP, STILLNESS_MOST = 0.5, 2.0
# The others, minutes more past when it was first found, for each answer and at most: a door
# at night least of all (she may be out in the cold), an outing and a late morning most.
EXTRA_MIN = {
    "missed_morning": (30.0, 60.0),
    "not_returned": (30.0, 60.0),
    "night_restlessness": (15.0, 30.0),
    "night_exit": (10.0, 20.0),
}
TIGHTENED = ("inactivity", *EXTRA_MIN)


@dataclass(frozen=True, slots=True)
class Place:
    """Where in the week and the home an alert came: what a false alarm there teaches."""

    type: str
    hour: int
    room: str
    weekend: bool

    def near(self, other: Place) -> bool:
        hours = min((self.hour - other.hour) % 24, (other.hour - self.hour) % 24)
        same = (self.type, self.room, self.weekend) == (other.type, other.room, other.weekend)
        return same and hours <= 1

    def words(self) -> str:
        where = f" in the {self.room}" if self.room else ""
        days = "weekends" if self.weekend else "weekdays"
        kind = self.type.replace("_", " ")
        return f"{kind}{where}, around {self.hour:02d}:00 (±1 h), on {days}"


def place_of(finding: Finding, tz: tzinfo) -> Place:
    local = finding.started_at.astimezone(tz)
    room = finding.evidence.get("last_activity_room")
    return Place(
        finding.type, local.hour, room if isinstance(room, str) else "", local.weekday() >= 5
    )


def place_of_alert(doc: dict[str, Any], tz: tzinfo) -> Place | None:
    """The place of an alert as it was sent (its JSON), if its type is one that tightens."""
    if doc.get("type") not in TIGHTENED or not isinstance(doc.get("started_at"), str):
        return None
    evidence = doc.get("evidence") if isinstance(doc.get("evidence"), dict) else {}
    local = datetime.fromisoformat(doc["started_at"]).astimezone(tz)
    room = evidence.get("last_activity_room") if evidence else None
    return Place(
        str(doc["type"]), local.hour, room if isinstance(room, str) else "", local.weekday() >= 5
    )


@dataclass
class Tightening:
    answers: list[tuple[Place, datetime]] = field(default_factory=list)
    # The alerts already taught from: one alert teaches once, however often it is answered.
    taught: set[str] = field(default_factory=set)
    long_lie: timedelta = timedelta(hours=2)
    # When each tightened episode was first found (not saved: after a restart, from then).
    first_found: dict[str, datetime] = field(default_factory=dict)

    def add(self, place: Place, at: datetime, alert_id: str = "") -> None:
        if alert_id and alert_id in self.taught:
            return
        self.taught.add(alert_id)
        self.answers.append((place, at))

    def forget_before(self, now: datetime) -> None:
        oldest = now - timedelta(days=KEEP_DAYS)
        self.answers = [(p, at) for p, at in self.answers if at >= oldest]
        if not self.answers:
            self.taught.clear()  # none left to count twice

    def count(self, place: Place) -> int:
        return sum(1 for p, _ in self.answers if p.near(place))

    def wait_of(self, finding: Finding, tz: tzinfo) -> float:
        """For a stillness: how many times its learned limit it waits (1: as learned)."""
        n = self.count(place_of(finding, tz))
        return min(1.0 + STILLNESS_STEP * n, STILLNESS_MOST)

    def gate(self, findings: list[Finding], now: datetime, tz: tzinfo) -> list[Finding]:
        """The findings that are unusual enough here, with what the carers have said."""
        self.forget_before(now)
        if not self.answers:
            return findings
        out = []
        seen = {f.episode for f in findings}
        self.first_found = {e: at for e, at in self.first_found.items() if e in seen}
        for f in findings:
            self.first_found.setdefault(f.episode, now)
            due = self.due(f, tz)
            if due is not None and now < due:
                continue
            out.append(f)
        return out

    def due(self, f: Finding, tz: tzinfo) -> datetime | None:
        """When a tightened finding may pass (None: it is not tightened)."""
        if f.type not in TIGHTENED or not self.answers:
            return None
        n = self.count(place_of(f, tz))
        if n == 0:
            return None
        if f.evidence.get("basis") in ("long_lie", "safety_ceiling"):
            return None  # the fixed limits never move
        if f.type == "inactivity":
            limit = f.evidence.get("alert_after_minutes")
            if f.evidence.get("basis") != "learned" or not isinstance(limit, int | float):
                return None
            factor = min(1.0 + STILLNESS_STEP * n, STILLNESS_MOST)
            wait = min(
                timedelta(minutes=limit * factor), max(self.long_lie, timedelta(minutes=limit))
            )
            return f.started_at + wait
        step, most = EXTRA_MIN[f.type]
        first = self.first_found.get(f.episode, f.detected_at)
        return first + timedelta(minutes=min(step * n, most))

    def words(self) -> list[str]:
        """What is tightened where, for ``hearth status``."""
        out: dict[Place, int] = {}
        for p, _ in self.answers:
            key = next((q for q in out if q.near(p)), p)
            out[key] = out.get(key, 0) + 1
        return [
            f"{p.words()}: waits longer after {n} false alarm{'s' * (n > 1)}"
            for p, n in out.items()
        ]

    def to_state(self) -> dict[str, Any]:
        answers = [
            {"type": p.type, "hour": p.hour, "room": p.room, "weekend": p.weekend,
             "at": at.isoformat()}
            for p, at in self.answers
        ]  # fmt: skip
        return {"answers": answers, "taught": sorted(a for a in self.taught if a)}

    @classmethod
    def from_state(
        cls, state: dict[str, Any] | list[dict[str, Any]], long_lie: timedelta | None = None
    ) -> Tightening:
        saved: dict[str, Any] = state if isinstance(state, dict) else {"answers": state}
        answers = []
        for a in saved.get("answers", []):
            place = Place(a["type"], int(a["hour"]), a["room"], bool(a["weekend"]))
            answers.append((place, datetime.fromisoformat(a["at"])))
        taught = {str(a) for a in saved.get("taught", [])}
        return cls(answers, taught, long_lie or timedelta(hours=2))
