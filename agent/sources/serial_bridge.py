"""The serial source: the bridge on a USB port, read without blocking the event loop.

The port is opened with pyserial (which sets the line up) and then read through the event
loop's reader callbacks, so a silent bridge costs nothing. When the device disappears (unplugged,
or its pseudo-terminal closed), the read fails; the port is closed and opened again with backoff
until it returns.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from datetime import datetime

import serial

from agent.config.schema import SensorConfig, SerialBridgeConfig
from agent.decode.bridge import BridgeDecoder
from agent.drops import Drops
from agent.errors import BridgeGone, DecodeError, UnknownTopic
from agent.sources.backoff import Backoff
from agent.sources.bridge_protocol import Frame, FrameReader, LinkTracker, parse_reading
from models.events import SensorEvent

log = logging.getLogger("hearth.serial")


class SerialBridge:
    def __init__(
        self,
        cfg: SerialBridgeConfig,
        sensors: list[SensorConfig],
        on_event: Callable[[SensorEvent], None],
        now: Callable[[], datetime],
        monotonic: Callable[[], float],
        trusted: Callable[[datetime], bool] = lambda _: True,
    ) -> None:
        self.cfg = cfg
        self.decoder = BridgeDecoder(sensors)
        self.on_event = on_event
        self.now = now
        self.monotonic = monotonic
        self.trusted = trusted
        self.reader = FrameReader()
        self.link = LinkTracker()
        self.dropped = Drops(log, "dropped bridge reading", "unknown_sensor", "bad_reading")
        self.connected = asyncio.Event()
        self.opened = 0
        self.started_mono = monotonic()
        self.last_heard_mono: float | None = None
        self.last_heard_at: datetime | None = None

    def counters(self) -> dict[str, int]:
        return {
            **{f"serial_{k}": v for k, v in self.reader.problems.items()},
            **{f"serial_{k}": v for k, v in self.dropped.items()},
            "serial_frames": self.reader.frames,
            "serial_lost": self.link.lost,
            "serial_duplicates": self.link.duplicates,
            "serial_out_of_sequence": self.link.out_of_sequence,
            "serial_resets": self.link.resets,
        }

    def silent_for(self) -> float:
        """Seconds since the bridge was last heard (or since start, if never)."""
        since = self.last_heard_mono if self.last_heard_mono is not None else self.started_mono
        return self.monotonic() - since

    def feed(self, data: bytes) -> None:
        problems_before = sum(self.reader.problems.values())
        frames = self.reader.feed(data)
        if sum(self.reader.problems.values()) > problems_before:
            log.debug("serial line noise: %s", self.reader.problems)
        for frame in frames:
            self._frame(frame)

    def _frame(self, frame: Frame) -> None:
        resets, lost = self.link.resets, self.link.lost
        if not self.link.accept(frame):
            return
        self.last_heard_mono = self.monotonic()
        at = self.now()
        self.last_heard_at = at
        if self.link.resets > resets:
            log.warning("bridge on %s restarted (reset %d)", self.cfg.port, self.link.resets)
        if self.link.lost > lost:
            log.warning("bridge on %s: %d frame(s) lost", self.cfg.port, self.link.lost - lost)
        if frame.type == "H":
            log.info("bridge on %s says hello: %s", self.cfg.port, ", ".join(frame.fields))
        if frame.type != "R":
            return
        try:
            events = self.decoder.decode(parse_reading(frame), at, self.trusted(at))
        except UnknownTopic as exc:
            self.dropped.count("unknown_sensor", str(exc))
            return
        except (ValueError, DecodeError) as exc:
            self.dropped.count("bad_reading", str(exc))
            return
        for e in events:
            self.on_event(e)

    async def run(self) -> None:
        backoff = Backoff(longest=30.0)
        while True:
            try:
                port = serial.Serial(self.cfg.port, self.cfg.baud, timeout=0, exclusive=True)
            except (serial.SerialException, OSError, ValueError) as exc:
                wait = backoff.next()
                log.warning(
                    "serial bridge %s not available (%s); retrying in %.0f s",
                    self.cfg.port,
                    exc,
                    wait,
                )
                await asyncio.sleep(wait)
                continue
            self.opened += 1
            backoff.reset()
            log.info(
                "serial bridge open on %s at %d baud; sensors %s",
                self.cfg.port,
                self.cfg.baud,
                ", ".join(self.decoder.sensor_ids),
            )
            try:
                await self._read(port)
            except BridgeGone as exc:
                log.warning(
                    "serial bridge %s gone (%s); waiting for it to come back", self.cfg.port, exc
                )
            finally:
                self.connected.clear()
                port.close()
                # A partial frame from before the break will never be completed.
                self.reader.feed(b"\n")
                self.link.reconnected()
            await asyncio.sleep(backoff.next())

    async def _read(self, port: serial.Serial) -> None:
        loop = asyncio.get_running_loop()
        fd: int = port.fileno()
        gone: asyncio.Future[None] = loop.create_future()

        def readable() -> None:
            try:
                data = os.read(fd, 4096)
            except BlockingIOError:
                return
            except OSError as exc:
                if not gone.done():
                    gone.set_exception(BridgeGone(exc.strerror or str(exc)))
                return
            if not data:
                if not gone.done():
                    gone.set_exception(BridgeGone("end of file"))
                return
            self.feed(data)

        loop.add_reader(fd, readable)
        self.connected.set()
        try:
            await gone
        finally:
            loop.remove_reader(fd)
