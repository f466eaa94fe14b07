"""``hearth eval``: the detectors measured on real homes with injected anomalies
(``agent.evaluation``, which the live agent never imports)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from agent.cli.arguments import whole
from agent.config import load_config

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
    if getattr(args, "method", "snapshot") != "snapshot":
        words.append(f"--method {args.method}")
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


def _homes(args: argparse.Namespace) -> list[Path]:
    pattern = EVAL_FILES[args.format]
    data = Path(args.data or EVAL_DATA[args.format])
    homes = sorted(data.glob(pattern))
    if args.homes:
        homes = homes[: args.homes]
    if not homes:
        print(f"hearth eval: no {args.format} files ({pattern}) in {data}", file=sys.stderr)
    return homes


def run(args: argparse.Namespace) -> int:
    if args.method == "continuous":
        return run_continuous(args)
    from agent.evaluation import available_contenders, markdown, run_eval

    cfg = load_config(args.config or EVAL_CONFIGS[args.format])
    contenders = available_contenders()
    if "half_space_trees" not in contenders:
        print(
            "hearth eval: river is not installed (pip install '.[eval]'), so the Half-Space"
            " Trees peer is left out",
            file=sys.stderr,
        )
    homes = _homes(args)
    if not homes:
        return 2
    rows, extra = run_eval(
        cfg,
        homes,
        contenders,
        args.days_per_kind,
        Path(args.out) if args.out else None,
        args.jobs,
        args.format,
        Path(args.labels) if args.format == "tihm" and args.labels else None,
        _eval_command(args),
    )
    print()
    print(markdown(rows, extra))
    if args.out:
        print(f"written: {args.out}/eval.md, {args.out}/eval.json", file=sys.stderr)
    return 0


def run_continuous(args: argparse.Namespace) -> int:
    from agent.evaluation.frontier import run_continuous as run_all

    path = Path(args.config or EVAL_CONFIGS[args.format])
    load_config(path)  # its errors, all at once, before any home is read
    homes = _homes(args)
    if not homes:
        return 2
    summaries = run_all(
        path.read_text(encoding="utf-8"),
        homes,
        args.format,
        Path(args.out) if args.out else None,
        _eval_command(args),
        args.jobs,
    )
    from agent.evaluation.continuous_report import markdown

    print(markdown(summaries, "defaults", _eval_command(args)))
    if args.out:
        print(f"written: {args.out}/eval.md, {args.out}/eval.json", file=sys.stderr)
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    ev.add_argument("--homes", type=whole(1, 10_000), help="only the first N homes")
    ev.add_argument(
        "--days-per-kind",
        type=whole(1, 100),
        default=DAYS_PER_KIND,
        help="injected days per anomaly and home",
    )
    ev.add_argument("--out", help="write eval.md and eval.json to this folder")
    ev.add_argument(
        "--method",
        choices=("snapshot", "continuous"),
        default="snapshot",
        help="snapshot: each anomaly replayed from its day's saved state (default); continuous:"
        " one replay per home with the anomalies recurring, and the frontier of operating points",
    )
    ev.add_argument(
        "--jobs",
        type=whole(1, 256),
        default=1,
        help="homes evaluated at once, one a core (default 1)",
    )
    ev.set_defaults(func=run)
