"""The bridge's line protocol (``firmware-bridge/PROTOCOL.md``): frames in, counted problems out.

Pure: bytes in, frames and problems out; the serial port is read elsewhere.

>>> frame = encode_frame(7, 53021, "R", ["front_door", "contact", "1"])
>>> frame
b'$1,7,53021,R,front_door,contact,1*5A06\\n'
>>> reader = FrameReader()
>>> [f.fields for f in reader.feed(b"\\x00noise" + frame) if isinstance(f, Frame)]
[('front_door', 'contact', '1')]
>>> reader.problems
{'garbage': 1}
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

VERSION = 1
MAX_FRAME = 160
TYPES = frozenset({"H", "R", "B"})
SENSOR_ID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
KINDS = ("contact", "motion", "power")
SEQ_MOD = 65536
UPTIME_MOD = 2**32
WRAP_WINDOW_MS = 60_000


def crc16_ccitt(data: bytes) -> int:
    """CRC-16/CCITT-FALSE.

    >>> hex(crc16_ccitt(b"123456789"))
    '0x29b1'
    """
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def encode_frame(seq: int, uptime_ms: int, type_: str, fields: list[str]) -> bytes:
    body = ",".join([str(VERSION), str(seq % SEQ_MOD), str(uptime_ms % UPTIME_MOD), type_, *fields])
    return f"${body}*{crc16_ccitt(body.encode()):04X}\n".encode()


@dataclass(frozen=True, slots=True)
class Frame:
    seq: int
    uptime_ms: int
    type: str
    fields: tuple[str, ...]


class FrameReader:
    """Splits a byte stream into frames, resynchronising on ``\\n`` and ``$``."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.problems: dict[str, int] = {}
        self.frames = 0

    @property
    def pending_bytes(self) -> int:
        """Bytes of a frame begun but not yet ended."""
        return len(self._buffer)

    def _count(self, why: str) -> None:
        self.problems[why] = self.problems.get(why, 0) + 1

    def feed(self, data: bytes) -> list[Frame]:
        self._buffer += data
        out: list[Frame] = []
        while True:
            end = self._buffer.find(b"\n")
            if end < 0:
                if len(self._buffer) > MAX_FRAME:
                    # No end in sight: keep only what could still begin a frame.
                    start = self._buffer.rfind(b"$")
                    self._count("too_long")
                    del self._buffer[: start if start > 0 else len(self._buffer)]
                    if len(self._buffer) > MAX_FRAME:
                        del self._buffer[:]
                return out
            line = bytes(self._buffer[:end])
            del self._buffer[: end + 1]
            frame = self._line(line)
            if frame is not None:
                self.frames += 1
                out.append(frame)

    def _line(self, line: bytes) -> Frame | None:
        if line.endswith(b"\r"):
            line = line[:-1]
        start = line.rfind(b"$")
        if start < 0:
            if line:
                self._count("garbage")
            return None
        if start > 0:
            self._count("garbage")
            line = line[start:]
        if len(line) + 1 > MAX_FRAME:
            self._count("too_long")
            return None
        body, star, crc_text = line[1:].rpartition(b"*")
        if not star or len(crc_text) != 4:
            self._count("malformed")
            return None
        try:
            crc = int(crc_text, 16)
        except ValueError:
            self._count("malformed")
            return None
        if crc != crc16_ccitt(body):
            self._count("bad_crc")
            return None
        try:
            text = body.decode("ascii")
        except UnicodeDecodeError:
            self._count("malformed")
            return None
        parts = text.split(",")
        if len(parts) < 4:
            self._count("malformed")
            return None
        version, seq_text, uptime_text, type_ = parts[:4]
        if version != str(VERSION):
            self._count("wrong_version")
            return None
        if not (seq_text.isdigit() and uptime_text.isdigit()):
            self._count("malformed")
            return None
        seq, uptime = int(seq_text), int(uptime_text)
        if seq >= SEQ_MOD or uptime >= UPTIME_MOD:
            self._count("malformed")
            return None
        if type_ not in TYPES:
            self._count("unknown_type")
            return None
        return Frame(seq, uptime, type_, tuple(parts[4:]))


@dataclass(frozen=True, slots=True)
class Reading:
    sensor: str
    kind: str
    value: float


def parse_reading(frame: Frame) -> Reading:
    """The reading an ``R`` frame carries; ValueError says what is wrong with it.

    >>> parse_reading(Frame(1, 2, "R", ("kettle", "power", "2150.5")))
    Reading(sensor='kettle', kind='power', value=2150.5)
    """
    if len(frame.fields) != 3:
        raise ValueError(f"a reading has 3 fields, this one {len(frame.fields)}")
    sensor, kind, value_text = frame.fields
    if not SENSOR_ID.match(sensor):
        raise ValueError(f"bad sensor id {sensor[:40]!r}")
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind[:20]!r}")
    try:
        value = float(value_text)
    except ValueError:
        raise ValueError(f"value is not a number: {value_text[:20]!r}") from None
    if kind == "power":
        if not (0 <= value < 100_000):
            raise ValueError(f"power out of range: {value_text[:20]!r}")
    elif value not in (0.0, 1.0):
        raise ValueError(f"{kind} is 0 or 1, not {value_text[:20]!r}")
    return Reading(sensor, kind, value)


@dataclass
class LinkTracker:
    """Sequence gaps, duplicates and resets of one bridge, from the frames it sends."""

    last_seq: int | None = None
    last_uptime: int | None = None
    lost: int = 0
    duplicates: int = 0
    out_of_sequence: int = 0
    resets: int = 0
    hello: tuple[str, ...] = field(default_factory=tuple)

    def reconnected(self) -> None:
        """The port was closed and opened again: what comes next may be another boot or device."""
        self.last_seq = None
        self.last_uptime = None

    def accept(self, frame: Frame) -> bool:
        """Track one frame; False for a duplicate, which should be dropped."""
        reset = frame.type == "H" and self.last_seq is not None
        if (
            not reset
            and self.last_uptime is not None
            and frame.uptime_ms < self.last_uptime
            and not (
                self.last_uptime > UPTIME_MOD - WRAP_WINDOW_MS and frame.uptime_ms < WRAP_WINDOW_MS
            )
        ):
            reset = True
        if frame.type == "H":
            self.hello = frame.fields
        if reset:
            self.resets += 1
        elif self.last_seq is not None:
            gap = (frame.seq - self.last_seq) % SEQ_MOD
            if gap == 0:
                self.duplicates += 1
                return False
            if gap < SEQ_MOD // 2:
                self.lost += gap - 1
            else:
                self.out_of_sequence += 1
        self.last_seq = frame.seq
        self.last_uptime = frame.uptime_ms
        return True
