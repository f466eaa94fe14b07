"""What the technician is told when a link the sensors come through goes quiet (the home MQTT
broker out of reach, or the serial bridge unheard: its sensors count as offline meanwhile, so
the detectors needing them pause, ``SensorHealth.source_down``), or when part of Hearth itself
has stopped.

>>> from datetime import datetime, timedelta, timezone
>>> from zoneinfo import ZoneInfo
>>> t = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
>>> f = home_broker_lost("localhost:1883", t, t + timedelta(minutes=3), ["hall"], ZoneInfo("UTC"))
>>> f.summary.split(";")[0]
'Hearth cannot reach the home MQTT broker at localhost:1883 since 09:00 (3 min)'
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from models.detectors.wording import duration_text
from models.finding import Finding, JsonValue


def home_broker_lost(
    broker: str, lost_at: datetime, now: datetime, sensors: list[str], tz: ZoneInfo
) -> Finding:
    return Finding(
        type="sensor_silent",
        severity="technical",
        started_at=lost_at,
        detected_at=now,
        summary=(
            f"Hearth cannot reach the home MQTT broker at {broker} since"
            f" {lost_at.astimezone(tz):%H:%M} ({duration_text((now - lost_at).total_seconds())});"
            f" its {len(sensors)} sensors are not being read. Check that the broker"
            " (Mosquitto) is running on the hub."
        ),
        headline=(
            f"Hearth cannot reach the home broker since {lost_at.astimezone(tz):%H:%M}"
            f" ({duration_text((now - lost_at).total_seconds())}): {len(sensors)} sensors not read."
        ),
        episode=f"sensor_silent:home_broker:{lost_at.isoformat()}",
        evidence={
            "source": "home_broker",
            "broker": broker,
            "lost_at": lost_at.isoformat(),
            "sensors": list[JsonValue](sensors),
        },
    )


def bridge_silent(
    port: str,
    since: datetime,
    last_heard_at: datetime | None,
    silent_s: float,
    timeout_s: float,
    now: datetime,
    sensors: list[str],
    port_open: bool,
    tz: ZoneInfo,
) -> Finding:
    """``since``: when it was last heard, or when Hearth started if it never was."""
    heard = f"since {since.astimezone(tz):%H:%M}" if last_heard_at else "since Hearth started"
    return Finding(
        type="sensor_silent",
        severity="technical",
        started_at=since,
        detected_at=now,
        summary=(
            f"Nothing heard from the serial bridge on {port} {heard} ({duration_text(silent_s)};"
            f" it sends a heartbeat every 10 s). Its sensors ({', '.join(sensors)}) are not"
            " being read: check its USB cable and power."
        ),
        headline=(
            f"Nothing heard from the serial bridge {heard} ({duration_text(silent_s)}):"
            f" {len(sensors)} sensors not read."
        ),
        episode=f"sensor_silent:bridge:{since.isoformat()}",
        evidence={
            "source": "serial_bridge",
            "port": port,
            "silent_minutes": round(silent_s / 60, 1),
            "heartbeat_timeout_s": timeout_s,
            "last_heard_at": last_heard_at.isoformat() if last_heard_at else None,
            "sensors": list[JsonValue](sensors),
            "port_open": port_open,
        },
    )


def agent_fault(part: str, why: str, since: datetime, now: datetime) -> Finding:
    """Part of Hearth itself stopped (``why`` says which, and with what error); it is being
    restarted. One alert for each spell the part is down, from ``since``.

    >>> from datetime import timezone
    >>> t = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
    >>> f = agent_fault("home", "reading the home broker failed (OverflowError: big)", t, t)
    >>> f.summary.split(". ")[0]
    'Part of Hearth stopped: reading the home broker failed (OverflowError: big)'
    >>> f.episode
    'agent_fault:home:2026-01-05T09:00:00+00:00'
    """
    return Finding(
        type="agent_fault",
        severity="technical",
        started_at=since,
        detected_at=now,
        summary=(
            f"Part of Hearth stopped: {why}. It is being restarted; until it works again the"
            " watching is incomplete, and the status says degraded. If it keeps happening,"
            " Hearth stops so that its service manager starts it afresh; send its log to the"
            " Hearth team."
        ),
        headline=f"Part of Hearth stopped ({part}): it is being restarted; the watching is"
        " incomplete meanwhile.",
        episode=f"agent_fault:{part}:{since.isoformat()}",
        evidence={"part": part, "why": why, "since": since.isoformat()},
    )


def storage_full(path: str, why: str, since: datetime, now: datetime, waiting: int) -> Finding:
    """Hearth cannot write to its store (a full disk, most often). It goes on watching from
    memory; one alert for each spell, from ``since``.

    >>> from datetime import timezone
    >>> t = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
    >>> storage_full("/var/lib/hearth/hearth.sqlite", "database or disk is full", t, t, 12).type
    'storage_full'
    """
    return Finding(
        type="storage_full",
        severity="technical",
        started_at=since,
        detected_at=now,
        summary=(
            f"Hearth cannot write to its store {path} ({why}). It goes on watching, and its"
            f" alerts are still sent, from memory ({waiting} sensor events wait to be written);"
            " what it learns is lost if it restarts before space returns. Free space on the"
            " hub's disk."
        ),
        headline="Hearth cannot write its store (the hub's disk): it goes on watching, from"
        " memory.",
        episode=f"storage_full:{since.isoformat()}",
        evidence={"path": path, "why": why, "since": since.isoformat(), "waiting": waiting},
    )
