"""The words every alert shares: how long, and how rare, as a carer would say it."""

from __future__ import annotations


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


def door_name(role: str | None) -> str:
    """'front door' for the role front_door; 'outside door' when the door is not known.

    >>> door_name("back_door"), door_name(None)
    ('back door', 'outside door')
    """
    return role.replace("_", " ") if role else "outside door"
