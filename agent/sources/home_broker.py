"""The home broker: sensor messages decoded into events, and the household's commands, read
until the agent stops; reconnected with backoff when the broker goes away.

A message that cannot be read (an unknown topic, a malformed payload, a bad command) is
counted by reason and logged, and reading goes on.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import aiomqtt

from agent.clock import clock_trusted
from agent.config.brokers import BrokerConfig
from agent.decode import Decoder
from agent.drops import Drops
from agent.errors import BrokerUnavailable, ControlError, DecodeError, UnknownTopic
from agent.sources.backoff import Backoff
from agent.sources.control import Command, control_topic, parse_command
from agent.sources.mqtt import as_bytes, session
from agent.store import Store
from models.events import SensorEvent

log = logging.getLogger("hearth.runtime")

# QoS 1 messages read and not yet acknowledged (their events not yet written) before a write is
# asked for; a broker must allow at least twice this many in flight (Mosquitto allows 20).
ACK_AFTER = 8


class HomeBroker:
    def __init__(
        self,
        broker: BrokerConfig,
        household: str,
        decoder: Decoder,
        on_event: Callable[[SensorEvent], None],
        on_command: Callable[[Command, datetime], None],
        now: Callable[[], datetime],
        tz: ZoneInfo,
        dropped: Drops,
        on_reconnect: Callable[[], None] = lambda: None,
        kept: Store | None = None,
    ) -> None:
        self.broker = broker
        self.household = household
        self.decoder = decoder
        self.on_event = on_event
        self.on_command = on_command
        self.now = now
        self.tz = tz
        self.dropped = dropped
        self.commands = 0
        self.connected = asyncio.Event()
        self.control_topic = control_topic(household)
        self._control_prefix = self.control_topic.removesuffix("+")
        # Counted from start-up until the first connection: a broker that never comes up is lost.
        self.lost_at: datetime | None = now()
        self.on_reconnect = on_reconnect
        # Where the events are kept: a QoS 1 message is acknowledged to the broker once its
        # events are written there, so that one not yet written when Hearth is killed is sent
        # again after the restart (without it, acknowledged on arrival).
        self.kept = kept
        self._unacked: deque[tuple[int, int, int]] = deque()  # message id, QoS, events added
        self._client: aiomqtt.Client | None = None
        self.stopping = False

    @property
    def name(self) -> str:
        return f"{self.broker.host}:{self.broker.port}"

    def on_message(self, topic: str, payload: bytes, now: datetime) -> None:
        if topic.startswith(self._control_prefix):
            self._command(topic, payload, now)
            return
        try:
            events = self.decoder.decode(topic, payload, now, clock_trusted(now))
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
            self.on_event(e)

    def _command(self, topic: str, payload: bytes, now: datetime) -> None:
        try:
            cmd = parse_command(topic, payload, self.household, now, self.tz)
        except ControlError as exc:
            self.dropped.count("bad_command", f"on {topic}: {exc}")
            return
        try:
            self.on_command(cmd, now)
        except ControlError as exc:  # longer than the YAML allows, say
            self.dropped.count("bad_command", f"on {topic}: {exc}")
            return
        except Exception as exc:  # one command lost, not the reading of every message after it
            log.exception("household command %s could not be carried out", cmd.name)
            self.dropped.count("bad_command", f"on {topic}: {type(exc).__name__}: {exc}")
            return
        self.commands += 1

    def _kept_later(self, client: aiomqtt.Client, mid: int, qos: int) -> None:
        kept = self.kept
        if qos == 0:
            return
        if kept is None or kept.added <= kept.written:  # nothing of it waits to be written
            self.ack_kept()  # those before it first: acknowledged in the order they came
            client._client.ack(mid, qos)
            return
        self._unacked.append((mid, qos, kept.added))
        # Written once a few wait (a burst in one batch), else within ``EVENTS_WITHIN_S``: the
        # SD card is written a few pages a write. Well before the broker's window of messages
        # sent and not yet acknowledged fills (Mosquitto's max_inflight_messages, 20 unless
        # set lower), so it never stops sending for want of an acknowledgement.
        if len(self._unacked) >= ACK_AFTER:
            kept.flush_wanted.set()

    def stop_reading(self) -> None:
        """Stopping: what was read is written and acknowledged (``ack_kept``); the rest is left
        at the broker, for the next start."""
        self.stopping = True

    async def _ack_kept(self) -> None:
        kept = self.kept
        if kept is None:
            return
        while True:
            await kept.progress.wait()
            kept.progress.clear()
            self.ack_kept()

    def ack_kept(self) -> None:
        """Each message acknowledged once its events are written, or cannot be (a full disk:
        then they are kept in memory, and the broker must go on sending)."""
        kept, client = self.kept, self._client
        if kept is None or client is None:
            return
        while self._unacked and (kept.failing or self._unacked[0][2] <= kept.written):
            mid, qos, _ = self._unacked.popleft()
            client._client.ack(mid, qos)

    async def ask(self, topic: str, payload: bytes) -> bool:
        """Publish to the home (a check-in's question); False if it cannot now."""
        client = self._client
        if client is None:
            return False
        try:
            # Short: the watching waits on it, and a question not carried is not waited for.
            await client.publish(topic, payload, qos=1, timeout=3)
        except Exception as exc:  # MqttError, a timeout: the caller does not wait on it
            log.warning("could not publish %s on the home broker: %s", topic, exc)
            return False
        return True

    async def run(self, sensors: int) -> None:
        backoff = Backoff()
        topics = self.decoder.topics()
        while True:
            try:
                # A persistent session under a fixed client id: what the sensors publish (at
                # QoS 1) while Hearth restarts waits at the broker, not lost.
                async with session(
                    self.broker, f"hearth-{self.household}-in", persistent=True, manual_ack=True
                ) as client:
                    await client.subscribe([(t, 1) for t in [*topics, self.control_topic]])
                    log.info(
                        "connected to local broker %s; listening to %d sensors on %d topics",
                        self.name,
                        sensors,
                        len(topics),
                    )
                    backoff.reset()
                    self.connected.set()
                    if self.lost_at is not None:
                        self.lost_at = None
                        self.on_reconnect()
                    self._unacked.clear()  # the broker sends those again on this session
                    self._client = client
                    acks = asyncio.create_task(self._ack_kept())
                    try:
                        async for message in client.messages:
                            if self.stopping:
                                continue  # not read, not acknowledged: sent again at next start
                            topic, payload = str(message.topic), as_bytes(message.payload)
                            try:
                                self.on_message(topic, payload, self.now())
                            except BaseException:
                                # Acknowledged at once: a message sent again would fail again.
                                if message.qos:
                                    self.ack_kept()
                                    client._client.ack(message.mid, message.qos)
                                raise
                            self._kept_later(client, message.mid, message.qos)
                    finally:
                        acks.cancel()
                        self._client = None
            except BrokerUnavailable as exc:
                self.connected.clear()
                if self.lost_at is None:
                    self.lost_at = self.now()
                wait = backoff.next()
                log.warning(
                    "local broker %s unavailable (%s); retrying in %.0f s", self.name, exc, wait
                )
                await asyncio.sleep(wait)
