"""The live agent: one asyncio service reading sensors, learning, and delivering alerts.

Tasks, all on one event loop:
- ``read_sensors``: the local broker's messages, decoded and handed to the pipeline;
- ``watch``: every few seconds, the detectors look at the time; alerts go to the outbox;
- ``deliver``: the outbox, published upstream with QoS 1, marked sent on the broker's ack;
- ``keep``: events written in batches, model state saved now and then.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

import aiomqtt

from agent.config_schema import HearthConfig
from agent.control import ControlError, control_topic, parse_command
from agent.decode import DecodeError, Decoder, UnknownTopic
from agent.drops import Drops
from agent.mqtt_link import Backoff, client_for
from agent.pipeline import Pipeline
from agent.serial_bridge import SerialBridge
from agent.store import Store
from models.alert_policy import Alert
from models.events import SensorEvent
from models.finding import Finding, JsonValue
from models.local_time import duration_text

log = logging.getLogger("hearth.runtime")

STATE_KEY = "pipeline"
WATCH_EVERY_S = 5.0
FLUSH_EVERY_S = 1.0
SAVE_EVERY_S = 300.0
# Before this the hub's clock cannot be right (no RTC, not yet synchronised).
CLOCK_TRUSTED_FROM = datetime(2024, 1, 1, tzinfo=UTC)
# Wall time moving this much more (or less) than monotonic time between two looks is a jump.
# How long the home broker may be out of reach (a restart, an upgrade) before it is reported.
HOME_BROKER_GRACE = timedelta(minutes=1)
CLOCK_JUMP = timedelta(seconds=60)


class Clock(Protocol):
    def now(self) -> datetime: ...
    def monotonic(self) -> float: ...


@dataclass(frozen=True)
class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


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
        self.decoder = Decoder(cfg.sensors)
        self.outbox_ready = asyncio.Event()
        self.stopping = asyncio.Event()
        self.dropped = Drops(
            log, "dropped message", "unknown_topic", "malformed", "no_reading", "bad_command"
        )
        self.clock_jumps = 0
        self.bridge: SerialBridge | None = None
        if cfg.serial_bridge is not None:
            self.bridge = SerialBridge(
                cfg.serial_bridge,
                list(cfg.sensors),
                self._accept,
                self.clock.now,
                self.clock.monotonic,
                lambda at: at >= CLOCK_TRUSTED_FROM,
            )
        self.started_at = self.clock.now()
        self._bridge_down = False
        self.mqtt_sensors = sorted(sc.id for sc in cfg.sensors if sc.mqtt is not None)
        # Counted from start-up until the first connection: a broker that never comes up is lost.
        self.home_broker_lost_at: datetime | None = (
            self.started_at if cfg.local_broker is not None else None
        )
        self.control_topic = control_topic(cfg.household.id)
        self.control_prefix = self.control_topic.removesuffix("+")
        self.commands = 0
        self.save_soon = False
        self.connected_local = asyncio.Event()
        self.connected_upstream = asyncio.Event()

    @property
    def status_topic(self) -> str:
        prefix = self.cfg.upstream.topic_prefix if self.cfg.upstream else "hearth"
        return f"{prefix}/{self.cfg.household.id}/status"

    async def restore(self) -> None:
        state = await self.store.load_state(STATE_KEY)
        if state is None:
            log.info(
                "no saved routine: learning from scratch (%d days before learned alerts)",
                self.cfg.learning.days,
            )
            return
        try:
            self.pipeline.load_state(state)
        except (KeyError, ValueError, TypeError) as exc:
            log.error("saved routine could not be read (%s): learning from scratch", exc)
            self.pipeline = Pipeline(self.cfg)
            return
        r = self.pipeline.monitor.routine
        log.info(
            "restored routine: %d days learned%s",
            r.days_learned,
            "" if self.pipeline.monitor.learned else f" of {self.cfg.learning.days}",
        )
        saved = state.get("saved_at")
        if isinstance(saved, str):
            # While Hearth was stopped nobody watched: that time is not the resident's quiet
            # time, and a hub back after a weekend off must not open with "no movement for
            # 60 hours". Quiet time is carried across the stop, as across a clock jump.
            stopped = self.clock.now() - datetime.fromisoformat(saved)
            if stopped > timedelta(0):
                self.pipeline.resumed(stopped, self.clock.now())
                log.warning(
                    "Hearth was stopped for %s; that time is not counted as quiet",
                    duration_text(stopped.total_seconds()),
                )

    async def save(self) -> None:
        await self.store.flush_events()
        now = self.clock.now()
        state = {**self.pipeline.to_state(), "saved_at": now.isoformat()}
        await self.store.save_state(STATE_KEY, state, now)

    def on_message(self, topic: str, payload: bytes, now: datetime) -> None:
        if topic.startswith(self.control_prefix):
            self.on_command(topic, payload, now)
            return
        trusted = now >= CLOCK_TRUSTED_FROM
        try:
            events = self.decoder.decode(topic, payload, now, trusted)
        except UnknownTopic:
            self.dropped.count(
                "unknown_topic", f"on {topic}: no sensor is configured on this topic"
            )
            return
        except DecodeError as exc:
            self.dropped.count("malformed", f"on {topic}: {exc}")
            return
        if not events:
            preview = payload[:60].decode("utf-8", "replace")
            self.dropped.count("no_reading", f"on {topic}: no reading Hearth uses in {preview!r}")
            return
        for e in events:
            self._accept(e)

    def on_command(self, topic: str, payload: bytes, now: datetime) -> None:
        try:
            cmd = parse_command(
                topic, payload, self.cfg.household.id, now, self.pipeline.household.tz
            )
        except ControlError as exc:
            self.dropped.count("bad_command", f"on {topic}: {exc}")
            return
        log.warning("household command: %s", self.pipeline.command(cmd, now))
        self.commands += 1
        self.save_soon = True

    def _accept(self, event: SensorEvent) -> None:
        self.store.add_event(event)
        self.pipeline.observe(event)

    async def read_sensors(self) -> None:
        broker = self.cfg.local_broker
        if broker is None:
            return
        backoff = Backoff()
        topics = self.decoder.topics()
        while True:
            try:
                async with client_for(broker, f"hearth-{self.cfg.household.id}-in") as client:
                    await client.subscribe([(t, 1) for t in [*topics, self.control_topic]])
                    log.info(
                        "connected to local broker %s:%d; listening to %d sensors on %d topics",
                        broker.host,
                        broker.port,
                        len(self.cfg.sensors),
                        len(topics),
                    )
                    backoff.reset()
                    self.connected_local.set()
                    if self.home_broker_lost_at is not None:
                        self.home_broker_lost_at = None
                        self.pipeline.monitor.health.source_up(self.mqtt_sensors)
                    async for message in client.messages:
                        payload = message.payload
                        raw = payload if isinstance(payload, bytes) else str(payload).encode()
                        self.on_message(str(message.topic), raw, self.clock.now())
            except aiomqtt.MqttError as exc:
                self.connected_local.clear()
                if self.home_broker_lost_at is None:
                    self.home_broker_lost_at = self.clock.now()
                wait = backoff.next()
                log.warning(
                    "local broker %s:%d unavailable (%s); retrying in %.0f s",
                    broker.host,
                    broker.port,
                    exc,
                    wait,
                )
                await asyncio.sleep(wait)

    async def read_bridge(self) -> None:
        if self.bridge is not None:
            await self.bridge.run()

    async def raise_alert(self, alert: Alert) -> None:
        topic = self.pipeline.alert_topic(alert)
        payload = self.pipeline.alert_payload(alert)
        fresh = await self.store.enqueue_alert(alert, topic, payload)
        if fresh and self.cfg.alerts.console:
            log.warning("ALERT %s [%s] %s", alert.type, alert.severity, alert.summary)
        self.outbox_ready.set()

    async def watch(self) -> None:
        last_wall, last_mono = self.clock.now(), self.clock.monotonic()
        while True:
            await asyncio.sleep(self.watch_every_s)
            now, mono = self.clock.now(), self.clock.monotonic()
            drift = (now - last_wall) - timedelta(seconds=mono - last_mono)
            if abs(drift) > CLOCK_JUMP:
                self.clock_jumps += 1
                log.warning(
                    "wall clock jumped by %s; quiet time is measured across the jump", drift
                )
                self.pipeline.clock_jumped(drift)
            last_wall, last_mono = now, mono
            if now < CLOCK_TRUSTED_FROM:
                continue
            silent = self.bridge_silence(now)
            self.bridge_sensors_down(silent)
            lost = self.home_broker_lost(now)
            also = [f for f in (silent, lost) if f is not None]
            for alert in self.pipeline.tick(now, also):
                await self.raise_alert(alert)

    def home_broker_lost(self, now: datetime) -> Finding | None:
        """A technical finding when the home broker has been out of reach for a minute; its
        sensors count as offline from when it went, so the detectors needing them pause."""
        lost_at, broker = self.home_broker_lost_at, self.cfg.local_broker
        if lost_at is None or broker is None or now - lost_at < HOME_BROKER_GRACE:
            return None
        self.pipeline.monitor.health.source_down(self.mqtt_sensors, lost_at)
        tz = self.pipeline.household.tz
        return Finding(
            type="sensor_silent",
            severity="technical",
            started_at=lost_at,
            detected_at=now,
            summary=(
                f"Hearth cannot reach the home MQTT broker at {broker.host}:{broker.port} since"
                f" {lost_at.astimezone(tz):%H:%M} ({duration_text((now - lost_at).total_seconds())});"
                f" its {len(self.mqtt_sensors)} sensors are not being read. Check that the broker"
                " (Mosquitto) is running on the hub."
            ),
            episode=f"sensor_silent:home_broker:{lost_at.isoformat()}",
            evidence={
                "source": "home_broker",
                "broker": f"{broker.host}:{broker.port}",
                "lost_at": lost_at.isoformat(),
                "sensors": list[JsonValue](self.mqtt_sensors),
            },
        )

    def bridge_sensors_down(self, silent: Finding | None) -> None:
        """While the bridge is silent its sensors are offline: the detectors needing them abstain."""
        if self.bridge is None:
            return
        health = self.pipeline.monitor.health
        if silent is not None:
            health.source_down(self.bridge.decoder.sensor_ids, silent.started_at)
            self._bridge_down = True
        elif self._bridge_down:
            health.source_up(self.bridge.decoder.sensor_ids)
            self._bridge_down = False

    def bridge_silence(self, now: datetime) -> Finding | None:
        """A technical finding when the serial bridge has not been heard for its heartbeat timeout."""
        if self.bridge is None or self.cfg.serial_bridge is None:
            return None
        silent_s = self.bridge.silent_for()
        limit = self.cfg.serial_bridge.heartbeat_timeout
        if silent_s < limit.total_seconds():
            return None
        port = self.cfg.serial_bridge.port
        since = self.bridge.last_heard_at or self.started_at
        sensors = self.bridge.decoder.sensor_ids
        heard = (
            f"since {since.astimezone(self.pipeline.household.tz):%H:%M}"
            if self.bridge.last_heard_at
            else "since Hearth started"
        )
        return Finding(
            type="sensor_silent",
            severity="technical",
            started_at=since,
            detected_at=now,
            summary=(
                f"Nothing heard from the serial bridge on {port} {heard} ({duration_text(silent_s)};"
                f" it sends a heartbeat every 10 s). Its sensors ({', '.join(sensors)}) are not being"
                " read: check its USB cable and power."
            ),
            episode=f"sensor_silent:bridge:{since.isoformat()}",
            evidence={
                "source": "serial_bridge",
                "port": port,
                "silent_minutes": round(silent_s / 60, 1),
                "heartbeat_timeout_s": limit.total_seconds(),
                "last_heard_at": self.bridge.last_heard_at.isoformat()
                if self.bridge.last_heard_at
                else None,
                "sensors": list[JsonValue](sensors),
                "port_open": self.bridge.connected.is_set(),
            },
        )

    async def keep(self) -> None:
        last_save = time.monotonic()
        while True:
            await asyncio.sleep(FLUSH_EVERY_S)
            await self.store.flush_events()
            if self.save_soon or time.monotonic() - last_save >= SAVE_EVERY_S:
                self.save_soon = False
                await self.save()
                last_save = time.monotonic()

    async def deliver(self) -> None:
        up = self.cfg.upstream
        if up is None:
            return
        will = aiomqtt.Will(self.status_topic, b"offline", qos=1, retain=True)
        backoff = Backoff()
        while True:
            try:
                async with client_for(up, f"hearth-{self.cfg.household.id}-up", will) as client:
                    await client.publish(self.status_topic, b"online", qos=1, retain=True)
                    log.info(
                        "connected to upstream broker %s:%d; alerts go to %s/%s/alerts/<type>",
                        up.host,
                        up.port,
                        up.topic_prefix,
                        self.cfg.household.id,
                    )
                    backoff.reset()
                    self.connected_upstream.set()
                    try:
                        await self._send_outbox(client)
                    finally:
                        if self.stopping.is_set():
                            # A clean stop says so; the will covers an unclean one.
                            await client.publish(self.status_topic, b"offline", qos=1, retain=True)
                    return
            except aiomqtt.MqttError as exc:
                self.connected_upstream.clear()
                if self.stopping.is_set():
                    return
                wait = backoff.next()
                log.warning(
                    "upstream broker %s:%d unavailable (%s); alerts wait in the outbox; retrying in %.0f s",
                    up.host,
                    up.port,
                    exc,
                    wait,
                )
                await asyncio.sleep(wait)

    async def _send_outbox(self, client: aiomqtt.Client) -> None:
        # Nothing is subscribed upstream: the message iterator only serves to raise MqttError
        # the moment the connection drops, so that it is known before the next alert is due.
        link = asyncio.create_task(self._until_disconnected(client))
        try:
            while True:
                self.outbox_ready.clear()
                for item in await self.store.unsent():
                    # QoS 1: publish returns once the broker has acknowledged it.
                    await client.publish(item.topic, item.payload.encode(), qos=1, timeout=30)
                    await self.store.mark_sent(item.id, self.clock.now())
                    log.info("alert %s delivered upstream on %s", item.id, item.topic)
                if self.stopping.is_set():
                    return
                ready = asyncio.create_task(self.outbox_ready.wait())
                done, _ = await asyncio.wait(
                    {ready, link}, timeout=30, return_when=asyncio.FIRST_COMPLETED
                )
                ready.cancel()
                if link in done:
                    link.result()
                    raise aiomqtt.MqttError("upstream connection closed")
        finally:
            link.cancel()

    @staticmethod
    async def _until_disconnected(client: aiomqtt.Client) -> None:
        async for _ in client.messages:
            pass

    async def run(self) -> None:
        await self.restore()
        log.info(
            "household %s (%s): %d sensors; detectors: %s",
            self.cfg.household.id,
            self.cfg.household.timezone,
            len(self.cfg.sensors),
            ", ".join(self._detectors()),
        )
        workers = [
            asyncio.create_task(self.read_sensors(), name="read_sensors"),
            asyncio.create_task(self.read_bridge(), name="read_bridge"),
            asyncio.create_task(self.watch(), name="watch"),
            asyncio.create_task(self.keep(), name="keep"),
        ]
        delivery = asyncio.create_task(self.deliver(), name="deliver")
        await self.stopping.wait()
        log.info("stopping: saving the routine and flushing the outbox")
        for t in workers:
            t.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        await self.save()
        self.outbox_ready.set()
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

    def _detectors(self) -> list[str]:
        d = self.cfg.detectors
        return [
            name
            for name, on in (
                ("inactivity", d.inactivity.enabled),
                ("missed_morning", d.missed_morning.enabled),
                ("night_exit", d.night_exit.enabled),
            )
            if on
        ]


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
