"""``hearth explain``: what Hearth has learned of this household, in words, and with ``--png``
as an actogram (days down, hours across, activity by room, urgent alerts marked). Read from the
hub's store (its saved routine, its events and its outbox), or, with ``--input``, from a
recording replayed on its own clock (a family meeting, before a hub is installed)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, cast

from agent.cli import progress
from agent.cli.arguments import whole
from agent.config import HearthConfig, load_config
from agent.errors import HearthError
from agent.sources.recordings import FORMATS

if TYPE_CHECKING:
    from models.events import Reading, SensorEvent
    from models.monitor import Monitor


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ex = sub.add_parser("explain", help="the learned routine in words, and as a picture (--png)")
    ex.add_argument("--config", required=True, help="the household's YAML file")
    ex.add_argument(
        "--input",
        help=f"FORMAT:PATH, a recording to learn from instead of the store ({', '.join(FORMATS)})",
    )
    ex.add_argument("--png", help="also draw the actogram here (needs the 'picture' extra)")
    progress.add_option(ex)
    ex.add_argument("--days", type=whole(1, 3660), help="draw only the last N days (default: all)")
    ex.set_defaults(func=run)


Activity = list[tuple[datetime, str]]


def from_recording(
    cfg: HearthConfig, spec: str, bar: str = "no"
) -> tuple[Monitor, Activity, Activity]:
    """The monitor after replaying ``spec``, its signs of life (when, room) and its urgent
    alerts (when raised, type)."""
    from agent.pipeline import Pipeline
    from agent.replay import replay
    from agent.sources.recordings import ReadReport, stream_recording

    try:
        events = stream_recording(spec, cfg, ReadReport())
    except ValueError as exc:
        raise HearthError(str(exc)) from None
    pipeline = Pipeline(cfg)
    rooms = {s.id: s.room for s in cfg.sensors}
    activity: Activity = []

    def noting(replayed: Iterable[SensorEvent]) -> Iterator[SensorEvent]:
        # The signs of life taken as the replay reads them: the recording is read once.
        for e in replayed:
            if e.is_activity and e.sensor in rooms:
                activity.append((e.at, rooms[e.sensor]))
            yield e

    with events:
        alerts = replay(cfg, noting(progress.with_bar(events, bar)), pipeline=pipeline).alerts
    urgent = [(a.detected_at, a.type) for a in alerts if a.severity == "urgent" and a.ends is None]
    return pipeline.monitor, activity, urgent


def from_store(cfg: HearthConfig) -> tuple[Monitor, Activity, Activity]:
    from agent.cli.status import read_only, saved_monitor
    from agent.runtime.keeping import STATE_KEY
    from models.events import SensorEvent

    rooms = {s.id: s.room for s in cfg.sensors}
    with read_only(cfg) as db:
        row = db.execute("SELECT json FROM state WHERE key = ?", (STATE_KEY,)).fetchone()
        rows = db.execute("SELECT at, sensor, reading, value FROM events ORDER BY at")
        activity = [
            (datetime.fromtimestamp(at, UTC), rooms[sensor])
            for at, sensor, reading, value in rows
            if sensor in rooms
            and SensorEvent(
                datetime.fromtimestamp(at, UTC), sensor, cast("Reading", reading), value
            ).is_activity
        ]
        sent = db.execute("SELECT payload FROM outbox").fetchall()
    if row is None:
        raise HearthError(
            f"no routine saved in {cfg.store.path} yet:"
            " Hearth saves it every half hour, and at a clean stop"
        )
    monitor = saved_monitor(cfg, row[0])
    urgent = []
    for (payload,) in sent:
        doc = json.loads(payload)
        if doc.get("severity") == "urgent" and doc.get("phase", "raised") == "raised":
            urgent.append((datetime.fromisoformat(doc["detected_at"]), str(doc["type"])))
    return monitor, activity, urgent


def run(args: argparse.Namespace) -> int:
    from agent.cli.actogram import draw, grid
    from models.explanation import routine_in_words

    cfg = load_config(args.config)
    monitor, activity, urgent = (
        from_recording(cfg, args.input, args.progress) if args.input else from_store(cfg)
    )
    print("\n".join(routine_in_words(monitor)))
    if args.png:
        rooms = list(dict.fromkeys(s.room for s in cfg.sensors))
        g = grid(activity, urgent, rooms, monitor.household.tz, args.days)
        title = (
            f"{cfg.household.id}: activity by room, {g.days[0]:%d %b %Y} to {g.days[-1]:%d %b %Y}"
        )
        draw(g, args.png, title)
        print(f"actogram of {len(g.days)} days written to {args.png}")
    return 0
