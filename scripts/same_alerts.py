"""The alerts of the 19 TIHM dev homes and 120 simulated days of the demo household, one JSON
line each, for telling whether a change that should not change detection (a faster hot path)
changed it: run it on both checkouts and compare the files.

Run: python scripts/same_alerts.py OUT.jsonl   (then: cmp before.jsonl after.jsonl)
"""

from __future__ import annotations

import json
import sys
import time
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.config import load_config  # noqa: E402
from agent.replay import replay  # noqa: E402
from agent.simulation.persona import Persona  # noqa: E402
from agent.sources.recordings import ReadReport, read_recording  # noqa: E402


def main(out: Path) -> None:
    started = time.perf_counter()
    lines = []
    tihm = load_config(ROOT / "config" / "tihm-home.yaml")
    for home in sorted(
        (ROOT.parent / "shared" / "datasets" / "tihm-dev" / "activity").glob("*.csv")
    ):
        result = replay(tihm, read_recording(f"tihm:{home}", tihm, ReadReport()))
        lines += [json.dumps(a.to_json(), sort_keys=True) for a in result.alerts]
    demo = load_config(ROOT / "config" / "demo-home.yaml")
    days = Persona(date(2025, 1, 6), ZoneInfo("Europe/London"), 1).events(120)
    lines += [json.dumps(a.to_json(), sort_keys=True) for a in replay(demo, list(days)).alerts]
    out.write_text("\n".join(lines) + "\n")
    print(f"{len(lines)} alerts in {time.perf_counter() - started:.0f} s: {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
