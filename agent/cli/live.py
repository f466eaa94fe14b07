"""``hearth run`` (the live agent), ``hearth bridge-sim`` (a serial bridge on a pseudo-terminal)
and the household's own ``away``, ``home``, ``pause`` and ``resume``."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from agent.cli.arguments import chance, seconds, whole
from agent.config import load_config

MANY = 10**9

HOUSEHOLD_COMMANDS = (
    ("away", "away mode: the house is empty on purpose (alerts about the resident stop)"),
    ("home", "end away mode"),
    ("pause", "the resident's pause: no alerts to carers for a while"),
    ("resume", "end the resident's pause"),
    ("ordinary", "an alert was about something usual: learn it as part of her routine"),
)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    r = sub.add_parser("run", help="run the live agent")
    r.add_argument("--config", required=True, help="the household's YAML file")
    r.set_defaults(func=run)

    b = sub.add_parser("bridge-sim", help="simulate a serial bridge on a pseudo-terminal")
    b.add_argument("--config", required=True, help="the household's YAML file (its serial sensors)")
    b.add_argument("--link", help="path of the link to the pty (default: serial_bridge.port)")
    b.add_argument("--every", type=seconds, default=5.0, help="seconds between readings")
    b.add_argument("--noise", type=chance, default=0.0, help="chance of line noise before a frame")
    b.add_argument("--drop", type=chance, default=0.0, help="chance a frame is lost")
    b.add_argument(
        "--reset-every", type=whole(0, MANY), default=0, help="restart the bridge every N readings"
    )
    b.add_argument("--count", type=whole(1, MANY), help="stop after N readings")
    b.set_defaults(func=bridge_sim)


def add_household_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for name, help_text in HOUSEHOLD_COMMANDS:
        ctl = sub.add_parser(name, help=help_text)
        ctl.add_argument("--config", required=True, help="the household's YAML file")
        if name in ("away", "pause"):
            ctl.add_argument("--for", dest="for_", help="how long, e.g. 2h or 5d")
            ctl.add_argument("--until", help="until this local time, e.g. 2026-12-01T18:00")
        if name == "ordinary":
            ctl.add_argument("alert_id", help="the alert's id, as the alert carries it")
        ctl.set_defaults(func=household_command)


def run(args: argparse.Namespace) -> int:
    from agent.runtime import run_agent

    cfg = load_config(args.config)
    # Non-zero when part of the agent kept failing: systemd's Restart=on-failure starts it again.
    return asyncio.run(run_agent(cfg)).exit_code


def bridge_sim(args: argparse.Namespace) -> int:
    from agent.simulation.bridge import run_simulator

    cfg = load_config(args.config)
    sensors = [(s.serial.id, s.kind) for s in cfg.sensors if s.serial is not None]
    if not sensors:
        print(f"hearth bridge-sim: no sensor in {args.config} is read over serial", file=sys.stderr)
        return 2
    link = Path(args.link or (cfg.serial_bridge.port if cfg.serial_bridge else "hearth-bridge"))
    run_simulator(link, sensors, args.every, args.noise, args.drop, args.reset_every, args.count)
    return 0


def household_command(args: argparse.Namespace) -> int:
    """Publish a household command on the home broker, where the running agent hears it."""
    from agent.errors import BrokerUnavailable
    from agent.sources.control import control_topic
    from agent.sources.mqtt import session

    cfg = load_config(args.config)
    if cfg.local_broker is None:
        print(
            f"hearth {args.command}: {args.config} has no local_broker to send it on",
            file=sys.stderr,
        )
        return 2
    payload = b""
    if args.command == "ordinary":
        payload = args.alert_id.encode()
    if args.command in ("away", "pause"):
        if args.until:
            payload = json.dumps({"until": args.until}).encode()
        elif args.for_:
            payload = args.for_.encode()
        else:
            print(f"hearth {args.command}: say how long, with --for or --until", file=sys.stderr)
            return 2
    topic = control_topic(cfg.household.id, args.command)
    broker = cfg.local_broker

    async def send() -> None:
        async with session(broker, f"hearth-{cfg.household.id}-control") as client:
            await client.publish(topic, payload, qos=1)

    try:
        asyncio.run(send())
    except BrokerUnavailable as exc:
        print(
            f"hearth {args.command}: could not reach {broker.host}:{broker.port}: {exc}",
            file=sys.stderr,
        )
        return 1
    print(f"sent {args.command} to {topic}; the agent's log says what it did")
    return 0
