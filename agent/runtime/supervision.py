"""Every long-running task supervised: a task that fails is logged with its traceback, told to
the technician, and restarted with backoff; one that keeps failing stops the agent with a
non-zero exit, so that systemd starts it afresh. Meanwhile the retained status says
``degraded`` and why, never ``online``: a monitor that has stopped watching while it says it
is watching is worse than none.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress

from agent.delivery.status import Health
from agent.sources.backoff import Backoff

log = logging.getLogger("hearth.runtime")

# A restarted task that runs this long without failing is working again.
STABLE_S = 60.0
# This many failures of one task, each within STABLE_S of its restart, and the agent stops.
MOST_RESTARTS = 5


Fault = Callable[[str, BaseException], Awaitable[None]]


async def supervise(
    part: str,
    what: str,
    work: Callable[[], Awaitable[None]],
    health: Health,
    on_fault: Fault,
    give_up: Callable[[str], None],
    backoff: Backoff | None = None,
    stable_s: float = STABLE_S,
) -> None:
    """Run ``work`` until it returns; restart it whenever it fails.

    ``what`` names the part for people ("reading the home broker"). Each failure is logged with
    its traceback, marks ``part`` degraded in ``health`` and is handed to ``on_fault`` (a
    technical alert); after ``MOST_RESTARTS`` failures in a row, each soon after a restart,
    ``give_up`` is called and supervision ends.
    """
    backoff = backoff or Backoff()
    failures = 0
    while True:
        task = asyncio.ensure_future(work())
        try:
            done, _ = await asyncio.wait({task}, timeout=stable_s)
            if not done:
                failures = 0
                backoff.reset()
                if health.recovered(part):
                    log.warning("%s is working again", what)
            await task
            return
        except asyncio.CancelledError:
            # Stopping: the inner task ends before supervision does, so the agent saves and
            # closes after it, not beside it.
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
            raise
        except Exception as exc:
            failures += 1
            why = f"{what} failed ({type(exc).__name__}: {str(exc)[:120]})"
            log.exception("%s; restart %d of %d", why, failures, MOST_RESTARTS)
            health.degraded(part, why)
            try:
                await on_fault(part, exc)
            except Exception:
                log.exception("could not raise the technical alert for %s", what)
            if failures >= MOST_RESTARTS:
                give_up(why)
                return
            await asyncio.sleep(backoff.next())
