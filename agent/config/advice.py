"""What ``hearth check-config`` tells a technician about a household file that loads.

Errors: files the file names that cannot be read, so that Hearth would stop at start (a TLS
CA, certificate or key). Warnings: settings that work but leave the resident less safe than the
technician meant: alerts that reach nobody, nobody told of a flat battery, a sensor nothing
reads, alerts sent unencrypted off the hub, a time zone with no summer time.

>>> from agent.config import load_config_text
>>> text = "household: {id: h1, timezone: GMT}\\nsensors: [{id: k, kind: power, room: kitchen,"
>>> text += " role: kettle}]\\n"
>>> found = advice(load_config_text(text, "home.yaml"), "home.yaml", {})
>>> [w.path for w in found.warnings]
['upstream', 'alerts.recipients', 'sensors', 'household.timezone']
>>> print(found.warnings[-1])
home.yaml: household.timezone: 'GMT' has no summer time: a home in the UK is 'Europe/London'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from agent.config.brokers import BrokerConfig, UpstreamConfig, is_loopback
from agent.config.loading import Path_, dotted, line_for
from agent.config.schema import HearthConfig
from agent.config.secrets import SecretProblem, read_secret
from agent.config.tls import TlsProblem, tls_context
from agent.errors import ConfigProblem

# Names of UTC itself: a home set to one of these never changes its clocks.
FIXED_ZONES = frozenset({"GMT", "UTC", "UCT", "Zulu", "Universal", "Greenwich", "GMT0"})


@dataclass
class Advice:
    errors: list[ConfigProblem] = field(default_factory=list)
    warnings: list[ConfigProblem] = field(default_factory=list)


def unreadable_tls_files(broker: BrokerConfig) -> list[tuple[str, str, str]]:
    """Each TLS file the broker's settings name that cannot be read: (key, file, why)."""
    out = []
    for key in ("ca_file", "cert_file", "key_file"):
        name = None if broker.tls is None else getattr(broker.tls, key)
        if name is None:
            continue
        try:
            with Path(name).open("rb"):
                pass
        except OSError as exc:
            out.append((key, name, exc.strerror or str(exc)))
    return out


def _where(file: str, lines: dict[Path_, int]) -> Callable[[Path_, str], ConfigProblem]:
    def at(loc: Path_, message: str) -> ConfigProblem:
        # A key the file leaves out has no line of its own; its section's would mislead.
        line = line_for(lines, loc) if loc[:1] in lines else None
        return ConfigProblem(file, line, dotted(loc), message)

    return at


def advice(cfg: HearthConfig, file: str, lines: dict[Path_, int]) -> Advice:
    at = _where(file, lines)
    out = Advice(warnings=warnings_of(cfg, file, lines))
    for section, broker in every_broker(cfg):
        for loc, problem in broker_problems(broker):
            out.errors.append(at((*section, *loc), problem))
    return out


def every_broker(cfg: HearthConfig) -> list[tuple[Path_, BrokerConfig]]:
    """Each broker the file names, with where: the home's, the care team's, and each
    recipient's own."""
    out: list[tuple[Path_, BrokerConfig]] = []
    out += [(("local_broker",), cfg.local_broker)] if cfg.local_broker else []
    out += [(("upstream",), cfg.upstream)] if cfg.upstream else []
    return out + [(("alerts", "recipients", i, "upstream"), r.upstream)
                  for i, r in enumerate(cfg.alerts.recipients) if r.upstream]  # fmt: skip


def broker_problems(broker: BrokerConfig) -> list[tuple[tuple[str, ...], str]]:
    """What would stop Hearth connecting to this broker, as the settings stand: (where in the
    section, what is wrong; never a secret). A TLS file that cannot be read, a secret that
    cannot be (or should not be); once those are right, the TLS context they make, built (a
    key that is not the certificate's, a wrong or missing passphrase, a CA file holding none)."""
    found: list[tuple[tuple[str, ...], str]] = [
        (("tls", key), f"cannot read {name} ({why})")
        for key, name, why in unreadable_tls_files(broker)
    ]
    found += secret_problems(broker)
    if broker.tls is not None and not found:
        try:
            tls_context(broker.tls)
        except TlsProblem as exc:
            found.append((("tls", exc.key), str(exc)))
    return found


def secret_problems(broker: BrokerConfig) -> list[tuple[tuple[str, ...], str]]:
    """Each secret the broker's settings name that cannot be read, or should not be: (where
    in the section, what is wrong), never the secret itself."""
    out: list[tuple[tuple[str, ...], str]] = []
    places: list[tuple[tuple[str, ...], str | None, str | None]] = [
        (("password",), broker.password_file, broker.password_env)
    ]
    if broker.tls is not None:
        t = broker.tls
        places.append((("tls", "key_password"), t.key_password_file, t.key_password_env))
    for (*section, key), file, env in places:
        try:
            read_secret(file, env)
        except SecretProblem as exc:
            out.append(((*section, f"{key}_env" if env is not None else f"{key}_file"), str(exc)))
    return out


def warnings_of(cfg: HearthConfig, file: str, lines: dict[Path_, int]) -> list[ConfigProblem]:
    """The warnings alone: what ``hearth run`` logs at start (its TLS files it reads itself)."""
    at = _where(file, lines)
    out: list[ConfigProblem] = []
    warn = out.append
    if cfg.upstream is None:
        warn(at(("upstream",), "none: alerts reach only this hub's log (add upstream:, the care"
                " team's broker)"))  # fmt: skip
    for section, up in every_broker(cfg):
        if section == ("local_broker",) or not isinstance(up, UpstreamConfig):
            continue
        if up.tls is None and up.insecure and not is_loopback(up.host):
            said = "the password and the alerts" if up.username else "the alerts"
            warn(at((*section, "insecure"), f"{said} go to {up.host} UNENCRYPTED (insecure:"
                    " true): anyone on the way can read them; add tls: instead"))  # fmt: skip
        elif up.tls is not None and up.tls.without_client_certificate:
            warn(at((*section, "tls", "without_client_certificate"), "no client certificate"
                    f" (without_client_certificate: true): {up.host} knows this hub by its"
                    " password alone"))  # fmt: skip
    home = cfg.local_broker
    if home is not None and home.tls is None and home.username and not is_loopback(home.host):
        warn(at(("local_broker", "host"), f"the home broker's password goes to {home.host}"
                " unencrypted across the home network: add tls:, or run the broker on this"
                " hub"))  # fmt: skip
    if cfg.check_in.enabled and cfg.local_broker is None:
        said = "no local_broker: the check-in cannot reach the resident; alerts go at once"
        warn(at(("check_in", "enabled"), said + " (a replay waits, as if unanswered)"))
    if not any("technical" in r.severities for r in cfg.alerts.recipients):
        warn(at(("alerts", "recipients"), "nobody receives technical alerts (a flat battery, a"
                " silent sensor, Hearth's own faults): add a recipient with severities:"
                " [technical]"))  # fmt: skip
    unread = [i for i, s in enumerate(cfg.sensors) if s.mqtt is None and s.serial is None]
    if len(unread) == len(cfg.sensors):
        warn(at(("sensors",), "no sensor has a source (mqtt: or serial:): fine for replays, but"
                " hearth run would hear nothing"))  # fmt: skip
    else:
        for i in unread:
            warn(at(("sensors", i), f"{cfg.sensors[i].id} has no source (mqtt: or serial:):"
                    " hearth run never hears from it"))  # fmt: skip
    zone = cfg.household.timezone
    if zone in FIXED_ZONES or zone.startswith("Etc/"):
        warn(at(("household", "timezone"), f"{zone!r} has no summer time: a home in the UK is"
                " 'Europe/London'"))  # fmt: skip
    bridge = cfg.serial_bridge
    if bridge is not None and not Path(bridge.port).exists():
        warn(at(("serial_bridge", "port"), f"{bridge.port} does not exist now (is the bridge"
                " plugged in? Hearth waits for it)"))  # fmt: skip
    return out
