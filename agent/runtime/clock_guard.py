"""Whether the wall clock can be right, and what to do when it becomes right again.

A hub with no real-time clock boots at 1970, or at the time fake-hwclock last saved, until NTP
sets it. Starting (or after a wrong time), the clock must be past the build's floor and not
before the last time Hearth was sure of; while watching, any time past the floor is right, a
backward jump too (NTP correcting a fast clock). While it cannot be right, the watching stops
and the status says so; once it is, Hearth resumes from the last time it was sure of, as after
a stop, rather than take the clock being set for time passing.

>>> from datetime import UTC, datetime
>>> from agent.delivery.status import Health
>>> g = ClockGuard(Health())
>>> g.start(datetime(2026, 3, 1, 9, tzinfo=UTC))
>>> g.check(datetime(1970, 1, 1, tzinfo=UTC), lambda since, now: None)
'wait'
>>> g.health.status()
"degraded: the hub's clock is not set (it reads 1970-01-01 00:00 UTC)"
>>> g.check(datetime(2026, 3, 2, 7, tzinfo=UTC), lambda since, now: print("resumed from", since))
resumed from 2026-03-01 09:00:00+00:00
'resumed'
>>> g.health.status()
'online'
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from agent.clock import clock_trusted
from agent.delivery.status import Health

log = logging.getLogger("hearth.runtime")


class ClockGuard:
    def __init__(self, health: Health) -> None:
        self.health = health
        # The last time the wall clock was right, and whether it is now.
        self.sure_at: datetime | None = None
        self.ready = True

    def start(self, sure_at: datetime | None) -> None:
        """Starting: last sure of the time at ``sure_at`` (when the routine was saved)."""
        self.sure_at = sure_at
        self.ready = False

    def check(self, now: datetime, resume: Callable[[datetime | None, datetime], None]) -> str:
        """``watch``, ``resumed`` (``resume`` was called with the last sure time and now), or
        ``wait``."""
        right = clock_trusted(now) and (self.ready or self.sure_at is None or now >= self.sure_at)
        if not right:
            if self.ready:
                self.ready = False
                log.warning("the wall clock reads %s: not watching until it is set", now)
            self.health.degraded(
                "clock", f"the hub's clock is not set (it reads {now:%Y-%m-%d %H:%M} UTC)"
            )
            return "wait"
        if self.ready:
            self.sure_at = now
            return "watch"
        self.ready = True
        self.health.recovered("clock")
        resume(self.sure_at, now)
        self.sure_at = now
        return "resumed"

    def stamp(self, now: datetime) -> datetime:
        """The time to stamp a save with: now, or the last time Hearth was sure of."""
        return now if self.ready or self.sure_at is None else self.sure_at
