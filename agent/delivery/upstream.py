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
import re
import time
from asyncio import FIRST_COMPLETED
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from datetime import datetime

import aiomqtt

from agent.config.brokers import UpstreamConfig
from agent.config.schema import HearthConfig
from agent.delivery.rendering import (
    Delivery,
    as_agreed_now,
    brokers,
    deliveries,
    on_the_wire,
    status_topic_on,
)
from agent.delivery.status import Health, Wake
from agent.errors import BrokerRefused, BrokerUnavailable, StoreError
from agent.sources.backoff import Backoff
from agent.sources.mqtt import as_bytes, session
from agent.store import OutboxItem, Store, record_left
from agent.store_schema import AUDIT_LEFT, OUTBOX_ROW, WITHHELD
from models.alert_policy import Alert
from models.carers_answers import answers_topic

log = logging.getLogger("hearth.runtime")

# Look at the outbox at least this often, even when told nothing new is in it.
OUTBOX_LOOK_EVERY_S = 30.0
# The longest wait between attempts to reach the care team's broker (before jitter): once it
# is back, the alerts waiting in the outbox leave within about this long, not a minute later.
UPSTREAM_RETRY_S = 4.0
# How often a recipient's own broker that refused Hearth is tried again.
REFUSED_RETRY_S = 300.0


class Upstream:
    """The outbox, sent to every broker alerts leave for (``brokers``): the care team's, and
    each recipient's own, one link each, with the status retained on each."""

    def __init__(
        self,
        cfg: HearthConfig,
        store: Store,
        now: Callable[[], datetime],
        health: Health | None = None,
        on_answer: Callable[[str, str, bytes, bool], Awaitable[None]] | None = None,
    ) -> None:
        self.cfg = cfg
        self.store = store
        self.now = now
        self.health = health or Health()
        self.retry = Backoff(longest=UPSTREAM_RETRY_S)  # the care team's broker's
        self.outbox_ready = Wake()
        self.connected = asyncio.Event()  # every broker connected
        self._up: set[str] = set()
        self.stopping = asyncio.Event()
        # Alerts the outbox could not take, in order; and ids sent whose sending could not be
        # recorded (not sent again while Hearth runs).
        self.held: list[tuple[Alert, OutboxItem]] = []
        # Alerts handed in this run, written or held: the agent saves its routine only when
        # this is every alert its policy has decided.
        self.queued = 0
        self.sent_unrecorded: set[str] = set()
        self.unaudited: list[tuple[datetime, str, str, str]] = []  # sent, not yet audited
        self.last: Alert | None = None  # the last new alert of this run (for Home Assistant)
        self.on_answer = on_answer  # the carers' answers to alerts, if the agent takes them
        self._holding = asyncio.Lock()

    async def _write_held(self) -> None:
        """Held alerts into the outbox, oldest first, each alert's rows in one write, as far
        as it takes them; and what was sent from memory, into the audit (one task at a time:
        an alert is taken from ``held`` only once it is in the outbox)."""
        async with self._holding:
            while self.held:
                alert = self.held[0][0]
                rows = [item for a, item in self.held if a.id == alert.id]
                f, *also = rows
                await self.store.enqueue_alert(alert, f.topic, f.payload, f.id, also, f.broker)
                self.held = [(a, i) for a, i in self.held if i not in rows]
            while self.unaudited:
                await record_left(self.store, *self.unaudited[0])
                del self.unaudited[0]

    async def _due(self, broker: str) -> list[OutboxItem]:
        """What is to send to ``broker``: its unsent rows, then its alerts held in memory."""
        with suppress(StoreError):
            await self._write_held()
        try:
            stored = await self.store.unsent(broker=broker)
        except StoreError as exc:
            log.warning("the outbox cannot be read (%s): sending what is held in memory", exc)
            stored = []
        items = [i for i in stored if i.id not in self.sent_unrecorded]
        return items + [item for _, item in self.held if item.broker == broker]

    async def _sent(self, item: OutboxItem) -> None:
        if any(i.id == item.id for _, i in self.held):  # sent from memory: in no outbox row
            self.held = [(a, i) for a, i in self.held if i.id != item.id]
            await self._audit(item.topic, item.payload, item.broker)
            return
        try:
            await self.store.mark_sent(item.id, self.now())
            self.sent_unrecorded.discard(item.id)
        except StoreError as exc:
            self.sent_unrecorded.add(item.id)
            self.unaudited.append((self.now(), item.topic, item.payload, item.broker))
            log.warning("alert %s sent, but that could not be recorded: %s", item.id, exc)

    async def enqueue(self, alert: Alert) -> None:
        """Into the outbox, durably, once per alert id, a message for each broker and topic its
        recipients agreed to read it on (``deliveries``), in one write; the links are woken.
        One nobody agreed to is not sent, and the audit says so. While the outbox cannot be
        written (a full disk), held in memory and sent from there: never lost while Hearth
        runs, and written to the outbox once it can be."""
        fresh = False
        try:
            sends = [OutboxItem(d.row_id, d.topic, d.payload, d.broker)
                     for d in deliveries(self.cfg, alert)]  # fmt: skip
            if not sends:
                await withheld(self.store, self.now(), alert)
            else:
                f, *also = sends
                try:
                    await self._write_held()
                    fresh = await self.store.enqueue_alert(
                        alert, f.topic, f.payload, f.id, also, f.broker
                    )
                except StoreError as exc:
                    fresh = all(item.id != f.id for _, item in self.held)
                    self.held += [(alert, item) for item in sends] if fresh else []
                    log.warning("alert %s held in memory: %s", alert.id, exc)
        finally:
            # Counted however it ended: the routine's saves wait for this, never for ever.
            self.queued += 1
        self.last = alert if fresh else self.last
        if fresh and self.cfg.alerts.console:
            log.warning("ALERT %s [%s] %s", alert.type, alert.severity, alert.summary)
        self.outbox_ready.set()

    async def run(self) -> None:
        """Publish to each broker until ``stopping`` is set and its share of the outbox is
        empty (or it is unreachable)."""
        links = brokers(self.cfg)
        self.sent_unrecorded |= await reconsent_all(self.store, self.cfg, self.now())
        try:
            async with asyncio.TaskGroup() as tg:
                for broker, up in links.items():
                    tg.create_task(self._link(broker, up, len(links)))
        except ExceptionGroup as group:  # one link's failure, as itself, for the supervisor
            raise group.exceptions[0] from None

    async def _link(self, broker: str, up: UpstreamConfig, of: int) -> None:
        status = status_topic_on(self.cfg, broker)
        will = aiomqtt.Will(status, b"offline", qos=1, retain=True)
        backoff = self.retry if broker == "" else Backoff(longest=UPSTREAM_RETRY_S)
        whose = "the care team's" if broker == "" else f"{broker}'s own"
        me = f"hearth-{self.cfg.household.id}-up" + (f"-{_slug(broker)}" if broker else "")
        while True:
            try:
                answers = self.on_answer is not None  # kept by the broker while Hearth is away
                async with session(up, me, will, persistent=answers, manual_ack=answers) as client:
                    await _publish_status(self, client, broker)
                    log.info("connected to %s broker %s:%d", whose, up.host, up.port)
                    backoff.reset()
                    self.health.recovered(f"broker:{broker}")
                    self._up.add(broker)
                    if len(self._up) == of:
                        self.connected.set()
                    try:
                        await self._send_outbox(client, broker)
                    finally:
                        if self.stopping.is_set():
                            # A clean stop says so; the will covers an unclean one.
                            await client.publish(status, b"offline", qos=1, retain=True)
                            await self._audit(status, "offline", broker)
                    return
            except (BrokerRefused, BrokerUnavailable) as exc:
                # A recipient's own broker refusing Hearth (its password changed) must not stop
                # the care team's alerts: that link waits, and the status says why.
                refused = isinstance(exc, BrokerRefused)
                if refused and broker == "":
                    raise  # the care team's: a configuration to fix, said by the supervisor
                if refused:
                    self.health.degraded(f"broker:{broker}", f"{whose} broker refused: {exc}")
                self._up.discard(broker)
                self.connected.clear()
                if self.stopping.is_set():
                    return
                wait = REFUSED_RETRY_S if refused else backoff.next()
                log.warning("%s broker %s:%d: %s; alerts wait in the outbox; retrying in %.0f s",
                            whose, up.host, up.port, exc, wait)  # fmt: skip
                with suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), wait)

    async def _send_outbox(self, client: aiomqtt.Client, broker: str) -> None:
        # Only the carers' answers are subscribed to; the message iterator also raises
        # MqttError the moment the connection drops, known before the next alert is due.
        if self.on_answer is not None:
            prefix = brokers(self.cfg)[broker].topic_prefix
            await client.subscribe(answers_topic(prefix, self.cfg.household.id), qos=1)
        link = asyncio.create_task(_until_disconnected(client, broker, self.on_answer))
        ready, changed = self.outbox_ready.event(broker), self.health.changed.event(broker)
        try:
            while True:
                ready.clear()
                for item in await self._due(broker):
                    wire = on_the_wire(self.cfg, item.payload).encode()  # JSON, or FHIR
                    await client.publish(item.topic, wire, qos=1, timeout=30)  # QoS 1: acked
                    await self._sent(item)
                    log.info("alert %s delivered upstream on %s", item.id, item.topic)
                if self.stopping.is_set():
                    return
                waits = {asyncio.create_task(e.wait()) for e in (ready, changed)}
                done, _ = await asyncio.wait(
                    {*waits, link}, timeout=OUTBOX_LOOK_EVERY_S, return_when=FIRST_COMPLETED
                )
                for w in waits:
                    w.cancel()
                if link in done:
                    link.result()
                    raise BrokerUnavailable("upstream connection closed")
                if changed.is_set():
                    await _publish_status(self, client, broker)
        finally:
            link.cancel()

    async def _audit(self, topic: str, payload: str, broker: str = "") -> None:
        """What left, in the audit: on a full disk, kept to record once it can be (``_due``)."""
        try:
            await record_left(self.store, self.now(), topic, payload, broker)
        except StoreError as exc:
            self.unaudited.append((self.now(), topic, payload, broker))
            log.warning("%s sent, but not yet recorded in the audit: %s", topic, exc)


async def _publish_status(up: Upstream, client: aiomqtt.Client, broker: str) -> None:
    up.health.changed.event(broker).clear()
    status, topic = up.health.status(), status_topic_on(up.cfg, broker)
    await client.publish(topic, status.encode(), qos=1, retain=True)
    await up._audit(topic, status, broker)
    if status != "online":
        log.warning("status upstream: %s", status)


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-").lower() or "recipient"


async def withheld(store: Store, now: datetime, alert: Alert) -> None:
    """An alert no recipient agreed to: not sent, and recorded as such in the audit."""
    log.info("alert %s (%s) not sent: no recipient agreed to it", alert.id, alert.type)
    doc = {k: alert.to_json()[k] for k in ("id", "type", "severity", "summary")}
    try:
        await record_left(store, now, WITHHELD, json.dumps(doc))
    except StoreError as exc:
        log.warning("alert %s not sent, and that not recorded in the audit: %s", alert.id, exc)


async def _until_disconnected(
    client: aiomqtt.Client,
    broker: str,
    on_answer: Callable[[str, str, bytes, bool], Awaitable[None]] | None,
) -> None:
    async for message in client.messages:
        if on_answer is not None:  # acknowledged once recorded: a crash before, sent again
            await on_answer(broker, str(message.topic), as_bytes(message.payload), message.retain)
            client._client.ack(message.mid, message.qos)


async def reconsent_all(store: Store, cfg: HearthConfig, now: datetime) -> set[str]:
    """At start (the YAML is read once, so only rows queued under an earlier one can differ),
    every unsent row as today's consent lets it leave (``as_agreed_now``): revised in the
    outbox first, so that the audit records what left, with a row for each further place its
    recipients read it now; or, if none of them still agrees, or none reads it on a broker
    Hearth now sends to, settled unsent and audited as withheld. The ids of rows it could not
    revise (a full disk): not to send under the old consent while Hearth runs."""
    links, skip = brokers(cfg), set[str]()
    try:
        rows = await store.unsent(limit=1_000_000)
    except StoreError as exc:
        log.warning("the outbox cannot be read to check its consent (%s)", exc)
        return skip
    for item in rows:
        as_queued = Delivery(item.id, item.topic, item.payload, item.broker)
        agreed = [d for d in as_agreed_now(cfg, as_queued) if d.broker in links]
        if agreed == [as_queued]:
            continue
        try:
            if not agreed:
                doc = json.loads(item.payload)
                said = {k: doc.get(k) for k in ("id", "type", "severity", "summary")}
                said["queued_for"] = item.topic
                log.info("alert %s not sent: its recipients no longer agree to it", item.id)
                await settle_withheld(store, item.id, now, json.dumps(said))
                continue
            first, *more = (OutboxItem(d.row_id, d.topic, d.payload, d.broker) for d in agreed)
            await revise(store, first, more)
            log.info("alert %s leaves as its recipients agree today", item.id)
        except StoreError as exc:
            log.warning("alert %s held back: its consent changed, and the outbox: %s", item.id, exc)
            skip.add(item.id)
    return skip


async def revise(store: Store, item: OutboxItem, more: Sequence[OutboxItem] = ()) -> None:
    """An outbox row, unsent, to leave as ``item`` says, and rows ``more`` beside it (consent
    changed: its recipients now read it in several places), in one write."""
    async with store._writing("revise an alert in"):
        args = (item.topic, item.payload, item.broker, item.id)
        sql = "UPDATE outbox SET topic = ?, payload = ?, upstream = ? WHERE id = ?"
        await store.db.execute(sql, args)
        at = time.time()
        rows = [(m.id, m.topic, m.payload, at, None, m.broker) for m in more]
        await store.db.executemany(OUTBOX_ROW, rows)
        await store.db.commit()


async def settle_withheld(store: Store, row_id: str, at: datetime, said: str) -> None:
    """An outbox row never to send (nobody it names agrees to it now): settled as if sent, so
    that it is not tried again, and in the audit as not sent (``WITHHELD``), with ``said``."""
    async with store._writing("settle a withheld alert in"):
        args = (at.timestamp(), row_id)
        await store.db.execute("UPDATE outbox SET sent_at = ? WHERE id = ?", args)
        await store.db.execute(AUDIT_LEFT, (args[0], WITHHELD, said, ""))
        await store.db.commit()
