"""The care team's link over TLS, against a real Mosquitto with a CA the test makes: the hub's
own certificate, the broker's checked against its CA, its host name and its dates, and nothing
older than TLS 1.2. Each wrong setting is refused; the right one connects and delivers."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.config.brokers import UpstreamConfig
from agent.errors import BrokerUnavailable
from agent.sources.mqtt import session
from tests.conftest import Mosquitto, make_ca, make_cert


class Pki:
    """A care team's CA, the broker's certificates (right, for another name, expired), this
    hub's own, and another CA that signed none of them."""

    def __init__(self, d: Path) -> None:
        self.ca = make_ca(d, "Test care CA")
        self.server = make_cert(d, "server", "IP:127.0.0.1")
        self.elsewhere = make_cert(d, "elsewhere", "DNS:care.example.org")
        self.expired = make_cert(d, "expired", "IP:127.0.0.1", days=-1)
        self.hub = make_cert(d, "hub", "DNS:hub-mrs-b")
        self.other_ca = make_ca(d / "other", "Somebody else")


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return Pki(tmp_path / "pki")


MUTUAL = "require_certificate true\ntls_version tlsv1.2\n"


def started(tmp_path: Path, pki: Pki, cert: tuple[Path, Path], extra: str = MUTUAL) -> Mosquitto:
    b = Mosquitto(tmp_path, (pki.ca, *cert), extra=extra)
    b.start()
    return b


@pytest.fixture
def care(tmp_path: Path, pki: Pki) -> Iterator[Mosquitto]:
    """The care team's broker: TLS 1.2 or newer, and only hubs with a certificate from its CA."""
    b = started(tmp_path, pki, pki.server)
    yield b
    b.stop()


def upstream(b: Mosquitto, ca: Path, hub: tuple[Path, Path] | None) -> UpstreamConfig:
    tls = {"ca_file": str(ca)} | ({} if hub is None else {"cert_file": str(hub[0]),
                                                          "key_file": str(hub[1])})  # fmt: skip
    return UpstreamConfig.model_validate({"host": b.host, "port": b.port, "tls": tls})


def connect(cfg: UpstreamConfig) -> str:
    """ "delivered" once an alert's QoS 1 publish is acknowledged; else why not."""

    async def go() -> str:
        try:
            async with asyncio.timeout(20), session(cfg, "hearth-tls-test") as client:
                await client.publish("hearth/h1/alerts/test", b"{}", qos=1)
                return "delivered"
        except BrokerUnavailable as exc:
            return str(exc)

    return asyncio.run(go())


def test_the_hubs_own_certificate_from_the_care_teams_ca_connects(
    care: Mosquitto, pki: Pki
) -> None:
    assert connect(upstream(care, pki.ca, pki.hub)) == "delivered"


def test_a_broker_whose_certificate_the_hub_cannot_trust_is_refused(
    care: Mosquitto, pki: Pki, tmp_path: Path
) -> None:
    # Another CA: a stranger's broker (or one in the middle) is not the care team's.
    assert "certificate verify failed" in connect(upstream(care, pki.other_ca, pki.hub))
    # The care team's CA, but a certificate for another host than the one the hub dialled.
    said = connect_to_one_showing(tmp_path, pki, pki.elsewhere)
    assert "certificate verify failed" in said, said
    assert "mismatch" in said, said
    # The right name and CA, but out of date.
    said = connect_to_one_showing(tmp_path, pki, pki.expired)
    assert "certificate has expired" in said, said


def connect_to_one_showing(tmp_path: Path, pki: Pki, cert: tuple[Path, Path]) -> str:
    """What the hub (with its own certificate) makes of a broker showing ``cert``."""
    b = started(tmp_path, pki, cert)
    try:
        return connect(upstream(b, pki.ca, pki.hub))
    finally:
        b.stop()


def test_a_hub_without_its_certificate_is_refused_by_the_broker(care: Mosquitto, pki: Pki) -> None:
    said = connect(upstream(care, pki.ca, None))
    assert said != "delivered"
    # Refused by the broker for that, not for anything else (with the certificate it connects).
    log = (care.workdir / f"mosquitto-{care.port}.log").read_text()
    assert "peer did not return a certificate" in log, log
    assert connect(upstream(care, pki.ca, pki.hub)) == "delivered"


class OldTlsServer(threading.Thread):
    """A server that speaks TLS 1.1 and nothing newer, as an old broker would: each
    handshake's outcome is kept."""

    def __init__(self, pki: Pki) -> None:
        super().__init__(daemon=True)
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(*pki.server)
        self.context.set_ciphers("DEFAULT:@SECLEVEL=0")
        self.context.minimum_version = self.context.maximum_version = ssl.TLSVersion.TLSv1_1
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.host, self.port = "127.0.0.1", self.listener.getsockname()[1]
        self.outcomes: list[str] = []

    def run(self) -> None:
        with self.listener:
            while True:
                try:
                    conn, _ = self.listener.accept()
                except OSError:
                    return
                with conn:
                    try:
                        with self.context.wrap_socket(conn, server_side=True) as tls:
                            self.outcomes.append(str(tls.version()))
                    except (ssl.SSLError, OSError) as exc:
                        self.outcomes.append(f"refused: {exc}")


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
def test_nothing_older_than_tls_1_2_is_spoken(pki: Pki) -> None:
    """A broker that speaks only TLS 1.1 (a client that allows it gets through) is refused by
    the hub, in the handshake."""
    old = OldTlsServer(pki)
    old.start()
    control = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    control.load_verify_locations(pki.ca)
    control.set_ciphers("DEFAULT:@SECLEVEL=0")
    control.minimum_version = ssl.TLSVersion.TLSv1
    with (
        socket.create_connection((old.host, old.port), timeout=10) as raw,
        control.wrap_socket(raw, server_hostname=old.host) as tls,
    ):
        assert tls.version() == "TLSv1.1"
    cfg = UpstreamConfig.model_validate(
        {"host": old.host, "port": old.port, "tls": {"ca_file": str(pki.ca)}}
    )
    said = connect(cfg)
    old.listener.close()
    assert "protocol" in said.lower() or "version" in said.lower(), said
    assert old.outcomes[0] == "TLSv1.1"
    assert old.outcomes[1].startswith("refused"), old.outcomes
