"""Figures for the README and closing notes: replay speed, store write rate, live-agent memory.

Run: python scripts/bench.py   (prints figures; asserts nothing, times nothing in the tests)
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
    t0 = time.perf_counter()
    for home in homes:
        evs = read_recording(f"tihm:{home}", cfg, ReadReport())
        r = replay(cfg, evs)
        events += len(evs)
        if r.first_event and r.last_event:
            days += (r.last_event - r.first_event).days + 1
    dt = time.perf_counter() - t0
    print(
        f"replay, TIHM: {len(homes)} homes, {events} events, {days} home-days in {dt:.1f} s "
        f"({events / dt:,.0f} events/s, {days / dt:.0f} home-days/s, minute ticks included)"
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


if __name__ == "__main__":
    replay_tihm()
    replay_year()
    store_rate()
    store_size()
    snapshot()
    memory()
