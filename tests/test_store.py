"""The SQLite file: batched events, saved state, and an outbox that survives a restart."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.errors import StoreError
from agent.store import Store
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
            return await store.events(T0 + timedelta(seconds=990))

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
