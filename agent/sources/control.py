"""What the household tells Hearth: away mode, the resident's pause, that an alert was about
something ordinary after all (so that it is learned as part of her routine), and ``fine``: the
resident's answer to a check-in (``models.check_in``), a press of the button.

Commands arrive on the home broker, ``hearth/<household>/control/<command>``, from the
``hearth away|home|pause|resume`` commands or from any home app that can publish MQTT (a button,
a Home Assistant script). They stay in the home: the care team cannot set them.

Payloads: nothing, a duration (``3d``), or JSON ``{"for": "3d"}`` /
``{"until": "2026-12-01T18:00"}``
(local time if no offset is given); for ``ordinary``, the alert's id (or ``{"alert": "<id>"}``).

>>> from datetime import datetime, timezone
>>> from zoneinfo import ZoneInfo
>>> at = datetime(2026, 1, 1, 9, tzinfo=timezone.utc)
>>> c = parse_command("hearth/h1/control/pause", b"2h", "h1", at, ZoneInfo("UTC"))
>>> (c.name, c.until.hour)
('pause', 11)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from agent.config.durations import parse_duration
from agent.errors import ControlError
from models.alert_policy import ALERT_ID_PATTERN

COMMANDS = ("away", "home", "pause", "resume", "ordinary", "fine")
# An alert's id, as every alert carries it (a UUID).
ALERT_ID = re.compile(ALERT_ID_PATTERN)
# Needs an end: an away or pause left on by mistake would silence Hearth for good. How long it
# may be is the YAML's (``controls``, checked by the pipeline); none is read past a year.
LONGEST = timedelta(days=365)


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    until: datetime | None  # for away and pause; None for the others
    # For ordinary: the alert whose episode was ordinary after all.
    alert_id: str | None = None


def control_topic(household: str, command: str = "+") -> str:
    return f"hearth/{household}/control/{command}"


def parse_command(
    topic: str, payload: bytes, household: str, now: datetime, tz: ZoneInfo
) -> Command:
    parts = topic.split("/")
    if len(parts) != 4 or parts[:3] != ["hearth", household, "control"]:
        raise ControlError(f"not a control topic for {household}: {topic}")
    name = parts[3]
    if name not in COMMANDS:
        raise ControlError(f"unknown command {name!r}; known: {', '.join(COMMANDS)}")
    if name in ("home", "resume", "fine"):
        return Command(name, None)
    text = payload.decode("utf-8", "replace").strip()
    if name == "ordinary":
        return Command(name, None, _alert_id(text))
    if not text:
        raise ControlError(f"{name} needs an end: a duration such as 2h, or an 'until' time")
    until = _until(name, _payload(name, text), now, tz)
    if until <= now:
        raise ControlError(f"{name} until {until.isoformat()} is already past")
    if until - now > LONGEST:
        raise ControlError(f"{name} may last at most {LONGEST.days} days")
    return Command(name, until)


def _payload(name: str, text: str) -> object:
    """The payload as JSON if it is an object, else as the text it is."""
    if not text.startswith("{"):
        return text
    try:
        parsed: object = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ControlError(f"{name}: payload is not valid JSON ({exc.msg})") from None
    return parsed


def _alert_id(text: str) -> str:
    spec = _payload("ordinary", text)
    if isinstance(spec, dict):
        spec = spec.get("alert") if set(spec) == {"alert"} else None
    if not isinstance(spec, str) or not ALERT_ID.match(spec.strip().lower()):
        raise ControlError(
            'ordinary needs the id of the alert, as the alert carries it, or {"alert": "<id>"}'
        )
    return spec.strip().lower()


def _until(name: str, spec: object, now: datetime, tz: ZoneInfo) -> datetime:
    try:
        if isinstance(spec, str):
            return now + parse_duration(spec)
        if isinstance(spec, dict) and set(spec) == {"for"}:
            return now + parse_duration(spec["for"])
        if isinstance(spec, dict) and set(spec) == {"until"} and isinstance(spec["until"], str):
            at = datetime.fromisoformat(spec["until"])
            return at if at.tzinfo else at.replace(tzinfo=tz)
    except (ValueError, OverflowError) as exc:  # OverflowError: a duration past the year 9999
        raise ControlError(f"{name}: {exc}") from None
    raise ControlError(f'{name}: expected a duration, {{"for": "2h"}} or {{"until": "<time>"}}')
