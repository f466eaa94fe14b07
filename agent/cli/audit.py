"""``hearth audit``: what left this hub for the care team, and to whom, in words the resident or
their family can read (``--json`` for a care record): each alert as it was sent, what the
carers answered to it, and each status Hearth gave of itself, from the store's audit
(recorded as the broker acknowledged each one; kept a year longer than the events), and each
alert not sent because no recipient agreed to be told of it, or none still did when it could
leave. A message to a recipient's
own broker says which."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from agent.config import HearthConfig, load_config
from agent.config.durations import parse_duration
from agent.delivery.rendering import brokers
from agent.errors import HearthError
from agent.store_schema import WITHHELD
from models.carers_answers import SAID
from models.detectors.wording import duration_text


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("audit", help="what left this hub for the care team, and to whom")
    p.add_argument("--config", required=True, help="the household's YAML file")
    p.add_argument("--since", default="7d", help="how far back, as a duration (default 7d)")
    p.add_argument("--json", action="store_true", help="one JSON object, for a care record")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    now = datetime.now(UTC)
    try:
        back = parse_duration(args.since)
        since = now - back  # past the year 1: OverflowError
    except (ValueError, OverflowError) as exc:
        raise HearthError(f"--since {args.since}: {exc}") from None
    sent = read_audit(cfg, since)
    if args.json:
        doc = {"household": cfg.household.id, "since": since.isoformat(), "sent": sent}
        print(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        print("\n".join(words(cfg, sent, back)))
    return 0


def read_audit(cfg: HearthConfig, since: datetime) -> list[dict[str, Any]]:
    """Each message that left since ``since``, oldest first: when, where, what kind, and the
    payload as sent (an alert's JSON, parsed; a status, as its text)."""
    from agent.cli.status import read_only

    with read_only(cfg) as db:
        if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'audit'").fetchone():
            return []  # a store from before the audit: nothing recorded yet
        cols = {r[0] for r in db.execute("SELECT name FROM pragma_table_info('audit')")}
        broker = "broker" if "broker" in cols else "''"  # a store from before brokers of their own
        rows = db.execute(
            f"SELECT at, topic, payload, {broker} FROM audit WHERE at >= ? ORDER BY at, rowid",
            (since.timestamp(),),
        ).fetchall()
    hosts = {k: f"{up.host}:{up.port}" for k, up in brokers(cfg).items()}
    out = []
    for at, topic, payload, key in rows:
        kind = "status" if topic.endswith("/status") else "alert"
        kind = "answer" if "/answers/" in topic else kind
        kind = "check-in" if topic.endswith("/check_in") else kind
        kind = "not sent" if topic == WITHHELD else kind
        body: Any = payload
        if kind != "status":
            try:
                body = json.loads(payload)
            except json.JSONDecodeError:
                kind = "unreadable"
        iso = datetime.fromtimestamp(at, UTC).isoformat()
        where = hosts.get(key, f"{key}'s own broker") if kind != "not sent" else None
        out.append({"at": iso, "broker": where, "topic": topic, "kind": kind, "payload": body})
    return out


def words(cfg: HearthConfig, sent: list[dict[str, Any]], back: timedelta) -> list[str]:
    """The audit as lines a resident reads: when, to whom, what."""
    tz = ZoneInfo(cfg.household.timezone)
    up = cfg.upstream
    where = f"the care team's broker ({up.host})" if up else "no care team (no upstream)"
    main = f"{up.host}:{up.port}" if up else None
    if any(r.upstream for r in cfg.alerts.recipients):
        where += " and the recipients' own brokers"
    since = duration_text(back.total_seconds())
    head = f"What left this hub for {where} in the last {since}: {len(sent)} messages"
    lines = [head]
    for m in sent:
        when = f"{datetime.fromisoformat(m['at']).astimezone(tz):%a %d %b %H:%M}"
        p = m["payload"]
        if m["kind"] == "not sent" and isinstance(p, dict):
            why = (
                "its recipients no longer agree to it (consent changed while it waited)"
                if "queued_for" in p
                else "no recipient agreed to be told of it"
            )
            lines.append(f"{when}  NOT SENT ({p.get('severity')} {p.get('type')}): {why}:"
                         f" {p.get('summary', '')}")  # fmt: skip
        elif m["kind"] == "answer" and isinstance(p, dict):
            of = p.get("detected_at")
            at = f" of {datetime.fromisoformat(of).astimezone(tz):%a %d %b %H:%M}" if of else ""
            note = f' ("{p["note"]}")' if p.get("note") else ""
            lines.append(f"{when}  answer from {p.get('by')} to the {p.get('severity')}"
                         f" {p.get('type')} alert{at}: {SAID.get(str(p.get('answer')), '?')}"
                         f"{note}")  # fmt: skip
        elif m["kind"] == "check-in" and isinstance(p, dict):
            how = f" ({p['how']})" if p.get("how") else ""
            lines.append(f"{when}  check-in with the resident about {p.get('type')} (on the hub):"
                         f" {p.get('check_in')}{how}")  # fmt: skip
        elif m["kind"] == "alert" and isinstance(p, dict):
            to = ", ".join(p.get("recipients") or []) or "nobody named"
            own = "" if m["broker"] == main else f" (at {m['broker']})"
            lines.append(f"{when}  {p.get('severity', '?')} alert to {to}{own}:"
                         f" {p.get('summary', '')}")  # fmt: skip
        else:
            own = "" if m["broker"] == main else f" (at {m['broker']})"
            lines.append(f"{when}  Hearth's status{own}: {p}")
    if not sent:
        lines.append("nothing")
    return lines
