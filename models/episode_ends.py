"""The end of an episode, told to whoever was told of it: movement again after a stillness, a
missed morning or an outing ("Movement again at 15:52, in the kitchen"), and monitoring
resumed once the sensors a ``monitoring_gap`` named work again. Without it nothing tells the
carers that the worry is over, and one of them drives round to a home where all is well.

An ended message keeps its alert's type and severity, so that it reaches exactly the
recipients who agreed to the alert, on the same topic; ``Alert.ends`` names the alert it ends.

>>> from datetime import datetime, timezone
>>> from zoneinfo import ZoneInfo
>>> from models.events import SensorEvent
>>> from models.household import Household, SensorInfo
>>> kitchen = SensorInfo("k", "motion", "kitchen", None)
>>> home = Household("h1", ZoneInfo("Europe/London"), (kitchen,))
>>> at = datetime(2026, 3, 28, 13, 38, tzinfo=timezone.utc)
>>> raised = Alert("a1", "h1", "inactivity", "urgent", at, at.replace(hour=15), "No movement.",
...                {}, memory={"episode": "inactivity:x"})
>>> ends = EpisodeEnds()
>>> ends.opened(raised, at)
>>> ends.observe(SensorEvent(at.replace(hour=15, minute=52), "k", "motion", 1.0), home)
>>> (ended,) = ends.due(home)
>>> ended.ends, ended.headline
('a1', 'Movement again at 15:52, in the kitchen, after none since 13:38 (2 h 14 min).')
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from models.alert_policy import ALERT_NAMESPACE, Alert
from models.detectors.wording import duration_text
from models.events import SensorEvent
from models.finding import JsonValue, Severity
from models.household import Household
from models.what_to_do import HEADLINE_MOST

# Alerts about an absence of life: the first sign of life after one ends it.
SILENCES = frozenset({"inactivity", "missed_morning", "night_exit", "not_returned"})
# Those about an outing: only a sign of life indoors ends them (``presence_sensors``, as the
# detectors judge a return), not an outside door shut behind her or its state sent again.
OUTINGS = frozenset({"night_exit", "not_returned"})
ENDED = "ended"


@dataclass(frozen=True, slots=True)
class Open:
    """An alert whose episode has not ended yet: what its end needs to say."""

    alert_id: str
    episode: str
    type: str
    severity: Severity
    started_at: datetime
    raised_at: datetime
    since: datetime  # the last sign of life before it (a silence), or the gap's start
    sensors: tuple[str, ...] = ()  # a monitoring gap's broken sensors

    def to_state(self) -> dict[str, Any]:
        return {
            "alert_id": self.alert_id,
            "episode": self.episode,
            "type": self.type,
            "severity": self.severity,
            "started_at": self.started_at.isoformat(),
            "raised_at": self.raised_at.isoformat(),
            "since": self.since.isoformat(),
            "sensors": list(self.sensors),
        }

    @classmethod
    def from_state(cls, s: dict[str, Any]) -> Open:
        at = datetime.fromisoformat
        return cls(
            s["alert_id"], s["episode"], s["type"], s["severity"], at(s["started_at"]),
            at(s["raised_at"]), at(s["since"]), tuple(s["sensors"]),
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Ending:
    episode: Open
    at: datetime
    sensor: str | None  # the sign of life that ended a silence


class EpisodeEnds:
    """The alerts still open, and the ends seen since the last tick."""

    def __init__(self) -> None:
        self.open: dict[str, Open] = {}
        self._ended: list[_Ending] = []

    @property
    def pending(self) -> bool:
        return bool(self._ended)

    def opened(self, alert: Alert, since: datetime | None, sensors: tuple[str, ...] = ()) -> None:
        """``alert`` was raised: a silence's (``since``: its last sign of life), or a
        monitoring gap's (``sensors``: those broken). Others have no end to tell."""
        if alert.ends is not None or (alert.type not in SILENCES and not sensors):
            return
        episode = str(alert.memory.get("episode", alert.id))
        self.open[alert.id] = Open(
            alert.id, episode, alert.type, alert.severity, alert.started_at, alert.detected_at,
            since or alert.started_at, sensors,
        )  # fmt: skip

    def observe(self, event: SensorEvent, household: Household) -> None:
        """A sign of life ends every silence it comes after (an outing's: indoors)."""
        if not event.is_activity or household.sensor(event.sensor) is None:
            return
        indoors = event.sensor in household.presence_sensors()
        for key, o in list(self.open.items()):
            if o.type in SILENCES and event.at > o.since and (indoors or o.type not in OUTINGS):
                del self.open[key]
                self._ended.append(_Ending(o, event.at, event.sensor))

    def working(self, broken: set[str], now: datetime) -> None:
        """The sensors broken now: a gap none of whose sensors is among them has ended."""
        for key, o in list(self.open.items()):
            if o.sensors and not broken & set(o.sensors):
                del self.open[key]
                self._ended.append(_Ending(o, now, None))

    def reopen(self, alert_id: str, memory: dict[str, JsonValue]) -> None:
        """An alert raised after the last save (its memory, ``memory_of``): open again,
        unless its end was already seen."""
        kind, at = memory.get("type"), memory.get("detected_at")
        since = memory.get("silence" if kind == "missed_morning" else "since")
        started = memory.get("started_at", since)  # rows of the release before had none
        broken = memory.get("broken")
        sensors = tuple(str(s) for s in broken) if isinstance(broken, list) else ()
        if not (isinstance(since, str) and isinstance(at, str) and isinstance(started, str)):
            return
        if kind not in SILENCES and not (kind == "monitoring_gap" and sensors):
            return
        if alert_id in self.open or any(e.episode.alert_id == alert_id for e in self._ended):
            return
        severity: Severity = "warning" if kind == "monitoring_gap" else "urgent"
        self.open[alert_id] = Open(
            alert_id, str(memory.get("episode", alert_id)), str(kind), severity,
            datetime.fromisoformat(started), datetime.fromisoformat(at),
            datetime.fromisoformat(since), sensors,
        )  # fmt: skip

    def shift(self, jump: timedelta) -> None:
        """The wall clock set by ``jump`` without time passing: each episode began as long
        ago as it did."""
        self.open = {
            k: replace(o, started_at=o.started_at + jump, raised_at=o.raised_at + jump,
                       since=o.since + jump)
            for k, o in self.open.items()
        }  # fmt: skip
        self._ended = [replace(e, at=e.at + jump) for e in self._ended]

    def drop_due(self, since: datetime | None) -> int:
        """The ends seen since ``since``, while the household has paused alerts to carers (or
        is away; None: since before this run): not told, as nothing is meanwhile. An end seen
        before the pause is told. Returns how many were not."""
        kept = [e for e in self._ended if since is not None and e.at < since]
        n = len(self._ended) - len(kept)
        self._ended = kept
        return n

    def closed(self, alert_id: str) -> None:
        """An ended message for this alert was sent before a restart: it is not open."""
        self.open.pop(alert_id, None)

    def due(self, household: Household) -> list[Alert]:
        """The ended messages for the ends seen since the last call."""
        out = [_message(e, household) for e in self._ended]
        self._ended.clear()
        return out

    def to_state(self) -> dict[str, Any]:
        """The open episodes, and the ends seen but not yet told (a stop between the two
        must not lose one: the sign of life that ended it is before the save)."""
        return {
            "open": [o.to_state() for o in self.open.values()],
            "ended": [
                {**e.episode.to_state(), "ended_at": e.at.isoformat(), "by": e.sensor}
                for e in self._ended
            ],
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> EpisodeEnds:
        ends = cls()
        for s in state.get("open", []):
            o = Open.from_state(s)
            ends.open[o.alert_id] = o
        for s in state.get("ended", []):
            at = datetime.fromisoformat(s["ended_at"])
            ends._ended.append(_Ending(Open.from_state(s), at, s["by"]))
        return ends


def _message(e: _Ending, household: Household) -> Alert:
    o, tz = e.episode, household.tz
    # A day or more ago: with its date, else "13:38" would read as today's.
    dated = "%a %d %b %H:%M" if e.at - o.since >= timedelta(hours=20) else "%H:%M"
    at, since = f"{e.at.astimezone(tz):%H:%M}", f"{o.since.astimezone(tz):{dated}}"
    lasted = duration_text((e.at - o.since).total_seconds())
    evidence: dict[str, JsonValue] = {
        "ended_at": e.at.isoformat(),
        "lasted_minutes": round((e.at - o.since).total_seconds() / 60, 1),
    }
    if e.sensor is not None:
        info = household.sensor(e.sensor)
        room = info.room if info else None
        where = f", in the {room}" if room else ""
        headline = f"Movement again at {at}{where}, after none since {since} ({lasted})."
        summary = f"{headline} This ends the alert raised at {o.raised_at.astimezone(tz):%H:%M}."
        evidence |= {"sensor": e.sensor, "room": room}
    else:
        names = " and ".join(_sensor_text(household, s) for s in o.sensors)
        headline = f"Monitoring resumed at {at}: the {names} works again, after {lasted}."
        if len(o.sensors) > 1 or len(headline) > HEADLINE_MOST:
            headline = f"Monitoring resumed at {at}: {len(o.sensors)} sensors work again."
        summary = f"{headline} The alerts paused since {since} can come again."
        evidence |= {"sensors": list[JsonValue](list(o.sensors))}
    return Alert(
        id=str(uuid.uuid5(ALERT_NAMESPACE, f"{household.id}/{o.episode}/{ENDED}")),
        household=household.id,
        type=o.type,
        severity=o.severity,
        started_at=o.started_at,
        detected_at=e.at,
        summary=summary,
        evidence=evidence,
        memory={"ends": o.alert_id, "type": o.type, "detected_at": e.at.isoformat()},
        headline=headline,
        ends=o.alert_id,
    )


def _sensor_text(household: Household, sensor: str) -> str:
    info = household.sensor(sensor)
    return f"{info.room} sensor ({sensor})" if info else sensor
