"""A recording's events in time order, in bounded memory whatever its length.

A recorded file may be out of order (rows grouped by sensor, a clock put back), so nothing can
be replayed until it has all been read. It is read in runs of ``RUN`` events, each sorted; the
last run stays in memory and the others wait in temporary files, read back a block at a time
(merged ``FAN_IN`` at a time when there are many), and the runs are merged as the replay goes.
Ties keep the file's order, as a stable sort would.

>>> from datetime import UTC, datetime, timedelta
>>> t0 = datetime(2024, 3, 1, tzinfo=UTC)
>>> late = [SensorEvent(t0 + timedelta(minutes=m), "pir", "motion", 1.0) for m in (5, 1, 4, 2, 3)]
>>> ordered = InTimeOrder(late, run=2)
>>> len(ordered), [e.at.minute for e in ordered]
(5, [1, 2, 3, 4, 5])
"""

from __future__ import annotations

import heapq
import pickle
import tempfile
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

from models.events import SensorEvent

# Events per sorted run (about 10 MiB of events); a file longer than this spills to disk.
RUN = 50_000
# Events per block written to and read back from a run's file: a merge holds one per run.
BLOCK = 1024
# Runs merged at once; more than this of one size are first merged into one on disk, so that
# memory stays bounded (this many blocks) whatever the length.
FAN_IN = 32

_Row = tuple[int, str, str, float, bool]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def _key(e: SensorEvent) -> datetime:
    return e.at


class _Run:
    """Events in time order in a temporary file, a block at a time."""

    def __init__(self, events: Iterable[SensorEvent], level: int) -> None:
        self.level = level
        self.file = tempfile.TemporaryFile(prefix="hearth-replay-")  # noqa: SIM115  # close()
        self.blocks: list[int] = []
        rows: list[_Row] = []
        for e in events:
            rows.append(((e.at - _EPOCH) // _US, e.sensor, e.reading, e.value, e.clock_trusted))
            if len(rows) == BLOCK:
                self._write(rows)
                rows = []
        if rows:
            self._write(rows)

    def _write(self, rows: list[_Row]) -> None:
        self.blocks.append(self.file.tell())
        pickle.dump(rows, self.file, pickle.HIGHEST_PROTOCOL)

    def __iter__(self) -> Iterator[SensorEvent]:
        for offset in self.blocks:
            # Several runs share the merge: each seeks to its own block before reading it.
            self.file.seek(offset)
            rows: list[_Row] = pickle.load(self.file)
            for at, sensor, reading, value, trusted in rows:
                # Written from a SensorEvent: the reading is one of READINGS.
                yield SensorEvent(_EPOCH + at * _US, sensor, reading, value, trusted)  # type: ignore[arg-type]

    def close(self) -> None:
        self.file.close()


class InTimeOrder:
    """``events`` (read at once, in runs) to be iterated in time order, once or many times;
    ``len`` is how many there are. Used as a context manager, or not: the temporary files go
    when it is closed or collected."""

    def __init__(self, events: Iterable[SensorEvent], run: int = RUN) -> None:
        self._runs: list[_Run] = []
        self._count = 0
        buffer: list[SensorEvent] = []
        for event in events:
            buffer.append(event)
            if len(buffer) >= run:
                buffer.sort(key=_key)
                self._count += len(buffer)
                self._spill(_Run(buffer, 0))
                buffer = []
        buffer.sort(key=_key)
        self._last = buffer
        self._count += len(buffer)

    def _spill(self, run: _Run) -> None:
        self._runs.append(run)
        while len(self._runs) >= FAN_IN and len({r.level for r in self._runs[-FAN_IN:]}) == 1:
            merging, self._runs = self._runs[-FAN_IN:], self._runs[:-FAN_IN]
            merged = _Run(heapq.merge(*merging, key=_key), merging[0].level + 1)
            for r in merging:
                r.close()
            self._runs.append(merged)

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[SensorEvent]:
        if not self._runs:
            return iter(self._last)
        return heapq.merge(*self._runs, self._last, key=_key)

    def close(self) -> None:
        for r in self._runs:
            r.close()
        self._runs = []

    def __enter__(self) -> InTimeOrder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
