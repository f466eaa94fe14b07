"""Shared fixtures: paths to the real datasets, a real Mosquitto broker on a free loopback port."""

from __future__ import annotations

import getpass
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.config.schema import HearthConfig
from tests import hazard_log

ROOT = Path(__file__).resolve().parent.parent
DATASETS = ROOT.parent / "shared" / "datasets"
CONFIG = ROOT / "config"


def pytest_configure(config: pytest.Config) -> None:
    # Each run records what it collected and how each test ended, for the hazard log's check.
    config.pluginmanager.register(hazard_log, "hazard-log")


def hearth(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """The ``hearth`` command, run as a technician would, in its own process."""
    return subprocess.run(
        [sys.executable, "-m", "agent.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
        timeout=120,
    )


def dataset(*parts: str) -> Path:
    """A file of the shared real datasets; a missing one fails the test, it is not skipped."""
    p = DATASETS.joinpath(*parts)
    if not p.exists():
        pytest.fail(f"real dataset file missing: {p} (the shared/ folder must sit beside the repo)")
    return p


def config_with(cfg: HearthConfig, path: tuple[str, ...], value: Any) -> HearthConfig:
    """``cfg`` with the key at ``path`` (as in the YAML: detectors, missed_morning, ...) set."""
    doc = cfg.model_dump(mode="json")
    node = doc
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    return HearthConfig.from_document(doc)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Mosquitto:
    """A real Mosquitto broker on a loopback port, which a test may stop and start again."""

    def __init__(
        self,
        workdir: Path,
        tls: tuple[Path, Path, Path] | None = None,
        users: dict[str, str] | None = None,
        extra: str = "",
        conf: str | None = None,
    ) -> None:
        exe = shutil.which("mosquitto") or (
            "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
        )
        if exe is None:
            pytest.fail(
                "mosquitto is not installed: apt-get install -y mosquitto (.ci/run does this)"
            )
        self.exe = exe
        self.host = "127.0.0.1"
        self.port = _free_port()
        self.workdir = workdir
        self.tls = tls  # (CA, server certificate, server key)
        self.users = users  # when given, only these usernames and passwords may connect
        self.extra = extra  # more lines for its listener (require_certificate, tls_version)
        # A whole configuration instead (a shipped one), its listener's port set to this one's.
        self.conf = conf
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        conf = self.workdir / f"mosquitto-{self.port}.conf"
        anonymous = "false" if self.users else "true"
        text = f"listener {self.port} {self.host}\nallow_anonymous {anonymous}\npersistence false\n"
        # Run as root, Mosquitto would switch to its own user, who cannot read the test's files.
        text += f"user {getpass.getuser()}\n"
        if self.tls is not None:
            ca, cert, key = self.tls
            text += f"cafile {ca}\ncertfile {cert}\nkeyfile {key}\n"
        text += self.extra
        if self.users:
            passwords = self.workdir / f"mosquitto-{self.port}.passwd"
            passwords.write_text("")
            for user, password in self.users.items():
                subprocess.run(
                    ["mosquitto_passwd", "-b", str(passwords), user, password],
                    check=True,
                    capture_output=True,
                )
            text += f"password_file {passwords}\n"
        if self.conf is not None:
            text = re.sub(r"^listener 1883 ", f"listener {self.port} ", self.conf, flags=re.M)
            text += f"\npersistence false\nuser {getpass.getuser()}\n"
        conf.write_text(text)
        log = (self.workdir / f"mosquitto-{self.port}.log").open("ab")
        self.proc = subprocess.Popen(
            [self.exe, "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"mosquitto exited with {self.proc.returncode}; see {self.workdir}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        pytest.fail("mosquitto did not start listening within 20 s")

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


def _broker(workdir: Path, tls: tuple[Path, Path, Path] | None = None) -> Iterator[Mosquitto]:
    b = Mosquitto(workdir, tls)
    b.start()
    try:
        yield b
    finally:
        b.stop()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """The home's broker, which Zigbee2MQTT publishes to."""
    yield from _broker(tmp_path)


@pytest.fixture
def upstream_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """The care team's broker, where alerts go."""
    yield from _broker(tmp_path)


def _openssl(*args: str, cwd: Path) -> None:
    exe = shutil.which("openssl")
    if exe is None:
        pytest.fail("openssl is not installed (needed to make the TLS test's certificates)")
    subprocess.run([exe, *args], cwd=cwd, check=True, capture_output=True)


def make_ca(d: Path, name: str) -> Path:
    """A self-signed CA in ``d``: ``ca.pem`` and ``ca.key``."""
    d.mkdir(parents=True, exist_ok=True)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
             "-keyout", "ca.key", "-out", "ca.pem", cwd=d)  # fmt: skip
    return d / "ca.pem"


def make_cert(d: Path, name: str, san: str, days: int = 2) -> tuple[Path, Path]:
    """A certificate and its key, ``name``.pem and ``name``.key, signed by the CA in ``d``
    (``make_ca``), for ``san`` (``IP:127.0.0.1``, ``DNS:care.example.org``); ``days`` -1 makes
    one that has expired."""
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
             "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=d)  # fmt: skip
    (d / f"{name}.ext").write_text(f"subjectAltName={san}\n")
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-days", str(days), "-extfile", f"{name}.ext",
             "-out", f"{name}.pem", cwd=d)  # fmt: skip
    return d / f"{name}.pem", d / f"{name}.key"


@pytest.fixture
def tls_upstream_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """The care team's broker behind TLS, with a CA made for the test."""
    d = tmp_path / "pki"
    ca = make_ca(d, "Test care CA")
    cert, key = make_cert(d, "server", "IP:127.0.0.1")
    yield from _broker(tmp_path, (ca, cert, key))


# Run by tests/test_fuzz.py under atheris, never imported by pytest itself.
collect_ignore = ["fuzz_targets.py"]
