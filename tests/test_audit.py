"""``hearth audit`` after a live run on real brokers: every message the care team's broker
received from the hub (its statuses and the alert) is in the audit, as sent, with whom it was
for; in words and as JSON."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import yaml

from agent.clock import ManualClock
from agent.config import load_config
from agent.runtime import Agent
from tests.conftest import Mosquitto, hearth
from tests.test_live_mqtt import (
    Upstream,
    let_the_afternoon_pass,
    live_doc,
    local,
    ordinary_morning_then_still,
    run_and_listen,
    until,
)


def test_the_audit_holds_everything_that_left_and_for_whom(
    broker: Mosquitto, upstream_broker: Mosquitto, tmp_path: Path
) -> None:
    doc = live_doc(broker, upstream_broker, tmp_path / "home.sqlite")
    # The daughter on a topic of her own, told the summary only.
    doc["alerts"]["recipients"].append(
        {"name": "Daughter (Sarah)", "severities": ["urgent"], "topic": "hearth/live-home/to/sarah"}
    )
    path = tmp_path / "home.yaml"
    path.write_text(yaml.safe_dump(doc))
    cfg = load_config(path)
    clock = ManualClock(local(7, 30))
    received = Upstream()

    async def body(agent: Agent) -> None:
        await ordinary_morning_then_still(broker, agent, clock)
        await let_the_afternoon_pass(agent, clock)
        await until(lambda: len(received.on("hearth/live-home/alerts/")) == 1, "the alert")
        await until(lambda: len(received.on("hearth/live-home/to/sarah/")) == 1, "hers")

    asyncio.run(run_and_listen(cfg, upstream_broker, clock, body, received))
    # The clock of the run is 2025's: far enough back to hold it.
    run = hearth("audit", "--config", str(path), "--since", "3650d", "--json")
    assert run.returncode == 0, run.stderr
    sent = json.loads(run.stdout)["sent"]
    got = [(t, p.decode()) for t, p, _ in received.messages]
    audited = [
        (m["topic"], m["payload"] if m["kind"] == "status" else json.dumps(m["payload"]))
        for m in sent
    ]
    # Statuses as they were sent, the alert as it was sent (compared as JSON).
    assert [m for m in audited if m[0].endswith("/status")] == [
        g for g in got if g[0].endswith("/status")
    ]
    alerts = [json.loads(p) for t, p in got if "/alerts/" in t]
    assert [m["payload"] for m in sent if m["kind"] == "alert"] == alerts
    assert [m["kind"] for m in sent].count("status") >= 2  # online, then offline at the stop
    # One message for each topic its recipients read it on, each naming only them.
    assert sorted(a["recipients"] for a in alerts) == [["Daughter (Sarah)"], ["Home-care team"]]
    assert ["evidence" in a for a in alerts] == [
        a["recipients"] != ["Daughter (Sarah)"] for a in alerts
    ]

    said = hearth("audit", "--config", str(path), "--since", "3650d").stdout.splitlines()
    assert said[0].startswith(
        f"What left this hub for the care team's broker ({upstream_broker.host}) in the last"
        f" 3650 days: {len(sent)} messages"
    )
    for alert in alerts:
        to = ", ".join(alert["recipients"])
        assert any(line.endswith(f"urgent alert to {to}: {alert['summary']}") for line in said)
    assert any(line.endswith("Hearth's status: online") for line in said)
    # Nothing in the last week (the run's clock is 2025's): says so.
    recent = hearth("audit", "--config", str(path)).stdout.splitlines()
    assert recent[1:] == ["nothing"]
