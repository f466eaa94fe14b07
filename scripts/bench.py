"""Figures for the README and closing notes: replay speed, store write rate, live-agent memory,
and how soon an alert due on a sensor message reaches the care team's broker.

Run: python scripts/bench.py [NAME ...]   (prints figures; asserts nothing, times nothing in
the tests; NAME: replay_tihm, replay_year, store_rate, store_size, snapshot, memory, latency)
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.config import load_config  # noqa: E402
from agent.replay import replay  # noqa: E402
from agent.simulation.persona import Persona  # noqa: E402
from agent.sources.recordings import ReadReport, read_recording  # noqa: E402
from agent.store import Store, purge  # noqa: E402
from models.events import SensorEvent  # noqa: E402


def replay_tihm() -> None:
    cfg = load_config(ROOT / "config" / "tihm-home.yaml")
    homes = sorted((ROOT.parent / "shared" / "datasets" / "tihm-dev" / "activity").glob("*.csv"))
    events = days = 0
    cpu = 0.0
    t0 = time.perf_counter()
    for home in homes:
        evs = read_recording(f"tihm:{home}", cfg, ReadReport())
        c0 = time.process_time()
        r = replay(cfg, evs)
        cpu += time.process_time() - c0
        events += len(evs)
        if r.first_event and r.last_event:
            days += (r.last_event - r.first_event).days + 1
    dt = time.perf_counter() - t0
    # CPU time of the replays alone: on a shared machine the wall clock moves by a fifth.
    print(
        f"replay, TIHM: {len(homes)} homes, {events} events, {days} home-days in {dt:.1f} s "
        f"({events / dt:,.0f} events/s, {days / dt:.0f} home-days/s, minute ticks included);"
        f" the replays' CPU time {cpu:.1f} s"
    )


def replay_year() -> None:
    cfg = load_config(ROOT / "config" / "demo-home.yaml")
    evs = list(Persona(date(2025, 1, 6), ZoneInfo("Europe/London"), 1).events(365))
    t0 = time.perf_counter()
    r = replay(cfg, evs)
    dt = time.perf_counter() - t0
    print(f"replay, one simulated year: {len(evs)} events, {len(r.alerts)} alerts in {dt:.1f} s")


def store_rate() -> None:
    async def go() -> float:
        with tempfile.TemporaryDirectory() as d:
            async with await Store.open(Path(d) / "b.sqlite") as store:
                t = datetime(2025, 1, 1, tzinfo=UTC)
                n = 100_000
                t0 = time.perf_counter()
                for i in range(0, n, 500):
                    for j in range(500):
                        store.add_event(
                            SensorEvent(t + timedelta(seconds=i + j), "pir", "motion", 1.0)
                        )
                    await store.flush_events()
                return n / (time.perf_counter() - t0)

    print(
        f"store: {asyncio.run(go()):,.0f} events/s written in batches of 500"
        " (synchronous=FULL, WAL)"
    )


def store_size(per_day: int = 5000, days: int = 90, keep_days: int = 35) -> None:
    """The store's file over ``days`` of ``per_day`` events (a busy Zigbee home: each motion
    message is two or three readings), old events purged hourly as the agent does."""

    async def go() -> list[tuple[int, int]]:
        sizes = []
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "b.sqlite"
            async with await Store.open(path) as store:
                t0 = datetime(2025, 1, 1, tzinfo=UTC)
                step = 86400 / per_day
                for day in range(days):
                    for hour in range(24):
                        for i in range(per_day // 24):
                            at = t0 + timedelta(days=day, hours=hour, seconds=i * step)
                            store.add_event(SensorEvent(at, f"pir{i % 7}", "motion", float(i % 2)))
                        await store.flush_events()
                        now = t0 + timedelta(days=day, hours=hour + 1)
                        while await purge(store, now - timedelta(days=keep_days), 2000):
                            pass
                    if day + 1 in (7, keep_days, 60, days):
                        await store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                        sizes.append((day + 1, path.stat().st_size))
        return sizes

    sizes = asyncio.run(go())
    week = sizes[0][1]
    print(
        f"store size, {per_day:,} events a day, keep_events {keep_days}d: "
        f"{week / 7 / 1024:,.0f} KiB a day ({week / 7 / per_day:.0f} bytes an event); "
        + ", ".join(f"day {d}: {b / 2**20:.1f} MiB" for d, b in sizes)
    )


def snapshot() -> None:
    cfg = load_config(ROOT / "config" / "demo-home.yaml")
    evs = list(Persona(date(2025, 1, 6), ZoneInfo("Europe/London"), 1).events(60))
    p = replay(cfg, evs).pipeline
    t0 = time.perf_counter()
    for _ in range(50):
        text = json.dumps(p.to_state(), separators=(",", ":"))
    print(
        f"snapshot of a learned routine (60 days): {len(text) / 1024:.0f} KiB,"
        f" {(time.perf_counter() - t0) / 50 * 1000:.1f} ms to take"
    )


def memory() -> None:
    # VmRSS of a fresh interpreter: ru_maxrss would carry over this (large) process's peak.
    rss = "print(next(l for l in open('/proc/self/status') if l.startswith('VmRSS')).split()[1])"
    imports = "import agent.runtime, agent.cli, agent.config, agent.decode, agent.store\n"
    base = subprocess.run([sys.executable, "-c", rss], capture_output=True, text=True, check=True)
    agent = subprocess.run(
        [sys.executable, "-c", imports + rss], capture_output=True, text=True, check=True, cwd=ROOT
    )
    print(
        f"memory: python alone {int(base.stdout) / 1024:.0f} MiB RSS; "
        f"with the live agent's modules imported {int(agent.stdout) / 1024:.0f} MiB"
    )


def latency(tries: int = 40) -> None:
    """A low battery published on a real home broker, to its alert on a real upstream broker,
    through the live agent on its real clock: each try a new battery episode on one sensor."""
    import aiomqtt
    import yaml

    from agent.config import load_config_text
    from agent.runtime import Agent
    from tests.conftest import Mosquitto

    async def go(home: Mosquitto, care: Mosquitto, db: Path) -> list[float]:
        doc = yaml.safe_load((ROOT / "config" / "demo-home.yaml").read_text())
        for sensor in doc["sensors"]:
            sensor["mqtt"] = {"topic": f"zigbee2mqtt/{sensor['id']}", "style": "zigbee2mqtt"}
        doc["local_broker"] = {"host": home.host, "port": home.port}
        doc["upstream"] = {"host": care.host, "port": care.port}
        doc["store"] = {"path": str(db)}
        doc["alerts"]["console"] = False
        cfg = load_config_text(yaml.safe_dump(doc))
        arrived: asyncio.Queue[float] = asyncio.Queue()
        async with await Store.open(db) as store, aiomqtt.Client(care.host, care.port) as team:
            await team.subscribe(f"hearth/{cfg.household.id}/alerts/+", qos=1)

            async def hear() -> None:
                async for _ in team.messages:
                    arrived.put_nowait(time.perf_counter())

            listening = asyncio.create_task(hear())
            agent = Agent(cfg, store)
            running = asyncio.create_task(agent.run())
            await agent.connected_local.wait()
            await agent.connected_upstream.wait()
            waits = []
            async with aiomqtt.Client(home.host, home.port) as z2m:
                for _ in range(tries):
                    await z2m.publish("zigbee2mqtt/kitchen_motion", b'{"battery": 100}', qos=1)
                    await asyncio.sleep(0.5)
                    sent = time.perf_counter()
                    await z2m.publish("zigbee2mqtt/kitchen_motion", b'{"battery": 4}', qos=1)
                    waits.append(await asyncio.wait_for(arrived.get(), 30) - sent)
                    await asyncio.sleep(0.2)
            agent.stopping.set()
            await running
            listening.cancel()
        return waits

    with tempfile.TemporaryDirectory() as d:
        home, care = Mosquitto(Path(d)), Mosquitto(Path(d))
        home.start()
        care.start()
        try:
            waits = sorted(asyncio.run(go(home, care, Path(d) / "hub.sqlite")))
        finally:
            home.stop()
            care.stop()
    p50, p99 = waits[len(waits) // 2], waits[min(len(waits) - 1, int(len(waits) * 0.99))]
    print(
        f"latency, a low battery on the home broker to its alert upstream ({len(waits)} tries,"
        f" real Mosquitto brokers): p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms,"
        f" max {waits[-1] * 1000:.0f} ms"
    )


if __name__ == "__main__":
    chosen = sys.argv[1:] or [
        "replay_tihm",
        "replay_year",
        "store_rate",
        "store_size",
        "snapshot",
        "memory",
        "latency",
    ]
    for name in chosen:
        globals()[name]()
