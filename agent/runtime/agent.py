"""The live agent: one asyncio service reading sensors, learning, and delivering alerts.

Small tasks on one event loop, each in its own module:

- the home broker (``agent.sources.home_broker``) and the serial bridge
  (``agent.sources.serial_bridge``): readings decoded, stored and handed to the pipeline;
- ``watch``, here: every few seconds, the clock checked for a jump, the links watched
  (``agent.runtime.links``) and the detectors ticked; alerts go to the outbox;
- ``keep``, here: events written in batches, the routine saved now and then
  (``agent.runtime.keeping``);
- the upstream publisher (``agent.delivery.upstream``): the outbox, published with QoS 1.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import time
from datetime import datetime

from agent.clock import Clock, JumpWatch, SystemClock, clock_trusted
from agent.config.schema import HearthConfig
from agent.decode import Decoder
from agent.delivery.upstream import Upstream
from agent.drops import Drops
from agent.pipeline import Pipeline
from agent.runtime import keeping
from agent.runtime.links import Links
from agent.sources.control import Command
from agent.sources.home_broker import HomeBroker
from agent.sources.serial_bridge import SerialBridge
from agent.store import Store
from models.events import SensorEvent

log = logging.getLogger("hearth.runtime")

WATCH_EVERY_S = 5.0
FLUSH_EVERY_S = 1.0
SAVE_EVERY_S = 300.0


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
            log, "dropped message", "unknown_topic", "malformed", "no_reading", "bad_command"
        )
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
        self.upstream = Upstream(cfg, store, self.clock.now)
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
        self.store.add_event(event)
        self.pipeline.observe(event)

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
        workers = [asyncio.create_task(self.watch(), name="watch")]
        workers.append(asyncio.create_task(self.keep(), name="keep"))
        if self.home is not None:
            workers.append(asyncio.create_task(self.home.run(len(self.cfg.sensors)), name="home"))
        if self.bridge is not None:
            workers.append(asyncio.create_task(self.bridge.run(), name="bridge"))
        delivery = asyncio.create_task(self.upstream.run(), name="deliver")
        await self.stopping.wait()
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
