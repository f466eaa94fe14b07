"""Figures for the README, ``docs/bench.md`` and closing notes, each beside its budget (issue
16): replay speed against the floor of reading and storing the same events, the live agent's
start-up, CPU per message, memory and bytes written, and how soon an alert due on a sensor
message reaches the care team's broker.

Run: python scripts/bench.py [NAME ...]   (prints each figure as it comes, then one table;
asserts nothing, and nothing in the tests is timed. NAME: replay_tihm, replay_year, replay_stream,
histograms, store_rate,
store_size, snapshot, memory, latency, live, eval; by default all but eval. ``live`` takes
about seven minutes: five of them at the rate of a home with 10,000 events a day.)
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
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


@dataclass
class Row:
    """One figure beside its budget: ``within`` None where there is no budget."""

    what: str
    measured: str
    budget: str = ""
    floor: str = ""
    within: bool | None = None


ROWS: list[Row] = []


def row(
    what: str, measured: str, budget: str = "", floor: str = "", within: bool | None = None
) -> None:
    ROWS.append(Row(what, measured, budget, floor, within))


def table(rows: list[Row]) -> str:
    lines = ["| measure | measured | budget | floor, ratio | within |", "|---|---|---|---|---|"]
    for r in rows:
        ok = "" if r.within is None else ("yes" if r.within else "**no**")
        lines.append(f"| {r.what} | {r.measured} | {r.budget} | {r.floor} | {ok} |")
    return "\n".join(lines)


def replay_tihm() -> None:
    """The 19 TIHM dev homes: the floor (each file read and parsed, its events written to
    SQLite with ``executemany``) and the full pipeline (the same, and the replay through
    routine, detectors and alert policy), in CPU seconds of this process, one core."""
    cfg = load_config(ROOT / "config" / "tihm-home.yaml")
    homes = sorted((ROOT.parent / "shared" / "datasets" / "tihm-dev" / "activity").glob("*.csv"))
    events = days = 0
    read = write = replayed = 0.0
    with tempfile.TemporaryDirectory(dir=ROOT.parent) as d:
        db = sqlite3.connect(Path(d) / "floor.sqlite")
        db.execute("CREATE TABLE events (at TEXT, sensor TEXT, reading TEXT, value REAL)")
        for home in homes:
            c0 = time.process_time()
            evs = read_recording(f"tihm:{home}", cfg, ReadReport())
            c1 = time.process_time()
            rows = [(e.at.isoformat(), e.sensor, e.reading, e.value) for e in evs]
            db.executemany("INSERT INTO events VALUES (?, ?, ?, ?)", rows)
            db.commit()
            c2 = time.process_time()
            r = replay(cfg, evs)
            c3 = time.process_time()
            read, write, replayed = read + c1 - c0, write + c2 - c1, replayed + c3 - c2
            events += len(evs)
            if r.first_event and r.last_event:
                days += (r.last_event - r.first_event).days + 1
        db.close()
    floor = read + write
    full = floor + replayed
    print(
        f"replay, TIHM: {len(homes)} homes, {events} events, {days} home-days; CPU: reading"
        f" {read:.1f} s, storing {write:.1f} s, the pipeline {replayed:.1f} s"
        f" ({events / full:,.0f} events/s in all, {full / floor:.1f} times the floor)"
    )
    row(
        "replay, full pipeline (19 TIHM homes, one core)",
        f"{events / full:,.0f} events/s",
        "≥ 150,000 events/s",
        f"{events / floor:,.0f} events/s",
        events / full >= 150_000,
    )
    row(
        "replay against the floor, same run",
        f"{full / floor:.1f} × the floor",
        "≤ 4 ×",
        f"{floor:.1f} s of {full:.1f} s",
        full / floor <= 4,
    )


def replay_year() -> None:
    cfg = load_config(ROOT / "config" / "demo-home.yaml")
    evs = list(Persona(date(2025, 1, 6), ZoneInfo("Europe/London"), 1).events(365))
    t0 = time.perf_counter()
    r = replay(cfg, evs)
    dt = time.perf_counter() - t0
    print(f"replay, one simulated year: {len(evs)} events, {len(r.alerts)} alerts in {dt:.1f} s")
    row("replay, a simulated year of the demo home", f"{dt:.1f} s ({len(evs):,} events)")


def tiled(home: Path, events: int, out: Path) -> None:
    """``home``'s TIHM rows repeated end to end, each copy moved on by the recording's span,
    until there are ``events`` rows: a home recorded for years."""
    lines = home.read_text().splitlines()
    header, rows = lines[0], [r.split(",") for r in lines[1:]]
    first = datetime.fromisoformat(rows[0][2])
    span = datetime.fromisoformat(rows[-1][2]) - first + timedelta(days=1)
    with out.open("w") as f:
        f.write(header + "\n")
        for n in range(events):
            hid, where, at, _ = rows[n % len(rows)]
            t = datetime.fromisoformat(at) + span * (n // len(rows))
            f.write(f"{hid},{where},{t:%Y-%m-%d %H:%M:%S},{t:%Y-%m-%d}\n")


def replay_stream(sizes: tuple[int, ...] = (200_000, 1_000_000)) -> None:
    """``hearth replay`` of a dev home tiled to each size, in its own process: the peak RSS
    (from ``wait4``) stays the same whatever the length, as the recording is streamed."""
    import os

    home = ROOT.parent / "shared" / "datasets" / "tihm-dev" / "activity" / "0d5ef.csv"
    peaks = []
    with tempfile.TemporaryDirectory(dir=ROOT.parent) as d:
        for n in sizes:
            f = Path(d) / f"tiled-{n}.csv"
            tiled(home, n, f)
            cmd = [sys.executable, "-m", "agent.cli", "replay", "--config"]
            cmd += [str(ROOT / "config" / "tihm-home.yaml"), "--input", f"tihm:{f}"]
            cmd += ["--alerts-out", str(Path(d) / "alerts.jsonl"), "-q", "--progress", "no"]
            t0 = time.perf_counter()
            child = subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.PIPE)
            _, status, usage = os.wait4(child.pid, 0)
            dt = time.perf_counter() - t0
            assert status == 0, child.stderr.read() if child.stderr else status
            peaks.append(usage.ru_maxrss / 1024)
            print(
                f"hearth replay of {n:,} events (a dev home tiled): peak RSS"
                f" {peaks[-1]:.0f} MiB, {dt:.1f} s ({n / dt:,.0f} events/s by the wall clock)"
            )
    row(
        "`hearth replay` peak RSS, streamed",
        ", ".join(f"{p:.0f} MiB at {n:,} events" for n, p in zip(sizes, peaks, strict=True)),
        "bounded whatever the length",
        within=peaks[-1] <= peaks[0] * 1.1,
    )


def histograms() -> None:
    """The quiet-spell histogram around an hour (``count_histogram``, the replay's largest own
    cost in a profile) both ways: Python lists as the routine keeps them, and numpy arrays
    (the counts kept as arrays, so no conversion per call); and what importing numpy costs
    the live agent's memory."""
    import numpy as np

    from models.local_time import DayType
    from models.routine.quiet_spells import (
        DAY_TYPES,
        HOUR_WEIGHTS,
        HOURS,
        POOLING_DAYS,
        count_histogram,
    )

    cfg = load_config(ROOT / "config" / "demo-home.yaml")
    evs = list(Persona(date(2025, 1, 6), ZoneInfo("Europe/London"), 1).events(60))
    spells = replay(cfg, evs).pipeline.monitor.routine.spells
    counts, days = spells.counts, spells.days
    arrays = {dt: np.array(counts[dt]) for dt in DAY_TYPES}
    weights = np.array([w for _, w in HOUR_WEIGHTS])
    offsets = np.array([o for o, _ in HOUR_WEIGHTS])

    def with_numpy(own: DayType, hour: int) -> list[float]:
        other: DayType = "weekend" if own == "weekday" else "weekday"
        pooled = days[own] + days[other]
        rows = (hour + offsets) % HOURS
        a, b = arrays[own][rows], arrays[other][rows]
        hist: list[float] = (weights @ (a + POOLING_DAYS * (a + b) / pooled)).tolist()
        return hist

    keys = [(dt, h) for dt in DAY_TYPES for h in range(HOURS)]
    for own, hour in keys:  # the same histogram both ways
        listed = count_histogram(counts, days, own, hour)[0]
        assert np.allclose(listed, with_numpy(own, hour))
    times = {}
    for name, fn in (
        ("lists", lambda own, hour: count_histogram(counts, days, own, hour)),
        ("numpy", with_numpy),
    ):
        t0 = time.perf_counter()
        for _ in range(200):
            for own, hour in keys:
                fn(own, hour)
        times[name] = (time.perf_counter() - t0) / (200 * len(keys)) * 1e6
    cost = fresh_rss_mib("import numpy") - fresh_rss_mib()
    print(
        f"quiet-spell histogram around an hour: lists {times['lists']:.1f} µs, numpy"
        f" {times['numpy']:.1f} µs a call; importing numpy costs {cost:.0f} MiB RSS"
    )
    row(
        "quiet-spell histogram, lists against numpy",
        f"lists {times['lists']:.1f} µs, numpy {times['numpy']:.1f} µs a call",
        "",
        f"numpy's import: {cost:.0f} MiB RSS",
    )


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

    rate = asyncio.run(go())
    print(f"store: {rate:,.0f} events/s written in batches of 500 (synchronous=FULL, WAL)")
    row("store, events written in batches of 500", f"{rate:,.0f} events/s")


def store_size(per_day: int = 5000, days: int = 90, keep_days: int = 35) -> None:
    """The store's file over ``days`` of ``per_day`` events (a busy Zigbee home: each motion
    message is two or three readings), saved and old events purged hourly as the agent
    does."""

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
                        now = t0 + timedelta(days=day, hours=hour + 1)
                        # Saved as the agent saves (its events with it): only events a save
                        # includes are purged, as a replay after a crash needs the rest.
                        await store.save_snapshot("pipeline", lambda: {"bench": True}, now)
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
    row(
        f"store file, {per_day:,} events a day, kept {keep_days} days",
        f"{sizes[-1][1] / 2**20:.1f} MiB at day {sizes[-1][0]}",
    )


def snapshot() -> None:
    cfg = load_config(ROOT / "config" / "demo-home.yaml")
    evs = list(Persona(date(2025, 1, 6), ZoneInfo("Europe/London"), 1).events(60))
    p = replay(cfg, evs).pipeline
    t0 = time.perf_counter()
    for _ in range(50):
        text = json.dumps(p.to_state(), separators=(",", ":"))
    ms = (time.perf_counter() - t0) / 50 * 1000
    print(
        f"snapshot of a learned routine (60 days): {len(text) / 1024:.0f} KiB, {ms:.1f} ms to take"
    )
    row("saved routine (60 days learned)", f"{len(text) / 1024:.0f} KiB, {ms:.1f} ms to take")


def fresh_rss_mib(imports: str = "") -> float:
    """VmRSS of a fresh interpreter after ``imports``: ``ru_maxrss`` would carry over this
    (large) process's peak."""
    rss = "print(next(l for l in open('/proc/self/status') if l.startswith('VmRSS')).split()[1])"
    code = f"{imports}\n{rss}"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return int(out.stdout) / 1024


def memory() -> None:
    base = fresh_rss_mib()
    agent = fresh_rss_mib(
        "import agent.runtime, agent.cli, agent.config, agent.decode, agent.store"
    )
    print(
        f"memory: python alone {base:.0f} MiB RSS; "
        f"with the live agent's modules imported {agent:.0f} MiB"
    )
    row("the live agent's modules imported", f"{agent:.0f} MiB RSS")


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
    row(
        "sensor message to alert upstream (real Mosquitto brokers)",
        f"p99 {p99 * 1000:.0f} ms (p50 {p50 * 1000:.0f} ms, {len(waits)} tries)",
        "p99 ≤ 1 s",
        within=p99 <= 1.0,
    )


def live(messages: int = 20_000, paced_s: float = 300.0) -> None:
    """The live agent in its own process: 20 sensors, 90 days learned, 35 days of events on
    disk (``scripts/bench_live.py``)."""
    from bench_live import run_live  # beside this script

    from agent.runtime.keeping import SAVE_EVERY_S

    f = run_live(messages, paced_s)
    own = f["cpu_us_per_message"] - f["bare_client_us_per_message"]
    saves = f["save_write_bytes"] * 86400 / SAVE_EVERY_S
    per_day = f["paced_write_bytes_per_s"] * 86400 + saves
    syscalls = f["paced_wchar_per_s"] * 86400 + saves
    print(
        "live agent, 20 sensors, 90 days learned: "
        + ", ".join(f"{k} {v:,.1f}" for k, v in f.items())
        + f"; bytes written a day at 10,000 events {per_day / 1e6:.1f} MB"
        f" (by its write calls {syscalls / 1e6:.1f} MB)"
    )
    row(
        "start-up to subscribed (20 sensors, 90 days learned)",
        f"{f['startup_s']:.2f} s",
        "≤ 1 s",
        within=f["startup_s"] <= 1.0,
    )
    row(
        "CPU a sensor message, on top of the MQTT client's",
        f"{own:.0f} µs",
        "≤ 20 µs",
        f"the client alone {f['bare_client_us_per_message']:.0f} µs,"
        f" the agent in all {f['cpu_us_per_message']:.0f} µs",
        own <= 20,
    )
    row(
        "peak RSS (20 sensors, 90 days learned)",
        f"{f['peak_rss_mib']:.0f} MiB",
        "≤ 64 MiB",
        within=f["peak_rss_mib"] <= 64,
    )
    row(
        "bytes written a day at 10,000 events (/proc/<pid>/io write_bytes)",
        f"{per_day / 1e6:.1f} MB",
        "≤ 20 MB",
        f"events and notes {f['paced_write_bytes_per_s'] * 86400 / 1e6:.1f} MB,"
        f" saves {saves / 1e6:.1f} MB ({f['save_write_bytes'] / 1024:.0f} KiB each)",
        per_day <= 20e6,
    )


def eval_time() -> None:
    """``hearth eval --method continuous --jobs 2`` on the dev homes, by the wall clock."""
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "agent.cli",
                "eval",
                "--method",
                "continuous",
                "--jobs",
                "2",
                "--out",
                d,
            ],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        dt = time.perf_counter() - t0
    print(f"hearth eval --method continuous --jobs 2: {dt:.0f} s")
    row(
        "`hearth eval --method continuous --jobs 2`, 19 dev homes",
        f"{dt / 60:.1f} min",
        "≤ 2 min",
        within=dt <= 120,
    )


if __name__ == "__main__":
    ALL = [
        "replay_tihm",
        "replay_year",
        "replay_stream",
        "histograms",
        "store_rate",
        "store_size",
        "snapshot",
        "memory",
        "latency",
        "live",
    ]
    chosen = sys.argv[1:] or ALL
    benches = {name: globals()[name] for name in ALL}
    benches["eval"] = eval_time
    for name in chosen:
        benches[name]()
    print()
    print(table(ROWS))
