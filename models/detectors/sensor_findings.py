"""What sensor health tells the technician: silent or offline sensors, and low batteries, in
words a technician on the phone can act on.

>>> from datetime import datetime, timedelta, timezone
>>> from zoneinfo import ZoneInfo
>>> from models.events import SensorEvent
>>> from models.household import Household, SensorInfo
>>> h = Household("h1", ZoneInfo("UTC"), (SensorInfo("hall", "motion", "hall", "hallway"),))
>>> health = SensorHealth(h)
>>> t = datetime(2024, 1, 1, tzinfo=timezone.utc)
>>> health.observe(SensorEvent(t, "hall", "battery", 9.0))
>>> [f.summary for f in sensor_findings(health, t, [])]
['The hall motion sensor (hall) reports a low battery (9%). Replace it soon.']
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from models.detectors.sensor_health import SensorHealth, SensorProblem
from models.detectors.wording import duration_text
from models.finding import Finding, JsonValue
from models.local_time import clock_text, local_date, minutes_since_midnight
from models.what_to_do import HEADLINE_MOST


def sensor_findings(
    health: SensorHealth, now: datetime, problems: list[SensorProblem]
) -> list[Finding]:
    """Technical alerts for the technician: silent or offline sensors, low batteries.

    When every sensor has gone quiet at once, the hub (or its radio) has lost them all,
    and one alert says so instead of one per sensor.
    """
    out: list[Finding] = []
    problems = [p for p in problems if not health.records[p.sensor].link_down]
    if len(problems) == len(health.records) > 1:
        since = min(p.since for p in problems)
        out.append(
            Finding(
                type="sensor_silent",
                severity="technical",
                started_at=since,
                detected_at=now,
                summary=(
                    f"No sensor has been heard from since {_when(health, since)}"
                    f" ({duration_text((now - since).total_seconds())}). The hub may have lost"
                    " its radio or the sensors' network."
                ),
                episode=f"sensor_silent:all:{since.isoformat()}",
                evidence={"sensors": list[JsonValue](sorted(p.sensor for p in problems))},
            )
        )
    else:
        for p in problems:
            out.append(_problem_finding(health, p, now))
    for sensor, rec in health.records.items():
        if rec.battery_low_since is not None:
            level = "" if rec.battery is None else f" ({rec.battery:.0f}%)"
            out.append(
                Finding(
                    type="battery_low",
                    severity="technical",
                    started_at=rec.battery_low_since,
                    detected_at=now,
                    summary=f"The {sensor_name(health, sensor)} reports a low battery{level}."
                    " Replace it soon.",
                    episode=f"battery_low:{sensor}:{rec.battery_low_since.isoformat()}",
                    evidence={"sensor": sensor, "battery_percent": rec.battery},
                )
            )
    return out


def _problem_finding(health: SensorHealth, p: SensorProblem, now: datetime) -> Finding:
    name = sensor_name(health, p.sensor)
    quiet = duration_text((now - p.since).total_seconds())
    if p.kind == "offline":
        return Finding(
            type="sensor_offline",
            severity="technical",
            started_at=p.since,
            detected_at=now,
            summary=f"The {name} has been offline since {_when(health, p.since)} ({quiet}).",
            episode=f"sensor_offline:{p.sensor}:{p.since.isoformat()}",
            evidence={"sensor": p.sensor, "offline_since": p.since.isoformat()},
        )
    usual = health.usual_silence_s(p.sensor) or 0.0
    days = len(health.records[p.sensor].longest_by_day)
    advice = (
        "Check its battery and range."
        if p.kind == "silent"
        else "The rest of the home has been active meanwhile: check it, unless that room"
        " is simply not being used."
    )
    return Finding(
        type="sensor_silent",
        severity="technical",
        started_at=p.since,
        detected_at=now,
        summary=(
            f"The {name} has not been heard from since {_when(health, p.since)} ({quiet})."
            f" Over the last {days} days it was never silent much past"
            f" {duration_text(usual / health.settings.margin)}. {advice}"
        ),
        episode=f"sensor_silent:{p.sensor}:{p.since.isoformat()}",
        evidence={
            "sensor": p.sensor,
            "kind": p.kind,
            "last_heard": p.since.isoformat(),
            "silent_minutes": round((now - p.since).total_seconds() / 60, 1),
            "alert_after_minutes": round(usual / 60, 1),
        },
    )


def sensor_name(health: SensorHealth, sensor: str) -> str:
    """'lounge motion sensor (lounge_motion)', as the technician finds it in the home."""
    info = health.household.sensor(sensor)
    if info is None:
        return f"sensor {sensor}"
    what = {
        "motion": "motion sensor",
        "presence": "presence sensor",
        "contact": "door sensor",
        "power": "power plug",
    }[info.kind]
    return f"{info.room} {what} ({sensor})"


def _when(health: SensorHealth, at: datetime) -> str:
    tz = health.household.tz
    return f"{local_date(at, tz).isoformat()} {clock_text(minutes_since_midnight(at, tz))}"


# Said by sensor: a technician looks at them together.
ONE_SENSOR = ("sensor_silent", "sensor_offline")


def told_together(
    findings: list[Finding], raised: Callable[[str], bool], tz: ZoneInfo
) -> list[Finding]:
    """Sensors found failing at one look, told in one message rather than one each: a
    technician sent five in a minute reads the first. Those already told are left alone; the
    message covers each sensor's own episode, so none is told apart later.

    >>> from datetime import UTC, datetime
    >>> at = datetime(2026, 3, 1, 9, tzinfo=UTC)
    >>> f = [Finding(k, "technical", at, at, f"The {s} sensor is {k}.", f"{k}:{s}",
    ...              {"sensor": s}) for k, s in (("sensor_silent", "a"), ("sensor_offline", "b"))]
    >>> (both,) = told_together(f, lambda episode: False, ZoneInfo("Europe/London"))
    >>> both.headline
    '2 sensors silent or offline, the first since 09:00: a, b.'
    >>> both.covers
    ('sensor_silent:a', 'sensor_offline:b')
    """
    new = [
        f for f in findings if f.type in ONE_SENSOR and "sensor" in f.evidence
        and not raised(f.episode)
    ]  # fmt: skip
    if len(new) < 2:
        return findings
    since = min(f.started_at for f in new)
    ids = [str(f.evidence["sensor"]) for f in new]
    first = clock_text(minutes_since_midnight(since, tz))  # as each sensor's own text says it
    head = f"{len(new)} sensors silent or offline, the first since {first}"
    headline = f"{head}: {', '.join(ids)}."
    if len(headline) > HEADLINE_MOST:
        headline = f"{head}; the summary names each."
    together = Finding(
        type="sensor_silent",
        severity="technical",
        started_at=since,
        detected_at=max(f.detected_at for f in new),
        summary=" ".join(f.summary for f in new),
        headline=headline,
        episode=f"sensor_silent:several:{','.join(sorted(ids))}:{since.isoformat()}",
        evidence={
            "sensors": list[JsonValue](sorted(ids)),
            "problems": {
                str(f.evidence["sensor"]): (
                    "offline" if f.type == "sensor_offline" else str(f.evidence.get("kind"))
                )
                for f in new
            },
        },
        covers=tuple(f.episode for f in new),
    )
    return [together, *(f for f in findings if f not in new)]
