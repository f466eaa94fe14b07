"""``hearth replay``: recorded events through the live pipeline, on their own clock."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

from agent.cli import progress
from agent.config import load_config
from agent.delivery.rendering import alert_payload, console_line
from agent.pipeline import Pipeline
from agent.replay import replay
from agent.sources.recordings import FORMATS
from models.alert_policy import Alert
from models.local_time import clock_text
from models.routine.daily_record import DayRecord


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rp = sub.add_parser(
        "replay", help="run recorded events through the pipeline on their own clock"
    )
    rp.add_argument("--config", required=True, help="the household's YAML file")
    rp.add_argument(
        "--input", required=True, help=f"FORMAT:PATH, FORMAT one of {', '.join(FORMATS)}"
    )
    rp.add_argument("--alerts-out", required=True, help="write one JSON alert per line here")
    rp.add_argument(
        "--until", help="keep the clock running to this time (ISO 8601) after the last event"
    )
    rp.add_argument(
        "--daily-out",
        help="also write, per local day, its deviation score and main contributors (JSON lines)",
    )
    rp.add_argument("-q", "--quiet", action="store_true", help="do not print each alert")
    rp.add_argument(
        "--every-minute",
        action="store_true",
        help="tick the detectors at every recorded minute, not only when anything may be due"
        " (slower; the alerts are the same)",
    )
    progress.add_option(rp)
    rp.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from agent.sources.recordings import ReadReport, stream_recording

    cfg = load_config(args.config)
    tz = ZoneInfo(cfg.household.timezone)
    report = ReadReport()
    try:
        events = stream_recording(args.input, cfg, report)
    except ValueError as exc:
        print(f"hearth replay: {exc}", file=sys.stderr)
        return 2
    until = None
    if args.until:
        try:
            until = datetime.fromisoformat(args.until)
        except ValueError:
            print(
                f"hearth replay: --until wants an ISO 8601 time, got {args.until!r}",
                file=sys.stderr,
            )
            return 2
        if until.tzinfo is None:
            until = until.replace(tzinfo=tz)
    pipeline = Pipeline(cfg)
    days = 0
    with contextlib.ExitStack() as files:
        files.enter_context(events)
        out = files.enter_context(open(args.alerts_out, "w", encoding="utf-8"))
        daily = (
            files.enter_context(open(args.daily_out, "w", encoding="utf-8"))
            if args.daily_out
            else None
        )

        def write(alert: Alert) -> None:
            out.write(alert_payload(cfg, alert) + "\n")
            if not args.quiet:
                print(console_line(alert, tz))

        def write_day(day: DayRecord) -> None:
            nonlocal days
            days += 1
            assert daily is not None
            daily.write(json.dumps(day_json(cfg.household.id, day), ensure_ascii=False) + "\n")

        bar = progress.with_bar(events, args.progress)
        result = replay(
            cfg, bar, write, until, pipeline, write_day if daily else None, args.every_minute
        )
    dropped = ", ".join(f"{n} {why}" for why, n in report.dropped.items()) or "none"
    span = ""
    if result.first_event and result.last_event:
        first, last = result.first_event.astimezone(tz), result.last_event.astimezone(tz)
        span = f" from {first:%Y-%m-%d} to {last:%Y-%m-%d}"
    print(
        f"replayed {report.events} events{span} ({report.rows} rows read; dropped: {dropped}); "
        f"{len(result.alerts)} alerts and {len(result.ends)} ends of episodes written to"
        f" {args.alerts_out}" + (f"; {days} days to {args.daily_out}" if args.daily_out else ""),
        file=sys.stderr,
    )
    if report.events == 0:
        # Nothing was watched: a wrong --config (its sensor ids) or an empty file, never a pass.
        hint = " (is --config the household it was recorded in?)" if report.rows else ""
        print(f"hearth replay: no event replayed from {args.input}{hint}", file=sys.stderr)
        return 1
    return 0


def day_json(household: str, day: DayRecord) -> dict[str, object]:
    """One line of ``--daily-out``: the day's deviation score, what drove it, and its figures."""
    return {
        "household": household,
        "day": day.day.isoformat(),
        "score": day.score,
        "contributors": day.contributors,
        "restlessness": day.restlessness,
        "whole_day": day.whole,
        "figures": {
            "active_minutes": day.active_minutes,
            "kitchen_uses": day.kitchen_uses,
            "night_bathroom": day.night_bathroom,
            "night_active": day.night_active,
            "outings": day.outings,
            "first_activity": None if day.morning_min is None else clock_text(day.morning_min),
            "sleep_onset": None if day.sleep_onset is None else clock_text(day.sleep_onset + 720),
            "wake": None if day.wake is None else clock_text(day.wake + 720),
        },
    }
