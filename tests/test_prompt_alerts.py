"""Events drive the work (issue 16): an alert a sensor message makes due is decided and sent at
once, not at the next periodic pass of the detectors; one that time makes due leaves at its
deadline, on a timer; a burst of messages costs one look per ``SOONEST_LOOK_S``, not one
each."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import aiomqtt
import yaml

from agent.clock import ManualClock
from agent.config import load_config_text
from agent.runtime import Agent
from agent.runtime.looking import SOONEST_LOOK_S, next_look
from agent.store import Store
from tests.conftest import Mosquitto
from tests.test_live_mqtt import Upstream, listen, live_config, live_doc, local, until

# Far longer than the test: whatever is sent, it is not the periodic pass that sent it.
NO_PASS_S = 3600.0


def test_a_low_battery_reaches_the_care_team_at_once_not_at_the_next_pass(
    broker: Mosquitto, upstream_broker: Mosquitto, tmp_path: Path
) -> None:
    cfg = live_config(broker, upstream_broker, tmp_path / "home.sqlite")
    received = Upstream()
    topic = "hearth/live-home/alerts/battery_low"
    quiet: dict[str, object] = {}

    async def go() -> None:
        ready = asyncio.Event()
        listener = asyncio.create_task(listen(upstream_broker, received, ready))
        await until(ready.is_set, "care team listening")
        async with await Store.open(cfg.store.path) as store:
            agent = Agent(cfg, store, ManualClock(local(7, 30)), watch_every_s=NO_PASS_S)
            running = asyncio.create_task(agent.run())
            try:
                await until(agent.connected_local.is_set, "connected to the home broker")
                await until(agent.connected_upstream.is_set, "connected upstream")
                # No event yet: the detectors have not looked, and nothing was sent.
                await asyncio.sleep(5 * SOONEST_LOOK_S)
                quiet["looked"], quiet["sent"] = agent.watched_at, received.on(topic)
                async with aiomqtt.Client(broker.host, broker.port, identifier="z2m") as z2m:
                    await z2m.publish("zigbee2mqtt/kitchen_motion", b'{"battery": 4}', qos=1)
                await until(lambda: bool(received.on(topic)), "the battery alert upstream", 30)
            finally:
                agent.stopping.set()
                await asyncio.wait_for(running, 30)
        listener.cancel()

    asyncio.run(go())
    assert quiet == {"looked": None, "sent": []}
    (alert,) = received.on(topic)
    assert alert["type"] == "battery_low"
    assert "kitchen" in alert["summary"].lower()


def test_an_alert_that_time_makes_due_leaves_at_its_deadline_not_at_the_next_pass(
    broker: Mosquitto, upstream_broker: Mosquitto, tmp_path: Path
) -> None:
    doc = live_doc(broker, upstream_broker, tmp_path / "home.sqlite")
    doc.setdefault("detectors", {})["sensor_health"] = {"offline_grace": "2s"}
    cfg = load_config_text(yaml.safe_dump(doc), "live-home.yaml")
    received = Upstream()
    topic = "hearth/live-home/alerts/sensor_offline"
    seen: dict[str, object] = {}

    async def go() -> None:
        ready = asyncio.Event()
        listener = asyncio.create_task(listen(upstream_broker, received, ready))
        await until(ready.is_set, "care team listening")
        clock = ManualClock(local(10, 0))
        async with await Store.open(cfg.store.path) as store:
            agent = Agent(cfg, store, clock, watch_every_s=NO_PASS_S)
            running = asyncio.create_task(agent.run())
            try:
                await until(agent.connected_local.is_set, "connected to the home broker")
                await until(agent.connected_upstream.is_set, "connected upstream")
                async with aiomqtt.Client(broker.host, broker.port, identifier="z2m") as z2m:
                    topic_in = "zigbee2mqtt/kitchen_motion/availability"
                    await z2m.publish(topic_in, b'{"state": "offline"}', qos=1)
                # Looked at on the message: offline, but within its grace, and nothing sent.
                await until(lambda: agent.watched_at is not None, "a look at the message")
                await asyncio.sleep(5 * SOONEST_LOOK_S)
                seen["before"] = received.on(topic)
                clock.advance(timedelta(seconds=3))  # past the grace; no event, no pass
                await until(lambda: bool(received.on(topic)), "the offline alert upstream", 30)
            finally:
                agent.stopping.set()
                await asyncio.wait_for(running, 30)
        listener.cancel()

    asyncio.run(go())
    assert seen["before"] == []
    (alert,) = received.on(topic)
    assert "kitchen" in alert["summary"].lower()
    offline_since = datetime.fromisoformat(alert["evidence"]["offline_since"])
    assert datetime.fromisoformat(alert["detected_at"]) - offline_since >= timedelta(seconds=2)


def test_a_burst_of_events_costs_one_look_per_soonest_interval_at_most() -> None:
    async def go() -> tuple[int, float]:
        heard = asyncio.Event()
        looks = 0

        async def watcher() -> None:
            nonlocal looks
            while True:
                await next_look(heard, NO_PASS_S)
                looks += 1

        loop = asyncio.get_running_loop()
        watching = asyncio.create_task(watcher())
        start = loop.time()
        for _ in range(400):
            heard.set()
            await asyncio.sleep(0.001)
        elapsed = loop.time() - start
        await asyncio.sleep(2 * SOONEST_LOOK_S)  # the last of the burst is looked at too
        watching.cancel()
        return looks, elapsed

    looks, elapsed = asyncio.run(go())
    assert 1 <= looks <= elapsed / SOONEST_LOOK_S + 2
    assert looks < 400


def test_with_no_event_the_periodic_pass_still_comes() -> None:
    async def go() -> float:
        loop = asyncio.get_running_loop()
        start = loop.time()
        await next_look(asyncio.Event(), 0.3)
        return loop.time() - start

    assert asyncio.run(go()) >= 0.3 - 0.01
