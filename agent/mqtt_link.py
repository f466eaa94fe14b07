"""Connecting to a broker: settings from the YAML, and a backoff for reconnecting."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import aiomqtt

from agent.config_schema import BrokerConfig


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


@dataclass
class Backoff:
    """Waits of 1 s, 2 s, 4 s... up to a minute, with jitter so hubs do not reconnect in step.

    >>> b = Backoff(rng=random.Random(1))
    >>> [round(b.next()) for _ in range(8)]
    [1, 2, 4, 7, 16, 32, 60, 60]
    """

    first: float = 1.0
    longest: float = 60.0
    rng: random.Random = field(default_factory=random.Random)
    _next: float = 0.0

    def next(self) -> float:
        current = self._next or self.first
        self._next = min(current * 2, self.longest)
        return min(current * self.rng.uniform(0.85, 1.15), self.longest)

    def reset(self) -> None:
        self._next = 0.0
