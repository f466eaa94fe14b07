"""The home's SQLite file: events, model state, the alert outbox.

Events are written in batches with one ``executemany`` (a call per row costs a thread hop
each). The outbox is written with ``synchronous=FULL`` and committed before an alert is
published, so an alert survives a power cut between detection and delivery.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from agent.errors import StoreError
from agent.state_format import decode_state, encode_state
from agent.store_folder import check_folder
from agent.store_schema import AUDIT_KEPT, AUDIT_LEFT, AUDIT_SENT, OUTBOX_ROW, SCHEMA
from models.alert_policy import Alert
from models.events import READINGS, SensorEvent

log = logging.getLogger("hearth.store")

# Events kept in memory while they cannot be written: about a week of a busy home.
MOST_PENDING = 200_000


@contextmanager
def _sqlite(what: str, path: object = "") -> Iterator[None]:
    """sqlite's errors (a full disk, a damaged file) as the store's own, saying what failed."""
    try:
        yield
    except sqlite3.Error as exc:
        where = f" {path}" if path else ""
        raise StoreError(f"cannot {what}{where}: {exc}") from exc


async def _add_missing_columns(db: aiosqlite.Connection) -> None:
    """A store made by an older Hearth, brought up to today's tables."""
    async with db.execute("SELECT name FROM pragma_table_info('outbox')") as cur:
        columns = {row[0] for row in await cur.fetchall()}
    if "memory" not in columns:
        await db.execute("ALTER TABLE outbox ADD COLUMN memory TEXT")
    if "upstream" not in columns:
        await db.execute("ALTER TABLE outbox ADD COLUMN upstream TEXT NOT NULL DEFAULT ''")
    async with db.execute("SELECT name FROM pragma_table_info('audit')") as cur:
        if "broker" not in {row[0] for row in await cur.fetchall()}:
            await db.execute("ALTER TABLE audit ADD COLUMN broker TEXT NOT NULL DEFAULT ''")


async def _last_rowid(db: aiosqlite.Connection, table: str) -> int:
    async with db.execute(f"SELECT coalesce(max(rowid), 0) FROM {table}") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def _put_state(
    db: aiosqlite.Connection, key: str, state: dict[str, Any], now: datetime
) -> None:
    await db.execute(
        "INSERT INTO state VALUES (?, ?, ?) ON CONFLICT(key)"
        " DO UPDATE SET json=excluded.json, saved_at=excluded.saved_at",
        (key, encode_state(state), now.timestamp()),
    )


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: str
    topic: str
    payload: str
    broker: str = ""  # the care team's; else the name of the recipient with a broker of its own


def _outbox_rows(
    alert: Alert, first: OutboxItem, also: Sequence[OutboxItem]
) -> list[tuple[object, ...]]:
    """An alert's outbox rows, written together with the events waiting: a restart that
    replays them raises it again under the same id, never under another from a message sent
    again, and never with some of its recipients' rows lost."""
    memory = alert.memory if first.id == alert.id else None
    kept = json.dumps(memory, separators=(",", ":")) if memory else None
    at = alert.detected_at.timestamp()
    return [(r.id, r.topic, r.payload, at, kept if r is first else None, r.broker)
            for r in (first, *also)]  # fmt: skip


async def _insert_events(db: aiosqlite.Connection, pending: list[Any]) -> int:
    """The events waiting, inserted (not committed): how many, to take once committed."""
    n = len(pending)
    await db.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?)", pending[:n])
    return n


class Store:
    """Use as ``async with Store.open(path) as store:``."""

    def __init__(self, db: aiosqlite.Connection, path: str = "") -> None:
        self.db = db
        self.path = path
        self._pending: list[tuple[float, str, str, float, int]] = []
        # One connection, shared by the tasks: each write holds it from its first statement to
        # its commit or rollback, so that one task's rollback never undoes another's write.
        self._lock = asyncio.Lock()
        # Events dropped, oldest first, while the disk stayed full past MOST_PENDING.
        self.dropped_events = 0
        # Events added and written since opening, whether the last write failed, and a signal
        # at each write or failure: the home broker acknowledges a message once its events are
        # kept (or cannot be), and asks for a write sooner with ``flush_wanted``.
        self.added = 0
        self.written = 0
        self.failing = False
        self.progress = asyncio.Event()
        self.flush_wanted = asyncio.Event()
        # The last event row the latest save includes: none after it is purged.
        self.saved_upto = 0

    @classmethod
    async def open(cls, path: str | Path) -> Store:
        check_folder(path)
        with _sqlite("open the store", path):
            connecting = aiosqlite.connect(str(path))
            try:
                db = await connecting
            except BaseException:
                # aiosqlite's thread answers on this event loop: let it finish while it is open.
                thread = getattr(connecting, "_thread", None)
                if thread is not None:
                    await asyncio.to_thread(thread.join, 5)
                raise
            try:
                # Small pages for a new store: each write of a few events rewrites a few
                # pages, and small ones wear an SD card less (docs/bench.md).
                await db.execute("PRAGMA page_size=1024")
                await db.execute("PRAGMA journal_mode=WAL")
                await db.execute("PRAGMA synchronous=FULL")
                await db.executescript(SCHEMA)
                await _add_missing_columns(db)
                await db.commit()
            except BaseException:
                await db.close()
                raise
        return cls(db, str(path))

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Closed, whatever else fails: the events that cannot be written are logged."""
        try:
            await self.flush_events()
        except StoreError as exc:
            log.error("%d sensor events lost at close: %s", self.pending_events, exc)
        finally:
            with _sqlite("close the store", self.path):
                await self.db.close()

    def add_event(self, e: SensorEvent) -> None:
        self._pending.append((e.at.timestamp(), e.sensor, e.reading, e.value, int(e.clock_trusted)))
        self.added += 1

    def _wrote(self, n: int | None, dropped: int = 0) -> None:
        """``n`` events written, or (None) a write failed and ``dropped`` were given up: done
        with either way, as far as acknowledging their messages goes."""
        self.failing = n is None
        self.written += (n or 0) + dropped
        self.progress.set()

    @property
    def pending_events(self) -> int:
        return len(self._pending)

    async def flush_events(self, note: tuple[str, dict[str, Any], datetime] | None = None) -> int:
        """Written, or (a full disk, say) kept in memory to be written at the next flush, and
        ``StoreError`` raised; past ``MOST_PENDING`` kept, the oldest go (counted). With a
        ``note`` (a small state: key, state, time), in the same write: one write, not two."""
        n = 0
        try:
            async with self._writing("write events to"):
                # Counted under the lock: a save may have taken some meanwhile.
                n = await _insert_events(self.db, self._pending)
                if note is not None:
                    await _put_state(self.db, *note)
                if n or note is not None:
                    await self.db.commit()
                    del self._pending[:n]
        except StoreError:
            extra = max(0, len(self._pending) - MOST_PENDING)
            if extra:
                del self._pending[:extra]
                self.dropped_events += extra
                log.error(
                    "%d sensor events dropped, oldest first, while the store cannot be written"
                    " (%d in all)",
                    extra,
                    self.dropped_events,
                )
            self._wrote(None, extra)
            raise
        self._wrote(n)
        return n

    @asynccontextmanager
    async def _writing(self, what: str) -> AsyncIterator[None]:
        """A write that fails leaves nothing half done, and no other task's write in between."""
        async with self._lock:
            try:
                with _sqlite(what, self.path):
                    yield
            except BaseException:  # a StoreError, or the task cancelled mid-write at a stop
                await self._rollback()
                raise

    async def _rollback(self) -> None:
        with suppress(sqlite3.Error, ValueError):
            await self.db.rollback()

    async def save_state(self, key: str, state: dict[str, Any], now: datetime) -> None:
        async with self._writing("save the state to"):
            await _put_state(self.db, key, state, now)
            await self.db.commit()

    async def save_snapshot(
        self, key: str, take: Callable[[], dict[str, Any] | None], now: datetime
    ) -> bool:
        """The state ``take()`` gives, saved in one transaction with every event it has seen
        (the events waiting to be written are exactly those), and with the last event and
        outbox row it includes (``events_upto``, ``outbox_upto``): a restart replays what
        came after. False, and nothing saved, if ``take()`` gives None."""
        async with self._writing("save the state to"):
            # Nothing between take() and the count: the state has seen exactly these events.
            state = take()
            if state is None:
                return False  # not now (an alert decided is not yet in the outbox)
            n = await _insert_events(self.db, self._pending)
            state["events_upto"] = upto = await _last_rowid(self.db, "events")
            state["outbox_upto"] = await _last_rowid(self.db, "outbox")
            await _put_state(self.db, key, state, now)
            await self.db.commit()
            del self._pending[:n]
            self.saved_upto = upto
            self._wrote(n)
            return True

    async def load_state(self, key: str) -> dict[str, Any] | None:
        with _sqlite("read the state"):
            async with self.db.execute("SELECT json FROM state WHERE key = ?", (key,)) as cur:
                row = await cur.fetchone()
            if row is None:
                return None
            loaded = decode_state(row[0])
            return loaded if isinstance(loaded, dict) else None

    async def enqueue_alert(
        self,
        alert: Alert,
        topic: str,
        payload: str,
        row_id: str | None = None,
        also: Sequence[OutboxItem] = (),
        broker: str = "",
    ) -> bool:
        """An alert to send, as outbox row ``row_id`` (default: its id; the row that keeps its
        memory) and rows ``also`` (id, topic, payload), in one write with the events waiting
        (``_outbox_rows``). False if the first was already queued."""
        rows = _outbox_rows(alert, OutboxItem(row_id or alert.id, topic, payload, broker), also)
        async with self._writing("queue an alert in"):
            n = await _insert_events(self.db, self._pending)
            cur = await self.db.execute(OUTBOX_ROW, rows[0])
            first = cur.rowcount == 1
            await self.db.executemany(OUTBOX_ROW, rows[1:])
            await self.db.commit()
            del self._pending[:n]
        self._wrote(n)
        return first

    async def unsent(self, limit: int = 100, broker: str | None = None) -> list[OutboxItem]:
        mine, args = ("", (limit,)) if broker is None else (" AND upstream = ?", (broker, limit))
        sql = f"SELECT id, topic, payload, upstream FROM outbox WHERE sent_at IS NULL{mine}"
        with _sqlite("read the outbox"):
            async with self.db.execute(sql + " ORDER BY created_at, rowid LIMIT ?", args) as cur:
                return [OutboxItem(*row) for row in await cur.fetchall()]

    async def mark_sent(self, alert_id: str, now: datetime) -> None:
        async with self._writing("mark an alert sent in"):
            args = (now.timestamp(), alert_id)
            await self.db.execute("UPDATE outbox SET sent_at = ? WHERE id = ?", args)
            await self.db.execute(AUDIT_SENT, args)
            await self.db.commit()


async def events_after(store: Store, rowid: int) -> list[SensorEvent]:
    """The events stored after row ``rowid``, in the order they came."""
    with _sqlite("read events"):
        async with store.db.execute(
            "SELECT at, sensor, reading, value, clock_trusted FROM events"
            " WHERE rowid > ? ORDER BY rowid",
            (rowid,),
        ) as cur:
            return _events(await cur.fetchall())


async def remembered_after(store: Store, rowid: int) -> list[tuple[str, dict[str, Any]]]:
    """Each alert queued after outbox row ``rowid``, by id, with its memory."""
    with _sqlite("read the outbox"):
        async with store.db.execute(
            "SELECT id, memory FROM outbox WHERE rowid > ? AND memory IS NOT NULL ORDER BY rowid",
            (rowid,),
        ) as cur:
            rows = await cur.fetchall()
    out = []
    for alert_id, memory in rows:
        loaded = json.loads(memory)
        if isinstance(loaded, dict):
            out.append((str(alert_id), loaded))
    return out


async def events_since(store: Store, since: datetime | None = None) -> list[SensorEvent]:
    with _sqlite("read events"):
        t0 = since.timestamp() if since else float("-inf")
        async with store.db.execute(
            "SELECT at, sensor, reading, value, clock_trusted FROM events WHERE at >= ?"
            " ORDER BY at, rowid",
            (t0,),
        ) as cur:
            return _events(await cur.fetchall())


def _events(rows: Iterable[Any]) -> list[SensorEvent]:
    """Rows of (at, sensor, reading, value, clock_trusted) as events; a reading this release
    does not know is left out."""
    return [
        SensorEvent(datetime.fromtimestamp(at, UTC), sensor, reading, value, bool(trusted))
        for at, sensor, reading, value, trusted in rows
        if reading in READINGS
    ]


async def purge(store: Store, before: datetime, batch: int) -> int:
    """Up to ``batch`` events from before ``before`` deleted, and alerts sent by then; how
    many events. Only events the latest save includes (a replay after a crash needs the rest,
    whatever the clock says), and never the newest, so that no row id is used twice."""
    async with store._writing("purge old events from"):
        cur = await store.db.execute(
            "DELETE FROM events WHERE rowid IN (SELECT rowid FROM events WHERE at < ?"
            " AND rowid <= ? AND rowid < (SELECT max(rowid) FROM events) LIMIT ?)",
            (before.timestamp(), store.saved_upto, batch),
        )
        await store.db.execute(
            "DELETE FROM outbox WHERE sent_at < ? AND rowid < (SELECT max(rowid) FROM outbox)",
            (before.timestamp(),),
        )
        kept_from = (before - AUDIT_KEPT).timestamp()
        await store.db.execute("DELETE FROM audit WHERE at < ?", (kept_from,))
        await store.db.commit()
        return int(cur.rowcount)


async def record_left(
    store: Store, at: datetime, topic: str, payload: str, broker: str = ""
) -> None:
    """A message in the audit that no outbox row records: a status Hearth gave of itself, an
    alert sent from memory (a full disk), one not sent at all (``WITHHELD``)."""
    async with store._writing("record what left in"):
        await store.db.execute(AUDIT_LEFT, (at.timestamp(), topic, payload, broker))
        await store.db.commit()
