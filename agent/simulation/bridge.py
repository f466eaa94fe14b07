"""A simulated bridge: a pseudo-terminal that speaks the bridge protocol, for tests and for
technicians without hardware (``hearth bridge-sim``).

The pty's path changes each time it is opened, so the simulator keeps a symbolic link at a
fixed path pointing at it, as udev does with ``/dev/serial/by-id/...`` for a real bridge.
"""

from __future__ import annotations

import os
import random
import time
import tty
from collections.abc import Sequence
from pathlib import Path

from agent.errors import HearthError
from agent.sources.bridge_protocol import encode_frame

FIRMWARE = "sim-0.1.0"


class SimulatedBridge:
    def __init__(
        self, link: Path, sensors: Sequence[tuple[str, str]], rng: random.Random | None = None
    ) -> None:
        self.link = link
        self.sensors = sensors
        self.rng = rng or random.Random()
        self.master: int | None = None
        self.slave: int | None = None
        self.seq = 0
        self.boot = time.monotonic()

    @property
    def uptime_ms(self) -> int:
        return int((time.monotonic() - self.boot) * 1000)

    def open(self) -> None:
        """Plug in: a fresh pty, the link pointed at it, and a hello as at boot."""
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        tmp = self.link.with_name(self.link.name + ".new")
        try:
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(os.ttyname(self.slave))
            tmp.replace(self.link)
        except OSError as exc:
            self.close()
            raise HearthError(
                f"cannot make the link {self.link} to the pseudo-terminal ({exc.strerror}):"
                " give --link a path in a folder you can write, e.g. --link /tmp/hearth-bridge"
            ) from None
        self.boot = time.monotonic()
        self.seq = 0
        self.hello()

    def close(self) -> None:
        """Unplug: the pty goes away, and so does the link."""
        self.link.unlink(missing_ok=True)
        for fd in (self.master, self.slave):
            if fd is not None:
                os.close(fd)
        self.master = self.slave = None

    def write(self, data: bytes) -> None:
        if self.master is None:
            raise RuntimeError("the simulated bridge is unplugged")
        os.write(self.master, data)

    def frame(self, type_: str, fields: list[str]) -> bytes:
        data = encode_frame(self.seq, self.uptime_ms, type_, fields)
        self.seq = (self.seq + 1) % 65536
        return data

    def hello(self) -> None:
        self.write(self.frame("H", [FIRMWARE, ";".join(f"{s}:{k}" for s, k in self.sensors)]))

    def reading(self, sensor: str, kind: str, value: float) -> None:
        text = f"{value:.1f}".removesuffix(".0") if kind == "power" else ("1" if value else "0")
        self.write(self.frame("R", [sensor, kind, text]))

    def heartbeat(self) -> None:
        self.write(self.frame("B", []))

    def drop(self, n: int = 1) -> None:
        """Lose ``n`` frames on the wire: their sequence numbers are used, nothing arrives."""
        self.seq = (self.seq + n) % 65536

    def reset(self) -> None:
        """The microcontroller restarts: uptime and sequence from zero, a hello first."""
        self.boot = time.monotonic()
        self.seq = 0
        self.hello()

    def noise(self, n: int = 16) -> None:
        self.write(bytes(self.rng.randrange(256) for _ in range(n)))


def run_simulator(
    link: Path,
    sensors: Sequence[tuple[str, str]],
    every_s: float,
    noise: float,
    drop: float,
    reset_every: int,
    count: int | None = None,
) -> None:
    """Speak until interrupted: a random reading every ``every_s``, heartbeats between."""
    rng = random.Random()
    sim = SimulatedBridge(link, sensors, rng)
    sim.open()
    print(
        f"simulated bridge on {link} -> {os.ttyname(sim.slave or 0)}; sensors "
        + ", ".join(f"{s} ({k})" for s, k in sensors),
        flush=True,
    )
    sent = 0
    try:
        while count is None or sent < count:
            time.sleep(every_s)
            sensor, kind = rng.choice(sensors)
            value = rng.choice([0.0, 2150.0]) if kind == "power" else float(rng.random() < 0.5)
            if rng.random() < noise:
                sim.noise(rng.randrange(4, 40))
            if rng.random() < drop:
                sim.drop()
            else:
                sim.reading(sensor, kind, value)
            sent += 1
            if reset_every and sent % reset_every == 0:
                sim.reset()
            elif sent % max(1, int(10 / every_s)) == 0:
                sim.heartbeat()
    except KeyboardInterrupt:
        pass
    finally:
        sim.close()
