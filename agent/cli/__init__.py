"""The ``hearth`` command: one module per command (or family of them); each imports what it
needs only when run, so ``hearth check-config`` never loads the evaluation or the runtime."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib.metadata import version

from agent.cli import (
    audit,
    broker_acl,
    config_files,
    demo,
    evaluate,
    explain,
    forget,
    listen,
    live,
    pairing,
    replay,
    status,
)
from agent.cli.arguments import add_common
from agent.errors import ConfigError, HearthError
from agent.logs import setup_logging


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="hearth", description="Hearth: a home's routine, learned; only deviations reported."
    )
    p.add_argument("--version", action="version", version=f"hearth {version('hearth')}")
    add_common(p, on_command=False)
    sub = p.add_subparsers(dest="command", required=True)
    demo.add_parser(sub)
    live.add_parsers(sub)
    replay.add_parser(sub)
    config_files.add_parsers(sub)
    evaluate.add_parser(sub)
    live.add_household_parsers(sub)
    status.add_parser(sub)
    explain.add_parser(sub)
    pairing.add_parser(sub)
    forget.add_parser(sub)
    audit.add_parser(sub)
    broker_acl.add_parser(sub)
    listen.add_parsers(sub)
    for command in sub.choices.values():
        add_common(command, on_command=True)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose, args.log_format)
    try:
        code: int = args.func(args)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    except HearthError as exc:
        print(f"hearth {args.command}: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        # A file named on the command line that cannot be read or written (a missing folder);
        # the live agent reports its own, and anything else keeps its traceback.
        if exc.filename is None or args.command == "run":
            raise
        names = f"{exc.filename} -> {exc.filename2}" if exc.filename2 else exc.filename
        print(f"hearth {args.command}: {names}: {exc.strerror}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return code
