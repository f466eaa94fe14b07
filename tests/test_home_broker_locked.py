"""The home broker as ``config/mosquitto/`` locks it, run for real: no anonymous client; the
sensors still reach Hearth; a pause from any client but the household's (or Hearth's own
command on the hub) never reaches it, and the household's is carried out and told upstream."""

from __future__ import annotations

import asyncio
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
import yaml

from agent.cli import main
from agent.clock import ManualClock
from agent.config import load_config
from agent.runtime import Agent
from tests.conftest import CONFIG, Mosquitto
from tests.test_live_mqtt import Upstream, live_doc, local, run_and_listen, until

USERS = {"zigbee2mqtt": "z-pw", "hearth": "h-pw", "household": "button-pw", "homeassistant": "ha",
         "button": "b-pw"}  # fmt: skip


def locked_by(tmp_path: Path, acl: Path) -> Mosquitto:
    """Mosquitto with the shipped hearth.conf and the access list ``acl``, and a password for
    each user, started."""
    passwd = tmp_path / "hearth.passwd"
    passwd.write_text("")
    for user, password in USERS.items():
        subprocess.run(["mosquitto_passwd", "-b", str(passwd), user, password], check=True)
    conf = (CONFIG / "mosquitto/hearth.conf").read_text()
    assert "allow_anonymous false" in conf
    conf = conf.replace("/etc/mosquitto/hearth.passwd", str(passwd)).replace(
        "/etc/mosquitto/hearth.acl", str(acl)
    )
    b = Mosquitto(tmp_path, conf=conf)
    b.start()
    return b


@pytest.fixture
def locked(tmp_path: Path) -> Any:
    """Mosquitto with the shipped hearth.conf and hearth.acl."""
    b = locked_by(tmp_path, CONFIG / "mosquitto/hearth.acl")
    yield b
    b.stop()


async def publish_as(b: Mosquitto, user: str, topic: str, payload: bytes) -> None:
    """Published at QoS 1 and acknowledged: the broker has decided on it when this returns."""
    async with aiomqtt.Client(b.host, b.port, username=user, password=USERS[user]) as c:
        await c.publish(topic, payload, qos=1)


def test_only_the_household_pauses_hearth_on_the_locked_broker(
    locked: Mosquitto, upstream_broker: Mosquitto, tmp_path: Path
) -> None:
    pw = tmp_path / "hearth.pw"
    pw.write_text(USERS["hearth"] + "\n")
    pw.chmod(0o600)
    doc = live_doc(locked, upstream_broker, tmp_path / "home.sqlite")
    doc["local_broker"] |= {"username": "hearth", "password_file": str(pw)}
    path = tmp_path / "home.yaml"
    path.write_text(yaml.safe_dump(doc))
    cfg = load_config(path)
    clock = ManualClock(local(7, 30))
    received = Upstream()
    control = "hearth/live-home/control/pause"

    async def anonymous() -> str:
        try:
            async with aiomqtt.Client(locked.host, locked.port) as c:
                await c.publish(control, b"7d", qos=1)
        except aiomqtt.MqttError as exc:
            return str(exc)
        return "connected"

    async def body(agent: Agent) -> None:
        assert agent.home is not None
        assert await anonymous() != "connected"
        # The sensors still come through.
        await publish_as(locked, "zigbee2mqtt", "zigbee2mqtt/kitchen_motion", b'{"occupancy":true}')
        await until(lambda: agent.pipeline.counters.events == 1, "the sensor heard")
        # Zigbee2MQTT's user, Home Assistant's: their pause is dropped by the broker.
        for user in ("zigbee2mqtt", "homeassistant"):
            await publish_as(locked, user, control, b"7d")
        await publish_as(locked, "household", control, b"2h")
        await until(lambda: agent.home is not None and agent.home.commands == 1, "the pause")
        assert agent.pipeline.policy.paused_until == local(7, 30) + timedelta(hours=2)
        # Hearth's own command, run on the hub as its user: carried out too.
        code = await asyncio.to_thread(main, ["resume", "--config", str(path)])
        assert code == 0
        await until(lambda: agent.home is not None and agent.home.commands == 2, "the resume")
        assert agent.pipeline.policy.paused_until is None
        await until(lambda: len(received.on("hearth/live-home/alerts/")) == 2, "both told")

    asyncio.run(run_and_listen(cfg, upstream_broker, clock, body, received))
    told = received.on("hearth/live-home/alerts/household_control")
    assert [a["evidence"]["command"] for a in told] == ["pause", "resume"]
    assert told[0]["evidence"]["until"] == (local(7, 30) + timedelta(hours=2)).isoformat()


def test_the_access_list_hearth_acl_writes_lets_only_the_named_users_use_the_controls(
    tmp_path: Path, upstream_broker: Mosquitto
) -> None:
    """``hearth acl`` from the YAML: its sensors' topics only, the controls from the users
    ``controls.users`` names only (here a button, not the shipped file's household user), Home
    Assistant on the discovery prefix the YAML sets. Run on a real Mosquitto."""
    doc = live_doc(upstream_broker, upstream_broker, tmp_path / "home.sqlite")
    doc["local_broker"]["username"] = "hearth"
    doc["controls"] = {"users": ["button"]}
    doc["home_assistant"] = {"discovery_prefix": "ha-discovery", "share": ["watching"]}
    home = tmp_path / "home.yaml"
    home.write_text(yaml.safe_dump(doc))
    acl = tmp_path / "hearth.acl"
    assert main(["acl", "--config", str(home), "--output", str(acl)]) == 0
    b = locked_by(tmp_path, acl)
    control = "hearth/live-home/control/pause"
    heard: dict[str, list[str]] = {"hearth": [], "homeassistant": []}

    async def go() -> None:
        async def listen(user: str, topics: list[str], ready: asyncio.Event) -> None:
            async with aiomqtt.Client(b.host, b.port, username=user, password=USERS[user]) as c:
                for t in topics:
                    await c.subscribe(t, qos=1)
                ready.set()
                async for m in c.messages:
                    heard[user].append(f"{m.topic} {m.payload!r}")

        ready = [asyncio.Event(), asyncio.Event()]
        tasks = [
            asyncio.create_task(listen("hearth", ["#"], ready[0])),
            asyncio.create_task(listen("homeassistant", ["ha-discovery/#"], ready[1])),
        ]
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in ready)), 10)
        await publish_as(b, "zigbee2mqtt", "zigbee2mqtt/kitchen_motion", b"sensor")
        await publish_as(b, "zigbee2mqtt", "zigbee2mqtt/neighbours_camera", b"not hers")
        for user in ("zigbee2mqtt", "homeassistant", "household"):
            await publish_as(b, user, control, user.encode())
        await publish_as(b, "button", control, b"2h")
        await publish_as(b, "hearth", "ha-discovery/binary_sensor/x/config", b"shown")
        await asyncio.sleep(1.0)
        for t in tasks:
            t.cancel()

    try:
        asyncio.run(go())
    finally:
        b.stop()
    assert heard["hearth"] == [
        "zigbee2mqtt/kitchen_motion b'sensor'",
        f"{control} b'2h'",
        "ha-discovery/binary_sensor/x/config b'shown'",
    ]
    assert heard["homeassistant"] == ["ha-discovery/binary_sensor/x/config b'shown'"]
