"""The SQLite file: batched events, saved state, and an outbox that survives a restart."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.errors import StoreError
from agent.store import Store, events_since, purge
from models.alert_policy import Alert
from models.events import SensorEvent

T0 = datetime(2025, 1, 1, 8, tzinfo=UTC)


def alert(n: int) -> Alert:
    return Alert(
        f"id-{n}",
        "h1",
        "inactivity",
        "urgent",
        T0,
        T0 + timedelta(minutes=n),
        f"summary {n}",
        {"n": n},
    )


def test_events_are_written_in_batches_and_read_back(tmp_path: Path) -> None:
    async def go() -> list[SensorEvent]:
        async with await Store.open(tmp_path / "h.sqlite") as store:
            for i in range(1000):
                store.add_event(
                    SensorEvent(T0 + timedelta(seconds=i), "pir", "motion", 1.0, i % 2 == 0)
                )
            assert store.pending_events == 1000
            assert await store.flush_events() == 1000
            return await events_since(store, T0 + timedelta(seconds=990))

    got = asyncio.run(go())
    assert [e.at for e in got] == [T0 + timedelta(seconds=i) for i in range(990, 1000)]
    assert [e.clock_trusted for e in got[:2]] == [True, False]


def test_pending_events_are_flushed_on_close(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"

    async def go() -> None:
        async with await Store.open(path) as store:
            store.add_event(SensorEvent(T0, "door", "contact", 1.0))

    asyncio.run(go())
    assert sqlite3.connect(path).execute("SELECT count(*) FROM events").fetchone() == (1,)


def test_outbox_survives_reopening_and_ignores_repeats(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"

    async def first() -> None:
        async with await Store.open(path) as store:
            assert await store.enqueue_alert(alert(1), "hearth/h1/alerts/inactivity", '{"a":1}')
            assert await store.enqueue_alert(alert(2), "hearth/h1/alerts/inactivity", '{"a":2}')
            assert not await store.enqueue_alert(alert(1), "hearth/h1/alerts/inactivity", '{"a":1}')
            await store.mark_sent("id-1", T0)

    async def second() -> list[str]:
        async with await Store.open(path) as store:
            return [i.id for i in await store.unsent()]

    asyncio.run(first())
    assert asyncio.run(second()) == ["id-2"]
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_an_alert_is_queued_with_the_events_it_rests_on(tmp_path: Path) -> None:
    """A flat battery's message, read but not yet written, then its alert sent: killed there,
    the message comes again (unacknowledged, or retained) at a later time, and would start
    a second episode under a new id. So the alert's row and the events waiting are one write."""
    path = tmp_path / "h.sqlite"

    def on_disk() -> tuple[int, int]:
        with sqlite3.connect(path) as db:
            events = db.execute("SELECT count(*) FROM events").fetchone()[0]
            return events, db.execute("SELECT count(*) FROM outbox").fetchone()[0]

    async def go() -> list[tuple[int, int]]:
        async with await Store.open(path) as store:
            seen = [on_disk()]
            assert await store.enqueue_alert(alert(1), "t", "p")  # nothing waiting: just it
            seen.append(on_disk())
            store.add_event(SensorEvent(T0, "hall_motion", "battery", 5.0))
            store.add_event(SensorEvent(T0, "hall_motion", "motion", 0.0))
            assert await store.enqueue_alert(alert(2), "t", "p")
            seen.append(on_disk())  # before any flush, as a kill -9 here would find it
            assert (store.pending_events, store.written) == (0, 2)
            return seen

    assert asyncio.run(go()) == [(0, 0), (0, 1), (2, 2)]


def test_state_round_trip(tmp_path: Path) -> None:
    async def go() -> tuple[object, object]:
        async with await Store.open(tmp_path / "h.sqlite") as store:
            missing = await store.load_state("pipeline")
            await store.save_state("pipeline", {"a": [1, 2.5, None]}, T0)
            await store.save_state("pipeline", {"a": [3]}, T0)
            return missing, await store.load_state("pipeline")

    assert asyncio.run(go()) == (None, {"a": [3]})


def test_sqlite_errors_are_the_stores_own_and_say_what_failed(tmp_path: Path) -> None:
    def connections() -> int:  # aiosqlite runs each connection in a thread of its own
        return sum(1 for t in threading.enumerate() if type(t).__module__.startswith("aiosqlite"))

    before = connections()
    with pytest.raises(StoreError, match=r"cannot open the store .*missing/h\.sqlite.*folder") as e:
        asyncio.run(Store.open(tmp_path / "missing" / "h.sqlite"))
    # And what to do about it.
    assert "create it (sudo install -d -m 700 -o " in str(e.value)
    assert str(e.value).endswith(f" {tmp_path / 'missing'}) or set store.path")
    (tmp_path / "a-folder.sqlite").mkdir()
    with pytest.raises(StoreError, match=r"cannot open the store .*a-folder\.sqlite"):
        asyncio.run(Store.open(tmp_path / "a-folder.sqlite"))
    (tmp_path / "h.sqlite").write_bytes(b"not a database, " * 100)

    async def damaged() -> None:
        async with await Store.open(tmp_path / "h.sqlite") as store:
            await store.load_state("pipeline")

    with pytest.raises(StoreError, match="cannot open the store"):
        asyncio.run(damaged())
    assert connections() == before  # the failed open closed what it had opened

    async def fine() -> object:
        async with await Store.open(tmp_path / "good.sqlite") as store:
            return await store.load_state("pipeline")

    assert asyncio.run(fine()) is None


def test_starting_on_a_full_disk_is_one_line_naming_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The disk's free space is faked (no filesystem here can be filled for a test); the full
    # disk while running is tested on the real file, at the SQLite layer (test_supervision).
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: usage(10**9, 10**9, 4096))
    with pytest.raises(StoreError) as e:
        asyncio.run(Store.open(tmp_path / "h.sqlite"))
    assert str(e.value) == (
        f"cannot open the store {tmp_path / 'h.sqlite'}: the disk holding {tmp_path} is full"
        " (4,096 bytes free); free space on it"
    )


def test_old_events_and_sent_alerts_are_purged_in_batches_and_the_rest_kept(
    tmp_path: Path,
) -> None:
    """Retention (store.keep_events): a batch at a time, old events and old sent alerts go;
    newer events, unsent alerts and the newest row stay, and no row id is used twice."""

    async def go() -> tuple[list[int], int, list[str], int]:
        async with await Store.open(tmp_path / "h.sqlite") as store:
            for i in range(5000):
                store.add_event(SensorEvent(T0 + timedelta(minutes=i), "pir", "motion", 1.0))
            await store.flush_events()
            for n in range(3):
                await store.enqueue_alert(alert(n), "t", "p")
            await store.mark_sent("id-0", T0)
            await store.mark_sent("id-1", T0 + timedelta(days=30))
            await store.save_snapshot("pipeline", lambda: {}, T0)
            # Stamped by a clock not yet set, and in no save yet: kept, however old it looks.
            store.add_event(SensorEvent(datetime(1970, 1, 1, tzinfo=UTC), "pir", "motion", 0.0))
            store.add_event(SensorEvent(T0 + timedelta(days=99), "pir", "motion", 1.0))
            await store.flush_events()
            cut = T0 + timedelta(minutes=4500)
            batches = []
            while (n := await purge(store, cut, 2000)) > 0:
                batches.append(n)
            left = len(await events_since(store))
            async with store.db.execute("SELECT id FROM outbox ORDER BY rowid") as cur:
                outbox = [r[0] for r in await cur.fetchall()]
            # Everything old, even the newest: that one row stays.
            await store.save_snapshot("pipeline", lambda: {}, T0)
            await purge(store, T0 + timedelta(days=100), 10_000)
            store.add_event(SensorEvent(T0 + timedelta(days=101), "pir", "motion", 1.0))
            await store.flush_events()
            async with store.db.execute("SELECT max(rowid), count(*) FROM events") as cur:
                row = await cur.fetchone()
            assert row is not None
            assert row[1] == 2
            return batches, left, outbox, row[0]

    batches, left, outbox, last_rowid = asyncio.run(go())
    assert batches == [2000, 2000, 500]
    assert left == 502
    assert outbox == ["id-1", "id-2"]  # sent long ago: gone; sent since, or not sent: kept
    assert last_rowid == 5003


def test_events_are_written_within_a_minute_or_at_once_when_asked(tmp_path: Path) -> None:
    from agent.config import load_config
    from agent.pipeline import Pipeline
    from agent.runtime.keeping import EVENTS_WITHIN_S, Keeper
    from tests.conftest import CONFIG

    cfg = load_config(CONFIG / "demo-home.yaml")
    mono = [0.0]

    async def go() -> list[int]:
        written = []
        async with await Store.open(tmp_path / "h.sqlite") as store:
            keeper = Keeper(store, timedelta(days=35), lambda: mono[0])
            p, now = Pipeline(cfg), T0 + timedelta(days=1)
            for step in range(4):
                store.add_event(SensorEvent(T0 + timedelta(minutes=step), "pir", "motion", 1.0))
                await keeper.keep(p, now, None, False)
                written.append(len(await events_since(store)))
                mono[0] += EVENTS_WITHIN_S / 3
            mono[0] += EVENTS_WITHIN_S  # nothing waiting: nothing to write, whatever the time
            await keeper.keep(p, now, None, False)
            store.add_event(SensorEvent(T0 + timedelta(hours=1), "pir", "motion", 1.0))
            store.flush_wanted.set()
            await keeper.keep(p, now, None, False)
            written.append(len(await events_since(store)))
        return written

    # Waiting from the first keep; written at the fourth, a full EVENTS_WITHIN_S later.
    assert asyncio.run(go()) == [0, 0, 0, 4, 5]


def test_the_keeping_task_purges_hourly_and_never_on_a_clock_it_cannot_trust(
    tmp_path: Path,
) -> None:
    from agent.config import load_config
    from agent.pipeline import Pipeline
    from agent.runtime.keeping import PURGE_EVERY_S, Keeper
    from tests.conftest import CONFIG

    cfg = load_config(CONFIG / "demo-home.yaml")
    mono = [0.0]

    async def go() -> list[int]:
        left = []
        async with await Store.open(tmp_path / "h.sqlite") as store:
            keeper = Keeper(store, timedelta(days=35), lambda: mono[0])
            p = Pipeline(cfg)
            for day in range(40):
                store.add_event(SensorEvent(T0 + timedelta(days=day), "pir", "motion", 1.0))
            now = T0 + timedelta(days=40)
            store.flush_wanted.set()  # written at once, as a home broker asks
            await keeper.keep(p, datetime(1970, 1, 1, tzinfo=UTC), None, False)
            left.append(len(await events_since(store)))  # 1970: nothing is "old"
            mono[0] += PURGE_EVERY_S
            await keeper.keep(p, now, None, True)
            left.append(len(await events_since(store)))
            store.add_event(SensorEvent(now, "pir", "motion", 1.0))
            mono[0] += 60
            await keeper.keep(p, now + timedelta(days=3), None, True)
            left.append(len(await events_since(store)))  # not due again within the hour
        return left

    assert asyncio.run(go()) == [40, 35, 36]


def test_a_large_state_is_kept_compressed_and_one_saved_as_text_still_reads(
    tmp_path: Path,
) -> None:
    state = {"spells": [[0.5] * 40 for _ in range(48)], "days_learned": 90}

    async def go() -> tuple[object, object, object]:
        async with await Store.open(tmp_path / "h.sqlite") as store:
            await store.save_state("pipeline", state, T0)
            (kept,) = await (
                await store.db.execute("SELECT json FROM state WHERE key = 'pipeline'")
            ).fetchone()  # type: ignore[misc]
            loaded = await store.load_state("pipeline")
            # As an earlier release wrote it: JSON text.
            await store.db.execute(
                "UPDATE state SET json = ? WHERE key = 'pipeline'", (json.dumps(state),)
            )
            await store.db.commit()
            return kept, loaded, await store.load_state("pipeline")

    kept, loaded, from_text = asyncio.run(go())
    assert isinstance(kept, bytes)
    assert len(kept) < len(json.dumps(state)) / 4
    assert loaded == state == from_text


def test_one_brokers_backlog_never_hides_anothers_rows(tmp_path: Path) -> None:
    """A recipient's own broker down for days: its rows pile up, and the care team's newest
    is still found for the care team's link."""

    async def go() -> None:
        async with await Store.open(tmp_path / "h.sqlite") as store:
            for n in range(150):
                await store.enqueue_alert(alert(n), "surgery/h1/alerts/x", "p", broker="GP")
            await store.enqueue_alert(alert(999), "hearth/h1/alerts/inactivity", "fall")
            assert len(await store.unsent()) == 100
            (care,) = await store.unsent(broker="")
            assert (care.payload, care.broker) == ("fall", "")
            assert len(await store.unsent(limit=1000, broker="GP")) == 150

    asyncio.run(go())
