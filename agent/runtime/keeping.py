"""What the agent keeps in its store between runs: the routine it learned and the alert policy,
saved now and then and at a clean stop, and read back at start."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from agent.config.schema import HearthConfig
from agent.errors import StateError
from agent.pipeline import Pipeline
from agent.store import Store
from models.detectors.wording import duration_text

log = logging.getLogger("hearth.runtime")

STATE_KEY = "pipeline"


async def restore(cfg: HearthConfig, store: Store, now: datetime) -> Pipeline:
    """The pipeline as last saved, or a fresh one (with the reason logged)."""
    state = await store.load_state(STATE_KEY)
    if state is None:
        log.info(
            "no saved routine: learning from scratch (%d days before learned alerts)",
            cfg.learning.days,
        )
        return Pipeline(cfg)
    try:
        pipeline = Pipeline(cfg, state)
    except StateError as exc:
        log.error("saved routine could not be read (%s): learning from scratch", exc)
        return Pipeline(cfg)
    r = pipeline.monitor.routine
    log.info(
        "restored routine: %d days learned%s",
        r.days_learned,
        "" if pipeline.monitor.learned else f" of {cfg.learning.days}",
    )
    _resume(pipeline, state, now)
    return pipeline


def _resume(pipeline: Pipeline, state: dict[str, Any], now: datetime) -> None:
    saved = state.get("saved_at")
    if not isinstance(saved, str):
        return
    # While Hearth was stopped nobody watched: that time is not the resident's quiet time, and
    # a hub back after a weekend off must not open with "no movement for 60 hours". Quiet time
    # is carried across the stop, as across a clock jump.
    stopped = now - datetime.fromisoformat(saved)
    if stopped > timedelta(0):
        pipeline.resumed(stopped, now)
        log.warning(
            "Hearth was stopped for %s; that time is not counted as quiet",
            duration_text(stopped.total_seconds()),
        )


async def save(pipeline: Pipeline, store: Store, now: datetime) -> None:
    await store.flush_events()
    await store.save_state(STATE_KEY, {**pipeline.to_state(), "saved_at": now.isoformat()}, now)
