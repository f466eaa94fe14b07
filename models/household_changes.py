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
from models.what_to_do import HEADLINE_MOST

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


def snoozed(kind: str, until: datetime, by: str, now: datetime, tz: ZoneInfo) -> Finding:
    """A carer's snooze of one alert type (``models.carers_answers``): told to everyone told
    of the resident, since it holds back alerts about them.

    >>> from datetime import timezone
    >>> at = datetime(2026, 12, 1, 15, 30, tzinfo=timezone.utc)
    >>> snoozed("inactivity", at.replace(hour=17), "Sarah", at, ZoneInfo("UTC")).headline
    'Inactivity alerts snoozed by Sarah until 17:30: none of that kind meanwhile.'
    """
    what = kind.replace("_", " ")
    when = f"{until.astimezone(tz):%H:%M}"
    headline = (
        f"{what.capitalize()} alerts snoozed by {by} until {when}: none of that kind meanwhile."
    )
    if len(headline) > HEADLINE_MOST:  # a long name: the summary says who
        headline = f"{what.capitalize()} alerts snoozed until {when}: none of that kind meanwhile."
    return Finding(
        type="household_control",
        headline=headline,
        severity="warning",
        started_at=now,
        detected_at=now,
        summary=f"{by} snoozed {what} alerts until {until.astimezone(tz):%a %d %b %H:%M}: no"
        " alert of that kind reaches anyone meanwhile; the others still come.",
        episode=f"household_control:snooze:{kind}:{now.isoformat()}",
        evidence={"command": "snooze", "until": until.isoformat(), "alert_type": kind, "by": by},
    )
