"""The live agent: one asyncio service reading sensors, learning, and delivering alerts.

Small tasks on one event loop, each in its own module:

- the home broker (``agent.sources.home_broker``) and the serial bridge
  (``agent.sources.serial_bridge``): readings decoded, stored and handed to the pipeline;
- ``watch``, here: every few seconds, and at once after a sensor event, the clock checked for a
  jump, the links watched (``agent.runtime.links``) and the detectors ticked; alerts go to the
  outbox;
- ``keep``, here: events written in batches, the routine saved now and then
  (``agent.runtime.keeping``);
- the upstream publisher (``agent.delivery.upstream``): the outbox, published with QoS 1.

Each is supervised (``agent.runtime.supervision``): a task that fails is restarted, a technical
alert goes upstream and the retained status says ``degraded`` until it works again; one that
keeps failing stops the agent with exit code 70, for systemd to start it afresh.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import time
from asyncio import Task
from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import datetime
from functools import partial

from agent.clock import Clock, JumpWatch, SystemClock, clock_trusted
from agent.config.advice import every_broker, warnings_of
from agent.config.schema import HearthConfig
from agent.decode import Decoder
from agent.delivery.home_assistant import HomeAssistant, HubView
from agent.delivery.status import Health
from agent.delivery.upstream import Upstream
from agent.drops import Drops
from agent.errors import StoreError
from agent.pipeline import Pipeline
from agent.runtime import check_in_link, keeping
from agent.runtime.answers import take_answer
from agent.runtime.clock_guard import ClockGuard
from agent.runtime.links import Links, links_health
from agent.runtime.looking import WATCH_EVERY_S, next_look, until_due
from agent.runtime.supervision import (
    CANCEL_PATIENCE_S,
    STABLE_S,
    cancel_until_done,
    supervise,
)
from agent.runtime.systemd import Notifier
from agent.sources.backoff import Backoff
from agent.sources.control import Command
from agent.sources.home_broker import HomeBroker
from agent.sources.mqtt import check_files
from agent.sources.serial_bridge import SerialBridge
from agent.store import Store
from agent.store_folder import only_hearth_on
from models.detectors.link_findings import agent_fault, storage_full
from models.events import SensorEvent
from models.finding import Finding
from models.learning import learning

log = logging.getLogger("hearth.runtime")

FLUSH_EVERY_S = 1.0
# Why a message or an event is dropped, each counted.
DROPPED = ("unknown_topic", "malformed", "no_reading", "bad_command", "not_processed", "bad_answer")
# The exit code when part of the agent keeps failing (sysexits' EX_SOFTWARE).
EXIT_FAILING = 70


class Agent:
    def __init__(
        self,
        cfg: HearthConfig,
        store: Store,
        clock: Clock | None = None,
        watch_every_s: float = WATCH_EVERY_S,
    ) -> None:
        self.cfg, self.store, self.watch_every_s = cfg, store, watch_every_s
        self.clock: Clock = clock or SystemClock()
        self.pipeline = Pipeline(cfg)
        self.stopping = asyncio.Event()
        self.save_soon = False
        self.watched_at: datetime | None = None  # when the detectors last looked
        self.heard = asyncio.Event()  # a sensor event since they did
        self.dropped = Drops(log, "dropped message", *DROPPED)
        self.health = Health(now=self.clock.now)
        self.exit_code = 0
        # How long a restart must run to count as working, and the first wait (tests shorten).
        self.stable_s = STABLE_S
        self.clock_guard = ClockGuard(self.health)
        self._event_failed_at = 0.0
        self.first_restart_s = 1.0
        self.systemd = Notifier()
        self.home: HomeBroker | None = None
        if cfg.local_broker is not None:
            self.home = HomeBroker(
                cfg.local_broker,
                cfg.household.id,
                Decoder(cfg.sensors),
                self._accept,
                self._command,
                self.clock.now,
                self.pipeline.household.tz,
                self.dropped,
                lambda: self.links.home_broker_back(),
                store,
            )
        self.bridge: SerialBridge | None = None
        if cfg.serial_bridge is not None:
            self.bridge = SerialBridge(
                cfg.serial_bridge,
                list(cfg.sensors),
                self._accept,
                self.clock.now,
                self.clock.monotonic,
                clock_trusted,
            )
        self.links = Links(
            cfg, lambda: self.pipeline.monitor, self.home, self.bridge, self.clock.now()
        )
        answers = partial(take_answer, self)  # the carers' answers, from the upstream links
        self.upstream = Upstream(cfg, store, self.clock.now, self.health, answers)
        self.jumps = JumpWatch(self.clock)
        self.home_assistant = home_assistant_for(self)

    @property
    def connected_local(self) -> asyncio.Event:
        return self.home.connected if self.home else asyncio.Event()

    @property
    def connected_upstream(self) -> asyncio.Event:
        return self.upstream.connected

    def _accept(self, event: SensorEvent) -> None:
        try:
            self.store.add_event(event)
            self.pipeline.observe(event)
            self.heard.set()
        except Exception as exc:
            # One event lost, not every one after it; while they fail, the status says so.
            if self.dropped["not_processed"] == 0:
                log.exception("could not process an event from %s", event.sensor)
            self.dropped.count("not_processed", f"from {event.sensor}: {type(exc).__name__}: {exc}")
            self.health.degraded(
                "events", f"sensor events could not be processed ({type(exc).__name__})"
            )
            self._event_failed_at = self.clock.monotonic()
            return
        # Working again only after a while with none failing (one sensor's may fail alone).
        if "events" in self.health.problems and (
            self.clock.monotonic() - self._event_failed_at >= self.stable_s
        ):
            self.health.recovered("events")
            log.warning("sensor events are being processed again")

    def _command(self, cmd: Command, now: datetime) -> None:
        log.warning("household command: %s", self.pipeline.command(cmd, now))
        self.save_soon = True
        self.heard.set()  # the detectors look at once: the change is told to the care team

    async def watch(self) -> None:
        self.jumps = JumpWatch(self.clock)
        wait_s = self.watch_every_s
        while True:
            await next_look(self.heard, wait_s)
            now, jump = self.jumps.look()
            clock = self.clock_guard.check(now, self._resume, self.clock.monotonic())
            if clock == "wait":
                # Alive, and waiting for the clock as it should: not a hang to restart.
                self.systemd.send("WATCHDOG=1")
                continue
            if jump is not None and clock == "watch":
                log.warning("wall clock jumped by %s; quiet time is measured across the jump", jump)
                self.pipeline.clock_jumped(jump, now)
                self.save_soon = True
            links = self.links.findings(now)
            links_health(self.health, links)
            for alert in self.pipeline.tick(now, links):
                await self.upstream.enqueue(alert)
            await check_in_link.pass_on(self, now)
            wait_s = until_due(self.pipeline, now, self.watch_every_s)
            self.watched_at = now
            # Only once the detectors have really looked at the time.
            self.systemd.send("WATCHDOG=1")

    def _stamp(self) -> datetime:
        return self.clock_guard.stamp(self.clock.now())

    def _resume(self, since: datetime | None, now: datetime) -> None:
        keeping.resume(self.pipeline, since, now)
        self.jumps = JumpWatch(self.clock)
        self.save_soon = True  # a crash before the next save would replay without it

    async def _tell(self, finding: Finding) -> None:  # the agent's own, through the policy
        alert = self.pipeline.policy.decide(finding)
        if alert is not None:
            await self.upstream.enqueue(alert)

    async def _fault(self, part: str, exc: BaseException) -> None:
        """A supervised task failed: the technician is told, once for each spell it is down."""
        now = self.clock.now()
        since = self.health.since.get(part, now)
        await self._tell(agent_fault(part, self.health.problems[part], since, now))

    def _give_up(self, why: str) -> None:
        log.critical("%s again and again: stopping, for the service manager to restart Hearth", why)
        self.exit_code = EXIT_FAILING
        self.stopping.set()

    def _supervised(self, part: str, what: str, work: Callable[[], Awaitable[None]]) -> Task[None]:
        how = (
            self.health,
            self._fault,
            self._give_up,
            Backoff(self.first_restart_s),
            self.stable_s,
        )
        return asyncio.create_task(supervise(part, what, work, *how), name=part)

    async def keep(self) -> None:
        """Every second, or sooner when messages wait on their events to be written (the
        keeper says what is due: ``keeping.Keeper``)."""
        settled = lambda: self.pipeline.settled(self.upstream.queued)  # noqa: E731
        note = lambda: watching_note(self)  # noqa: E731
        keeper = keeping.Keeper(
            self.store, self.cfg.store.keep_events, time.monotonic, settled, note
        )
        while True:
            with suppress(TimeoutError):
                await asyncio.wait_for(self.store.flush_wanted.wait(), FLUSH_EVERY_S)
            try:
                soon, self.save_soon = self.save_soon, False  # one asked for meanwhile stays
                await keeper.keep(self.pipeline, self._stamp(), self.watched_at, soon)
            except StoreError as exc:
                self.save_soon = self.save_soon or soon
                await self._storage_failing(exc)
                continue
            if "storage" in self.health.problems:
                self.health.recovered("storage")
                log.warning("the store %s can be written again", self.store.path)

    async def _storage_failing(self, exc: StoreError) -> None:
        """The store cannot be written: the watching goes on from memory, the status says so,
        and the technician is told, once for each spell."""
        why = str(exc.__cause__ or exc)
        if self.health.degraded("storage", f"the store cannot be written ({why})"):
            log.error("%s: watching from memory until it can", exc)
        now = self.clock.now()
        since, waiting = self.health.since.get("storage", now), self.store.pending_events
        await self._tell(storage_full(self.store.path, why, since, now, waiting))

    async def run(self) -> None:
        await carry_on(self)
        workers = [
            self._supervised("watch", "watching (the detectors)", self.watch),
            self._supervised("keep", "keeping (writing events and the routine)", self.keep),
        ]
        if (home := self.home) is not None:
            n = len(self.cfg.sensors)
            workers.append(self._supervised("home", "reading the home broker", lambda: home.run(n)))
        if self.bridge is not None:
            workers.append(self._supervised("bridge", "reading the serial bridge", self.bridge.run))
        if (shown := self.home_assistant) is not None:  # retries on its own; never stops us
            workers.append(asyncio.create_task(shown.run(), name="home_assistant"))
        delivery = self._supervised("deliver", "delivering alerts upstream", self.upstream.run)
        self.systemd.send("READY=1")
        await self.stopping.wait()
        self.systemd.send("STOPPING=1")
        await wind_down(self, workers, delivery)


async def carry_on(agent: Agent) -> None:
    """The agent starting where it stopped: the routine as saved, what came after it replayed
    (``agent.runtime.keeping``), and watching resumed once the clock can be trusted."""
    restored = await keeping.restore(agent.cfg, agent.store)
    agent.pipeline = restored.pipeline
    for alert in restored.alerts:
        await agent.upstream.enqueue(alert)
    # Saved again at once: a crash soon after replays from here, not from the old save.
    agent.save_soon = restored.replayed > 0
    agent.clock_guard.start(restored.sure_at)
    agent.clock_guard.check(agent.clock.now(), agent._resume, agent.clock.monotonic())
    log.info(
        "household %s (%s): %d sensors; detectors: %s",
        agent.cfg.household.id,
        agent.cfg.household.timezone,
        len(agent.cfg.sensors),
        ", ".join(agent.pipeline.monitor.detectors) or "none",
    )
    # What check-config would warn of, said again where the technician reads the running hub.
    for warning in warnings_of(agent.cfg, "the configuration", {}):
        log.warning("%s", warning)


async def wind_down(agent: Agent, workers: list[Task[None]], delivery: Task[None]) -> None:
    """The agent stopping: its tasks ended, the routine saved, the outbox flushed (for at most
    10 s), and what could not be done logged."""
    log.info("stopping: saving the routine and flushing the outbox")
    # What was read is written and acknowledged first, and no more read: else the broker sends
    # it again at the next start.
    if agent.home is not None:
        agent.home.stop_reading()
    with suppress(StoreError):
        await agent.store.flush_events()
    if agent.home is not None:
        agent.home.ack_kept()
    # Longer than each supervisor gives its own task, so that it, not this, says which.
    await cancel_until_done(set(workers), "stopping", 2 * CANCEL_PATIENCE_S)
    try:
        await keeping.save(agent.pipeline, agent.store, agent.clock_guard.stamp(agent.clock.now()))
    except StoreError as exc:
        log.error("could not save the routine at stop: %s", exc)
    agent.upstream.stopping.set()
    agent.upstream.outbox_ready.set()
    flushed, _ = await asyncio.wait({delivery}, timeout=10)
    if not flushed:
        await cancel_until_done({delivery}, "stopping")
        with suppress(StoreError):
            unsent = len(await agent.store.unsent())
            log.warning(
                "upstream not reachable at stop: %d alert(s) stay in the outbox for next start",
                unsent,
            )
    if agent.upstream.held:
        log.error(
            "%d alert(s) held in memory could be neither written nor sent before the stop",
            len(agent.upstream.held),
        )
    counters = {
        **agent.pipeline.counts(),
        **(agent.bridge.counters() if agent.bridge else {}),
        **agent.dropped,
        "clock_jumps": agent.jumps.jumps,
    }
    log.info("stopped; counters %s", json.dumps(counters))


async def run_agent(cfg: HearthConfig) -> Agent:
    """Run until SIGTERM or SIGINT; returns the stopped agent (for its counters)."""
    # A certificate file that is not there is a configuration to fix, not a link to retry.
    for section, broker in every_broker(cfg):
        check_files(broker, ".".join(map(str, section)))
    with only_hearth_on(cfg.store.path):
        async with await Store.open(cfg.store.path) as store:
            agent = Agent(cfg, store)
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, agent.stopping.set)
            try:
                await agent.run()
            finally:
                for sig in (signal.SIGTERM, signal.SIGINT):
                    loop.remove_signal_handler(sig)
        return agent


def home_assistant_for(agent: Agent) -> HomeAssistant | None:
    """Hearth shown in the home's Home Assistant, if the resident wants it."""
    cfg = agent.cfg
    if cfg.home_assistant is None or cfg.local_broker is None:
        return None
    return HomeAssistant(cfg, lambda: hub_view(agent))


def hub_view(agent: Agent) -> HubView:
    """What Home Assistant is shown of the hub now."""
    now, status, monitor = agent.clock.now(), agent.health.status(), agent.pipeline.monitor
    return HubView(now, agent.watched_at, status, agent.upstream.last, learning(monitor))


def watching_note(agent: Agent) -> dict[str, object]:
    """Noted with the watching, for ``hearth status``: the agent's status, each link's state,
    each part not working (the clock among them) with why, and each sensor with a problem."""
    links = {"upstream broker": agent.connected_upstream.is_set()}
    if agent.home is not None:
        links["home broker"] = agent.connected_local.is_set()
    if agent.bridge is not None:
        links["serial bridge"] = agent.bridge.connected.is_set()
    if agent.home_assistant is not None:
        links["Home Assistant (home broker)"] = agent.home_assistant.connected.is_set()
    monitor = agent.pipeline.monitor
    unwell = monitor.health.unwell(agent.clock.now(), monitor.routine.last_activity_at)
    return {
        "status": agent.health.status(),
        "links": links,
        "problems": dict(agent.health.problems),
        "sensors": unwell,
    }
