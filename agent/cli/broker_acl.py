"""``hearth acl``: the home broker's access list for this household, from its YAML: the
sensors' publisher writes their topics; Hearth reads exactly the topics its sensors are on, and
its controls, and writes its check-in questions; only the users ``controls.users`` names write
the controls (and read the questions); Home Assistant, if
the resident shows Hearth there, reads what Hearth shows it. A client not named may do nothing
(Mosquitto's ``acl_file``, with ``config/mosquitto/hearth.conf``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from agent.config import HearthConfig, load_config
from agent.decode import Decoder


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("acl", help="write the home broker's access list for this household")
    p.add_argument("--config", required=True, help="the household's YAML file")
    p.add_argument("--output", help="write it here (e.g. /etc/mosquitto/hearth.acl)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    text = acl(load_config(args.config))
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def acl(cfg: HearthConfig) -> str:
    """The access list, one section per broker user.

    >>> from agent.config import load_config_text
    >>> text = "household: {id: h1, timezone: Europe/London}\\nlocal_broker: {host: localhost}"
    >>> text += "\\nsensors: [{id: k, kind: power, room: kitchen, role: kettle,"
    >>> text += " mqtt: {topic: zigbee2mqtt/kettle}}]\\ncontrols: {users: [button]}\\n"
    >>> print(acl(load_config_text(text)).split("\\n\\n", 1)[1])
    user zigbee2mqtt
    topic readwrite zigbee2mqtt/#
    <BLANKLINE>
    user hearth
    topic read zigbee2mqtt/kettle
    topic read zigbee2mqtt/kettle/availability
    topic readwrite hearth/h1/control/#
    topic write hearth/h1/check_in
    <BLANKLINE>
    user button
    topic write hearth/h1/control/#
    topic read hearth/h1/check_in
    <BLANKLINE>
    """
    hh = cfg.household.id
    me = (cfg.local_broker.username if cfg.local_broker else None) or "hearth"
    reads = Decoder(cfg.sensors).topics()  # what the agent subscribes to, exactly
    ha = cfg.home_assistant
    sections = [
        f"# The home broker's access list for household {hh}, written by hearth acl from its"
        " YAML\n# (write it again when the sensors or controls change). A client not named here"
        " may do nothing."
    ]
    styles = {s.mqtt.style for s in cfg.sensors if s.mqtt is not None}
    if "zigbee2mqtt" in styles:
        z = "user zigbee2mqtt\ntopic readwrite zigbee2mqtt/#"
        sections.append(z + (f"\ntopic readwrite {ha.discovery_prefix}/#" if ha else ""))
    if styles - {"zigbee2mqtt"}:
        other = "# Add a user for each other device publishing its sensor topic (Tasmota, Shelly,"
        sections.append(other + " ESPHome),\n# with topic write <its topic>.")
    own = [f"user {me}", *(f"topic read {t}" for t in reads)]
    own.append(f"topic readwrite hearth/{hh}/control/#")
    own.append(f"topic write hearth/{hh}/check_in")
    if ha:
        own += [f"topic readwrite hearth/{hh}/home_assistant/#",
                f"topic readwrite {ha.discovery_prefix}/#"]  # fmt: skip
    sections.append("\n".join(own))
    sections += [
        f"user {u}\ntopic write hearth/{hh}/control/#\ntopic read hearth/{hh}/check_in"
        for u in cfg.controls.users
    ]
    if ha:
        sections.append(
            f"user homeassistant\ntopic read hearth/{hh}/home_assistant/#\n"
            f"topic read {ha.discovery_prefix}/#\ntopic write {ha.discovery_prefix}/status"
        )
    return "\n\n".join(sections) + "\n"
