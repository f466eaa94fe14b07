"""What the care team is told when the household changes what Hearth watches: a pause of the
carers' alerts, away mode, and their ends. Told every time, renewals too, so that nobody on the
home network can keep Hearth quiet unseen.

>>> from datetime import datetime, timezone
>>> from zoneinfo import ZoneInfo
>>> now = datetime(2026, 12, 1, 9, tzinfo=timezone.utc)
>>> until = datetime(2026, 12, 1, 18, tzinfo=timezone.utc)
>>> import textwrap
>>> f = household_change("pause", until, now, ZoneInfo("Europe/London"))
>>> print(textwrap.fill(f.summary, 80))
Monitoring paused by the household until Tue 01 Dec 18:00: no alerts reach
carers meanwhile (the sensors are still checked).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from models.finding import Finding

CHANGES = ("pause", "resume", "away", "home")


def household_change(name: str, until: datetime | None, now: datetime, tz: ZoneInfo) -> Finding:
    """The finding that tells the care team of a household command ``name`` (one of
    ``CHANGES``), in force ``until``; raised even while alerts are paused."""
    when = "" if until is None else f" until {until.astimezone(tz):%a %d %b %H:%M}"
    summary = {
        "pause": f"Monitoring paused by the household{when}: no alerts reach carers meanwhile"
        " (the sensors are still checked).",
        "resume": "Monitoring resumed by the household: alerts reach carers again.",
        "away": f"The household says the resident is away{when}: no alerts about the resident"
        " meanwhile (the sensors are still checked).",
        "home": "The household says the resident is home again: alerts about the resident are on.",
    }[name]
    headline = {
        "pause": f"Monitoring paused by the household{when}: no alerts reach carers meanwhile.",
        "resume": "Monitoring resumed by the household: alerts reach carers again.",
        "away": f"Away{when}, the household says: no alerts about the resident meanwhile.",
        "home": "Home again, the household says: alerts about the resident are on.",
    }[name]
    return Finding(
        type="household_control",
        headline=headline,
        severity="warning",
        started_at=now,
        detected_at=now,
        summary=summary,
        episode=f"household_control:{name}:{now.isoformat()}",
        evidence={"command": name, "until": None if until is None else until.isoformat()},
    )
