"""``hearth status``: is this hub watching? Read from its store, which the running agent keeps
(SQLite lets a reader in while it writes): when the detectors last looked and the agent's own
status then (its links to the brokers and the bridge, whether its clock is trusted), what each
detector has learned, the alerts waiting to leave, the disk, and each sensor, when last heard,
how often today, its battery and link."""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from agent.config import HearthConfig, load_config
from agent.config.brokers import is_loopback
from agent.delivery.status import STALE_S
from agent.errors import HearthError, StateError
from agent.state_format import decode_state
from agent.store_folder import store_files
from models.carers_answers import Answered, precision
from models.detectors.wording import duration_text
from models.learning import Learning, learning

if TYPE_CHECKING:
    from agent.pipeline import Pipeline
    from models.monitor import Monitor


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    st = sub.add_parser("status", help="is the hub watching: its store, read while it runs")
    st.add_argument("--config", required=True, help="the household's YAML file")
    st.add_argument("--json", action="store_true", help="one JSON object, for a care record")
    st.set_defaults(func=run)


@dataclass
class SensorStatus:
    id: str
    kind: str
    room: str
    last_heard: str | None = None
    events_today: int = 0
    battery: float | None = None
    link_quality: float | None = None
    # Its problems as the agent last noted them (offline, silent, quiet, a low battery): none
    # is healthy; None when not noted.
    problems: list[str] | None = None


@dataclass
class HubStatus:
    household: str
    store: str
    checked_at: str
    watching: bool
    last_looked: str | None
    agent_status: str | None
    # Each link (home broker, upstream broker, serial bridge): connected when last noted.
    links: dict[str, bool] | None
    # Why the clock is not trusted, when it is not (None: trusted, or not noted).
    clock_problem: str | None
    days_learned: int | None
    learning_days: int
    alerts_waiting: int
    oldest_waiting: str | None
    store_bytes: int
    disk_free_bytes: int
    sensors: list[SensorStatus] = field(default_factory=list)
    learning: list[Learning] = field(default_factory=list)
    # The care team's broker, when the YAML sends alerts to it unencrypted (insecure: true).
    unencrypted_to: str | None = None
    # What the carers answered to the alerts (the audit's year): how many, and the share needed.
    answers: dict[str, Any] = field(default_factory=dict)
    # Where the carers' false alarms make a detector wait longer (``models.tightening``).
    tightened: list[str] = field(default_factory=list)


@contextmanager
def read_only(cfg: HearthConfig) -> Iterator[sqlite3.Connection]:
    """The hub's store, read while the agent writes it; a store missing or that cannot be read
    is one line (a ``HearthError``) naming it."""
    path = Path(cfg.store.path)
    if not path.exists():
        raise HearthError(f"no store at {path}: has Hearth run with this configuration?")
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as db:
            yield db
    except sqlite3.Error as exc:
        raise HearthError(f"cannot read the store {path}: {exc}") from None


def saved_pipeline(cfg: HearthConfig, text: str | bytes) -> Pipeline:
    """The pipeline saved as ``text``; one that cannot be read is a ``HearthError`` saying
    why."""
    from agent.pipeline import Pipeline

    try:
        return Pipeline(cfg, decode_state(text))
    except (ValueError, StateError) as exc:
        raise HearthError(f"the routine saved in {cfg.store.path} cannot be read: {exc}") from None


def saved_monitor(cfg: HearthConfig, text: str | bytes) -> Monitor:
    """The monitor of the routine saved as ``text`` (``saved_pipeline``)."""
    return saved_pipeline(cfg, text).monitor


def read_status(cfg: HearthConfig, now: datetime) -> HubStatus:
    from agent.runtime.keeping import STATE_KEY, WATCHING_KEY

    path = Path(cfg.store.path)
    tz = ZoneInfo(cfg.household.timezone)
    midnight = now.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    with read_only(cfg) as db:
        state = dict(db.execute("SELECT key, json FROM state").fetchall())
        waiting, oldest = db.execute(
            "SELECT count(*), min(created_at) FROM outbox WHERE sent_at IS NULL"
        ).fetchone()
        heard = db.execute(
            "SELECT sensor, max(at), sum(at >= ?) FROM events GROUP BY sensor",
            (midnight.timestamp(),),
        ).fetchall()
        # SQLite gives the value of the row with the max(at): each sensor's latest reading.
        levels = db.execute(
            "SELECT sensor, reading, value, max(at) FROM events"
            " WHERE reading IN ('battery', 'link_quality') GROUP BY sensor, reading"
        ).fetchall()
        audited = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'audit'").fetchone()
        answered = [] if not audited else db.execute(
            "SELECT payload FROM audit WHERE topic LIKE '%/answers/%' ORDER BY at, rowid"
        ).fetchall()  # fmt: skip
    looked, note = _watching(state.get(WATCHING_KEY))
    days, learnt, tightened = _learning(cfg, state.get(STATE_KEY))
    sensors = {s.id: SensorStatus(s.id, s.kind, s.room) for s in cfg.sensors}
    for sensor, at, today in heard:
        if sensor in sensors:
            sensors[sensor].last_heard = _iso(at)
            sensors[sensor].events_today = int(today or 0)
    for sensor, reading, value, _ in levels:
        if sensor in sensors:
            setattr(sensors[sensor], reading, float(value))
    unwell = note.get("sensors")
    for x in sensors.values():
        x.problems = None if not isinstance(unwell, dict) else list(unwell.get(x.id, []))
    files = store_files(path)
    return HubStatus(
        household=cfg.household.id,
        store=str(path.resolve()),
        checked_at=now.isoformat(),
        watching=looked is not None and 0 <= (now - looked).total_seconds() <= STALE_S,
        last_looked=None if looked is None else looked.isoformat(),
        agent_status=note.get("status"),
        links=note.get("links"),
        clock_problem=(note.get("problems") or {}).get("clock"),
        days_learned=days,
        learning_days=cfg.learning.days,
        alerts_waiting=int(waiting),
        oldest_waiting=None if oldest is None else _iso(oldest),
        store_bytes=sum(f.stat().st_size for f in files if f.exists()),
        disk_free_bytes=shutil.disk_usage(path.parent).free,
        sensors=list(sensors.values()),
        learning=learnt,
        unencrypted_to=unencrypted_to(cfg),
        answers=_answers([row[0] for row in answered]),
        tightened=tightened,
    )


def _answers(payloads: list[str]) -> dict[str, Any]:
    """The carers' answers as the audit holds them (``agent.runtime.answers``), by alert."""
    told = []
    for text in payloads:
        with suppress(ValueError, KeyError, TypeError):
            doc = json.loads(text)
            told.append(Answered(str(doc["episode_alert"]), str(doc["answer"])))
    p = precision(told)
    return {
        "answered": p.answered,
        "needed": p.needed,
        "not_needed": dict(p.not_needed),
        "precision": p.value,
        "words": p.words(),
    }


def unencrypted_to(cfg: HearthConfig) -> str | None:
    up = cfg.upstream
    if up is None or up.tls is not None or not up.insecure or is_loopback(up.host):
        return None
    return f"{up.host}:{up.port}"


def _watching(text: str | bytes | None) -> tuple[datetime | None, dict[str, Any]]:
    try:
        note = decode_state(text) if text else {}
        return datetime.fromisoformat(note["at"]), note
    except (ValueError, KeyError, TypeError):
        return None, {}


def _learning(
    cfg: HearthConfig, text: str | bytes | None
) -> tuple[int | None, list[Learning], list[str]]:
    """The days learned, each detector's learning, and where the carers' false alarms make a
    detector wait longer; None and none when there is no saved routine it can read (the
    agent would start afresh)."""
    if text is None:
        return None, [], []
    try:
        saved = saved_pipeline(cfg, text)
    except HearthError:
        return None, [], []
    return saved.monitor.routine.days_learned, learning(saved.monitor), saved.tightening.words()


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def _ago(iso: str | None, now: datetime) -> str:
    if iso is None:
        return "never"
    seconds = max(0.0, (now - datetime.fromisoformat(iso)).total_seconds())
    return "just now" if seconds < 60 else f"{duration_text(seconds)} ago"


def words(s: HubStatus) -> list[str]:
    now = datetime.fromisoformat(s.checked_at)
    looked = _ago(s.last_looked, now)
    if s.watching:
        watching = f"watching: yes (the detectors last looked {looked})"
    else:
        # A full disk stops the note, not the watching: the upstream status tells them apart.
        watching = (
            f"watching: NO or not noted (the detectors last noted looking {looked}): stopped,"
            " hung, or its store cannot be written (a full disk); its status upstream says which"
        )
    if s.days_learned is None:
        routine = "routine: none saved that can be read (the agent learns afresh)"
    else:
        learned = "learned" if s.days_learned >= s.learning_days else "learning"
        routine = (
            f"routine: {learned}, {s.days_learned} days (learned alerts after {s.learning_days})"
        )
    if s.links is None:
        links, clock = "links: not noted", "clock: not noted"
    else:
        links = "links: " + ", ".join(
            f"{name} {'connected' if up else 'NOT connected'}" for name, up in s.links.items()
        )
        trusted = s.clock_problem is None
        clock = "clock: trusted" if trusted else f"clock: NOT trusted ({s.clock_problem})"
    plain = s.unencrypted_to
    out = [
        f"household {s.household}",
        watching,
        f"status when last noted: {s.agent_status or 'never noted'}",
        links,
        *([f"  alerts go to {plain} UNENCRYPTED (upstream.insecure: true)"] if plain else []),
        clock,
        routine,
        *(f"  {x.words()}" for x in s.learning),
        f"carers' answers: {s.answers.get('words', 'not noted')}",
        *(f"  tightened: {t}" for t in s.tightened),
        f"outbox: {s.alerts_waiting} alerts waiting"
        + (f", the oldest since {_ago(s.oldest_waiting, now)}" if s.oldest_waiting else ""),
        f"store: {s.store}, {s.store_bytes / 2**20:.1f} MiB, {s.disk_free_bytes / 2**30:.1f} GiB"
        " free",
        "sensors:",
    ]
    for x in s.sensors:
        extra = [f"{x.events_today} today"]
        extra += [f"battery {x.battery:.0f}%"] if x.battery is not None else []
        extra += [f"link {x.link_quality:.0f}"] if x.link_quality is not None else []
        extra.append(_health(x.problems, now) if x.last_heard else "never heard: paired, in range?")
        out.append(
            f"  {x.id} ({x.kind}, {x.room}): heard {_ago(x.last_heard, now)}; " + ", ".join(extra)
        )
    return out


def _health(problems: list[str] | None, now: datetime) -> str:
    """A sensor's problems in words, each since when."""
    if problems is None:
        return "health not noted"
    if not problems:
        return "healthy"
    out = []
    for p in problems:
        what, _, since = p.partition(" since ")
        out.append(f"{what.upper()} since {_ago(since, now)}" if since else what.upper())
    return ", ".join(out)


def run(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    status = read_status(cfg, datetime.now(UTC))
    if args.json:
        doc = asdict(status)
        doc["learning"] = [
            asdict(x) | {"learned": x.learned, "words": x.words()} for x in status.learning
        ]
        print(json.dumps(doc, ensure_ascii=False))
    else:
        print("\n".join(words(status)))
    # Non-zero when not watching: a script (or a technician's eye) can tell at once.
    return 0 if status.watching else 3
