"""The live agent with its sensors on a serial bridge (the simulator on a real pty): the same
routine gives the same alerts as over MQTT, and a silent bridge is reported to the technician."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from agent.clock import ManualClock
from agent.config import load_config_text
from agent.config.schema import HearthConfig
from agent.runtime import Agent
from agent.simulation.bridge import SimulatedBridge
from tests.conftest import CONFIG, Mosquitto
from tests.test_live_mqtt import (
    LONDON,
    Upstream,
    let_the_afternoon_pass,
    live_config,
    local,
    publish,
    run_and_listen,
    until,
)

# One ordinary morning, then nothing from 13:00: (local time, sensor, kind, value).
ROUTINE: list[tuple[tuple[int, int], str, str, float]] = [
    ((7, 40), "bedroom_motion", "motion", 1.0),
    ((7, 52), "kettle", "power", 2150.0),
    ((7, 55), "kettle", "power", 1.2),
    *[
        (
            (m // 60, m % 60),
            ("kitchen_motion", "lounge_motion", "hall_motion")[m % 3],
            "motion",
            1.0,
        )
        for m in range(8 * 60, 13 * 60, 7)
    ],
    ((13, 0), "lounge_motion", "motion", 1.0),
]


def serial_config(
    link: Path, upstream: Mosquitto, db: Path, heartbeat_timeout: str
) -> HearthConfig:
    doc: dict[str, Any] = yaml.safe_load((CONFIG / "demo-home.yaml").read_text())
    doc["household"]["id"] = "live-home"
    for s in doc["sensors"]:
        s["serial"] = {"id": s["id"]}
    doc["serial_bridge"] = {"port": str(link), "heartbeat_timeout": heartbeat_timeout}
    doc["upstream"] = {"host": upstream.host, "port": upstream.port}
    doc["store"] = {"path": str(db)}
    return load_config_text(yaml.safe_dump(doc), "serial-home.yaml")


def carer_alerts(received: Upstream) -> list[dict[str, Any]]:
    return [a for a in received.on("hearth/live-home/alerts/") if a["severity"] != "technical"]


def test_serial_routine_gives_the_same_alerts_as_mqtt(
    broker: Mosquitto, upstream_broker: Mosquitto, tmp_path: Path
) -> None:
    # Over MQTT.
    mqtt_cfg = live_config(broker, upstream_broker, tmp_path / "mqtt.sqlite")
    mqtt_clock = ManualClock(local(7, 30))

    async def over_mqtt(agent: Agent) -> None:
        for (hh, mm), sensor, kind, value in ROUTINE:
            payload = {"power": value} if kind == "power" else {"occupancy": bool(value)}
            await publish(
                broker, agent, mqtt_clock, local(hh, mm), f"zigbee2mqtt/{sensor}", payload
            )

        await let_the_afternoon_pass(agent, mqtt_clock)

    by_mqtt, _ = asyncio.run(run_and_listen(mqtt_cfg, upstream_broker, mqtt_clock, over_mqtt))

    # Over the serial bridge, with a little line noise on the way.
    link = tmp_path / "hearth-bridge"
    serial_cfg = serial_config(link, upstream_broker, tmp_path / "serial.sqlite", "15min")
    serial_clock = ManualClock(local(7, 30))
    sim = SimulatedBridge(link, [(s.id, s.kind) for s in serial_cfg.sensors])
    sim.open()

    async def over_serial(agent: Agent) -> None:
        assert agent.bridge is not None
        bridge = agent.bridge

        async def send(write: Callable[[], None]) -> None:
            """Write one frame on the pty and wait until the agent has read it."""
            before = bridge.reader.frames
            write()
            await until(lambda: bridge.reader.frames > before, "frame read")

        for (hh, mm), sensor, kind, value in ROUTINE:
            at = local(hh, mm)
            serial_clock.advance(at - serial_clock.wall)
            if mm % 5 == 0:
                sim.noise(12)
            await send(functools.partial(sim.reading, sensor, kind, value))

        async def heartbeat() -> None:
            await send(sim.heartbeat)

        await let_the_afternoon_pass(agent, serial_clock, heartbeat)

    try:
        by_serial, _ = asyncio.run(
            run_and_listen(serial_cfg, upstream_broker, serial_clock, over_serial)
        )
    finally:
        sim.close()

    mqtt_alerts, serial_alerts = carer_alerts(by_mqtt), carer_alerts(by_serial)
    assert [a["type"] for a in mqtt_alerts] == ["inactivity"]
    strip = ("recipients",)
    assert [{k: v for k, v in a.items() if k not in strip} for a in serial_alerts] == [
        {k: v for k, v in a.items() if k not in strip} for a in mqtt_alerts
    ]
    assert [
        a for a in by_serial.on("hearth/live-home/alerts/") if a["severity"] == "technical"
    ] == []


def test_a_silent_bridge_raises_a_technical_alert(
    upstream_broker: Mosquitto, tmp_path: Path
) -> None:
    link = tmp_path / "hearth-bridge"
    cfg = serial_config(link, upstream_broker, tmp_path / "serial.sqlite", "60s")
    clock = ManualClock(local(7, 40))
    sim = SimulatedBridge(link, [(s.id, s.kind) for s in cfg.sensors])
    sim.open()

    async def body(agent: Agent) -> None:
        assert agent.bridge is not None
        bridge = agent.bridge
        sim.reading("kitchen_motion", "motion", 1)
        sim.reading("kettle", "power", 2150)
        await until(lambda: agent.pipeline.counters.events == 3, "an ordinary start to the day")
        sim.close()  # unplugged
        await until(lambda: not bridge.connected.is_set(), "noticed")
        clock.advance(timedelta(seconds=59))
        await asyncio.sleep(0.2)
        assert agent.pipeline.counters.alerts == 0
        clock.advance(timedelta(seconds=2))
        await until(lambda: agent.pipeline.counters.alerts == 1, "silence alert")
        clock.advance(timedelta(minutes=5))
        await asyncio.sleep(0.2)
        assert agent.pipeline.counters.alerts == 1  # one alert for one silence
        # Ten minutes unheard: the bridge's sensors are offline, and the detectors that need
        # them say they are paused rather than take the silence for a still person.
        clock.advance(timedelta(minutes=5))
        await until(lambda: agent.pipeline.counters.alerts == 2, "monitoring gap")

    try:
        received, _ = asyncio.run(run_and_listen(cfg, upstream_broker, clock, body))
    finally:
        sim.close()
    (alert,) = received.on("hearth/live-home/alerts/sensor_silent")
    assert alert["severity"] == "technical"
    assert alert["recipients"] == ["Home-care team"]
    assert str(link) in alert["summary"]
    assert "since 07:40" in alert["summary"]
    assert alert["evidence"]["port_open"] is False
    assert datetime_local(alert["started_at"]) == "07:40"
    types = [a["type"] for a in received.on("hearth/live-home/alerts/")]
    assert types == ["sensor_silent", "monitoring_gap"]
    gap = received.on("hearth/live-home/alerts/monitoring_gap")[0]
    assert "inactivity" in gap["evidence"]["paused"]
    assert set(gap["evidence"]["sensors"].values()) == {"offline"}


def datetime_local(iso: str) -> str:
    from datetime import datetime

    return datetime.fromisoformat(iso).astimezone(LONDON).strftime("%H:%M")
