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

# How often a task that has not ended is told again to stop, and for how long at most.
CANCEL_AGAIN_S = 0.5
CANCEL_PATIENCE_S = 10.0


async def cancel_until_done(
    tasks: set[asyncio.Task[None]], what: str, patience_s: float | None = None
) -> set[asyncio.Task[None]]:
    """Cancel ``tasks`` and wait for them, cancelling again any that carries on, for at most
    ``patience_s``; return those still running, logged by name.

    Once is not enough: on Python 3.11 ``asyncio.wait_for`` swallows a cancellation that lands
    as what it waits for completes (fixed in 3.12), and a task that carries on after it, such
    as a loop publishing states, would hold a stop for ever (gh-86296). Hearth saves its
    routine and flushes its outbox after its tasks end: a stop that hangs does neither, and
    systemd kills it.
    """
    pending = {t for t in tasks if not t.done()}
    loop = asyncio.get_running_loop()
    give_up_at = loop.time() + (CANCEL_PATIENCE_S if patience_s is None else patience_s)
    while pending and loop.time() < give_up_at:
        for t in pending:
            t.cancel()
        _, pending = await asyncio.wait(pending, timeout=CANCEL_AGAIN_S)
    if pending:
        names = ", ".join(sorted(t.get_name() for t in pending))
        log.error("%s: %s did not stop when told to; going on without it", what, names)
    for t in tasks - pending:
        if not t.cancelled() and (exc := t.exception()) is not None:
            log.debug("%s ended with %r while stopping", t.get_name(), exc)
    return pending


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
            ending = asyncio.ensure_future(cancel_until_done({task}, what))
            while not ending.done():  # told again while already stopping: it is bounded
                with suppress(asyncio.CancelledError):
                    await asyncio.shield(ending)
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
