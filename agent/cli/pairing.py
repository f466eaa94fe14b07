"""``hearth pair``: listen to the home broker for a while and list the devices heard that the
YAML does not read yet, each with a stanza to paste into its ``sensors:`` (Zigbee2MQTT's
``bridge/devices`` and each device's own topic, Tasmota, Shelly and ESPHome)."""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import asdict

from agent.cli.arguments import seconds
from agent.config import HearthConfig, load_config
from agent.errors import BrokerRefused, BrokerUnavailable, HearthError


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pr = sub.add_parser(
        "pair", help="list devices on the home broker not yet in the YAML, with a stanza each"
    )
    pr.add_argument("--config", required=True, help="the household's YAML file")
    pr.add_argument("--seconds", type=seconds, default=30.0, help="how long to listen (default 30)")
    pr.add_argument("--json", action="store_true", help="one JSON object")
    pr.set_defaults(func=run)


async def listen(cfg: HearthConfig, for_s: float) -> list[tuple[str, bytes]]:
    from agent.sources.mqtt import as_bytes, session

    assert cfg.local_broker is not None
    heard: list[tuple[str, bytes]] = []
    async with session(cfg.local_broker, f"hearth-pair-{cfg.household.id}") as client:
        await client.subscribe("#")
        try:
            async with asyncio.timeout(for_s):
                async for message in client.messages:
                    heard.append((str(message.topic), as_bytes(message.payload)))
        except TimeoutError:
            pass
    return heard


def run(args: argparse.Namespace) -> int:
    from agent.decode.devices import Found, recognise, stanza

    cfg = load_config(args.config)
    broker = cfg.local_broker
    if broker is None:
        raise HearthError("the YAML has no local_broker: pairing listens to the home broker")
    try:
        heard = asyncio.run(listen(cfg, args.seconds))
    except (BrokerUnavailable, BrokerRefused) as exc:
        raise HearthError(
            f"cannot listen to the home broker at {broker.host}:{broker.port} ({exc}):"
            " is it running, and are local_broker's host, port and login right?"
        ) from None
    configured = {s.mqtt.topic for s in cfg.sensors if s.mqtt is not None}
    found: dict[str, Found] = {}
    for topic, payload in heard:
        for f in recognise(topic, payload):
            found.setdefault(f.topic, f)
    new = [f for f in found.values() if f.topic not in configured]
    taken = {s.id for s in cfg.sensors}
    stanzas = [stanza(f, taken) for f in new]
    known = len(found) - len(new)
    if args.json:
        doc = {
            "listened_s": args.seconds,
            "messages": len(heard),
            "configured_already": known,
            "devices": [asdict(f) | {"stanza": s} for f, s in zip(new, stanzas, strict=True)],
        }
        print(json.dumps(doc, ensure_ascii=False))
        return 0
    print(
        f"listened {args.seconds:g} s to {broker.host}:{broker.port}: {len(heard)} messages,"
        f" {len(found)} devices Hearth can read, {known} in the YAML already"
    )
    if new:
        print(f"{len(new)} not in the YAML; under sensors:, add")
    for f, s in zip(new, stanzas, strict=True):
        print(f"# {f.name}: {f.kind}, {f.style} ({f.heard})")
        print(s)
    return 0
