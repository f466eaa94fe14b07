"""An alert as it leaves the hub: for each topic its recipients read it on, its JSON payload
naming only them, in the detail they agreed to; and the one line a console shows.

>>> from datetime import datetime, timezone
>>> from zoneinfo import ZoneInfo
>>> from models.alert_policy import Alert
>>> at = datetime(2026, 3, 28, 15, 41, tzinfo=timezone.utc)
>>> a = Alert("id", "h1", "inactivity", "urgent", at, at, "No movement.", {})
>>> console_line(a, ZoneInfo("Europe/London"))
'Sat 28 Mar 15:41  URGENT  inactivity      No movement.'
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from agent.config.brokers import UpstreamConfig
from agent.config.recipients import Recipient
from agent.config.schema import HearthConfig
from agent.delivery.fhir import fhir_bundle
from models.alert_policy import Alert

log = logging.getLogger("hearth.delivery")


def topic_prefix(cfg: HearthConfig) -> str:
    return cfg.upstream.topic_prefix if cfg.upstream else "hearth"


def alert_topic(cfg: HearthConfig, alert: Alert) -> str:
    return f"{topic_prefix(cfg)}/{cfg.household.id}/alerts/{alert.type}"


def consenting(cfg: HearthConfig, alert: Alert) -> list[Recipient]:
    """The recipients who agreed to be told of this alert (its severity, and its type). A
    change the household made to what is watched (a pause) goes to everyone told of the
    resident, whatever they chose: it says their alerts will not come."""
    return [r for r in cfg.alerts.recipients if _agrees(r, alert.type, alert.severity)]


def _agrees(r: Recipient, kind: str, severity: str) -> bool:
    if kind == "household_control":
        return bool(set(r.severities) - {"technical"})
    return severity in r.severities and (r.types is None or kind in r.types)


def _where(cfg: HearthConfig, r: Recipient, kind: str) -> tuple[str, str]:
    """Which broker (``Recipient.broker``) and topic ``r`` reads alerts of ``kind`` on."""
    own = r.upstream.topic_prefix if r.upstream else topic_prefix(cfg)
    prefix = f"{own}/{cfg.household.id}" if r.topic is None else r.topic
    return r.broker, f"{prefix}/alerts/{kind}"


def brokers(cfg: HearthConfig) -> dict[str, UpstreamConfig]:
    """Every broker alerts leave for: '' the care team's (if set), and each recipient's own."""
    out = {} if cfg.upstream is None else {"": cfg.upstream}
    return out | {r.broker: r.upstream for r in cfg.alerts.recipients if r.upstream}


def status_topic_on(cfg: HearthConfig, broker: str) -> str:
    up = brokers(cfg)[broker]
    return f"{up.topic_prefix}/{cfg.household.id}/status"


def recipients_for(cfg: HearthConfig, alert: Alert) -> list[str]:
    return [r.name for r in consenting(cfg, alert)]


def alert_payload(cfg: HearthConfig, alert: Alert) -> str:
    """The alert whole, with everyone it is for: as a replay or the demo writes it, on the hub
    (what leaves it is ``deliveries``)."""
    doc = alert.to_json(cfg.household.display_name)
    doc["recipients"] = list(recipients_for(cfg, alert))
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message of an alert: its outbox row, topic, payload and broker ('' the care
    team's, else the name of the recipient whose own it is)."""

    row_id: str
    topic: str
    payload: str
    broker: str = ""


def deliveries(cfg: HearthConfig, alert: Alert) -> list[Delivery]:
    """What leaves the hub for this alert, as its recipients agreed: one message for each topic
    they read it on, naming only the recipients of that topic, with its evidence only if each
    of them agreed to it; none if nobody agreed to be told. The first keeps the alert's id as
    its outbox row (and the alert's memory); the others' rows are ``<id>@<topic>``.

    >>> from datetime import datetime, timezone
    >>> from agent.config import load_config_text
    >>> text = "household: {id: h1, timezone: Europe/London}\\nsensors: [{id: k, kind: power,"
    >>> text += " room: kitchen, role: kettle}]\\nalerts: {recipients: [{name: Ann, topic: ann},"
    >>> text += " {name: Team, severities: [urgent], detail: evidence}]}\\n"
    >>> at = datetime(2026, 3, 28, 15, 41, tzinfo=timezone.utc)
    >>> a = Alert("id1", "h1", "inactivity", "urgent", at, at, "No movement.", {"room": "lounge"})
    >>> for d in deliveries(load_config_text(text), a):
    ...     doc = json.loads(d.payload)
    ...     print(d.row_id, d.topic, doc["recipients"], "evidence" in doc)
    id1 ann/alerts/inactivity ['Ann'] False
    id1@hearth/h1/alerts/inactivity hearth/h1/alerts/inactivity ['Team'] True
    """
    by_topic: dict[tuple[str, str], list[Recipient]] = {}
    for r in consenting(cfg, alert):
        by_topic.setdefault(_where(cfg, r, alert.type), []).append(r)
    out = []
    for i, ((broker, topic), readers) in enumerate(by_topic.items()):
        doc = alert.to_json(cfg.household.display_name)
        if any(r.detail == "summary" for r in readers):
            del doc["evidence"]
        doc["recipients"] = [r.name for r in readers]
        payload = json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
        row = (
            alert.id
            if i == 0
            else f"{alert.id}@{broker}:{topic}"
            if broker
            else f"{alert.id}@{topic}"
        )
        out.append(Delivery(row, topic, payload, broker))
    return out


def as_agreed_now(cfg: HearthConfig, queued: Delivery) -> list[Delivery]:
    """A message queued under the consent of its time, as it may leave under today's (the
    YAML may have changed while it waited for its broker): to the recipients it names who
    still agree to it, on the broker and topic each reads now (one message for each, the
    first keeping the row), naming that topic's readers, with its evidence only if each of
    them agreed to it. None at all if none of them still agrees (the resident withdrew it, or
    the recipient is gone): it is not sent.

    >>> from datetime import datetime, timezone
    >>> from agent.config import load_config_text
    >>> text = "household: {id: h1, timezone: Europe/London}\\nsensors: [{id: k, kind: power,"
    >>> text += " room: kitchen, role: kettle}]\\nalerts: {recipients: [{name: Ann,"
    >>> text += " detail: evidence}]}\\n"
    >>> at = datetime(2026, 3, 28, 15, 41, tzinfo=timezone.utc)
    >>> a = Alert("id1", "h1", "inactivity", "urgent", at, at, "No movement.", {"room": "lounge"})
    >>> (d,) = deliveries(load_config_text(text), a)
    >>> as_agreed_now(load_config_text(text), d) == [d]
    True
    >>> summary = load_config_text(text.replace("detail: evidence", "detail: summary"))
    >>> "evidence" in json.loads(as_agreed_now(summary, d)[0].payload)
    False
    >>> as_agreed_now(load_config_text(text.replace("Ann,", "Ann, types: [digest],")), d)
    []
    """
    doc = json.loads(queued.payload)
    kind, severity = doc["type"], doc["severity"]
    named = set(doc["recipients"])
    still = [r for r in cfg.alerts.recipients if r.name in named and _agrees(r, kind, severity)]
    here = (queued.broker, queued.topic)
    places = list(dict.fromkeys(_where(cfg, r, kind) for r in still))
    places.sort(key=lambda w: w != here)  # the row stays where it is, if it may
    out = []
    for i, where in enumerate(places):
        readers = [r for r in cfg.alerts.recipients if _where(cfg, r, kind) == where]
        now = dict(doc, recipients=[r.name for r in readers])
        if any(r.detail == "summary" for r in readers):
            now.pop("evidence", None)
        if where == here and now == doc:
            out.append(queued)
            continue
        payload = json.dumps(now, separators=(",", ":"), ensure_ascii=False)
        row = queued.row_id if i == 0 else f"{queued.row_id}@{where[0]}:{where[1]}"
        out.append(Delivery(row, where[1], payload, where[0]))
    return out


def on_the_wire(cfg: HearthConfig, payload: str) -> str:
    """A queued alert as it is published: Hearth's JSON, or a FHIR R4 Bundle of it when its
    topic's readers take FHIR (``Recipient.fhir``; recipients sharing a topic share it). What
    it says is decided before, by ``deliveries`` and ``as_agreed_now``: this only changes the
    format, so an alert the outbox holds leaves in whatever format its readers take now."""
    if not any(r.fhir is not None for r in cfg.alerts.recipients):
        return payload  # as queued, unparsed: the usual home has no FHIR reader
    try:
        doc = json.loads(payload)
        named = set(doc["recipients"])
    except (ValueError, KeyError, TypeError):
        return payload
    for r in cfg.alerts.recipients:
        if r.name in named and r.fhir is not None:
            home = cfg.household.display_name or cfg.household.id
            try:
                bundle = fhir_bundle(doc, r.fhir.as_patient(), home)
            except Exception:  # one it cannot render (an old release's row) must not jam the rest
                log.exception("alert %s cannot be made FHIR: sent as Hearth's JSON", doc.get("id"))
                return payload
            return json.dumps(bundle, separators=(",", ":"), ensure_ascii=False)
    return payload


SEVERITIES = ("urgent", "warning", "info", "technical")


def what_each_receives(cfg: HearthConfig) -> list[str]:
    """For ``hearth check-config``: what each recipient will and will not be told, and where.

    >>> from agent.config import load_config_text
    >>> text = "household: {id: h1, timezone: Europe/London}\\nsensors: [{id: k, kind: power,"
    >>> text += " room: kitchen, role: kettle}]\\nalerts: {recipients: [{name: Ann, topic: ann,"
    >>> text += " severities: [urgent], types: [inactivity]}]}\\n"
    >>> print("\\n".join(what_each_receives(load_config_text(text))))
    Ann receives: urgent inactivity alerts, the summary only, on ann/alerts/<type>
      not: urgent alerts of other types; warning, info, technical alerts
    sent to nobody: warning, info, technical alerts; urgent other than inactivity
    """
    out = []
    for r in cfg.alerts.recipients:
        sev = "/".join(r.severities)
        what = f"{sev} alerts" if r.types is None else f"{sev} {', '.join(r.types)} alerts"
        detail = "with their evidence" if r.detail == "evidence" else "the summary only"
        where = _where(cfg, r, "<type>")[1]
        if r.upstream is not None:
            where += f" at {r.upstream.host}:{r.upstream.port}, a broker of their own"
        if r.fhir is not None:
            who = r.fhir.patient or f"the NHS number ending {str(r.fhir.nhs_number)[-4:]}"
            where += f", as FHIR R4 about {who}"
        out.append(f"{r.name} receives: {what}, {detail}, on {where}")
        nots = [f"{s} alerts of other types" for s in r.severities if r.types is not None]
        rest = [s for s in SEVERITIES if s not in r.severities]
        nots += [f"{', '.join(rest)} alerts"] if rest else []
        out.append(f"  not: {'; '.join(nots)}" if nots else "  not: (receives every alert)")
    whole = [s for s in SEVERITIES if any(s in r.severities and r.types is None
                                          for r in cfg.alerts.recipients)]  # fmt: skip
    some = {t for r in cfg.alerts.recipients if r.types for t in r.types}
    unsent = [s for s in SEVERITIES if s not in whole]
    if unsent:
        partly = [s for s in unsent if any(s in r.severities for r in cfg.alerts.recipients)]
        never = [s for s in unsent if s not in partly]
        said = [f"{', '.join(never)} alerts"] if never else []
        said += [f"{s} other than {', '.join(sorted(some))}" for s in partly]
        out.append(f"sent to nobody: {'; '.join(said)}")
    return out


def console_line(alert: Alert, tz: ZoneInfo) -> str:
    local = alert.detected_at.astimezone(tz)
    said = "ENDED" if alert.ends is not None else alert.severity.upper()
    return f"{local:%a %d %b %H:%M}  {said:7} {alert.type:15} {alert.summary}"
