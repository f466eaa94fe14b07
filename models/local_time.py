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
    >>> minutes_since_midnight(datetime(2024, 7, 1, 7, 30, tzinfo=timezone.utc), ZoneInfo("Europe/London"))
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


def duration_text(seconds: float) -> str:
    """A duration as a carer would say it.

    >>> duration_text(5400)
    '1 h 30 min'
    >>> duration_text(2700)
    '45 min'
    """
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    h, m = divmod(minutes, 60)
    if h >= 48 and m == 0:
        return f"{h // 24} days" if h % 24 == 0 else f"{h} h"
    return f"{h} h" if m == 0 else f"{h} h {m} min"


def local_instant(d: date, minutes: float, tz: ZoneInfo) -> datetime:
    """The aware instant for a local wall-clock time on a local date.

    A time that falls in the spring-forward gap resolves forward (fold=0), which is what a
    person means by "by 01:30" on that morning.
    """
    naive = datetime(d.year, d.month, d.day) + timedelta(minutes=minutes)
    return naive.replace(tzinfo=tz)


def rarity_text(once_in_days: float) -> str:
    """How rare, in words a carer reads at a glance.

    >>> rarity_text(2378)
    'about once in 7 years'
    >>> rarity_text(45.2)
    'about once in 45 days'
    >>> rarity_text(40000)
    'less than once in 100 years'
    """
    if once_in_days >= 36500:
        return "less than once in 100 years"
    if once_in_days >= 730:
        return f"about once in {round(once_in_days / 365)} years"
    if once_in_days >= 100:
        return f"about once in {round(once_in_days / 30.4)} months"
    return f"about once in {max(1, round(once_in_days))} days"
