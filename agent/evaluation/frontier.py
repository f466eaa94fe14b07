"""The operating points of the continuous evaluation, and its run over many homes at once.

Each contender is measured at several points: Hearth with its false-alert budgets moved together
(the urgent detectors' ``once_in_days``, a missed morning's spread, the digest's budget), or
inactivity's budget or its long-lie limit alone; each rule peer with its thresholds moved. One
point of each is its default.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from agent.config import load_config_text
from agent.config.schema import HearthConfig
from agent.evaluation.contenders import (
    CONTENDERS,
    Contender,
    HearthContender,
    RulesContender,
    available_contenders,
)
from agent.evaluation.continuous import ContinuousResult, evaluate_home
from agent.evaluation.continuous_report import markdown, summary
from agent.evaluation.fixed_rules import TECHNICIAN, RuleSettings
from agent.evaluation.parallel import each_home
from agent.sources.recordings import ReadReport, read_recording


@dataclass(frozen=True)
class HearthPoint:
    """What one operating point changes from the household's YAML (None: as configured)."""

    inactivity_once: float | None = None  # inactivity's once_in_days
    doors_once: float | None = None  # night_exit's and not_returned's
    spread: float | None = None  # a missed morning's spread factor
    digests: float | None = None  # false changes a fortnight the digest may name
    long_lie: str | None = None


HEARTH_POINTS: dict[str, HearthPoint] = {
    "looser (once in 3 and 10 days)": HearthPoint(3.0, 10.0, 2.0, 3.0),
    "defaults": HearthPoint(),
    "inactivity once in 30 days": HearthPoint(30.0),
    "stricter (once in 90 days)": HearthPoint(90.0, 90.0, 4.0, 1 / 3),
    "strictest (once in 300 days)": HearthPoint(300.0, 300.0, 5.0, 0.1),
    "long lie 85 min": HearthPoint(long_lie="85min"),
    "long lie 100 min": HearthPoint(long_lie="100min"),
    "long lie 3 h": HearthPoint(long_lie="3h"),
    "no long-lie limit": HearthPoint(long_lie="14h"),
}
# (still for, morning signal by, as local minutes).
FIXED_POINTS = {
    "2 h, 09:00": (2.0, 9 * 60),
    "3 h, 09:30": (3.0, 9.5 * 60),
    "defaults": (4.0, 10 * 60),
    "6 h, 11:00": (6.0, 11 * 60),
    "8 h, 12:00": (8.0, 12 * 60),
}
TECHNICIAN_POINTS = {
    "2 h, 10:00": (2.0, 10 * 60),
    "defaults": (3.0, 11 * 60),
    "4 h, 11:30": (4.0, 11.5 * 60),
    "6 h, 12:00": (6.0, 12 * 60),
}
DEFAULT = "defaults"


def scaled_config(text: str, point: HearthPoint) -> str:
    """The household's YAML with this point's budgets."""
    doc: dict[str, Any] = yaml.safe_load(text)
    det = doc.setdefault("detectors", {}) or {}
    doc["detectors"] = det

    def put(detector: str, key: str, value: object) -> None:
        if value is not None:
            det[detector] = {**(det.get(detector) or {}), key: value}

    put("inactivity", "once_in_days", point.inactivity_once)
    put("night_exit", "once_in_days", point.doors_once)
    put("not_returned", "once_in_days", point.doors_once)
    put("missed_morning", "spread_factor", point.spread)
    put("digest", "false_per_fortnight", None if point.digests is None else round(point.digests, 4))
    put("inactivity", "long_lie", point.long_lie)
    return yaml.safe_dump(doc, sort_keys=False)


def contenders_for(text: str, with_peers: bool) -> dict[str, Callable[[HearthConfig], Contender]]:
    """Every operating point, by name ("hearth defaults", "fixed_rules 3 h, 09:30"...)."""
    out: dict[str, Callable[[HearthConfig], Contender]] = {}
    for label, point in HEARTH_POINTS.items():
        scaled = scaled_config(text, point)
        cfg = load_config_text(scaled, f"hearth {label}")
        out[f"hearth {label}"] = lambda _cfg, cfg=cfg: HearthContender(cfg)  # type: ignore[misc]
    if not with_peers:
        return out
    for name, base, points in (
        ("fixed_rules", RuleSettings(), FIXED_POINTS),
        ("technician_rules", TECHNICIAN, TECHNICIAN_POINTS),
    ):
        for label, (hours, morning) in points.items():
            rules = replace(base, quiet_limit=timedelta(hours=hours), morning_by_min=morning)
            out[f"{name} {label}"] = lambda cfg, n=name, r=rules: RulesContender(cfg, r, n)  # type: ignore[misc]
    if "half_space_trees" in available_contenders():
        out[f"half_space_trees {DEFAULT}"] = CONTENDERS["half_space_trees"]
    return out


@dataclass(frozen=True)
class _OneHome:
    """One home's continuous evaluation, as a picklable callable for ``each_home``."""

    text: str
    fmt: str
    with_peers: bool

    def __call__(self, path: Path) -> ContinuousResult:
        cfg = load_config_text(self.text, "eval config")
        events = read_recording(f"{self.fmt}:{path}", cfg, ReadReport())
        return evaluate_home(path.stem, events, cfg, contenders_for(self.text, self.with_peers))


def run_continuous(
    config_text: str,
    homes: list[Path],
    fmt: str,
    out: Path | None,
    command: str,
    jobs: int = 1,
    with_peers: bool = True,
) -> list[dict[str, Any]]:
    """Every home (``jobs`` at a time), summed up per operating point; tables to ``out``."""
    results = each_home(_OneHome(config_text, fmt, with_peers), homes, jobs)
    names = [n for r in results[:1] for n in r.false_alerts]
    summaries = [summary(results, n, n.split(" ", 1)[1]) for n in names]
    for s in summaries:
        s["contender"] = s["contender"].split(" ", 1)[0]
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "eval.md").write_text(markdown(summaries, DEFAULT, command))
        (out / "eval.json").write_text(
            json.dumps(
                {
                    "points": summaries,
                    "homes": [r.home for r in results],
                    "outcomes": [asdict(o) for r in results for o in r.outcomes],
                },
                indent=1,
            )
        )
    return summaries
