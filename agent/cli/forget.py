"""``hearth forget``: erase everything this hub keeps of the household (its sensor events, the
routine learned from them, the alerts sent and waiting, the audit of what left) when the
resident asks, and leave the file holding none of it: deleted with ``secure_delete`` on, the
file rebuilt by ``VACUUM`` and its write-ahead log truncated, so the rows are gone from the
bytes on disk, not only from the tables. Only while Hearth is stopped: a running agent would
save again what it holds in memory. Kept: that it was erased, when, and how many of each (no
one's data)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from agent.config import HearthConfig, load_config
from agent.errors import HearthError
from agent.store_folder import only_hearth_on, store_files
from agent.store_schema import SCHEMA

TABLES = ("events", "state", "outbox", "audit")
FORGOTTEN_KEY = "forgotten"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "forget",
        help="erase the household's events, learned routine and alerts from this hub (Hearth"
        " stopped first)",
    )
    p.add_argument("--config", required=True, help="the household's YAML file")
    p.add_argument(
        "--yes", action="store_true", help="do not ask to type the household's id to confirm"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from agent.cli.status import read_status

    cfg = load_config(args.config)
    path = Path(cfg.store.path)
    if not path.exists():
        raise HearthError(f"no store at {path}: this hub keeps nothing of {cfg.household.id}")
    status = read_status(cfg, datetime.now(UTC))
    if status.watching:
        raise HearthError(
            f"Hearth is running on {path} (its detectors looked at {status.last_looked}): stop"
            " it first (sudo systemctl stop hearth), then run this again; nothing was erased"
        )
    if not args.yes:
        if not sys.stdin.isatty():
            raise HearthError("not confirmed: add --yes, or run it at a terminal to confirm")
        typed = input(f"Erase all Hearth keeps of {cfg.household.id}? Type its id to confirm: ")
        if typed.strip() != cfg.household.id:
            print("not confirmed: nothing was erased")
            return 1
    before = sum(f.stat().st_size for f in store_files(path) if f.exists())
    with only_hearth_on(path):  # a Hearth that started meanwhile holds it
        counts = forget(path, datetime.now(UTC))
    after = sum(f.stat().st_size for f in store_files(path) if f.exists())
    said = ", ".join(f"{n} {what if n != 1 else what.replace('s ', ' ', 1).rstrip('s')}"
                     for what, n in counts.items())  # fmt: skip
    print(f"{cfg.household.id}: erased {said} from {path}")
    print(f"the file and its log: {before:,} bytes before, {after:,} now (rebuilt, the log empty)")
    cleared = 0
    if cfg.home_assistant is not None and cfg.local_broker is not None:
        cleared = asyncio.run(_clear_home_assistant(cfg))
    print("Hearth learns the routine afresh when it starts again.")
    print("Not erased by Hearth: " + "; ".join(_elsewhere(cfg)))
    return cleared


def _elsewhere(cfg: HearthConfig) -> list[str]:
    """What Hearth sent or printed that lives where it cannot erase it: for the resident to
    ask of whoever keeps it."""
    out = []
    if cfg.upstream is not None:
        out.append(f"what was sent to the care team ({cfg.upstream.host}): ask them to erase it")
    out += [f"what was sent to {r.name} ({r.upstream.host}): ask them to erase it"
            for r in cfg.alerts.recipients if r.upstream]  # fmt: skip
    if cfg.home_assistant is not None:
        out.append("Home Assistant's own history of what it was shown (its recorder:"
                   " recorder.purge_entities)")  # fmt: skip
    if cfg.alerts.console:
        out.append("the alerts' words in the system journal (alerts.console: true):"
                   " sudo journalctl --namespace=hearth --rotate --vacuum-time=1s")  # fmt: skip
    return out


async def _clear_home_assistant(cfg: HearthConfig) -> int:
    """The states Hearth left retained for Home Assistant on the home broker (the last alert's
    words, the learning, the status), emptied: the broker keeps them no longer. 0 if done, 1
    (said) if the broker could not be reached."""
    from agent.delivery.home_assistant import ENTITIES, state_topics
    from agent.sources.mqtt import session

    broker = cfg.local_broker
    assert broker is not None
    topics = [t for e in ENTITIES for t in state_topics(cfg, e.object_id)]
    try:
        async with (
            asyncio.timeout(30),
            session(broker, f"hearth-{cfg.household.id}-forget") as client,
        ):
            for topic in topics:
                await client.publish(topic, b"", qos=1, retain=True)
    except (HearthError, TimeoutError) as exc:
        print(f"Home Assistant: NOT cleared: the home broker {broker.host}:{broker.port}"
              f" ({exc}); run hearth forget again once it is up", file=sys.stderr)  # fmt: skip
        return 1
    print(f"Home Assistant: {len(topics)} retained states emptied on {broker.host}:{broker.port}")
    return 0


def forget(path: Path, now: datetime) -> dict[str, int]:
    """Every row erased, the file rebuilt and its log truncated; how many rows of each kind
    (events, saved states, alerts, audit) were erased. A store another process is writing is a
    ``HearthError``, with nothing erased."""
    try:
        with closing(sqlite3.connect(path, timeout=5, isolation_level=None)) as db:
            db.execute("PRAGMA secure_delete=ON")
            db.executescript(SCHEMA)  # a store from an earlier release: today's tables
            db.execute("BEGIN IMMEDIATE")
            counts = {}
            for table in TABLES:
                counts[table] = int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
                db.execute(f"DELETE FROM {table}")
            note = {"at": now.isoformat(), **{f"{t}_erased": n for t, n in counts.items()}}
            db.execute(
                "INSERT INTO state VALUES (?, ?, ?)",
                (FORGOTTEN_KEY, json.dumps(note), now.timestamp()),
            )
            db.execute("COMMIT")
            db.execute("VACUUM")
            busy = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            if busy:
                raise HearthError(f"{path}: its log could not be emptied (another reader?)")
    except sqlite3.Error as exc:
        raise HearthError(f"cannot erase {path}: {exc}; is Hearth still running?") from None
    return {
        "events": counts["events"],
        "saved states": counts["state"],
        "alerts": counts["outbox"],
        "messages recorded in the audit": counts["audit"],
    }
