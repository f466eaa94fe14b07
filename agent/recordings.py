"""Recorded events from files: Hearth's own CSV, and the TIHM dataset's activity files.

Each reader yields events and counts what it had to drop, with the line, rather than stopping.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from agent.config_schema import HearthConfig
from agent.decode.appliance import ApplianceUse
from agent.decode.errors import DecodeError
from agent.decode.plain import decode_plain
from models.events import SensorEvent

log = logging.getLogger("hearth.recordings")
FORMATS = ("csv", "tihm")


@dataclass
class ReadReport:
    rows: int = 0
    events: int = 0
    dropped: dict[str, int] = field(default_factory=dict)

    def drop(self, why: str, where: str) -> None:
        n = self.dropped.get(why, 0)
        self.dropped[why] = n + 1
        if n < 5:
            log.warning("%s: %s, row dropped", where, why)


def _to_utc(text: str, tz: ZoneInfo) -> datetime:
    t = datetime.fromisoformat(text.strip())
    if t.tzinfo is None:
        t = t.replace(tzinfo=tz)
    return t.astimezone(UTC)


def read_hearth_csv(path: Path, cfg: HearthConfig, report: ReadReport) -> Iterator[SensorEvent]:
    """``time,sensor,value`` rows; times without an offset are in the household's zone."""
    tz = ZoneInfo(cfg.household.timezone)
    kinds = {s.id: s for s in cfg.sensors}
    use = ApplianceUse(cfg.sensors)
    with path.open(newline="", encoding="utf-8") as f:
        for n, row in enumerate(csv.reader(f), start=1):
            where = f"{path}:{n}"
            if not row or row[0].startswith("#") or (n == 1 and row[0].strip().lower() == "time"):
                continue
            report.rows += 1
            if len(row) != 3:
                report.drop("wrong number of columns", where)
                continue
            try:
                at = _to_utc(row[0], tz)
            except ValueError:
                report.drop("unreadable time", where)
                continue
            sensor = kinds.get(row[1].strip())
            if sensor is None:
                report.drop("unknown sensor", where)
                continue
            try:
                readings = decode_plain(sensor.kind, row[2].encode())
            except DecodeError:
                report.drop("unreadable value", where)
                continue
            report.events += len(readings)
            yield from use.events(sensor.id, at, readings)


def read_tihm(path: Path, cfg: HearthConfig, report: ReadReport) -> Iterator[SensorEvent]:
    """TIHM ``activity/<home>.csv``: one row per firing, location as the sensor id, UK local time."""
    tz = ZoneInfo(cfg.household.timezone)
    kinds = {s.id: s.kind for s in cfg.sensors}
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            return
        cols = [h.strip() for h in header]
        try:
            loc_col = cols.index("location") if "location" in cols else cols.index("location_name")
            time_col = cols.index("date-time") if "date-time" in cols else cols.index("date")
        except ValueError:
            report.drop("not a TIHM activity header", f"{path}:1")
            return
        for n, row in enumerate(reader, start=2):
            where = f"{path}:{n}"
            report.rows += 1
            if len(row) <= max(loc_col, time_col):
                report.drop("short row", where)
                continue
            sensor = row[loc_col].strip()
            kind = kinds.get(sensor)
            if kind is None:
                report.drop("unknown sensor", where)
                continue
            try:
                at = _to_utc(row[time_col], tz)
            except ValueError:
                report.drop("unreadable time", where)
                continue
            report.events += 1
            yield SensorEvent(at, sensor, "contact" if kind == "contact" else "motion", 1.0)


def read_recording(spec: str, cfg: HearthConfig, report: ReadReport) -> list[SensorEvent]:
    """``FORMAT:PATH`` to events sorted by time (a recording may be out of order)."""
    fmt, sep, path = spec.partition(":")
    if not sep or fmt not in FORMATS:
        raise ValueError(
            f"--input wants FORMAT:PATH with FORMAT one of {', '.join(FORMATS)}; got {spec!r}"
        )
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"no such file: {path}")
    reader = read_hearth_csv if fmt == "csv" else read_tihm
    events = list(reader(p, cfg, report))
    events.sort(key=lambda e: e.at)
    return events
