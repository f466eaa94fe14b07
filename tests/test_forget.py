"""``hearth forget`` on a real SQLite store: the household's events, routine and alerts are gone
from the tables and from the bytes of the file and its log; refused while Hearth is running,
with nothing erased; the hub learns afresh afterwards."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiomqtt
import pytest
import yaml

from agent.config import load_config
from agent.delivery.home_assistant import HubView, states
from agent.errors import StoreError
from agent.runtime.keeping import STATE_KEY, WATCHING_KEY, watching
from agent.store import Store
from agent.store_folder import only_hearth_on, store_files
from models.alert_policy import Alert
from models.events import SensorEvent
from tests.conftest import ROOT, Mosquitto, hearth

# Distinctive, so that a byte of them left anywhere in the files is found.
SENSOR = "zqx-marker-sensor"
SUMMARY = "zqx marker: no movement since 13:05"
ROUTINE = {"routine": "zqx-marker-routine " * 400}  # large: kept compressed


def kept(path: Path) -> bytes:
    """Every byte the store has on disk: the file, its write-ahead log, its index."""
    return b"".join(f.read_bytes() for f in store_files(path) if f.exists())


def a_hub_that_ran(tmp_path: Path, looked: datetime) -> tuple[Path, Path]:
    """A store with a month of one sensor's events, a saved routine, alerts sent and waiting,
    and the detectors last noted looking at ``looked``; and its YAML."""
    db = tmp_path / "hub" / "hearth.sqlite"
    db.parent.mkdir()
    doc = yaml.safe_load((ROOT / "config/demo-home.yaml").read_text())
    doc["store"] = {"path": str(db)}
    home = tmp_path / "home.yaml"
    home.write_text(yaml.safe_dump(doc))
    t0 = looked - timedelta(days=30)

    async def go() -> None:
        async with await Store.open(db) as store:
            for i in range(30 * 200):
                store.add_event(SensorEvent(t0 + timedelta(minutes=7 * i), SENSOR, "motion", 1.0))
            await store.flush_events()
            for n in range(3):
                a = Alert(f"a{n}", "demo-home", "inactivity", "urgent", t0, t0, SUMMARY, {})
                await store.enqueue_alert(a, "hearth/demo-home/alerts/inactivity", SUMMARY)
            await store.mark_sent("a0", t0)
            await store.save_snapshot(STATE_KEY, lambda: dict(ROUTINE), t0)
            await store.save_state(WATCHING_KEY, watching(looked), looked)

    asyncio.run(go())
    return db, home


def test_forget_erases_the_household_from_the_bytes_on_disk(tmp_path: Path) -> None:
    db, home = a_hub_that_ran(tmp_path, datetime.now(UTC) - timedelta(hours=1))
    with sqlite3.connect(db) as con:
        routine = con.execute("SELECT json FROM state WHERE key = ?", (STATE_KEY,)).fetchone()[0]
    assert isinstance(routine, bytes)  # compressed, so the marker's words are not in it
    before = kept(db)
    # What the test looks for is there to be found before.
    assert SENSOR.encode() in before
    assert SUMMARY.encode() in before
    assert routine[:64] in before

    run = hearth("forget", "--config", str(home), "--yes")
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[0] == (
        "demo-home: erased 6000 events, 2 saved states, 3 alerts, 1 message recorded in the"
        f" audit from {db}"
    )
    after = kept(db)
    assert SENSOR.encode() not in after
    assert SUMMARY.encode() not in after
    assert routine[:64] not in after
    assert b"zqx" not in after
    assert len(after) < len(before) / 4
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert con.execute("SELECT count(*) FROM events").fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM outbox").fetchone() == (0,)
        assert [r[0] for r in con.execute("SELECT key FROM state")] == ["forgotten"]
    # The hub starts afresh on it: nothing learned to restore.
    status = hearth("status", "--config", str(home))
    assert "routine: none saved that can be read (the agent learns afresh)" in status.stdout


def test_forget_is_refused_while_hearth_runs_and_needs_confirming(tmp_path: Path) -> None:
    db, home = a_hub_that_ran(tmp_path, datetime.now(UTC) - timedelta(seconds=10))
    run = hearth("forget", "--config", str(home), "--yes")
    assert run.returncode == 1
    assert run.stderr.startswith(f"hearth forget: Hearth is running on {db} ")
    assert "nothing was erased" in run.stderr
    assert SENSOR.encode() in kept(db)

    (tmp_path / "two").mkdir()
    db2, home2 = a_hub_that_ran(tmp_path / "two", datetime.now(UTC) - timedelta(hours=1))
    run = hearth("forget", "--config", str(home2))  # not a terminal, and no --yes
    assert (run.returncode, run.stderr) == (
        1,
        "hearth forget: not confirmed: add --yes, or run it at a terminal to confirm\n",
    )
    assert SENSOR.encode() in kept(db2)
    db.unlink()
    run = hearth("forget", "--config", str(home), "--yes")
    assert (run.returncode, run.stderr) == (
        1,
        f"hearth forget: no store at {db}: this hub keeps nothing of demo-home\n",
    )


def test_forget_is_refused_while_a_hearth_holds_the_store_even_before_its_first_note(
    tmp_path: Path,
) -> None:
    """A Hearth just started has noted nothing yet: its lock on the store says it runs."""
    db, home = a_hub_that_ran(tmp_path, datetime.now(UTC) - timedelta(hours=1))
    with only_hearth_on(db):
        run = hearth("forget", "--config", str(home), "--yes")
        # And a second Hearth on the same store is refused too.
        with pytest.raises(StoreError, match="in use by a running Hearth"), only_hearth_on(db):
            pass
    assert run.returncode == 1
    assert f"{db} is in use by a running Hearth" in run.stderr
    assert SENSOR.encode() in kept(db)
    assert hearth("forget", "--config", str(home), "--yes").returncode == 0  # let go: it can


def test_forget_and_audit_read_a_store_made_before_the_audit(tmp_path: Path) -> None:
    db, home = a_hub_that_ran(tmp_path, datetime.now(UTC) - timedelta(hours=1))
    with sqlite3.connect(db) as con:
        con.execute("DROP TABLE audit")
    said = hearth("audit", "--config", str(home))
    assert said.returncode == 0, said.stderr
    assert said.stdout.splitlines()[1:] == ["nothing"]
    run = hearth("forget", "--config", str(home), "--yes")
    assert run.returncode == 0, run.stderr
    assert SENSOR.encode() not in kept(db)


def test_forget_empties_what_home_assistant_was_shown_on_the_home_broker(
    tmp_path: Path, broker: Mosquitto
) -> None:
    """The last alert's words stay retained on the home broker for Home Assistant after the
    store is erased, unless forget empties them; it says so when the broker is out of reach."""
    _, home = a_hub_that_ran(tmp_path, datetime.now(UTC) - timedelta(hours=1))
    doc = yaml.safe_load(home.read_text())
    doc["local_broker"] = {"host": broker.host, "port": broker.port}
    doc["home_assistant"] = {"share": ["watching", "last_alert", "learning"]}
    home.write_text(yaml.safe_dump(doc))
    cfg = load_config(home)
    now = datetime.now(UTC)
    fall = Alert("a0", "demo-home", "inactivity", "urgent", now, now, SUMMARY, {})
    shown = states(cfg, HubView(now, now, "online", fall, ()))
    assert any(SUMMARY.encode() in p for p in shown.values())

    async def publish(retained: dict[str, bytes]) -> None:
        async with aiomqtt.Client(broker.host, broker.port) as c:
            for topic, payload in retained.items():
                await c.publish(topic, payload, qos=1, retain=True)

    async def retained_now() -> dict[str, bytes]:
        got: dict[str, bytes] = {}
        async with aiomqtt.Client(broker.host, broker.port) as c:
            await c.subscribe("hearth/#", qos=1)
            with suppress(TimeoutError):
                async with asyncio.timeout(1.5):
                    async for m in c.messages:
                        got[str(m.topic)] = bytes(m.payload)
        return got

    asyncio.run(publish(shown))
    assert asyncio.run(retained_now()) == shown  # what a hub that ran leaves on its broker
    run = hearth("forget", "--config", str(home), "--yes")
    assert run.returncode == 0, run.stderr
    assert "Home Assistant: 10 retained states emptied" in run.stdout
    assert "Home Assistant's own history" in run.stdout
    assert "journalctl --namespace=hearth" in run.stdout
    assert asyncio.run(retained_now()) == {}
    # Out of reach: the store is still erased, and what is left is said, exit 1.
    asyncio.run(publish(shown))
    broker.stop()
    run = hearth("forget", "--config", str(home), "--yes")
    assert run.returncode == 1
    assert "demo-home: erased 0 events" in run.stdout
    assert "Home Assistant: NOT cleared: the home broker" in run.stderr
    assert "run hearth forget again once it is up" in run.stderr
