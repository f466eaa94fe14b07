"""The ``hearth`` command: demo, run, replay, check-config, schema, eval, bridge-sim, and the
household's own away, home, pause and resume."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from collections.abc import Sequence
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

from agent.config import ConfigError, json_schema, load_config, load_config_text
from agent.logs import setup_logging
from agent.pipeline import Pipeline
from agent.replay import replay
from models.alert_policy import Alert
from models.daily_record import DayRecord
from models.local_time import clock_text


def _alert_line(alert: Alert, tz: ZoneInfo) -> str:
    local = alert.detected_at.astimezone(tz)
    return f"{local:%a %d %b %H:%M}  {alert.severity.upper():7} {alert.type:15} {alert.summary}"


def cmd_demo(args: argparse.Namespace) -> int:
    from agent.simulator import DEMO_BAD_DAYS, Persona

    text = resources.files("agent").joinpath("demo/home.yaml").read_text(encoding="utf-8")
    cfg = load_config_text(text, "agent/demo/home.yaml")
    tz = ZoneInfo(cfg.household.timezone)
    start = date(2026, 3, 2)  # six weeks that cross the spring clock change
    days = args.weeks * 7
    print(
        f"Hearth demo: {cfg.household.id}, a simulated home in {cfg.household.timezone}, "
        f"{days} days from {start:%d %b %Y}."
    )
    print(
        f"Learning for {cfg.learning.days} days, then alerting. Bad days planted: "
        + ", ".join(f"day {b.day} ({b.kind.replace('_', ' ')})" for b in DEMO_BAD_DAYS)
        + ".\n"
    )
    events = Persona(start, tz, seed=args.seed).events(days, DEMO_BAD_DAYS)
    pipeline = Pipeline(cfg)
    out = open(args.alerts_out, "w", encoding="utf-8") if args.alerts_out else None  # noqa: SIM115
    try:

        def show(alert: Alert) -> None:
            print(_alert_line(alert, tz))
            if out is not None:
                out.write(pipeline.alert_payload(alert) + "\n")

        result = replay(cfg, events, show, pipeline=pipeline)
    finally:
        if out is not None:
            out.close()
    c = result.pipeline.counters
    r = result.pipeline.monitor.routine
    print(f"\n{c.events} sensor events, {r.days_learned} days learned, {c.alerts} alerts.")
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from agent.recordings import ReadReport, read_recording

    cfg = load_config(args.config)
    tz = ZoneInfo(cfg.household.timezone)
    report = ReadReport()
    try:
        events = read_recording(args.input, cfg, report)
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
        out = files.enter_context(open(args.alerts_out, "w", encoding="utf-8"))
        daily = (
            files.enter_context(open(args.daily_out, "w", encoding="utf-8"))
            if args.daily_out
            else None
        )

        def write(alert: Alert) -> None:
            out.write(pipeline.alert_payload(alert) + "\n")
            if not args.quiet:
                print(_alert_line(alert, tz))

        def write_day(day: DayRecord) -> None:
            nonlocal days
            days += 1
            assert daily is not None
            daily.write(json.dumps(day_json(cfg.household.id, day), ensure_ascii=False) + "\n")

        result = replay(cfg, events, write, until, pipeline, write_day if daily else None)
    dropped = ", ".join(f"{n} {why}" for why, n in report.dropped.items()) or "none"
    span = ""
    if result.first_event and result.last_event:
        span = f" from {result.first_event.astimezone(tz):%Y-%m-%d} to {result.last_event.astimezone(tz):%Y-%m-%d}"
    print(
        f"replayed {report.events} events{span} ({report.rows} rows read; dropped: {dropped}); "
        f"{len(result.alerts)} alerts written to {args.alerts_out}"
        + (f"; {days} days to {args.daily_out}" if args.daily_out else ""),
        file=sys.stderr,
    )
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


def cmd_check_config(args: argparse.Namespace) -> int:
    status = 0
    for path in args.files:
        try:
            cfg = load_config(path)
        except ConfigError as exc:
            print(exc, file=sys.stderr)
            status = 1
            continue
        mqtt = sum(1 for s in cfg.sensors if s.mqtt)
        print(
            f"{path}: OK: household {cfg.household.id} ({cfg.household.timezone}), "
            f"{len(cfg.sensors)} sensors ({mqtt} over MQTT)"
        )
    return status


def cmd_schema(args: argparse.Namespace) -> int:
    text = json.dumps(json_schema(), indent=2) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from agent.runtime import run_agent

    cfg = load_config(args.config)
    asyncio.run(run_agent(cfg))
    return 0


def cmd_bridge_sim(args: argparse.Namespace) -> int:
    from agent.bridge_simulator import run_simulator

    cfg = load_config(args.config)
    sensors = [(s.serial.id, s.kind) for s in cfg.sensors if s.serial is not None]
    if not sensors:
        print(f"hearth bridge-sim: no sensor in {args.config} is read over serial", file=sys.stderr)
        return 2
    link = Path(args.link or (cfg.serial_bridge.port if cfg.serial_bridge else "hearth-bridge"))
    run_simulator(link, sensors, args.every, args.noise, args.drop, args.reset_every, args.count)
    return 0


def cmd_control(args: argparse.Namespace) -> int:
    """Publish a household command on the home broker, where the running agent hears it."""
    import aiomqtt

    from agent.control import control_topic
    from agent.mqtt_link import client_for

    cfg = load_config(args.config)
    if cfg.local_broker is None:
        print(
            f"hearth {args.command}: {args.config} has no local_broker to send it on",
            file=sys.stderr,
        )
        return 2
    payload = b""
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
        async with client_for(broker, f"hearth-{cfg.household.id}-control") as client:
            await client.publish(topic, payload, qos=1)

    try:
        asyncio.run(send())
    except aiomqtt.MqttError as exc:
        print(
            f"hearth {args.command}: could not reach {broker.host}:{broker.port}: {exc}",
            file=sys.stderr,
        )
        return 1
    print(f"sent {args.command} to {topic}; the agent's log says what it did")
    return 0


DAYS_PER_KIND = 12
EVAL_CONFIGS = {
    "tihm": "config/tihm-home.yaml",
    "ordonez": "config/ordonez-home.yaml",
    "kasteren": "config/kasteren-home.yaml",
}
EVAL_DATA = {
    "tihm": "../shared/datasets/tihm-dev/activity",
    "ordonez": "../shared/datasets/ordonez-uci-adl",
    "kasteren": "../shared/datasets/kasteren/2008_houseA_original",
}
EVAL_FILES = {
    "tihm": "*.csv",
    "ordonez": "Ordonez*_Sensors.txt",
    "kasteren": "kasterenSenseData.txt",
}


def _eval_command(args: argparse.Namespace) -> str:
    """The command line that reproduces this run, for the table's heading."""
    words = ["hearth eval"]
    if args.format != "tihm":
        words.append(f"--format {args.format}")
    for flag, value in (
        ("--config", args.config),
        ("--data", args.data),
        ("--homes", args.homes),
        ("--days-per-kind", None if args.days_per_kind == DAYS_PER_KIND else args.days_per_kind),
        ("--out", args.out),
    ):
        if value:
            words.append(f"{flag} {value}")
    return " ".join(words)


def cmd_eval(args: argparse.Namespace) -> int:
    from agent.evaluation import available_contenders, markdown, progress_bar, run_eval

    cfg = load_config(args.config or EVAL_CONFIGS[args.format])
    contenders = available_contenders()
    if "half_space_trees" not in contenders:
        print(
            "hearth eval: river is not installed (pip install '.[eval]'), so the Half-Space"
            " Trees peer is left out",
            file=sys.stderr,
        )
    pattern = EVAL_FILES[args.format]
    data = Path(args.data or EVAL_DATA[args.format])
    homes = sorted(data.glob(pattern))
    if args.homes:
        homes = homes[: args.homes]
    if not homes:
        print(f"hearth eval: no {args.format} files ({pattern}) in {data}", file=sys.stderr)
        return 2
    rows, extra = run_eval(
        cfg,
        homes,
        contenders,
        args.days_per_kind,
        Path(args.out) if args.out else None,
        progress_bar(len(homes)),
        args.format,
        Path(args.labels) if args.format == "tihm" and args.labels else None,
        _eval_command(args),
    )
    print()
    print(markdown(rows, extra))
    if args.out:
        print(f"written: {args.out}/eval.md, {args.out}/eval.json", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="hearth", description="Hearth: a home's routine, learned; only deviations reported."
    )
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="run the built-in simulated household and print its alerts")
    d.add_argument("--weeks", type=int, default=6, help="simulated weeks (default 6)")
    d.add_argument("--seed", type=int, default=7, help="random seed of the persona")
    d.add_argument("--alerts-out", help="also write the alerts as JSON lines here")
    d.set_defaults(func=cmd_demo)

    r = sub.add_parser("run", help="run the live agent")
    r.add_argument("--config", required=True, help="the household's YAML file")
    r.set_defaults(func=cmd_run)

    rp = sub.add_parser(
        "replay", help="run recorded events through the pipeline on their own clock"
    )
    rp.add_argument("--config", required=True, help="the household's YAML file")
    rp.add_argument("--input", required=True, help="FORMAT:PATH, FORMAT one of csv, tihm")
    rp.add_argument("--alerts-out", required=True, help="write one JSON alert per line here")
    rp.add_argument(
        "--until", help="keep the clock running to this time (ISO 8601) after the last event"
    )
    rp.add_argument(
        "--daily-out",
        help="also write, per local day, its deviation score and main contributors (JSON lines)",
    )
    rp.add_argument("-q", "--quiet", action="store_true", help="do not print each alert")
    rp.set_defaults(func=cmd_replay)

    c = sub.add_parser("check-config", help="validate household YAML files")
    c.add_argument("files", nargs="+")
    c.set_defaults(func=cmd_check_config)

    b = sub.add_parser("bridge-sim", help="simulate a serial bridge on a pseudo-terminal")
    b.add_argument("--config", required=True, help="the household's YAML file (its serial sensors)")
    b.add_argument("--link", help="path of the link to the pty (default: serial_bridge.port)")
    b.add_argument("--every", type=float, default=5.0, help="seconds between readings")
    b.add_argument("--noise", type=float, default=0.0, help="chance of line noise before a frame")
    b.add_argument("--drop", type=float, default=0.0, help="chance a frame is lost")
    b.add_argument("--reset-every", type=int, default=0, help="restart the bridge every N readings")
    b.add_argument("--count", type=int, help="stop after N readings")
    b.set_defaults(func=cmd_bridge_sim)

    ev = sub.add_parser("eval", help="measure the detectors on real homes with injected anomalies")
    ev.add_argument(
        "--format",
        choices=sorted(EVAL_FILES),
        default="tihm",
        help="which dataset's files (default tihm)",
    )
    ev.add_argument("--config", help="household YAML (default: config/<format>-home.yaml)")
    ev.add_argument(
        "--data", help="folder of the dataset's files (default: ../shared/datasets/...)"
    )
    ev.add_argument(
        "--labels",
        default="../shared/datasets/tihm-dev/Labels.csv",
        help="TIHM Labels.csv: score daily deviation against its Agitation days ('' for none)",
    )
    ev.add_argument("--homes", type=int, help="only the first N homes")
    ev.add_argument(
        "--days-per-kind",
        type=int,
        default=DAYS_PER_KIND,
        help="injected days per anomaly and home",
    )
    ev.add_argument("--out", help="write eval.md and eval.json to this folder")
    ev.set_defaults(func=cmd_eval)

    for name, help_text in (
        ("away", "away mode: the house is empty on purpose (alerts about the resident stop)"),
        ("home", "end away mode"),
        ("pause", "the resident's pause: no alerts to carers for a while"),
        ("resume", "end the resident's pause"),
    ):
        ctl = sub.add_parser(name, help=help_text)
        ctl.add_argument("--config", required=True, help="the household's YAML file")
        if name in ("away", "pause"):
            ctl.add_argument("--for", dest="for_", help="how long, e.g. 2h or 5d")
            ctl.add_argument("--until", help="until this local time, e.g. 2026-12-01T18:00")
        ctl.set_defaults(func=cmd_control)

    s = sub.add_parser("schema", help="print the JSON Schema of the YAML file")
    s.add_argument("--output", help="write it here instead")
    s.set_defaults(func=cmd_schema)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    try:
        code: int = args.func(args)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
