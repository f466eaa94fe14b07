"""``hearth demo``: the built-in simulated household, six weeks in a few seconds."""

from __future__ import annotations

import argparse
from datetime import date
from importlib import resources
from zoneinfo import ZoneInfo

from agent.cli.arguments import whole
from agent.config import load_config_text
from agent.delivery.rendering import alert_payload, console_line
from agent.pipeline import Pipeline
from agent.replay import replay
from models.alert_policy import Alert

# Six weeks that cross the spring clock change.
START = date(2026, 3, 2)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    d = sub.add_parser("demo", help="run the built-in simulated household and print its alerts")
    d.add_argument(
        "--weeks", type=whole(1, 520), default=6, help="simulated weeks, 1 to 520 (default 6)"
    )
    d.add_argument("--seed", type=int, default=7, help="random seed of the persona")
    d.add_argument("--alerts-out", help="also write the alerts as JSON lines here")
    d.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from agent.simulation.persona import DEMO_BAD_DAYS, Persona

    text = resources.files("agent.simulation").joinpath("demo-home.yaml").read_text("utf-8")
    cfg = load_config_text(text, "agent/simulation/demo-home.yaml")
    tz = ZoneInfo(cfg.household.timezone)
    days = args.weeks * 7
    print(
        f"Hearth demo: {cfg.household.id}, a simulated home in {cfg.household.timezone}, "
        f"{days} days from {START:%d %b %Y}."
    )
    print(
        f"Learning for {cfg.learning.days} days, then alerting. Bad days planted: "
        + ", ".join(f"day {b.day} ({b.kind.replace('_', ' ')})" for b in DEMO_BAD_DAYS)
        + ".\n"
    )
    events = Persona(START, tz, seed=args.seed).events(days, DEMO_BAD_DAYS)
    pipeline = Pipeline(cfg)
    out = open(args.alerts_out, "w", encoding="utf-8") if args.alerts_out else None  # noqa: SIM115
    ended = 0
    try:

        def show(alert: Alert) -> None:
            nonlocal ended
            ended += alert.ends is not None
            print(console_line(alert, tz))
            if out is not None:
                out.write(alert_payload(cfg, alert) + "\n")

        result = replay(cfg, events, show, pipeline=pipeline)
    finally:
        if out is not None:
            out.close()
    c = result.pipeline.counters
    r = result.pipeline.monitor.routine
    print(
        f"\n{c.events} sensor events, {r.days_learned} days learned, {c.alerts} alerts"
        f" ({ended} of them told when they ended)."
    )
    return 0
