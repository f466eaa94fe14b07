"""What the agent keeps in its store between runs: the routine it learned and the alert policy,
saved now and then and at a clean stop, and read back at start."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from agent.clock import clock_trusted
from agent.config.schema import HearthConfig
from agent.errors import StateError
from agent.pipeline import Pipeline
from agent.store import Store
from models.detectors.wording import duration_text

log = logging.getLogger("hearth.runtime")

STATE_KEY = "pipeline"


async def restore(cfg: HearthConfig, store: Store) -> tuple[Pipeline, datetime | None]:
    """The pipeline as last saved, or a fresh one (with the reason logged), and when it was
    saved (for :func:`resume`, once the clock can be trusted)."""
    state = await store.load_state(STATE_KEY)
    if state is None:
        log.info(
            "no saved routine: learning from scratch (%d days before learned alerts)",
            cfg.learning.days,
        )
        return Pipeline(cfg), None
    try:
        pipeline = Pipeline(cfg, state)
    except StateError as exc:
        log.error("saved routine could not be read (%s): learning from scratch", exc)
        return Pipeline(cfg), None
    r = pipeline.monitor.routine
    log.info(
        "restored routine: %d days learned%s",
        r.days_learned,
        "" if pipeline.monitor.learned else f" of {cfg.learning.days}",
    )
    saved = state.get("saved_at")
    return pipeline, datetime.fromisoformat(saved) if isinstance(saved, str) else None


def resume(pipeline: Pipeline, saved: datetime | None, now: datetime) -> None:
    """Watching again at ``now``, last sure of the time at ``saved``: nobody watched between,
    and that time is not the resident's quiet time (a hub back after a weekend off must not
    open with "no movement for 60 hours"). Quiet time is carried across, as across a jump."""
    if saved is None or not clock_trusted(saved):
        return
    stopped = now - saved
    if stopped > timedelta(0):
        pipeline.resumed(stopped, now)
        log.warning(
            "Hearth was not watching for %s; that time is not counted as quiet",
            duration_text(stopped.total_seconds()),
        )


async def save(pipeline: Pipeline, store: Store, now: datetime) -> None:
    await store.flush_events()
    await store.save_state(STATE_KEY, {**pipeline.to_state(), "saved_at": now.isoformat()}, now)
