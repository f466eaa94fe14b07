"""Recorded events from files: Hearth's own CSV, and the TIHM, Ordóñez and van Kasteren
datasets' sensor files.

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

from agent.config.schema import HearthConfig
from agent.decode.appliance import ApplianceUse
from agent.decode.plain import STATE_READING, decode_plain
from agent.errors import DecodeError
from agent.sources.time_order import InTimeOrder
from models.events import Reading, SensorEvent

log = logging.getLogger("hearth.recordings")
FORMATS = ("csv", "tihm", "ordonez", "kasteren")


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
    """TIHM ``activity/<home>.csv``: one row per firing, location as the sensor id, UK local
    time."""
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
            yield SensorEvent(at, sensor, STATE_READING.get(kind, "motion"), 1.0)


def _interval_events(
    sensor: str, kind: str, start: datetime, end: datetime, report: ReadReport, where: str
) -> list[SensorEvent]:
    """A sensor's on-interval as an event at each end: a door opened then closed, a seat
    pressed then left, an appliance switched on then off. One that ends before it starts is
    dropped and counted."""
    if end < start:
        report.drop("ends before it starts", where)
        return []
    report.events += 2
    reading: Reading = "appliance" if kind == "power" else STATE_READING.get(kind, "motion")
    return [SensorEvent(start, sensor, reading, 1.0), SensorEvent(end, sensor, reading, 0.0)]


def read_ordonez(path: Path, cfg: HearthConfig, report: ReadReport) -> Iterator[SensorEvent]:
    """Ordóñez ``Ordonez?_Sensors.txt``: start, end, location, type, place, tab-separated (with
    runs of tabs), two header lines, Spanish local time. The sensor id is ``<place>_<location>``
    in lower case (``kitchen_fridge``, ``entrance_maindoor``): house B has a ``Door`` PIR in
    three rooms."""
    tz = ZoneInfo(cfg.household.timezone)
    kinds = {s.id: s.kind for s in cfg.sensors}
    with path.open(encoding="utf-8", errors="replace", newline="") as f:
        for n, line in enumerate(f, start=1):
            if n <= 2 or not line.strip():
                continue
            where = f"{path}:{n}"
            report.rows += 1
            parts = [p.strip() for p in line.split("\t") if p.strip()]
            if len(parts) != 5:
                report.drop("not five columns", where)
                continue
            sensor = f"{parts[4]}_{parts[2]}".lower()
            kind = kinds.get(sensor)
            if kind is None:
                report.drop("unknown sensor", where)
                continue
            try:
                start, end = _to_utc(parts[0], tz), _to_utc(parts[1], tz)
            except ValueError:
                report.drop("unreadable time", where)
                continue
            yield from _interval_events(sensor, kind, start, end, report, where)


# van Kasteren 2008 house A: the sensor ids of its README, as Hearth sensor ids.
KASTEREN_SENSORS = {
    1: "microwave",
    5: "hall_toilet_door",
    6: "hall_bathroom_door",
    7: "cups_cupboard",
    8: "fridge",
    9: "plates_cupboard",
    12: "front_door",
    13: "dishwasher",
    14: "toilet_flush",
    17: "freezer",
    18: "pans_cupboard",
    20: "washing_machine",
    23: "groceries_cupboard",
    24: "hall_bedroom_door",
}


def read_kasteren(path: Path, cfg: HearthConfig, report: ReadReport) -> Iterator[SensorEvent]:
    """van Kasteren 2008 ``kasterenSenseData.txt``: ``25-Feb-2008 09:36:43``, end, id, value,
    tab-separated, Dutch local time; the ids are named in ``KASTEREN_SENSORS``."""
    tz = ZoneInfo(cfg.household.timezone)
    kinds = {s.id: s.kind for s in cfg.sensors}
    with path.open(encoding="utf-8", errors="replace", newline="") as f:
        lines = f.read().splitlines()
    # The release opens with a preamble (the sensor list, a header) ending in a dashed line.
    first = next((i + 1 for i, line in enumerate(lines) if line.startswith("---")), 0)
    for n, line in enumerate(lines[first:], start=first + 1):
        parts = [p.strip() for p in line.split("\t") if p.strip()]
        if not parts or line.startswith("Length:"):  # the release's closing row count
            continue
        where = f"{path}:{n}"
        report.rows += 1
        if len(parts) != 4:
            report.drop("not four columns", where)
            continue
        try:
            number = int(parts[2])
        except ValueError:
            report.drop("unreadable sensor id", where)
            continue
        sensor = KASTEREN_SENSORS.get(number, f"sensor_{number}")
        kind = kinds.get(sensor)
        if kind is None:
            report.drop("unknown sensor", where)
            continue
        try:
            start = datetime.strptime(parts[0], "%d-%b-%Y %H:%M:%S").replace(tzinfo=tz)
            end = datetime.strptime(parts[1], "%d-%b-%Y %H:%M:%S").replace(tzinfo=tz)
        except ValueError:
            report.drop("unreadable time", where)
            continue
        yield from _interval_events(
            sensor, kind, start.astimezone(UTC), end.astimezone(UTC), report, where
        )


READERS = {
    "csv": read_hearth_csv,
    "tihm": read_tihm,
    "ordonez": read_ordonez,
    "kasteren": read_kasteren,
}


def read_recording(spec: str, cfg: HearthConfig, report: ReadReport) -> list[SensorEvent]:
    """``FORMAT:PATH`` to events sorted by time (a recording may be out of order), in a list:
    for a recording of any length, ``stream_recording``."""
    events = list(_read(spec, cfg, report))
    events.sort(key=lambda e: e.at)
    return events


def stream_recording(spec: str, cfg: HearthConfig, report: ReadReport) -> InTimeOrder:
    """``FORMAT:PATH`` to events in time order, held in bounded memory whatever the length
    (``agent.sources.time_order``): ``hearth replay`` of years of a home."""
    return InTimeOrder(_read(spec, cfg, report))


def _read(spec: str, cfg: HearthConfig, report: ReadReport) -> Iterator[SensorEvent]:
    """The reader of ``FORMAT:PATH``, its errors raised at once (not at the first event)."""
    fmt, sep, path = spec.partition(":")
    if not sep or fmt not in FORMATS:
        raise ValueError(
            f"--input wants FORMAT:PATH with FORMAT one of {', '.join(FORMATS)}; got {spec!r}"
        )
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"no such file: {path}")
    return READERS[fmt](p, cfg, report)
