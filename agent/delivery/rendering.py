"""An alert as it leaves the hub: its upstream topic, its JSON payload with the recipients the
configuration names for its severity, and the one line a console shows.

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
from zoneinfo import ZoneInfo

from agent.config.schema import HearthConfig
from models.alert_policy import Alert


def topic_prefix(cfg: HearthConfig) -> str:
    return cfg.upstream.topic_prefix if cfg.upstream else "hearth"


def status_topic(cfg: HearthConfig) -> str:
    return f"{topic_prefix(cfg)}/{cfg.household.id}/status"


def alert_topic(cfg: HearthConfig, alert: Alert) -> str:
    return f"{topic_prefix(cfg)}/{cfg.household.id}/alerts/{alert.type}"


def recipients_for(cfg: HearthConfig, alert: Alert) -> list[str]:
    return [r.name for r in cfg.alerts.recipients if alert.severity in r.severities]


def alert_payload(cfg: HearthConfig, alert: Alert) -> str:
    doc = alert.to_json()
    doc["recipients"] = list(recipients_for(cfg, alert))
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def console_line(alert: Alert, tz: ZoneInfo) -> str:
    local = alert.detected_at.astimezone(tz)
    return f"{local:%a %d %b %H:%M}  {alert.severity.upper():7} {alert.type:15} {alert.summary}"
