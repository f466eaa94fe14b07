"""The upstream publisher: alerts from the outbox to the care team's broker, QoS 1, each marked
sent only on the broker's acknowledgement, and the retained ``status``: ``online`` while every
part of the watching works, ``degraded: ...`` with the reasons while one does not (published
again at every change), and ``offline`` at a clean stop or, as the last will, at a crash.

An alert is in the outbox (committed to SQLite) before it is published, so an outage upstream
or a restart delays it but never loses it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime

import aiomqtt

from agent.config.schema import HearthConfig
from agent.delivery.rendering import as_agreed_now, deliveries, status_topic
from agent.delivery.status import Health
from agent.errors import BrokerUnavailable, StoreError
from agent.sources.backoff import Backoff
from agent.sources.mqtt import session
from agent.store import OutboxItem, Store, record_left, revise, settle_withheld
from agent.store_schema import WITHHELD
from models.alert_policy import Alert

log = logging.getLogger("hearth.runtime")

# Look at the outbox at least this often, even when told nothing new is in it.
OUTBOX_LOOK_EVERY_S = 30.0
# The longest wait between attempts to reach the care team's broker (before jitter): once it
# is back, the alerts waiting in the outbox leave within about this long, not a minute later.
UPSTREAM_RETRY_S = 4.0


class Upstream:
    def __init__(
        self,
        cfg: HearthConfig,
        store: Store,
        now: Callable[[], datetime],
        health: Health | None = None,
    ) -> None:
        self.cfg = cfg
        self.store = store
        self.now = now
        self.health = health or Health()
        self.retry = Backoff(longest=UPSTREAM_RETRY_S)
        self.outbox_ready = asyncio.Event()
        self.connected = asyncio.Event()
        self.stopping = asyncio.Event()
        # Alerts the outbox could not take, in order; and ids sent whose sending could not be
        # recorded (not sent again while Hearth runs).
        self.held: list[tuple[Alert, OutboxItem]] = []
        # Alerts handed in this run, written or held: the agent saves its routine only when
        # this is every alert its policy has decided.
        self.queued = 0
        self.sent_unrecorded: set[str] = set()
        self.unaudited: list[tuple[datetime, str, str]] = []  # sent, not yet in the audit
        self.last: Alert | None = None  # the last new alert of this run (for Home Assistant)
        self._holding = asyncio.Lock()

    async def _write_held(self) -> None:
        """Held alerts into the outbox, oldest first, each alert's rows in one write, as far
        as it takes them (one task at a time: an alert is taken from ``held`` only once it is
        in the outbox)."""
        async with self._holding:
            while self.held:
                alert = self.held[0][0]
                rows = [item for a, item in self.held if a.id == alert.id]
                first, *rest = rows
                also = [(i.id, i.topic, i.payload) for i in rest]
                await self.store.enqueue_alert(alert, first.topic, first.payload, first.id, also)
                self.held = [(a, i) for a, i in self.held if i not in rows]

    async def _due(self) -> list[OutboxItem]:
        """What is to send: the outbox's unsent, then the alerts held in memory (and what was
        sent from memory, into the audit, once the store takes it)."""
        with suppress(StoreError):
            await self._write_held()
            while self.unaudited:
                await record_left(self.store, *self.unaudited[0])
                del self.unaudited[0]
        try:
            stored = await self.store.unsent()
        except StoreError as exc:
            log.warning("the outbox cannot be read (%s): sending what is held in memory", exc)
            stored = []
        items = [i for i in stored if i.id not in self.sent_unrecorded]
        agreed = [a for i in items if (a := await reconsented(self.store, self.cfg, i, self.now()))]
        return agreed + [item for _, item in self.held]

    async def _sent(self, item: OutboxItem) -> None:
        if any(i.id == item.id for _, i in self.held):  # sent from memory: in no outbox row
            self.held = [(a, i) for a, i in self.held if i.id != item.id]
            await self._audit(item.topic, item.payload)
            return
        try:
            await self.store.mark_sent(item.id, self.now())
            self.sent_unrecorded.discard(item.id)
        except StoreError as exc:
            self.sent_unrecorded.add(item.id)
            self.unaudited.append((self.now(), item.topic, item.payload))
            log.warning("alert %s sent, but that could not be recorded: %s", item.id, exc)

    async def enqueue(self, alert: Alert) -> None:
        """Into the outbox, durably, once per alert id, a message for each topic its recipients
        agreed to read it on (``deliveries``); the publisher is woken. One nobody agreed to is
        not sent, and the audit says so. While the outbox cannot be written (a full disk), held
        in memory and sent from there: never lost while Hearth runs, and written to the outbox
        once it can be."""
        fresh = False
        try:
            sends = deliveries(self.cfg, alert)
            if not sends:
                await withheld(self.store, self.now(), alert)
            else:
                first, *rest = sends
                also = [(d.row_id, d.topic, d.payload) for d in rest]
                try:
                    await self._write_held()
                    fresh = await self.store.enqueue_alert(
                        alert, first.topic, first.payload, first.row_id, also
                    )
                except StoreError as exc:
                    fresh = all(item.id != first.row_id for _, item in self.held)
                    if fresh:
                        self.held += [(alert, OutboxItem(d.row_id, d.topic, d.payload))
                                      for d in sends]  # fmt: skip
                    log.warning("alert %s held in memory: %s", alert.id, exc)
        finally:
            # Counted however it ended: the routine's saves wait for this, never for ever.
            self.queued += 1
        self.last = alert if fresh else self.last
        if fresh and self.cfg.alerts.console:
            log.warning("ALERT %s [%s] %s", alert.type, alert.severity, alert.summary)
        self.outbox_ready.set()

    async def run(self) -> None:
        """Publish until ``stopping`` is set and the outbox is empty (or unreachable)."""
        up = self.cfg.upstream
        if up is None:
            return
        status = status_topic(self.cfg)
        will = aiomqtt.Will(status, b"offline", qos=1, retain=True)
        backoff = self.retry
        while True:
            try:
                async with session(up, f"hearth-{self.cfg.household.id}-up", will) as client:
                    await self._publish_status(client)
                    log.info("connected to upstream broker %s:%d", up.host, up.port)
                    backoff.reset()
                    self.connected.set()
                    try:
                        await self._send_outbox(client)
                    finally:
                        if self.stopping.is_set():
                            # A clean stop says so; the will covers an unclean one.
                            await client.publish(status, b"offline", qos=1, retain=True)
                            await self._audit(status, "offline")
                    return
            except BrokerUnavailable as exc:
                self.connected.clear()
                if self.stopping.is_set():
                    return
                wait = backoff.next()
                log.warning(
                    "upstream broker %s:%d unavailable (%s); alerts wait in the outbox;"
                    " retrying in %.0f s",
                    up.host,
                    up.port,
                    exc,
                    wait,
                )
                await asyncio.sleep(wait)

    async def _send_outbox(self, client: aiomqtt.Client) -> None:
        # Nothing is subscribed upstream: the message iterator only serves to raise MqttError
        # the moment the connection drops, so that it is known before the next alert is due.
        link = asyncio.create_task(_until_disconnected(client))
        try:
            while True:
                self.outbox_ready.clear()
                for item in await self._due():
                    # QoS 1: publish returns once the broker has acknowledged it.
                    await client.publish(item.topic, item.payload.encode(), qos=1, timeout=30)
                    await self._sent(item)
                    log.info("alert %s delivered upstream on %s", item.id, item.topic)
                if self.stopping.is_set():
                    return
                ready = asyncio.create_task(self.outbox_ready.wait())
                changed = asyncio.create_task(self.health.changed.wait())
                done, _ = await asyncio.wait(
                    {ready, link, changed},
                    timeout=OUTBOX_LOOK_EVERY_S,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                ready.cancel()
                changed.cancel()
                if link in done:
                    link.result()
                    raise BrokerUnavailable("upstream connection closed")
                if self.health.changed.is_set():
                    await self._publish_status(client)
        finally:
            link.cancel()

    async def _publish_status(self, client: aiomqtt.Client) -> None:
        self.health.changed.clear()
        status = self.health.status()
        await client.publish(status_topic(self.cfg), status.encode(), qos=1, retain=True)
        await self._audit(status_topic(self.cfg), status)
        if status != "online":
            log.warning("status upstream: %s", status)

    async def _audit(self, topic: str, payload: str) -> None:
        """What left, in the audit: on a full disk, kept to record once it can be (``_due``)."""
        try:
            await record_left(self.store, self.now(), topic, payload)
        except StoreError as exc:
            self.unaudited.append((self.now(), topic, payload))
            log.warning("%s sent, but not yet recorded in the audit: %s", topic, exc)


async def withheld(store: Store, now: datetime, alert: Alert) -> None:
    """An alert no recipient agreed to: not sent, and recorded as such in the audit."""
    log.info("alert %s (%s) not sent: no recipient agreed to it", alert.id, alert.type)
    doc = {k: alert.to_json()[k] for k in ("id", "type", "severity", "summary")}
    try:
        await record_left(store, now, WITHHELD, json.dumps(doc))
    except StoreError as exc:
        log.warning("alert %s not sent, and that not recorded in the audit: %s", alert.id, exc)


async def _until_disconnected(client: aiomqtt.Client) -> None:
    async for _ in client.messages:
        pass


async def reconsented(
    store: Store, cfg: HearthConfig, item: OutboxItem, now: datetime
) -> OutboxItem | None:
    """A queued message as today's consent lets it leave (``as_agreed_now``: the YAML may have
    changed while it waited): revised in its outbox row first, so that the audit records what
    left; or, if nobody it names still agrees, settled unsent and audited as withheld. None:
    not to send now (withheld, or its row could not be revised: tried again at the next pass).
    """
    agreed = as_agreed_now(cfg, item.topic, item.payload)
    if agreed == (item.topic, item.payload):
        return item
    try:
        if agreed is None:
            doc = json.loads(item.payload)
            said = {k: doc.get(k) for k in ("id", "type", "severity", "summary")}
            log.info("alert %s not sent: its recipients no longer agree to it", item.id)
            await settle_withheld(
                store, item.id, now, json.dumps(said | {"queued_for": item.topic})
            )
            return None
        await revise(store, item.id, *agreed)
    except StoreError as exc:
        log.warning("alert %s waits: its consent changed, and the outbox: %s", item.id, exc)
        return None
    log.info("alert %s leaves as its recipients agree today, on %s", item.id, agreed[0])
    return OutboxItem(item.id, *agreed)
