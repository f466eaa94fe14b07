"""Connecting to a broker (the home's or the care team's): settings from the YAML, and the one
place aiomqtt's ``MqttError`` is turned into Hearth's ``BrokerUnavailable`` (try again) or
``BrokerRefused`` (a wrong password, a missing certificate file: fix the configuration)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiomqtt
from aiomqtt.exceptions import MqttConnectError

from agent.config.advice import broker_problems
from agent.config.brokers import BrokerConfig
from agent.config.secrets import SecretProblem, read_secret
from agent.config.tls import tls_context
from agent.errors import BrokerRefused, BrokerUnavailable

# CONNACK codes that say the broker will not have these credentials (MQTT 3.1.1: 4 and 5,
# which paho 2 reports as MQTT 5's 134 and 135).
REFUSED_CODES = frozenset({4, 5, 134, 135})


def check_files(broker: BrokerConfig, section: str) -> None:
    """Every TLS file and secret the broker's settings name can be read, and the TLS context
    built from them: else ``BrokerRefused``, naming the file and the key that names it.

    >>> from agent.config.brokers import BrokerConfig
    >>> b = BrokerConfig.model_validate({"host": "h", "tls": {"ca_file": "/no/ca.pem"}})
    >>> check_files(b, "upstream")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    agent.errors.BrokerRefused: upstream.tls.ca_file: cannot read /no/ca.pem (No such file...)
    """
    for loc, problem in broker_problems(broker)[:1]:
        raise BrokerRefused(f"{section}.{'.'.join(loc)}: {problem}")


def client_for(
    broker: BrokerConfig,
    client_id: str,
    will: aiomqtt.Will | None = None,
    persistent: bool = False,
    manual_ack: bool = False,
) -> aiomqtt.Client:
    """``persistent``: the broker keeps the session (its QoS 1 subscriptions, and the QoS 1
    messages published to them) while Hearth is away, and hands them over when it is back.
    ``manual_ack``: each QoS 1 message is acknowledged by the caller (``client._client.ack``),
    not on arrival."""
    client = aiomqtt.Client(
        hostname=broker.host,
        port=broker.port,
        username=broker.username,
        password=read_secret(broker.password_file, broker.password_env),
        identifier=broker.client_id or client_id,
        tls_context=None if broker.tls is None else tls_context(broker.tls),
        will=will,
        clean_session=not persistent,
        keepalive=30,
        timeout=10,
    )
    # aiomqtt has no setting for it yet (empicano/aiomqtt#345): paho's own, which it wraps.
    client._client.manual_ack_set(manual_ack)
    return client


@asynccontextmanager
async def session(
    broker: BrokerConfig,
    client_id: str,
    will: aiomqtt.Will | None = None,
    persistent: bool = False,
    manual_ack: bool = False,
) -> AsyncIterator[aiomqtt.Client]:
    """A connected client; the connection failing, then or later, is ``BrokerUnavailable``;
    the broker refusing these credentials is ``BrokerRefused``."""
    try:
        client = client_for(broker, client_id, will, persistent, manual_ack)
    except SecretProblem as exc:  # changed since the start (a TlsProblem is one too)
        raise BrokerRefused(f"the settings for {broker.host}:{broker.port}: {exc}") from None
    try:
        async with client:
            yield client
    except MqttConnectError as exc:
        # Only the broker's answer to connecting: paho's own codes 4 and 5, raised on a socket
        # that has just closed, say nothing of the credentials.
        rc = getattr(exc.rc, "value", exc.rc)
        if isinstance(rc, int) and rc in REFUSED_CODES:
            who = f"as {broker.username!r}" if broker.username else "without a username"
            raise BrokerRefused(
                f"the broker at {broker.host}:{broker.port} refused Hearth {who} ({exc}):"
                " check the username and password in its settings"
            ) from exc
        raise BrokerUnavailable(str(exc)) from exc
    except aiomqtt.MqttError as exc:
        raise BrokerUnavailable(str(exc)) from exc


def as_bytes(payload: object) -> bytes:
    """A message's payload as the bytes the broker carried."""
    return payload if isinstance(payload, bytes) else str(payload).encode()
