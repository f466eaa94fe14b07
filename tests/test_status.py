"""``hearth status`` on a real store: a hub running on real brokers is watching, with what each
sensor last said; the same store once the agent has stopped says it is not, and exits 3."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from agent.cli.status import HubStatus, read_status, words
from agent.clock import ManualClock
from agent.config.schema import HearthConfig
from agent.runtime import Agent, keeping
from tests.conftest import ROOT, Mosquitto, hearth
from tests.test_live_mqtt import live_config_file, local, publish, run_and_listen, until


def heard(cfg: HearthConfig, sensor: str) -> bool:
    with closing(sqlite3.connect(cfg.store.path)) as db:
        return db.execute("SELECT 1 FROM events WHERE sensor = ?", (sensor,)).fetchone() is not None


def noted(cfg: HearthConfig, now: datetime) -> bool:
    """The agent has noted its watching since ``now`` on its clock, and its status with it."""
    with closing(sqlite3.connect(cfg.store.path)) as db:
        row = db.execute("SELECT json FROM state WHERE key = 'watching'").fetchone()
    note = json.loads(row[0]) if row else {}
    return "status" in note and datetime.fromisoformat(note["at"]) >= now


def test_a_running_hub_is_watching_and_a_stopped_one_is_not(
    broker: Mosquitto, upstream_broker: Mosquitto, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keeping, "NOTE_EVERY_S", 0.05)
    path, cfg = live_config_file(broker, upstream_broker, tmp_path)
    clock = ManualClock(local(7, 30))
    seen: list[HubStatus] = []

    async def body(agent: Agent) -> None:
        reading = {"occupancy": True, "battery": 87, "linkquality": 96}
        await publish(broker, agent, clock, local(7, 40), "zigbee2mqtt/bedroom_motion", reading)
        await publish(broker, agent, clock, local(7, 52), "zigbee2mqtt/kettle", {"power": 2150.0})
        await until(lambda: heard(cfg, "kettle"), "the events written")
        kettle_at = clock.wall
        await until(lambda: noted(cfg, kettle_at), "the watching noted")
        # The status reads the routine as last saved: saved once the clock was trusted, with
        # the night before closed (the note can come first, so it is waited for).
        await until(lambda: read_status(cfg, clock.wall).days_learned == 21, "the routine saved")
        seen.append(read_status(cfg, clock.wall))
        # The kettle's plug says it is offline, and stays so past the grace: noted as such.
        await publish(
            broker, agent, clock, local(7, 53), "zigbee2mqtt/kettle/availability", b"offline"
        )
        clock.advance(timedelta(minutes=15))
        offline_at = clock.wall
        await until(lambda: noted(cfg, offline_at), "the watching noted again")
        seen.append(read_status(cfg, clock.wall))

    asyncio.run(run_and_listen(cfg, upstream_broker, clock, body))
    live, unplugged = seen
    assert live.watching
    assert live.agent_status == "online"
    assert live.days_learned is not None
    assert live.days_learned >= live.learning_days == 14
    sensors = {s.id: s for s in live.sensors}
    bedroom = sensors["bedroom_motion"]
    assert (bedroom.battery, bedroom.link_quality, bedroom.events_today) == (87.0, 96.0, 3)
    assert sensors["kettle"].last_heard is not None
    assert sensors["front_door"].last_heard is None
    assert live.links == {"upstream broker": True, "home broker": True}
    assert live.clock_problem is None
    text = words(live)
    assert text[1] == "watching: yes (the detectors last looked just now)"
    assert text[3:5] == [
        "links: upstream broker connected, home broker connected",
        "clock: trusted",
    ]
    assert [x.learned for x in live.learning] == [True] * 6
    assert "  night exit: learned, 21 days" in text
    assert any(line.startswith("  bedroom_motion (motion, bedroom): heard ") for line in text)
    assert "battery 87%, link 96, healthy" in "\n".join(text)
    assert (
        "  front_door (contact, hall): heard never; 0 today, never heard: paired, in range?" in text
    )
    assert {s.id: s.problems for s in live.sensors}["kettle"] == []
    # Offline past the grace: the sensor line says so, and since when; the others are healthy.
    kettle = {s.id: s for s in unplugged.sensors}["kettle"]
    assert kettle.problems == [f"offline since {local(7, 53).isoformat()}"]
    line = next(x for x in words(unplugged) if x.startswith("  kettle "))
    assert line.endswith("OFFLINE since 15 min ago"), line
    assert {s.id: s.problems for s in unplugged.sensors}["bedroom_motion"] == []

    # Stopped: three minutes on, nothing has been noted since, and it is not watching.
    looked = datetime.fromisoformat(read_status(cfg, clock.wall).last_looked or "")
    assert read_status(cfg, looked + timedelta(seconds=119)).watching
    stopped = read_status(cfg, looked + timedelta(minutes=3))
    assert not stopped.watching
    assert words(stopped)[1].startswith("watching: NO or not noted (the detectors last noted")
    # The command, on the hub's real clock (a year past the agent's): not watching, exit 3.
    run = hearth("status", "--config", str(path))
    assert run.returncode == 3, run.stderr
    assert "watching: NO or not noted" in run.stdout
    assert "outbox: 0 alerts waiting" in run.stdout
    as_json = hearth("status", "--config", str(path), "--json")
    doc = json.loads(as_json.stdout)
    assert doc["watching"] is False
    assert doc["household"] == "live-home"
    assert {s["id"] for s in doc["sensors"]} == set(sensors)


def test_status_of_a_hub_that_never_ran_or_whose_store_is_not_one_says_so(tmp_path: Path) -> None:
    cfg = tmp_path / "home.yaml"
    store = tmp_path / "hub" / "hearth.sqlite"
    text = (ROOT / "config/demo-home.yaml").read_text() + f"store: {{path: {store}}}\n"
    cfg.write_text(text)

    def status() -> subprocess.CompletedProcess[str]:
        return hearth("status", "--config", str(cfg))

    run = status()
    assert (run.returncode, run.stderr) == (
        1,
        f"hearth status: no store at {store}: has Hearth run with this configuration?\n",
    )
    store.parent.mkdir()
    store.write_bytes(b"not a database" * 100)
    run = status()
    assert run.returncode == 1
    assert run.stderr.startswith(f"hearth status: cannot read the store {store}: ")
    assert "Traceback" not in run.stderr
