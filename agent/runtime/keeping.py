"""What the agent keeps in its store between runs: the routine it learned and the alert policy,
saved now and then and at a clean stop, and read back at start."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from agent.clock import clock_trusted
from agent.config.schema import HearthConfig
from agent.errors import StateError
from agent.pipeline import TICK, Pipeline
from agent.store import Store, events_after, purge, remembered_after
from models.alert_policy import Alert
from models.detectors.wording import duration_text
from models.events import SensorEvent

log = logging.getLogger("hearth.runtime")

STATE_KEY = "pipeline"
# The last time the detectors looked, noted now and then.
WATCHING_KEY = "watching"


# A gap this short is a restart, not a stop: the home broker held what the sensors sent
# meanwhile (a persistent session), so the quiet time across it was watched.
RESTART_S = 120.0


@dataclass
class Restored:
    """The pipeline as it was when the agent last ran, and what the restore did."""

    pipeline: Pipeline
    # The last time Hearth is sure it watched: the save, the last heartbeat or the last event.
    sure_at: datetime | None = None
    # Alerts the replay raised (each again under its first id if it was raised before).
    alerts: list[Alert] = field(default_factory=list)
    replayed: int = 0
    remembered: int = 0


async def restore(cfg: HearthConfig, store: Store) -> Restored:
    """The pipeline as last saved (or a fresh one, with the reason logged), then what came
    after the save: the alerts queued (remembered, not raised again) and the events stored
    (replayed), so that a crash loses nothing learned."""
    state = await store.load_state(STATE_KEY)
    pipeline, events_upto, outbox_upto = Pipeline(cfg), 0, 0
    saved: datetime | None = None
    if state is None:
        log.info(
            "no saved routine: learning from scratch (%d days before learned alerts)",
            cfg.learning.days,
        )
    else:
        try:
            pipeline = Pipeline(cfg, state)
        except StateError as exc:
            log.error("saved routine could not be read (%s): learning from scratch", exc)
        else:
            saved = _time(state.get("saved_at"))
            # A save from before replays were kept says nothing of where it ended: none.
            events_upto, outbox_upto = state.get("events_upto", -1), state.get("outbox_upto", -1)
            if not (isinstance(events_upto, int) and isinstance(outbox_upto, int)):
                events_upto, outbox_upto = -1, -1
    done = Restored(pipeline)
    sure = [saved]
    if outbox_upto >= 0:
        for alert_id, memory in await remembered_after(store, outbox_upto):
            try:
                pipeline.remember(alert_id, memory)
            except (KeyError, ValueError, TypeError) as exc:
                log.error("alert %s in the outbox could not be remembered (%s)", alert_id, exc)
                continue
            done.remembered += 1
    if events_upto >= 0:
        events = await events_after(store, events_upto)
        done.replayed = len(events)
        # With no save to start from, learned again only: an alert now about last month's
        # episodes would be news to nobody.
        done.alerts = replay_after_save(pipeline, events, tick=saved is not None)
        sure += [e.at for e in events if clock_trusted(e.at)]
    watching = await store.load_state(WATCHING_KEY)
    sure.append(_time(watching.get("at")) if watching else None)
    done.sure_at = max((t for t in sure if t is not None), default=None)
    r = pipeline.monitor.routine
    log.info(
        "restored routine: %d days learned%s; %d events since the save replayed, %d alerts"
        " since remembered",
        r.days_learned,
        "" if pipeline.monitor.learned else f" of {cfg.learning.days}",
        done.replayed,
        done.remembered,
    )
    return done


def replay_after_save(
    pipeline: Pipeline, events: list[SensorEvent], tick: bool = True
) -> list[Alert]:
    """``events`` (stored after the save, in the order they came) learned again, and the
    detectors ticked at each that moves the clock a minute on, as they were live: an alert
    raised then is raised again under the same id (the outbox keeps it once), and its episode
    held back from learning. Ticks only at events: a clock set in between (1970 to now) is
    not replayed minute by minute."""
    alerts: list[Alert] = []
    last_tick: datetime | None = None
    for event in events:
        if tick and event.clock_trusted and (last_tick is None or event.at - last_tick >= TICK):
            alerts.extend(pipeline.tick(event.at))
            last_tick = event.at
        pipeline.observe(event)
    return alerts


def _time(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def resume(pipeline: Pipeline, saved: datetime | None, now: datetime) -> None:
    """Watching again at ``now``, last sure of the time at ``saved``: nobody watched between,
    and that time is not the resident's quiet time (a hub back after a weekend off must not
    open with "no movement for 60 hours"). Quiet time is carried across, as across a jump.
    A restart within ``RESTART_S`` is not a stop: nothing was missed."""
    if saved is None or not clock_trusted(saved):
        return
    stopped = now - saved
    if stopped <= timedelta(seconds=RESTART_S):
        log.info("restarted after %.0f s: watching carried across", stopped.total_seconds())
        return
    pipeline.resumed(stopped, now)
    log.warning(
        "Hearth was not watching for %s; that time is not counted as quiet",
        duration_text(stopped.total_seconds()),
    )


# The routine saved this often (about 20 kB compressed; the events after it are replayed after
# a crash, so nothing learned is lost); the time the detectors last looked, more often (a
# restart measures the stop from it); events written at the latest this long after they came,
# or at once when enough messages wait for their acknowledgement (see HomeBroker); events older
# than ``store.keep_events`` purged hourly, one batch each time the keeping task wakes, so that
# no write waits behind it. Each write costs the SD card a few pages whatever it carries: the
# bytes a day are measured in docs/bench.md.
SAVE_EVERY_S = 1800.0
NOTE_EVERY_S = 60.0
EVENTS_WITHIN_S = 60.0
PURGE_EVERY_S = 3600.0
PURGE_BATCH = 2000


class Keeper:
    """What the agent's keeping task does each time it wakes: events written, and the routine
    saved, the watching noted and old events purged when each is due."""

    def __init__(
        self,
        store: Store,
        keep_events: timedelta,
        mono: Callable[[], float],
        settled: Callable[[], bool] = lambda: True,
        status: Callable[[], Mapping[str, object]] = lambda: {"status": "online"},
    ) -> None:
        """``settled``: every alert decided is in the outbox (else a save now would remember
        as raised an alert a crash then loses). ``status``: the agent's own (its status, its
        links), noted with the watching for ``hearth status`` to read."""
        self.store, self.keep_events, self.mono, self.settled = store, keep_events, mono, settled
        self.status = status
        self.last_save = self.last_note = mono()
        self.waiting_since: float | None = None  # when events were first seen waiting
        self.held = 0
        self.owed = False
        self.last_purge = -PURGE_EVERY_S
        # Purging events from before this, and how many so far.
        self.purging: datetime | None = None
        self.purged = 0

    async def keep(
        self, pipeline: Pipeline, now: datetime, watched_at: datetime | None, save_now: bool
    ) -> None:
        note = None
        if watched_at is not None and self.mono() - self.last_note >= NOTE_EVERY_S:
            note = (WATCHING_KEY, watching(watched_at, self.status()), watched_at)
        await _keep_events(self, note)
        if note is not None:
            self.last_note = self.mono()
        # An episode held back (a pause, a cooldown) is in no outbox row: saved at once, so
        # that a crash does not forget it and raise it later.
        held = sum(pipeline.policy.suppressed.values())
        due = self.mono() - self.last_save >= SAVE_EVERY_S
        if save_now or self.owed or held != self.held or due:
            # Not saved while an alert decided is not yet in the outbox: owed, for next time.
            self.owed = not await save(pipeline, self.store, now, self.settled)
            if not self.owed:
                self.last_save = self.mono()
                self.held = held
        due = self.mono() - self.last_purge >= PURGE_EVERY_S
        if self.purging is None and due and clock_trusted(now):
            self.purging, self.purged = now - self.keep_events, 0
        if self.purging is not None:
            # One batch each time: the events and their acknowledgements wait a batch at most.
            n = await purge(self.store, self.purging, PURGE_BATCH)
            self.purged += n
            if n < PURGE_BATCH:
                if self.purged:
                    log.info(
                        "%d events from before %s purged (store.keep_events)",
                        self.purged,
                        self.purging,
                    )
                self.purging, self.last_purge = None, self.mono()


async def _keep_events(keeper: Keeper, note: tuple[str, dict[str, Any], datetime] | None) -> None:
    """The events waiting, written when asked (``store.flush_wanted``), once the first of them
    has waited ``EVENTS_WITHIN_S``, or with the watching ``note`` when one is due."""
    store, now = keeper.store, keeper.mono()
    asked = store.flush_wanted.is_set()
    store.flush_wanted.clear()
    if not store.pending_events:
        keeper.waiting_since = None
    elif keeper.waiting_since is None:
        keeper.waiting_since = now
    waited = keeper.waiting_since is not None and now - keeper.waiting_since >= EVENTS_WITHIN_S
    if note is not None or (store.pending_events and (asked or waited)):
        await store.flush_events(note)  # failing, tried again at the next wake
        keeper.waiting_since = None


async def save(
    pipeline: Pipeline, store: Store, now: datetime, settled: Callable[[], bool] = lambda: True
) -> bool:
    """The routine, with every event it has learned from, in one transaction (unless not
    ``settled()`` as it is taken: False)."""

    def take() -> dict[str, Any] | None:
        return {**pipeline.to_state(), "saved_at": now.isoformat()} if settled() else None

    return await store.save_snapshot(STATE_KEY, take, now)


def watching(at: datetime, status: Mapping[str, object] | None = None) -> dict[str, Any]:
    """The note that the detectors last looked at ``at``: a restart after it is measured from
    then. With the agent's status then (``status``, ``links``, ``problems``), which ``hearth
    status`` shows."""
    return {"status": "online", **(status or {}), "at": at.isoformat()}
