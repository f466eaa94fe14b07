"""``hearth check-config`` and ``hearth schema``: the YAML file, checked and described."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from agent.config import ConfigError, json_schema
from agent.config.advice import advice
from agent.config.loading import load_with_lines, read_config_text
from agent.delivery.alert_schema import SCHEMAS
from agent.delivery.rendering import what_each_receives


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    c = sub.add_parser("check-config", help="validate household YAML files")
    c.add_argument("files", nargs="+")
    c.set_defaults(func=check_config)
    s = sub.add_parser(
        "schema", help="print the JSON Schema of the YAML file, or of what leaves the hub"
    )
    s.add_argument(
        "--of",
        choices=["config", "alert", "status"],
        default="config",
        help="the household YAML file (the default), an alert, or the status upstream",
    )
    s.add_argument("--output", help="write it here instead")
    s.set_defaults(func=schema)


def check_config(args: argparse.Namespace) -> int:
    """Errors (exit 1) for a file Hearth would refuse or stop on; warnings (still exit 0) for
    one that runs but leaves the resident less safe than meant."""
    status = 0
    for path in args.files:
        try:
            cfg, lines = load_with_lines(read_config_text(path), path)
        except ConfigError as exc:
            print(exc, file=sys.stderr)
            status = 1
            continue
        found = advice(cfg, path, lines)
        if found.errors:
            print(ConfigError(path, found.errors), file=sys.stderr)
            status = 1
        for w in found.warnings:
            print(f"warning: {w}")
        if not found.errors:
            mqtt = sum(1 for s in cfg.sensors if s.mqtt)
            warned = f"; {len(found.warnings)} warnings" if found.warnings else ""
            print(
                f"{path}: OK: household {cfg.household.id} ({cfg.household.timezone}), "
                f"{len(cfg.sensors)} sensors ({mqtt} over MQTT){warned}"
            )
            if cfg.upstream is not None:
                print("\n".join(f"  {line}" for line in what_each_receives(cfg)))
            if cfg.local_broker is not None:
                users = ", ".join(cfg.controls.users)
                print(f"  household controls (pause, away) accepted from the home broker's"
                      f" users: {users} (hearth acl writes its access list so)")  # fmt: skip
    return status


def schema(args: argparse.Namespace) -> int:
    doc = json_schema() if args.of == "config" else SCHEMAS[args.of]()
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0
