"""Hearth in the home's own Home Assistant, only if the resident wants it (the YAML's
``home_assistant`` section): is it watching, its status, the last alert's words and how far it
has learned, as entities of one device found by Home Assistant's MQTT discovery on the home
broker. No sensor event is shown: Home Assistant reads those from the sensors already.

Each entity's discovery config is published retained under the discovery prefix, again when
Home Assistant says it is back (``<prefix>/status`` ``online``); its state and attributes are
retained on ``hearth/<household>/home_assistant/...`` and published when they change. An entity
the resident no longer shares is removed (an empty config) with its state. ``Watching`` expires
two minutes after its last word, so a hub that hangs is not shown watching; the availability
topic says ``offline`` at a clean stop and, as the last will, at a crash.

>>> from datetime import datetime, UTC
>>> from agent.config import load_config_text
>>> cfg = load_config_text(open("config/demo-home.yaml").read()
...     + "local_broker: {host: localhost}\\nhome_assistant: {share: [watching]}\\n")
>>> [(e.component, e.object_id) for e in shared(cfg)]
[('binary_sensor', 'watching'), ('sensor', 'status')]
>>> now = datetime(2026, 12, 2, 9, tzinfo=UTC)
>>> states(cfg, HubView(now, now, "online", None, ()))["hearth/demo-home/home_assistant/watching"]
b'ON'
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version

import aiomqtt

from agent.config.schema import HearthConfig, HomeAssistantConfig
from agent.delivery.status import STALE_S
from agent.errors import BrokerUnavailable
from agent.sources.backoff import Backoff
from agent.sources.mqtt import as_bytes, session
from models.alert_policy import Alert
from models.learning import Learning
from models.what_to_do import first_sentence, suggested_action

log = logging.getLogger("hearth.runtime")

# How often the view is looked at for a change (tests shorten it).
LOOK_EVERY_S = 5.0
# ``Watching`` is said again this often even when unchanged, well within its expiry.
SAY_WATCHING_EVERY_S = 30.0
# Home Assistant keeps no state longer than this (characters).
LONGEST_STATE = 255


@dataclass(frozen=True, slots=True)
class HubView:
    """What Home Assistant may be shown, as the agent sees it now."""

    now: datetime
    watched_at: datetime | None  # when the detectors last looked
    status: str  # the retained status: online, or degraded: and why
    last_alert: Alert | None  # the last alert of this run (else the broker keeps the last)
    learning: Sequence[Learning]


@dataclass(frozen=True, slots=True)
class Entity:
    share: str  # the ``share`` item that shows it
    component: str  # Home Assistant's: sensor, binary_sensor
    object_id: str
    name: str
    config: dict[str, object] = field(default_factory=dict)


ENTITIES = (
    Entity(
        "watching",
        "binary_sensor",
        "watching",
        "Watching",
        {"device_class": "running", "expire_after": int(STALE_S), "icon": "mdi:home-heart"},
    ),
    Entity("watching", "sensor", "status", "Status", {"entity_category": "diagnostic"}),
    Entity("last_alert", "sensor", "last_alert", "Last alert", {"icon": "mdi:bell-alert"}),
    Entity(
        "learning",
        "sensor",
        "days_learned",
        "Days learned",
        {"device_class": "duration", "unit_of_measurement": "d", "state_class": "measurement"},
    ),
    Entity("learning", "sensor", "learning", "Learning", {"icon": "mdi:school"}),
)


def node_id(household: str) -> str:
    """The household's id as Home Assistant's discovery topics allow (letters, digits, _ -)."""
    return "hearth_" + re.sub(r"[^A-Za-z0-9_-]", "_", household)


def base_topic(cfg: HearthConfig) -> str:
    return f"hearth/{cfg.household.id}/home_assistant"


def state_topics(cfg: HearthConfig, object_id: str) -> tuple[str, str]:
    """Where an entity's state and its attributes are published."""
    state = f"{base_topic(cfg)}/{object_id}"
    return state, f"{state}/attributes"


def availability_topic(cfg: HearthConfig) -> str:
    return f"{base_topic(cfg)}/availability"


def _section(cfg: HearthConfig) -> HomeAssistantConfig:
    if cfg.home_assistant is None:
        raise ValueError("this household does not show Hearth in Home Assistant")
    return cfg.home_assistant


def shared(cfg: HearthConfig) -> list[Entity]:
    return [e for e in ENTITIES if e.share in _section(cfg).share]


def config_topic(cfg: HearthConfig, entity: Entity) -> str:
    prefix = _section(cfg).discovery_prefix
    return f"{prefix}/{entity.component}/{node_id(cfg.household.id)}/{entity.object_id}/config"


def _hearth_version() -> str:
    try:
        return version("hearth")
    except PackageNotFoundError:
        return "unknown"


def discovery(cfg: HearthConfig, entity: Entity) -> dict[str, object]:
    """The entity's discovery config, as Home Assistant's MQTT integration documents it."""
    node, sw = node_id(cfg.household.id), _hearth_version()
    state, attributes = state_topics(cfg, entity.object_id)
    return {
        "name": entity.name,
        "unique_id": f"{node}_{entity.object_id}",
        "state_topic": state,
        "json_attributes_topic": attributes,
        "availability_topic": availability_topic(cfg),
        "payload_available": "online",
        "payload_not_available": "offline",
        "device": {
            "identifiers": [node],
            "name": f"Hearth {cfg.household.id}",
            "manufacturer": "Hearth",
            "model": "Hearth hub",
            "sw_version": sw,
        },
        "origin": {"name": "Hearth", "sw_version": sw},
        **entity.config,
    }


def _fits(text: str) -> str:
    return text if len(text) <= LONGEST_STATE else text[: LONGEST_STATE - 1] + "…"


def _payloads(view: HubView, object_id: str) -> tuple[str, dict[str, object]] | None:
    """An entity's state and attributes now; None while it has nothing to say."""
    if object_id == "watching":
        looked = view.watched_at
        on = looked is not None and 0 <= (view.now - looked).total_seconds() <= STALE_S
        return ("ON" if on else "OFF"), {"last_looked": looked.isoformat() if looked else None}
    if object_id == "status":
        return _fits(view.status), {"status": view.status}
    if object_id == "last_alert":
        a = view.last_alert
        if a is None:
            return None
        when = {"started_at": a.started_at.isoformat(), "detected_at": a.detected_at.isoformat()}
        # In the home itself its name says nothing: the headline, and the rest beside it.
        said = {"summary": a.summary, "action": suggested_action(a.type, a.ends is not None)}
        head = a.headline or first_sentence(a.summary)
        return _fits(head), {"type": a.type, "severity": a.severity, **when, "id": a.id, **said}
    each: dict[str, object] = {x.detector: x.words() for x in view.learning}
    if object_id == "days_learned":
        days = view.learning[0].days_learned if view.learning else 0
        need = view.learning[0].learning_days if view.learning else 0
        return str(days), {"learning_days": need}
    done = sum(x.learned for x in view.learning)
    if done == len(view.learning):
        return "learned", each
    return f"learning, {done} of {len(view.learning)} detectors learned", each


def states(cfg: HearthConfig, view: HubView) -> dict[str, bytes]:
    """Each shared entity's state and attributes topic, with its payload now."""
    out: dict[str, bytes] = {}
    for entity in shared(cfg):
        now = _payloads(view, entity.object_id)
        if now is not None:
            state, attributes = state_topics(cfg, entity.object_id)
            out[state] = now[0].encode()
            out[attributes] = json.dumps(now[1]).encode()
    return out


class HomeAssistant:
    """Publishes ``view()`` to the home broker for Home Assistant, until cancelled. Its own
    failures are logged and retried: never a reason for the watching to stop."""

    def __init__(self, cfg: HearthConfig, view: Callable[[], HubView]) -> None:
        if cfg.local_broker is None:
            raise ValueError("Home Assistant reads Hearth on the home broker: set local_broker")
        self.cfg = cfg
        self.broker = cfg.local_broker
        self.view = view
        self.retry = Backoff(longest=30.0)
        self.connected = asyncio.Event()
        self.availability = availability_topic(cfg)

    async def run(self) -> None:
        will = aiomqtt.Will(self.availability, b"offline", qos=1, retain=True)
        while True:
            try:
                async with session(self.broker, f"hearth-{self.cfg.household.id}-ha", will) as c:
                    await c.subscribe(f"{_section(self.cfg).discovery_prefix}/status", qos=1)
                    await self._announce(c)
                    self.connected.set()
                    self.retry.reset()
                    try:
                        await self._keep_showing(c)
                    finally:
                        self.connected.clear()
                        # A clean stop says so; the will covers a crash.
                        await _quietly(c.publish(self.availability, b"offline", qos=1, retain=True))
            except BrokerUnavailable as exc:
                wait = self.retry.next()
                log.warning(
                    "home broker unavailable to Home Assistant (%s); again in %.0fs", exc, wait
                )
                await asyncio.sleep(wait)
            except Exception:
                wait = self.retry.next()
                log.exception("showing Hearth in Home Assistant failed; again in %.0f s", wait)
                await asyncio.sleep(wait)

    async def _announce(self, client: aiomqtt.Client) -> None:
        """Every entity's config (an empty one for each not shared, which removes it), and
        available."""
        chosen = shared(self.cfg)
        for entity in ENTITIES:
            topic = config_topic(self.cfg, entity)
            if entity in chosen:
                payload = json.dumps(discovery(self.cfg, entity)).encode()
                await client.publish(topic, payload, qos=1, retain=True)
            else:
                await client.publish(topic, b"", qos=1, retain=True)
                for t in state_topics(self.cfg, entity.object_id):
                    await client.publish(t, b"", qos=1, retain=True)
        await client.publish(self.availability, b"online", qos=1, retain=True)
        log.info(
            "shown in Home Assistant (%s): %s",
            _section(self.cfg).discovery_prefix,
            ", ".join(e.object_id for e in chosen),
        )

    async def _keep_showing(self, client: aiomqtt.Client) -> None:
        back = asyncio.Event()  # Home Assistant has started again: announce again
        link = asyncio.create_task(_hear_home_assistant(client, back))
        said: dict[str, bytes] = {}
        watching, _ = state_topics(self.cfg, "watching")
        loop = asyncio.get_running_loop()
        said_watching_at = loop.time()
        try:
            while True:
                if back.is_set():
                    back.clear()
                    await self._announce(client)
                    said.clear()
                if loop.time() - said_watching_at >= SAY_WATCHING_EVERY_S:
                    said.pop(watching, None)
                for topic, payload in states(self.cfg, self.view()).items():
                    if said.get(topic) != payload:
                        await client.publish(topic, payload, qos=1, retain=True)
                        said[topic] = payload
                        said_watching_at = loop.time() if topic == watching else said_watching_at
                woken = asyncio.create_task(back.wait())
                done, _ = await asyncio.wait(
                    {link, woken}, timeout=LOOK_EVERY_S, return_when=asyncio.FIRST_COMPLETED
                )
                woken.cancel()
                if link in done:
                    link.result()
                    raise BrokerUnavailable("home broker connection closed")
        finally:
            link.cancel()


async def _hear_home_assistant(client: aiomqtt.Client, back: asyncio.Event) -> None:
    async for message in client.messages:
        if as_bytes(message.payload) == b"online":
            back.set()


async def _quietly(publishing: Awaitable[None]) -> None:
    """At a stop, for at most two seconds: a broker already gone is not an error then."""
    with suppress(TimeoutError, aiomqtt.MqttError):
        await asyncio.wait_for(publishing, 2)
