"""When the detectors look: at once after a sensor event, at the next deadline, and at the
periodic pass, whichever comes first."""

from __future__ import annotations

import asyncio
from contextlib import suppress
from datetime import datetime

from agent.pipeline import Pipeline

# The periodic pass (the links, the clock, the watchdog); the detectors' deadlines set a timer
# of their own when they come sooner.
WATCH_EVERY_S = 5.0
# After a sensor event the detectors look at once, so that an alert it makes due (a low battery,
# a door at night) leaves now and not at the next pass; but not sooner than this after their last
# look, so that a burst of messages costs one look, not one each.
SOONEST_LOOK_S = 0.1


async def next_look(heard: asyncio.Event, every_s: float) -> None:
    """Until a sensor event is ``heard`` (at the soonest ``SOONEST_LOOK_S`` from now) or
    ``every_s`` has passed, whichever is first."""
    await asyncio.sleep(min(SOONEST_LOOK_S, every_s))
    with suppress(TimeoutError):
        await asyncio.wait_for(heard.wait(), max(0.0, every_s - SOONEST_LOOK_S))
    heard.clear()


def until_due(pipeline: Pipeline, now: datetime, every_s: float) -> float:
    """Seconds to wait before the next look: to the pipeline's next deadline (an alert due
    then leaves then, not at the pass after), or to the periodic pass if that comes first."""
    due_s = (pipeline.next_due(now) - now).total_seconds()
    return min(every_s, max(SOONEST_LOOK_S, due_s))
