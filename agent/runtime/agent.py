"""The live agent: one asyncio service reading sensors, learning, and delivering alerts.

Small tasks on one event loop, each in its own module:

- the home broker (``agent.sources.home_broker``) and the serial bridge
  (``agent.sources.serial_bridge``): readings decoded, stored and handed to the pipeline;
- ``watch``, here: every few seconds, the clock checked for a jump, the links watched
  (``agent.runtime.links``) and the detectors ticked; alerts go to the outbox;
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
from datetime import datetime

from agent.clock import Clock, JumpWatch, SystemClock, clock_trusted
from agent.config.schema import HearthConfig
from agent.decode import Decoder
from agent.delivery.status import Health
from agent.delivery.upstream import Upstream
from agent.drops import Drops
from agent.pipeline import Pipeline
from agent.runtime import keeping
from agent.runtime.links import Links
from agent.runtime.supervision import STABLE_S, supervise
from agent.runtime.systemd import Notifier
from agent.sources.backoff import Backoff
from agent.sources.control import Command
from agent.sources.home_broker import HomeBroker
from agent.sources.mqtt import check_files
from agent.sources.serial_bridge import SerialBridge
from agent.store import Store
from models.detectors.link_findings import agent_fault
from models.events import SensorEvent

log = logging.getLogger("hearth.runtime")

WATCH_EVERY_S = 5.0
FLUSH_EVERY_S = 1.0
SAVE_EVERY_S = 300.0
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
        self.cfg = cfg
        self.store = store
        self.clock: Clock = clock or SystemClock()
        self.watch_every_s = watch_every_s
        self.pipeline = Pipeline(cfg)
        self.stopping = asyncio.Event()
        self.save_soon = False
        self.dropped = Drops(
            log,
            "dropped message",
            "unknown_topic",
            "malformed",
            "no_reading",
            "bad_command",
            "not_processed",
        )
        self.health = Health(now=self.clock.now)
        self.exit_code = 0
        # How long a restarted task must run to count as working again, and the first wait
        # before a restart (tests shorten both).
        self.stable_s = STABLE_S
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
        self.upstream = Upstream(cfg, store, self.clock.now, self.health)
        self.jumps = JumpWatch(self.clock)

    @property
    def commands(self) -> int:
        return self.home.commands if self.home else 0

    @property
    def clock_jumps(self) -> int:
        return self.jumps.jumps

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
        except Exception as exc:
            # One event lost, not the reading of every event after it; but while events fail,
            # the watching is incomplete, and the status says so.
            if self.dropped["not_processed"] == 0:
                log.exception("could not process an event from %s", event.sensor)
            self.dropped.count("not_processed", f"from {event.sensor}: {type(exc).__name__}: {exc}")
            self.health.degraded(
                "events", f"sensor events could not be processed ({type(exc).__name__})"
            )
            return
        if "events" in self.health.problems:
            self.health.recovered("events")
            log.warning("sensor events are being processed again")

    def _command(self, cmd: Command, now: datetime) -> None:
        log.warning("household command: %s", self.pipeline.command(cmd, now))
        self.save_soon = True

    async def watch(self) -> None:
        self.jumps = JumpWatch(self.clock)
        while True:
            await asyncio.sleep(self.watch_every_s)
            now, jump = self.jumps.look()
            if jump is not None:
                log.warning("wall clock jumped by %s; quiet time is measured across the jump", jump)
                self.pipeline.clock_jumped(jump)
            if not clock_trusted(now):
                continue
            for alert in self.pipeline.tick(now, self.links.findings(now)):
                await self.upstream.enqueue(alert)
            # Only once the detectors have really looked at the time.
            self.systemd.send("WATCHDOG=1")

    async def _fault(self, part: str, exc: BaseException) -> None:
        """A supervised task failed: the technician is told, once for each spell it is down."""
        now = self.clock.now()
        finding = agent_fault(
            part, self.health.problems[part], self.health.since.get(part, now), now
        )
        alert = self.pipeline.policy.decide(finding)
        if alert is not None:
            await self.upstream.enqueue(alert)

    def _give_up(self, why: str) -> None:
        log.critical("%s again and again: stopping, for the service manager to restart Hearth", why)
        self.exit_code = EXIT_FAILING
        self.stopping.set()

    def _supervised(self, part: str, what: str, work: Callable[[], Awaitable[None]]) -> Task[None]:
        return asyncio.create_task(
            supervise(
                part,
                what,
                work,
                self.health,
                self._fault,
                self._give_up,
                Backoff(first=self.first_restart_s),
                self.stable_s,
            ),
            name=part,
        )

    async def keep(self) -> None:
        last_save = time.monotonic()
        while True:
            await asyncio.sleep(FLUSH_EVERY_S)
            await self.store.flush_events()
            if self.save_soon or time.monotonic() - last_save >= SAVE_EVERY_S:
                self.save_soon = False
                await keeping.save(self.pipeline, self.store, self.clock.now())
                last_save = time.monotonic()

    async def run(self) -> None:
        self.pipeline = await keeping.restore(self.cfg, self.store, self.clock.now())
        log.info(
            "household %s (%s): %d sensors; detectors: %s",
            self.cfg.household.id,
            self.cfg.household.timezone,
            len(self.cfg.sensors),
            ", ".join(self.pipeline.monitor.detectors) or "none",
        )
        workers = [
            self._supervised("watch", "watching (the detectors)", self.watch),
            self._supervised("keep", "keeping (writing events and the routine)", self.keep),
        ]
        if (home := self.home) is not None:
            n = len(self.cfg.sensors)
            workers.append(self._supervised("home", "reading the home broker", lambda: home.run(n)))
        if self.bridge is not None:
            workers.append(self._supervised("bridge", "reading the serial bridge", self.bridge.run))
        delivery = self._supervised("deliver", "delivering alerts upstream", self.upstream.run)
        self.systemd.send("READY=1")
        await self.stopping.wait()
        self.systemd.send("STOPPING=1")
        log.info("stopping: saving the routine and flushing the outbox")
        for t in workers:
            t.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        await keeping.save(self.pipeline, self.store, self.clock.now())
        self.upstream.stopping.set()
        self.upstream.outbox_ready.set()
        try:
            await asyncio.wait_for(delivery, timeout=10)
        except (TimeoutError, asyncio.CancelledError):
            unsent = len(await self.store.unsent())
            log.warning(
                "upstream not reachable at stop: %d alert(s) stay in the outbox for next start",
                unsent,
            )
        counters = {
            **self.pipeline.counts(),
            **(self.bridge.counters() if self.bridge else {}),
            **self.dropped,
            "clock_jumps": self.clock_jumps,
        }
        log.info("stopped; counters %s", json.dumps(counters))


async def run_agent(cfg: HearthConfig) -> Agent:
    """Run until SIGTERM or SIGINT; returns the stopped agent (for its counters)."""
    # A certificate file that is not there is a configuration to fix, not a link to retry.
    if cfg.local_broker is not None:
        check_files(cfg.local_broker, "local_broker")
    if cfg.upstream is not None:
        check_files(cfg.upstream, "upstream")
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
