"""The agent's clocks: wall time (UTC, for events and alerts) and monotonic time (for intervals
and for noticing that the wall clock jumped), and the manual clock the tests move.

A hub with no real-time clock boots in 1970 until NTP sets it: before ``CLOCK_TRUSTED_FROM`` the
wall clock cannot be right, and events stamped with it are stored but not learned from.

>>> c = ManualClock(datetime(2026, 1, 5, 9, tzinfo=UTC))
>>> c.advance(timedelta(minutes=5)); c.jump(timedelta(hours=6))
>>> c.now().hour, c.monotonic()
(15, 1300.0)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

CLOCK_TRUSTED_FROM = datetime(2024, 1, 1, tzinfo=UTC)
# Wall time moving this much more (or less) than monotonic time between two looks is a jump.
CLOCK_JUMP = timedelta(seconds=60)


def clock_trusted(at: datetime) -> bool:
    return at >= CLOCK_TRUSTED_FROM


class Clock(Protocol):
    def now(self) -> datetime: ...
    def monotonic(self) -> float: ...


@dataclass(frozen=True)
class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


@dataclass
class ManualClock:
    """A clock that moves only when told: time passing (``advance``), or the wall clock reset
    while no time passes (``jump``: NTP, or a hand)."""

    wall: datetime
    mono: float = 1000.0

    def now(self) -> datetime:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def advance(self, by: timedelta) -> None:
        self.wall += by
        self.mono += by.total_seconds()

    def jump(self, by: timedelta) -> None:
        self.wall += by


class JumpWatch:
    """Notices the wall clock jumping: between two looks, wall time moved by more (or less)
    than monotonic time did."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.jumps = 0
        self._wall, self._mono = clock.now(), clock.monotonic()

    def look(self) -> tuple[datetime, timedelta | None]:
        """The time now, and the jump since the last look (None if there was none)."""
        now, mono = self.clock.now(), self.clock.monotonic()
        drift = (now - self._wall) - timedelta(seconds=mono - self._mono)
        self._wall, self._mono = now, mono
        if abs(drift) > CLOCK_JUMP:
            self.jumps += 1
            return now, drift
        return now, None
