"""What fewer false alerts cost in recall: Hearth's operating points on the TIHM homes.

Issue 3 asks for recall >= 0.95 (falls, night exits, missed mornings) at <= 0.5 false alerts
per household-week. One ``hearth eval`` shows one operating point; this runs the same
evaluation (Hearth only, same homes, same injections) at several, from looser to much stricter
than the defaults, and writes the curve to ``docs/tradeoff.md`` and ``docs/tradeoff.json``, so
the team can see where each target is met and what the other one then costs.

Each point makes every budget stricter (or looser) by one factor ``k``: the urgent detectors'
``once_in_days`` (30 by default) times ``k``, the digest's ``false_per_fortnight`` (1) divided
by ``k``, and a missed morning's ``spread_factor`` (3 robust spreads; it has no budget in days)
one spread further for each threefold step. ``POINTS`` holds the values.

Run: python scripts/tradeoff.py   (about 6 min in all here, 2 cores, two points at a time)
"""

from __future__ import annotations

import bisect
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.cli.evaluate import DAYS_PER_KIND  # noqa: E402
from agent.config import (  # noqa: E402
    household_of,
    load_config,
    load_config_text,
)
from agent.evaluation import run_eval  # noqa: E402
from agent.evaluation.injection import (  # noqa: E402
    FALL_FROM_MIN,
    FALL_HOURS,
    FALL_TO_MIN,
    MISSED_MORNING_FROM_MIN,
    MISSED_MORNING_UNTIL_MIN,
    NIGHT_EXIT_FROM_MIN,
    NIGHT_EXIT_UNTIL_MIN,
)
from agent.evaluation.summary import (  # noqa: E402
    TARGET_ANOMALIES,
    TARGET_FALSE_PER_WEEK,
    TARGET_RECALL,
)
from agent.sources.recordings import ReadReport, read_recording  # noqa: E402
from models.local_time import local_date, local_instant, minutes_since_midnight  # noqa: E402

BASE = ROOT / "config" / "tihm-home.yaml"
DATA = ROOT.parent / "shared" / "datasets" / "tihm-dev" / "activity"
SHOWN = ("fall", "missed_morning", "night_exit", "not_returned")


# (urgent once_in_days, missed-morning spread_factor, digests a fortnight): k = 1/3 ... 30.
DEFAULT: tuple[float, float, float] = (30, 3.0, 1.0)
POINTS: list[tuple[float, float, float]] = [
    (10, 2.0, 3.0),
    DEFAULT,
    (90, 4.0, 1 / 3),
    (300, 5.0, 0.1),
    (900, 6.0, 1 / 30),
]


def config_text(once_in_days: float, spread: float, digests: float) -> str:
    doc: dict[str, Any] = yaml.safe_load(BASE.read_text())
    det = doc.setdefault("detectors", {})

    def section(name: str) -> dict[str, Any]:
        if det.get(name) is None:  # absent, or a bare "name:" line
            det[name] = {}
        found: dict[str, Any] = det[name]
        return found

    for name in ("inactivity", "night_exit", "not_returned"):
        section(name)["once_in_days"] = once_in_days
    section("missed_morning")["spread_factor"] = spread
    section("digest")["false_per_fortnight"] = round(digests, 4)
    return yaml.safe_dump(doc, sort_keys=False)


def one_point(point: tuple[float, float, float]) -> dict[str, Any]:
    once, spread, digests = point
    cfg = load_config_text(config_text(once, spread, digests), f"{BASE.name} at {point}")
    d = cfg.detectors.settings_of
    got = (
        d("inactivity").once_in_days,
        d("night_exit").once_in_days,
        d("not_returned").once_in_days,
        d("missed_morning").spread_factor,
        round(d("digest").false_per_fortnight, 4),
    )
    if got != (once, once, once, spread, round(digests, 4)):
        # A key moved in the YAML would otherwise leave its default quietly in place.
        raise SystemExit(f"tradeoff: the config for {point} came out as {got}")
    t0 = time.perf_counter()
    rows, extra = run_eval(cfg, sorted(DATA.glob("*.csv")), ["hearth"], DAYS_PER_KIND, None)
    fa = extra["false_alerts"]["hearth"]
    return {
        "once_in_days": once,
        "spread_factor": spread,
        "digests_per_fortnight": round(digests, 4),
        "recall": {r.anomaly: r.recall for r in rows if r.anomaly in SHOWN},
        "median_latency_min": {r.anomaly: r.median_latency_min for r in rows if r.anomaly in SHOWN},
        "false_per_household_week": fa["per_household_week"],
        "targeted_per_household_week": fa["targeted_per_household_week"],
        "false_alerts": fa["false_alerts"],
        "in_a_data_gap": fa["in_a_data_gap"],
        "by_type": fa["by_type"],
        "household_weeks": extra["household_weeks"],
        "homes": extra["homes"],
        "seconds": round(time.perf_counter() - t0),
    }


def waiting_out_the_window() -> dict[str, Any]:
    """The ordinary stretches that look exactly like an injected anomaly until its window ends.

    A fall is written in as no event for ``FALL_HOURS`` after an indoor event between 09:00 and
    18:00; a missed morning as nothing from 05:00 (the first event after it) until 11:30; a
    night exit as an outside door between 03:00 and 04:00 and nothing indoors until 07:30
    (``agent.evaluation.injection.inject``). Had one been written in where an ordinary stretch
    of the same
    shape lies, a detector would have seen the same events until its window ended; so one that
    catches every injected anomaly, however late, also alerts on each such stretch. They are
    counted on the ordinary days after learning, apart from those in a day or more with no data
    (as ``hearth eval`` counts them).
    """
    cfg = load_config(BASE)
    household = household_of(cfg)
    tz, doors = household.tz, household.outside_doors()
    found = {"fall": 0, "missed_morning": 0, "night_exit": 0, "in_a_data_gap": 0}
    days = 0
    day_long = 24 * 3600
    for path in sorted(DATA.glob("*.csv")):
        acts = sorted(
            (e for e in read_recording(f"tihm:{path}", cfg, ReadReport()) if e.is_activity),
            key=lambda e: e.at,
        )
        times = [e.at for e in acts]
        on = sorted({local_date(t, tz) for t in times})
        if not on:
            continue
        first_eval = on[0] + timedelta(days=cfg.learning.days)
        days += sum(1 for d in on if d >= first_eval)
        for a, b in pairwise(acts):
            quiet = (b.at - a.at).total_seconds()
            minute = minutes_since_midnight(a.at, tz)
            if (
                local_date(a.at, tz) >= first_eval
                and a.sensor not in doors
                and FALL_FROM_MIN <= minute < FALL_TO_MIN
                and quiet > FALL_HOURS * 3600
            ):
                found["in_a_data_gap" if quiet >= day_long else "fall"] += 1
        for d in (d for d in on if d >= first_eval):
            start = local_instant(d, MISSED_MORNING_FROM_MIN, tz)
            end = local_instant(d, MISSED_MORNING_UNTIL_MIN, tz)
            i = bisect.bisect_left(times, start)
            if i < len(acts) and acts[i].at >= end:
                before = acts[i - 1].at if i > 0 else None
                gap = before is None or (acts[i].at - before).total_seconds() >= day_long
                found["in_a_data_gap" if gap else "missed_morning"] += 1
            night = range(
                bisect.bisect_left(times, local_instant(d, NIGHT_EXIT_FROM_MIN, tz)),
                bisect.bisect_left(times, local_instant(d, NIGHT_EXIT_FROM_MIN + 60, tz)),
            )
            door = next((j for j in night if acts[j].sensor in doors), None)
            if door is not None:
                indoors = next((e for e in acts[door + 1 :] if e.sensor not in doors), None)
                if indoors is None or indoors.at >= local_instant(d, NIGHT_EXIT_UNTIL_MIN, tz):
                    found["night_exit"] += 1
    weeks = days / 7
    shapes = found["fall"] + found["missed_morning"] + found["night_exit"]
    return found | {
        "household_weeks": round(weeks, 1),
        "per_household_week": round(shapes / weeks, 2),
    }


def markdown(points: list[dict[str, Any]], window: dict[str, Any]) -> str:
    weeks, homes = points[0]["household_weeks"], points[0]["homes"]
    lines = [
        "# What fewer false alerts cost in recall (TIHM development homes)",
        "",
        "Generated by `python scripts/tradeoff.py` from the repository root: `hearth eval`'s",
        f"method ({homes} homes, {weeks} household-weeks after learning,"
        " the same injected anomalies"
        " at every point),",
        "for Hearth alone, at operating points that scale every false-alert budget together: the",
        "urgent detectors' `once_in_days` (inactivity, night_exit, not_returned), a missed",
        "morning's `spread_factor`, and the digest's `false_per_fortnight`. The second row is",
        "Hearth's defaults (`docs/eval.md`).",
        "",
        f"Issue 3's targets: recall >= {TARGET_RECALL} for "
        + ", ".join(a.replace("_", " ") + "s" for a in TARGET_ANOMALIES)
        + f", at <= {TARGET_FALSE_PER_WEEK} false alerts per household-week.",
        "",
        "| urgent once in (days) | missed morning at (spreads) | digests a fortnight"
        " | fall | missed morning | night exit | not returned"
        " | carer false alerts / household-week | of which the 4 urgent"
        " | outside data gaps | by type | targets met |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for p in points:
        rec = p["recall"]
        met = all(rec.get(a, 0) >= TARGET_RECALL for a in TARGET_ANOMALIES)
        low = p["false_per_household_week"] <= TARGET_FALSE_PER_WEEK
        verdict = {
            (True, True): "both",
            (True, False): "recall only",
            (False, True): "false alerts only",
            (False, False): "neither",
        }[(met, low)]
        cells = [
            f"{p['once_in_days']:g}",
            f"{p['spread_factor']:g}",
            f"{p['digests_per_fortnight']:.3g}",
            *(
                f"{rec[a]:.3f} ({p['median_latency_min'][a]:g} min)"
                if rec.get(a) is not None and p["median_latency_min"].get(a) is not None
                else f"{rec.get(a, 0):.3f}"
                for a in SHOWN
            ),
            f"{p['false_per_household_week']:.2f} ({p['false_alerts']})",
            f"{p['targeted_per_household_week']:.2f}",
            f"{(p['false_alerts'] - p['in_a_data_gap']) / weeks:.2f}",
            ", ".join(f"{t} {n}" for t, n in p["by_type"].items()),
            verdict,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        "Recall is followed by the median minutes from the anomaly's start to its alert."
        " *Of which the 4 urgent* counts inactivity, missed_morning, night_exit and"
        " not_returned alerts (the table's second reading of the target). *Outside data gaps*"
        " leaves out the alerts raised while the recording had stopped for a day or more"
        " (sensors or hub off); live, Hearth tells those apart where its sensors also report"
        " on their own (battery, link quality), as Zigbee sensors do, which TIHM's recording"
        " does not show."
    )
    default_fall = next(
        p["median_latency_min"]["fall"] for p in points if p["once_in_days"] == DEFAULT[0]
    )
    lines += [
        "",
        "The trade-off is with how early an alert comes, as much as with recall. A detector that"
        " caught every injected anomaly only at the very end of its window (8 hours into a fall,"
        " 11:30 on a missed morning, 07:30 after a night exit) would also alert on each"
        " ordinary stretch that looks the same until then: on these homes' ordinary days after"
        f" learning there are {window['fall']} such days, {window['missed_morning']}"
        f" mornings and {window['night_exit']} nights, {window['per_household_week']:.2f} a"
        f" household-week (and {window['in_a_data_gap']} more, counted once a day, inside the"
        " recording's gaps). So the shapes of these three anomalies force few false alerts by"
        " themselves; those in the table come from alerting well before a window ends (at its"
        f" defaults Hearth raises a fall after a median {default_fall:.0f} minutes,"
        " not 8 hours), and"
        " from the"
        " alerts for other things (not_returned, night restlessness, the digest).",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    out = ROOT / "docs"
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=2) as pool:
        points = list(pool.map(one_point, POINTS))
    window = waiting_out_the_window()
    (out / "tradeoff.json").write_text(
        json.dumps({"points": points, "waiting_out_the_window": window}, indent=1) + "\n"
    )
    text = markdown(points, window)
    (out / "tradeoff.md").write_text(text)
    print(text)
    print(f"{len(points)} points in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
