"""The live agent measured as a Pi would run it: its own process, real Mosquitto brokers, a
household of 20 sensors with 90 days learned and the events a hub keeps on disk.

Used by ``scripts/bench.py`` (``live``); each figure is read from the agent's
own ``/proc/<pid>`` (CPU, peak RSS, bytes written), never from this process.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiomqtt
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.config import load_config  # noqa: E402
from agent.replay import replay  # noqa: E402
from agent.runtime.keeping import STATE_KEY, save  # noqa: E402
from agent.simulation.persona import Persona  # noqa: E402
from agent.store import Store  # noqa: E402
from models.events import SensorEvent  # noqa: E402
from tests.conftest import Mosquitto  # noqa: E402

LONDON = ZoneInfo("Europe/London")
EXTRA_ROOMS = ("landing", "dining", "study", "spare", "utility", "porch", "garden room")
TICKS_PER_S = os.sysconf("SC_CLK_TCK")

# A bare MQTT client of the same library, subscribed to the same messages: the client's share.
BARE_CLIENT = """
import asyncio, sys, time, aiomqtt
async def main(host, port, n):
    async with aiomqtt.Client(host, int(port), identifier="bare") as c:
        await c.subscribe("zigbee2mqtt/#", qos=1)
        print("ready", flush=True)
        got, c0 = 0, None
        async for _ in c.messages:
            c0 = c0 if c0 is not None else time.process_time()
            got += 1
            if got == int(n):
                break
        print(time.process_time() - c0, flush=True)
asyncio.run(main(*sys.argv[1:]))
"""


@dataclass
class Proc:
    """What /proc says of a process."""

    pid: int

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS_PER_S

    def peak_rss_mib(self) -> float:
        status = Path(f"/proc/{self.pid}/status").read_text().splitlines()
        return int(next(x for x in status if x.startswith("VmHWM")).split()[1]) / 1024

    def io(self) -> dict[str, int]:
        lines = Path(f"/proc/{self.pid}/io").read_text().splitlines()
        return {k: int(v) for k, v in (x.split(": ") for x in lines)}


def household(d: Path, home: Mosquitto, care: Mosquitto) -> tuple[Path, list[str]]:
    """The demo household with motion sensors added up to 20, on Zigbee2MQTT topics."""
    doc: dict[str, Any] = yaml.safe_load((ROOT / "config" / "demo-home.yaml").read_text())
    for i in range(20 - len(doc["sensors"])):
        room = EXTRA_ROOMS[i % len(EXTRA_ROOMS)]
        doc["sensors"].append(
            {"id": f"motion_{i}", "kind": "motion", "room": f"{room} {i}", "role": "room"}
        )
    for s in doc["sensors"]:
        s["mqtt"] = {"topic": f"zigbee2mqtt/{s['id']}", "style": "zigbee2mqtt"}
    doc["local_broker"] = {"host": home.host, "port": home.port}
    doc["upstream"] = {"host": care.host, "port": care.port}
    doc["store"] = {"path": str(d / "hub.sqlite")}
    doc["alerts"]["console"] = False
    path = d / "home.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path, [s["id"] for s in doc["sensors"]]


def history(sensors: list[str], days: int, until: datetime) -> list[SensorEvent]:
    """``days`` of the demo persona up to ``until``, and the added sensors' own: each reports
    its link hourly and sees someone pass a few times a day."""
    start = (until - timedelta(days=days)).astimezone(LONDON).date()
    events = [e for e in Persona(start, LONDON, seed=3).events(days + 1) if e.at < until]
    first = events[0].at
    extra = [s for s in sensors if s.startswith("motion_")]
    hours = int((until - first).total_seconds() // 3600)
    for h in range(hours):
        at = first + timedelta(hours=h)
        for i, s in enumerate(extra):
            events.append(SensorEvent(at + timedelta(seconds=i), s, "link_quality", 120.0))
            if 8 <= at.astimezone(LONDON).hour < 21 and (h + i) % 3 == 0:
                events.append(SensorEvent(at + timedelta(minutes=20 + i), s, "motion", 1.0))
    return sorted(events, key=lambda e: e.at)


async def prepare(cfg_path: Path, sensors: list[str], days: int, keep_days: int) -> int:
    """The hub as it would be after ``days``: the routine learned and saved, the last
    ``keep_days`` of events in the store. Returns the events kept."""
    cfg = load_config(cfg_path)
    now = datetime.now(UTC)
    events = history(sensors, days, now - timedelta(minutes=1))
    pipeline = replay(cfg, events).pipeline
    kept = [e for e in events if e.at >= now - timedelta(days=keep_days)]
    async with await Store.open(cfg.store.path) as store:
        for i in range(0, len(kept), 5000):
            for e in kept[i : i + 5000]:
                store.add_event(e)
            await store.flush_events()
        await store.save_snapshot(STATE_KEY, pipeline.to_state, now)  # with events_upto
    return len(kept)


async def save_bytes(cfg_path: Path, sensors: list[str], saves: int = 20) -> float:
    """The bytes one save of the routine writes (``keeping.save``, as the agent saves it), with
    the routine changed by half an hour of events between saves, in a store like the hub's."""
    cfg = load_config(cfg_path)
    now = datetime.now(UTC)
    events = history(sensors, 90, now)
    pipeline = replay(cfg, events[: len(events) // 2]).pipeline
    later = iter(events[len(events) // 2 :])
    total = 0
    path = cfg_path.parent / "saves.sqlite"
    async with await Store.open(path) as store:
        await save(pipeline, store, now)
        for _ in range(saves):
            for e in itertools.islice(later, 100):
                pipeline.observe(e)
            pipeline.tick(e.at)
            os.sync()
            before = Proc(os.getpid()).io()["write_bytes"]
            await save(pipeline, store, e.at)
            os.sync()
            total += Proc(os.getpid()).io()["write_bytes"] - before
    path.unlink()
    return total / saves


def checkpoint(db: Path, mode: str) -> None:
    """A WAL checkpoint from a connection of this process, beside the agent's."""
    with sqlite3.connect(db, timeout=30) as c:
        for _ in range(50):
            busy = c.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()[0]
            if not busy:
                return
            time.sleep(0.2)
    raise RuntimeError(f"the {mode} checkpoint of {db} stayed busy")


def stored(db: Path) -> int:
    """Events stored so far, purged or not (the agent purges the oldest as it starts)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
        return int(c.execute("SELECT coalesce(max(rowid), 0) FROM events").fetchone()[0])


async def until_stored(db: Path, at_least: int, timeout_s: float = 120.0) -> int:
    """Until the agent has stored ``at_least`` events and then nothing more for 3 s (a message
    brings one event or more: a reading the same as the last may be left out); how many."""
    end = time.monotonic() + timeout_s
    last, still_since = -1, time.monotonic()
    while True:
        n = stored(db)
        if n != last:
            last, still_since = n, time.monotonic()
        elif n >= at_least and time.monotonic() - still_since >= 3.0:
            return n
        if time.monotonic() > end:
            raise TimeoutError(f"the agent stored {n} events of at least {at_least}")
        await asyncio.sleep(0.2)


async def publish(home: Mosquitto, topics: list[str], n: int, every_s: float = 0.0) -> None:
    async with aiomqtt.Client(home.host, home.port, identifier="z2m") as z2m:
        for i in range(n):
            state = "true" if i % 2 == 0 else "false"
            payload = f'{{"occupancy": {state}, "linkquality": 90}}'.encode()
            await z2m.publish(topics[i % len(topics)], payload, qos=1)
            if every_s:
                await asyncio.sleep(every_s)


@dataclass
class Started:
    proc: subprocess.Popen[bytes]
    startup_s: float


def start_agent(cfg_path: Path) -> Started:
    """``hearth run`` in its own process; timed from launch to subscribed on the home broker."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent.cli", "run", "--config", str(cfg_path)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        if b"listening to" in line:
            startup = time.perf_counter() - t0
            break
    else:
        raise RuntimeError("the agent stopped before it subscribed")
    # Keep reading its log, so that a full pipe never stalls it.
    threading.Thread(target=lambda: [None for _ in proc.stderr or ()], daemon=True).start()
    return Started(proc, startup)


def run_live(messages: int, paced_s: float) -> dict[str, float]:
    """The figures of one run: start-up, CPU per message beside a bare client's, peak RSS,
    the bytes written a second at 10,000 events a day, and those of one save."""
    out: dict[str, float] = {}
    with_dir = Path(os.environ.get("BENCH_DIR", ROOT.parent)) / f"bench-live-{os.getpid()}"
    with_dir.mkdir(parents=True, exist_ok=True)
    home, care = Mosquitto(with_dir), Mosquitto(with_dir)
    home.start()
    care.start()
    try:
        cfg_path, sensors = household(with_dir, home, care)
        db = with_dir / "hub.sqlite"
        out["history_events"] = asyncio.run(prepare(cfg_path, sensors, 90, 35))
        out["save_write_bytes"] = asyncio.run(save_bytes(cfg_path, sensors))
        base = stored(db)
        agent = start_agent(cfg_path)
        out["startup_s"] = agent.startup_s
        pid = Proc(agent.proc.pid)
        bare = subprocess.Popen(
            [sys.executable, "-c", BARE_CLIENT, home.host, str(home.port), str(messages)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert bare.stdout is not None
        assert bare.stdout.readline().strip() == "ready"
        topics = [f"zigbee2mqtt/{s}" for s in sensors if s != "kettle" and s != "front_door"]
        time.sleep(2.0)  # the start-up's own work (restore, first save) done
        c0 = pid.cpu_s()
        asyncio.run(publish(home, topics, messages))
        burst = asyncio.run(until_stored(db, base + messages))
        out["cpu_us_per_message"] = (pid.cpu_s() - c0) / messages * 1e6
        out["events_per_message"] = (burst - base) / messages
        out["bare_client_us_per_message"] = float(bare.stdout.readline()) / messages * 1e6
        bare.wait(30)
        # A day of 10,000 events, two to a message, at its rate: its writes (the events, the
        # watching note, the checkpoints) per second. The routine's saves (every half hour)
        # are measured apart (``save_bytes``).
        checkpoint(db, "TRUNCATE")  # the burst's pages out of the WAL: a steady state
        io0, t0 = pid.io(), time.monotonic()
        every_s = 86400 / 5000
        asyncio.run(publish(home, topics, int(paced_s / every_s), every_s=every_s))
        asyncio.run(until_stored(db, burst + int(paced_s / every_s)))
        io1, spent = pid.io(), time.monotonic() - t0
        # What SQLite appended meanwhile (the WAL was emptied before): its own bytes, beside
        # the pages the kernel counts.
        wal = db.with_name(db.name + "-wal")
        out["paced_wal_bytes_per_s"] = (wal.stat().st_size if wal.exists() else 0) / spent
        # And the checkpoint that copies those pages into the database file, as SQLite does
        # each thousand pages written (here, in this process: its own bytes, counted to it).
        here = Proc(os.getpid())
        before = here.io()["write_bytes"]
        checkpoint(db, "PASSIVE")
        copied = here.io()["write_bytes"] - before
        out["paced_checkpoint_bytes"] = copied
        out["paced_write_bytes_per_s"] = (io1["write_bytes"] - io0["write_bytes"] + copied) / spent
        out["paced_wchar_per_s"] = (io1["wchar"] - io0["wchar"]) / spent
        out["peak_rss_mib"] = pid.peak_rss_mib()
        agent.proc.terminate()
        agent.proc.wait(30)
    finally:
        home.stop()
        care.stop()
    return out
