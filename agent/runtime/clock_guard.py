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
>>> g.check(datetime(1970, 1, 1, tzinfo=UTC), lambda since, now: None, 0.0)
'wait'
>>> g.health.status()
"degraded: the hub's clock is not set (it reads 1970-01-01 00:00 UTC)"
>>> said = lambda since, now: print("resumed from", since)
>>> g.check(datetime(2026, 3, 2, 7, tzinfo=UTC), said, 5.0)
resumed from 2026-03-01 09:00:00+00:00
'resumed'
>>> g.health.status()
'online'

Last saved by a clock that was fast: a right time before it is taken after ten minutes,
with nothing carried over from the save.

>>> g.start(datetime(2027, 1, 1, tzinfo=UTC))
>>> [g.check(datetime(2026, 3, 2, 8, tzinfo=UTC), said, t) for t in (0.0, 300.0, 600.0)]
resumed from None
['wait', 'wait', 'resumed']
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from agent.clock import clock_trusted
from agent.delivery.status import Health

log = logging.getLogger("hearth.runtime")

# The longest Hearth waits for a clock that is past the build's floor but before its last save.
LONGEST_WAIT_S = 600.0


class ClockGuard:
    def __init__(self, health: Health) -> None:
        self.health = health
        # The last time the wall clock was right, and whether it is now.
        self.sure_at: datetime | None = None
        self.ready = True
        self._waiting_since: float | None = None

    def start(self, sure_at: datetime | None) -> None:
        """Starting: last sure of the time at ``sure_at`` (when the routine was saved)."""
        self.sure_at = sure_at
        self.ready = False

    def check(
        self,
        now: datetime,
        resume: Callable[[datetime | None, datetime], None],
        mono: float,
    ) -> str:
        """``watch``, ``resumed`` (``resume`` was called with the last sure time and now), or
        ``wait``. ``mono``, monotonic seconds: a time past the build's floor but before the
        last sure one is taken as right after ``LONGEST_WAIT_S`` (that last time may have been
        the wrong one, from a clock once fast), and resumed from with nothing carried over."""
        if self.ready or not clock_trusted(now) or self.sure_at is None or now >= self.sure_at:
            self._waiting_since = None
        elif self._waiting_since is None:
            self._waiting_since = mono
        elif mono - self._waiting_since >= LONGEST_WAIT_S:
            log.warning(
                "the wall clock reads %s, before the last time saved (%s), for %.0f s: taking it",
                now,
                self.sure_at,
                mono - self._waiting_since,
            )
            self.sure_at, self._waiting_since = None, None
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
