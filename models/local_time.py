"""Routines are learned in the household's local time, so 08:00 stays 08:00 across clock changes."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

DayType = Literal["weekday", "weekend"]


def day_type(d: date) -> DayType:
    """Weekday or weekend.

    >>> day_type(date(2024, 3, 2))
    'weekend'
    """
    return "weekend" if d.weekday() >= 5 else "weekday"


def minutes_since_midnight(at: datetime, tz: ZoneInfo) -> float:
    """Minutes since local midnight, on the wall clock (a 25-hour day still ends at 24:00).

    >>> from datetime import timezone
    >>> at = datetime(2024, 7, 1, 7, 30, tzinfo=timezone.utc)
    >>> minutes_since_midnight(at, ZoneInfo("Europe/London"))
    510.0
    """
    local = at.astimezone(tz)
    return local.hour * 60 + local.minute + local.second / 60


def local_date(at: datetime, tz: ZoneInfo) -> date:
    return at.astimezone(tz).date()


def clock_text(minutes: float) -> str:
    """'08:10' for 490 minutes after midnight.

    >>> clock_text(490.4)
    '08:10'
    """
    m = round(minutes) % (24 * 60)
    return f"{m // 60:02d}:{m % 60:02d}"


def iso_or_none(at: datetime | None) -> str | None:
    """An instant as saved state keeps it (ISO 8601), or None.

    >>> iso_or_none(None), instant_or_none(iso_or_none(datetime(2024, 1, 1)))
    (None, datetime.datetime(2024, 1, 1, 0, 0))
    """
    return at.isoformat() if at else None


def instant_or_none(text: str | None) -> datetime | None:
    """The instant saved by ``iso_or_none``."""
    return datetime.fromisoformat(text) if text else None


def local_instant(d: date, minutes: float, tz: ZoneInfo) -> datetime:
    """The aware instant for a local wall-clock time on a local date.

    A time that falls in the spring-forward gap resolves forward (fold=0), which is what a
    person means by "by 01:30" on that morning.
    """
    naive = datetime(d.year, d.month, d.day) + timedelta(minutes=minutes)
    return naive.replace(tzinfo=tz)


# Longer than any change of a zone's offset (summer time is an hour; Lord Howe's half of one).
_OFFSET_CHANGES_BY_AT_MOST = timedelta(hours=2)


def not_after(at: datetime, now: datetime, tz: ZoneInfo) -> datetime:
    """``at`` (an instant worked out from a wall-clock time), or earlier when the zone's offset
    changes between ``now`` and it: a time no later than the wall clock reaches that time, and
    never before ``now``. For saying when something may next be due, where early costs a look
    and late misses it.

    >>> from zoneinfo import ZoneInfo
    >>> london = ZoneInfo("Europe/London")
    >>> now = datetime(2025, 3, 29, 12, tzinfo=london)
    >>> not_after(local_instant(date(2025, 3, 29), 1200, london), now, london).hour
    20
    >>> not_after(local_instant(date(2025, 3, 30), 600, london), now, london).hour
    8
    """
    if now.astimezone(tz).utcoffset() != at.astimezone(tz).utcoffset():
        at -= _OFFSET_CHANGES_BY_AT_MOST
    return max(at, now)
