"""Connecting to a broker (the home's or the care team's): settings from the YAML, and the one
place aiomqtt's ``MqttError`` is turned into Hearth's ``BrokerUnavailable``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiomqtt

from agent.config.schema import BrokerConfig
from agent.errors import BrokerUnavailable


def client_for(
    broker: BrokerConfig, client_id: str, will: aiomqtt.Will | None = None
) -> aiomqtt.Client:
    tls = None
    if broker.tls is not None:
        tls = aiomqtt.TLSParameters(
            ca_certs=broker.tls.ca_file, certfile=broker.tls.cert_file, keyfile=broker.tls.key_file
        )
    return aiomqtt.Client(
        hostname=broker.host,
        port=broker.port,
        username=broker.username,
        password=broker.password,
        identifier=broker.client_id or client_id,
        tls_params=tls,
        will=will,
        keepalive=30,
        timeout=10,
    )


@asynccontextmanager
async def session(
    broker: BrokerConfig, client_id: str, will: aiomqtt.Will | None = None
) -> AsyncIterator[aiomqtt.Client]:
    """A connected client; the connection failing, then or later, is ``BrokerUnavailable``."""
    try:
        async with client_for(broker, client_id, will) as client:
            yield client
    except aiomqtt.MqttError as exc:
        raise BrokerUnavailable(str(exc)) from exc


def as_bytes(payload: object) -> bytes:
    """A message's payload as the bytes the broker carried."""
    return payload if isinstance(payload, bytes) else str(payload).encode()
