"""The agent's retained status upstream: ``online`` while every part of the watching works,
``degraded:`` and every reason while one does not.

>>> h = Health()
>>> h.status()
'online'
>>> h.degraded("home", "reading the home broker failed (OverflowError)")
True
>>> h.status()
'degraded: reading the home broker failed (OverflowError)'
>>> h.recovered("home"), h.status()
(True, 'online')
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

# The detectors last looked longer ago than this (seconds): the hub is not watching, or it has
# not said so (``hearth status``, Home Assistant's ``Watching``). The agent notes its watching
# every minute (``agent.runtime.keeping``).
STALE_S = 120.0


class Wake:
    """One signal for several waiters, each with an event of its own (``event``), so that one
    clearing its own never hides the signal from another; ``set`` sets them all.

    >>> w = Wake()
    >>> a, b = w.event("a"), w.event("b")
    >>> w.set(); a.clear()
    >>> a.is_set(), b.is_set()
    (False, True)
    """

    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = {}

    def event(self, key: str) -> asyncio.Event:
        return self._events.setdefault(key, asyncio.Event())

    def set(self) -> None:
        for e in self._events.values():
            e.set()


@dataclass
class Health:
    """What part of the watching has stopped, and why; ``changed`` is set at every change."""

    problems: dict[str, str] = field(default_factory=dict)
    # When each part stopped working (by the wall clock), while it is down.
    since: dict[str, datetime] = field(default_factory=dict)
    changed: Wake = field(default_factory=Wake)

    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def degraded(self, part: str, why: str) -> bool:
        """``part`` is not working; True if that is news."""
        self.since.setdefault(part, self.now())
        if self.problems.get(part) == why:
            return False
        self.problems[part] = why
        self.changed.set()
        return True

    def recovered(self, part: str) -> bool:
        """``part`` works again; True if it had not been."""
        self.since.pop(part, None)
        if self.problems.pop(part, None) is None:
            return False
        self.changed.set()
        return True

    def status(self) -> str:
        """The retained status: ``online``, or ``degraded:`` and every reason."""
        if not self.problems:
            return "online"
        return "degraded: " + "; ".join(self.problems[p] for p in sorted(self.problems))
