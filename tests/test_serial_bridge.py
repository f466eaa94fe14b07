"""The serial source on a real pseudo-terminal, with the simulated bridge on the other end."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import serial

from agent.config.schema import SensorConfig, SerialBridgeConfig
from agent.simulation.bridge import SimulatedBridge
from agent.sources.bridge_protocol import Frame, FrameReader, crc16_ccitt
from agent.sources.serial_bridge import SerialBridge
from models.events import SensorEvent
from tests.conftest import CONFIG, ROOT

SENSORS = [
    SensorConfig.model_validate(
        {
            "id": "front_door",
            "kind": "contact",
            "room": "hall",
            "role": "front_door",
            "serial": {"id": "door1"},
        }
    ),
    SensorConfig.model_validate(
        {
            "id": "kettle",
            "kind": "power",
            "room": "kitchen",
            "role": "kettle",
            "serial": {"id": "clamp"},
        }
    ),
    SensorConfig.model_validate(
        {
            "id": "hall_motion",
            "kind": "motion",
            "room": "hall",
            "role": "hallway",
            "serial": {"id": "pir"},
        }
    ),
]
ON_BRIDGE = [("door1", "contact"), ("clamp", "power"), ("pir", "motion")]


async def until(cond: Callable[[], bool], what: str, seconds: float = 30) -> None:
    async with asyncio.timeout(seconds):
        while not cond():
            await asyncio.sleep(0.01)
    assert cond(), what


def with_bridge(
    tmp_path: Path,
    body: Callable[[SimulatedBridge, SerialBridge, list[SensorEvent]], Awaitable[None]],
) -> None:
    link = tmp_path / "hearth-bridge"
    events: list[SensorEvent] = []
    sim = SimulatedBridge(link, ON_BRIDGE)
    sim.open()

    async def go() -> None:
        bridge = SerialBridge(
            SerialBridgeConfig(port=str(link)),
            SENSORS,
            events.append,
            lambda: datetime.now(UTC),
            time.monotonic,
        )
        task = asyncio.create_task(bridge.run())
        try:
            await until(bridge.connected.is_set, "port opened")
            await body(sim, bridge, events)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    try:
        asyncio.run(go())
    finally:
        sim.close()


def test_readings_arrive_as_events_with_kettle_use(tmp_path: Path) -> None:
    async def body(sim: SimulatedBridge, bridge: SerialBridge, events: list[SensorEvent]) -> None:
        sim.reading("door1", "contact", 1)
        sim.reading("pir", "motion", 1)
        sim.reading("clamp", "power", 2150.5)
        sim.reading("clamp", "power", 0)
        sim.heartbeat()
        await until(lambda: bridge.reader.frames >= 5, "frames read")
        assert [(e.sensor, e.reading, e.value) for e in events] == [
            ("front_door", "contact", 1.0),
            ("hall_motion", "motion", 1.0),
            ("kettle", "power", 2150.5),
            ("kettle", "appliance", 1.0),
            ("kettle", "power", 0.0),
            ("kettle", "appliance", 0.0),
        ]
        assert bridge.last_heard_at is not None
        assert bridge.silent_for() < 30

    with_bridge(tmp_path, body)


def test_noise_bad_frames_gaps_and_a_reset_are_survived_and_counted(tmp_path: Path) -> None:
    async def body(sim: SimulatedBridge, bridge: SerialBridge, events: list[SensorEvent]) -> None:
        sim.reading("door1", "contact", 1)
        sim.write(bytes(range(0, 36)) + b"\xfe\xff line noise with no frame in it\n")
        good = sim.frame("R", ["pir", "motion", "1"])
        sim.write(good[:12] + b"\n")  # truncated
        bad = sim.frame("R", ["pir", "motion", "1"])
        sim.write(bad[:-5] + (b"0000" if not bad.endswith(b"0000\n") else b"FFFF") + b"\n")
        sim.write(
            b"$9,1,1,B*" + f"{crc16_ccitt(b'9,1,1,B'):04X}".encode() + b"\n"
        )  # a future version
        sim.drop(3)
        sim.reading("door1", "contact", 0)
        sim.reset()  # the bridge restarts mid-stream
        sim.reading("clamp", "power", 1500)
        sim.reading("ghost", "motion", 1)  # a sensor the YAML does not know
        sim.reading("pir", "smell", 1)  # a reading no sensor has
        await until(lambda: bridge.dropped["bad_reading"] >= 1, "everything read")
        assert [(e.sensor, e.value) for e in events if e.reading in ("contact", "power")] == [
            ("front_door", 1.0),
            ("front_door", 0.0),
            ("kettle", 1500.0),
        ]
        c = bridge.counters()
        assert c["serial_lost"] == 5  # two spoiled frames and three dropped ones
        assert c["serial_resets"] == 1
        assert c["serial_unknown_sensor"] == 1
        assert c["serial_bad_reading"] == 1
        assert c["serial_bad_crc"] == 1
        assert c["serial_wrong_version"] == 1
        assert c["serial_malformed"] == 1
        assert c["serial_garbage"] >= 1

    with_bridge(tmp_path, body)


def test_unplugged_and_plugged_back_in_is_reconnected(tmp_path: Path) -> None:
    async def body(sim: SimulatedBridge, bridge: SerialBridge, events: list[SensorEvent]) -> None:
        sim.reading("door1", "contact", 1)
        await until(lambda: len(events) == 1, "first reading")
        sim.write(b"$1,5,99,R,do")  # unplugged mid-frame
        await until(lambda: bridge.reader.pending_bytes == 12, "half a frame read")
        sim.close()
        await until(lambda: not bridge.connected.is_set(), "noticed the unplug")
        sim.open()
        await until(bridge.connected.is_set, "reopened", 60)
        assert bridge.opened == 2
        sim.reading("pir", "motion", 1)
        await until(lambda: len(events) == 2, "reading after replug")
        assert events[-1].sensor == "hall_motion"
        assert bridge.counters().get("serial_malformed", 0) == 1  # the half frame, counted once

    with_bridge(tmp_path, body)


def test_a_missing_port_is_retried_not_fatal(tmp_path: Path) -> None:
    link = tmp_path / "not-yet"

    async def go() -> None:
        bridge = SerialBridge(
            SerialBridgeConfig(port=str(link)),
            SENSORS,
            lambda e: None,
            lambda: datetime.now(UTC),
            time.monotonic,
        )
        task = asyncio.create_task(bridge.run())
        await asyncio.sleep(0.3)
        assert not bridge.connected.is_set()
        assert not task.done()
        sim = SimulatedBridge(link, ON_BRIDGE)
        sim.open()
        try:
            await until(bridge.connected.is_set, "opened once it appeared", 60)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            sim.close()

    asyncio.run(go())


def test_bridge_sim_command_speaks_to_a_reader(tmp_path: Path) -> None:
    link = tmp_path / "bridge"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "agent.cli",
            "bridge-sim",
            "--config",
            str(CONFIG / "serial-home.yaml"),
            "--link",
            str(link),
            "--every",
            "0.02",
            "--count",
            "200",
            "--noise",
            "0.3",
            "--drop",
            "0.1",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while not link.exists():
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "the simulator made no pty"
            time.sleep(0.02)
        port = serial.Serial(str(link), 115200, timeout=0.2)
        reader = FrameReader()
        frames: list[Frame] = []
        while time.monotonic() < deadline and len(frames) < 30:
            frames += reader.feed(port.read(4096))
        port.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert len(frames) >= 30
    assert {f.type for f in frames} >= {"R"}
    assert all(
        f.fields[0] in ("front_door", "back_door", "hall_pir", "kettle")
        for f in frames
        if f.type == "R"
    )
    assert sum(reader.problems.values()) >= 1  # it was asked for noise, and noise came
