"""``hearth listen``: the care team's side, for a carer at a laptop and as the reference for a
care team's own system. It reads the alerts on their broker as they arrive, in words, each
numbered and each end joined to its alert, and the hubs' status. With ``--as NAME``, a line
typed as ``<number> <answer> [note]`` answers that alert (``models.carers_answers``).
``hearth answer`` gives one answer and exits.

The broker is given as ``--host``/``--port`` or by ``--broker FILE``, a YAML mapping of the
same settings as the hub's ``upstream:`` (TLS, ``password_file``, ``topic_prefix``).

>>> seen = Seen(ZoneInfo("Europe/London"))
>>> doc = {"id": "a1", "household": "h1", "type": "inactivity", "severity": "urgent",
...        "phase": "raised", "ends": None, "detected_at": "2026-03-28T15:28:00+00:00",
...        "title": "Margaret's home: No movement since 13:38.", "action": "Ring now."}
>>> print("\\n".join(seen.lines("hearth/h1/alerts/inactivity", json.dumps(doc).encode())))
[1] Sat 28 Mar 15:28 GMT  URGENT   Margaret's home: No movement since 13:38.
    Ring now.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from pydantic import ValidationError

from agent.config.brokers import UpstreamConfig
from agent.delivery.fhir import ALERT_ID_SYSTEM, HUB_ID_SYSTEM
from agent.errors import BrokerRefused, BrokerUnavailable, HearthError
from models.carers_answers import ANSWERS, SAID, answers_topic


def _broker_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--broker", help="a YAML file of the broker's settings, as upstream: is")
    p.add_argument("--host", help="the care team's broker (default: the file's, else localhost)")
    p.add_argument("--port", type=int, help="its port (default: the file's, else 1883)")
    p.add_argument("--as", dest="who", help="your name, as the household's YAML gives it")


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("listen", help="show alerts as they arrive upstream, and answer them")
    _broker_options(p)
    p.add_argument("--household", default="+", help="only this household (default: every one)")
    p.add_argument(
        "--topic",
        action="append",
        default=[],
        help="also a recipient's own topic (e.g. hearth/h1/to/sarah); may be given again",
    )
    p.add_argument("--timezone", help="show times in this zone (default: this computer's)")
    p.set_defaults(func=run_listen)
    a = sub.add_parser("answer", help="answer one alert (as hearth listen does), then exit")
    _broker_options(a)
    a.add_argument("household", help="the household's id, as its alerts carry it")
    a.add_argument("alert", help="the alert's id")
    a.add_argument("answer", choices=ANSWERS)
    a.add_argument("--note", default="", help="a few words for the record")
    a.add_argument("--for", dest="for_", default="", help="for a snooze: how long (e.g. 2h)")
    a.set_defaults(func=run_answer)


def broker_of(args: argparse.Namespace) -> UpstreamConfig:
    doc: dict[str, Any] = {}
    if args.broker:
        try:
            loaded = yaml.safe_load(Path(args.broker).read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise HearthError(f"{args.broker}: not YAML: {exc}") from None
        if not isinstance(loaded, dict):
            raise HearthError(f"{args.broker}: not a mapping of the broker's settings")
        doc = loaded
    doc |= {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    try:
        return UpstreamConfig.model_validate(doc)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'broker'}: {e['msg']}" for e in exc.errors()
        )
        raise HearthError(f"the broker's settings: {problems}") from None


@dataclass
class Seen:
    """The alerts shown so far, numbered, so that a carer can answer one and an end can say
    which alert it ends."""

    tz: tzinfo | None = None
    shown: list[dict[str, Any]] = field(default_factory=list)
    numbers: dict[str, int] = field(default_factory=dict)

    def lines(self, topic: str, payload: bytes) -> list[str]:
        if topic.endswith("/status"):
            household = topic.split("/")[-2]
            return [f"    hub of {household}: {payload.decode('utf-8', 'replace')}"]
        try:
            doc = _as_alert(json.loads(payload))
            key = str(doc["id"])
            at = datetime.fromisoformat(str(doc["detected_at"])).astimezone(self.tz)
            said = "ENDED" if doc["phase"] == "ended" else str(doc["severity"]).upper()
            head = f"[{len(self.shown) + 1}] {at:%a %d %b %H:%M %Z}".rstrip()
            head += f"  {said:8} {doc['title']}"
            what = f"    {doc['action']}"
        except (ValueError, KeyError, TypeError, IndexError, AttributeError, StopIteration):
            return [f"    (not an alert Hearth wrote, on {topic})"]
        if key in self.numbers:
            return []  # a repeat (QoS 1 may deliver twice): shown once
        self.shown.append(doc)
        self.numbers[key] = len(self.shown)
        out = [head]
        ends = doc.get("ends")
        if isinstance(ends, str) and ends in self.numbers:
            out.append(f"    ends [{self.numbers[ends]}]")
        if doc.get("context"):
            out.append(f"    {doc['context']}")
        out.append(what)
        return out

    def alert(self, number: int) -> dict[str, Any]:
        if not 1 <= number <= len(self.shown):
            raise HearthError(f"no alert [{number}] shown yet")
        return self.shown[number - 1]


def _as_alert(doc: Any) -> dict[str, Any]:
    """Hearth's JSON as it is, or its fields from a FHIR Bundle (``agent.delivery.fhir``)."""
    if not isinstance(doc, dict):
        raise TypeError("not an object")
    if doc.get("resourceType") != "Bundle":
        return dict(doc)
    by_kind = {e["resource"]["resourceType"]: e["resource"] for e in doc["entry"]}
    flag, told = by_kind["Flag"], by_kind["Communication"]
    words = [p["contentString"] for p in told["payload"]]

    def ident(r: dict[str, Any], system: str) -> str:
        return str(next(i["value"] for i in r["identifier"] if i["system"] == system))

    household = ident(by_kind["Device"], HUB_ID_SYSTEM)
    ended = flag["status"] == "inactive"
    severity = {"asap": "urgent", "urgent": "warning"}.get(told.get("priority"), "info")
    return {
        "id": ident(told, ALERT_ID_SYSTEM),
        "household": household,
        "type": flag["code"]["coding"][0]["code"],
        "severity": severity,
        "phase": "ended" if ended else "raised",
        "ends": ident(flag, ALERT_ID_SYSTEM) if ended else None,
        "detected_at": told["sent"],
        "title": words[0],
        "context": words[2] if len(words) == 4 else None,
        "action": words[-1],
    }


def answer_payload(answer: str, who: str, note: str, for_: str = "") -> bytes:
    doc = {"answer": answer, "by": who, "note": note} | ({"for": for_} if for_ else {})
    return json.dumps(doc, ensure_ascii=False).encode()


async def _publish_answer(
    client: Any,
    prefix: str,
    household: str,
    alert_id: str,
    answer: str,
    who: str,
    note: str,
    for_: str = "",
) -> None:
    topic = answers_topic(prefix, household, alert_id)
    await client.publish(topic, answer_payload(answer, who, note, for_), qos=1, timeout=30)


def run_answer(args: argparse.Namespace) -> int:
    from agent.sources.mqtt import session

    if not args.who:
        raise HearthError("--as: whose answer it is, as the household's YAML names them")
    up = broker_of(args)

    async def go() -> None:
        async with session(up, f"hearth-answer-{secrets.token_hex(4)}") as client:
            await _publish_answer(client, up.topic_prefix, args.household, args.alert.lower(),
                                  args.answer, args.who, args.note, args.for_)  # fmt: skip

    _connected(go)
    print(f"answered {args.alert}: {SAID[args.answer]}")
    return 0


def _connected(go: Any) -> None:
    try:
        asyncio.run(go())
    except (BrokerRefused, BrokerUnavailable) as exc:
        raise HearthError(str(exc)) from None


def run_listen(args: argparse.Namespace) -> int:
    from agent.sources.mqtt import as_bytes, session

    up = broker_of(args)
    seen = Seen(ZoneInfo(args.timezone) if args.timezone else None)
    topics = [f"{up.topic_prefix}/{args.household}/alerts/#",
              f"{up.topic_prefix}/{args.household}/status",
              *(f"{t.rstrip('/')}/alerts/#" for t in args.topic)]  # fmt: skip

    async def answers(client: Any) -> None:
        while line := await asyncio.to_thread(sys.stdin.readline):
            try:
                said = await _answer_line(client, up.topic_prefix, seen, args.who, line)
            except HearthError as exc:
                said = f"not answered: {exc}"
            print(said, flush=True)

    async def go() -> None:
        # Each its own client: two carers listening must not knock each other off the broker.
        async with session(up, f"hearth-listen-{secrets.token_hex(4)}") as client:
            for t in topics:
                await client.subscribe(t, qos=1)
            print(f"listening on {up.host}:{up.port} to {', '.join(topics)}", flush=True)
            typing = asyncio.create_task(answers(client)) if args.who else None
            async for message in client.messages:
                for line in seen.lines(str(message.topic), as_bytes(message.payload)):
                    print(line, flush=True)
            if typing is not None:
                typing.cancel()

    _connected(go)
    return 0


async def _answer_line(client: Any, prefix: str, seen: Seen, who: str, line: str) -> str:
    """``<number> <answer> [note]``, as typed; ``<number> snooze <how long> [note]``."""
    parts = line.split(maxsplit=2)
    if not parts:
        return ""
    if len(parts) < 2 or not parts[0].strip("[]").isdigit() or parts[1] not in ANSWERS:
        raise HearthError(f"type <number> <answer> [note]; the answers: {', '.join(ANSWERS)}")
    alert = seen.alert(int(parts[0].strip("[]")))
    rest = parts[2].strip() if len(parts) > 2 else ""
    for_, note = rest.partition(" ")[::2] if parts[1] == "snooze" else ("", rest)
    if parts[1] == "snooze" and not for_:
        raise HearthError("type <number> snooze <how long, e.g. 2h> [note]")
    await _publish_answer(client, prefix, alert["household"], alert.get("ends") or alert["id"],
                          parts[1], who, note.strip(), for_)  # fmt: skip
    return f"answered [{parts[0].strip('[]')}]: {SAID[parts[1]]}"
