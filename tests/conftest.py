"""Shared fixtures: paths to the real datasets, a real Mosquitto broker on a free loopback port."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATASETS = ROOT.parent / "shared" / "datasets"
CONFIG = ROOT / "config"


def dataset(*parts: str) -> Path:
    """A file of the shared real datasets; a missing one fails the test, it is not skipped."""
    p = DATASETS.joinpath(*parts)
    if not p.exists():
        pytest.fail(f"real dataset file missing: {p} (the shared/ folder must sit beside the repo)")
    return p


@dataclass(frozen=True)
class Broker:
    host: str
    port: int


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _start_mosquitto(tmp: Path) -> tuple[subprocess.Popen[bytes], Broker]:
    exe = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)
    if exe is None:
        pytest.fail("mosquitto is not installed: apt-get install -y mosquitto (.ci/run does this)")
    port = _free_port()
    conf = tmp / f"mosquitto-{port}.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    log = (tmp / f"mosquitto-{port}.log").open("wb")
    proc = subprocess.Popen([exe, "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"mosquitto exited with {proc.returncode}; see {tmp}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc, Broker("127.0.0.1", port)
        except OSError:
            time.sleep(0.05)
    proc.kill()
    pytest.fail("mosquitto did not start listening within 20 s")


@pytest.fixture
def mosquitto_factory(tmp_path: Path) -> Iterator[list[tuple[subprocess.Popen[bytes], Broker]]]:
    started: list[tuple[subprocess.Popen[bytes], Broker]] = []
    yield started
    for proc, _ in started:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def broker(tmp_path: Path, mosquitto_factory: list[tuple[subprocess.Popen[bytes], Broker]]) -> Broker:
    started = _start_mosquitto(tmp_path)
    mosquitto_factory.append(started)
    return started[1]


@pytest.fixture
def upstream_broker(tmp_path: Path, mosquitto_factory: list[tuple[subprocess.Popen[bytes], Broker]]) -> Broker:
    started = _start_mosquitto(tmp_path)
    mosquitto_factory.append(started)
    return started[1]
