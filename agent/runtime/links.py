"""The links the sensors come through, watched: the home broker out of reach for a minute, or
the serial bridge unheard for its heartbeat timeout, is a technical finding, and its sensors
count as offline meanwhile so that the detectors needing them pause."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from agent.config.schema import HearthConfig
from agent.delivery.status import Health
from agent.sources.home_broker import HomeBroker
from agent.sources.serial_bridge import SerialBridge
from models.detectors.link_findings import bridge_silent, home_broker_lost
from models.finding import Finding
from models.monitor import Monitor

# How long the home broker may be out of reach (a restart, an upgrade) before it is reported.
HOME_BROKER_GRACE = timedelta(minutes=1)


class Links:
    def __init__(
        self,
        cfg: HearthConfig,
        monitor: Callable[[], Monitor],
        home: HomeBroker | None,
        bridge: SerialBridge | None,
        started_at: datetime,
    ) -> None:
        self.cfg = cfg
        self._monitor = monitor
        self.home = home
        self.bridge = bridge
        self.started_at = started_at
        self.mqtt_sensors = sorted(sc.id for sc in cfg.sensors if sc.mqtt is not None)
        self._bridge_down = False

    @property
    def monitor(self) -> Monitor:
        return self._monitor()

    def home_broker_back(self) -> None:
        self.monitor.health.source_up(self.mqtt_sensors)

    def findings(self, now: datetime) -> list[Finding]:
        """The links' technical findings at ``now``; their sensors marked offline or back."""
        silent = self._bridge_silence(now)
        self._bridge_sensors_down(silent)
        lost = self._home_broker_lost(now)
        return [f for f in (silent, lost) if f is not None]

    def _home_broker_lost(self, now: datetime) -> Finding | None:
        if self.home is None or self.home.lost_at is None:
            return None
        lost_at = self.home.lost_at
        if now - lost_at < HOME_BROKER_GRACE:
            return None
        self.monitor.health.source_down(self.mqtt_sensors, lost_at)
        return home_broker_lost(
            self.home.name, lost_at, now, self.mqtt_sensors, self.monitor.household.tz
        )

    def _bridge_sensors_down(self, silent: Finding | None) -> None:
        """While the bridge is silent its sensors are offline: the detectors needing them
        abstain."""
        if self.bridge is None:
            return
        health = self.monitor.health
        if silent is not None:
            health.source_down(self.bridge.decoder.sensor_ids, silent.started_at)
            self._bridge_down = True
        elif self._bridge_down:
            health.source_up(self.bridge.decoder.sensor_ids)
            self._bridge_down = False

    def _bridge_silence(self, now: datetime) -> Finding | None:
        bridge, cfg = self.bridge, self.cfg.serial_bridge
        if bridge is None or cfg is None:
            return None
        silent_s = bridge.silent_for()
        limit = cfg.heartbeat_timeout
        if silent_s < limit.total_seconds():
            return None
        return bridge_silent(
            cfg.port,
            bridge.last_heard_at or self.started_at,
            bridge.last_heard_at,
            silent_s,
            limit.total_seconds(),
            now,
            bridge.decoder.sensor_ids,
            bridge.connected.is_set(),
            self.monitor.household.tz,
        )


def links_health(health: Health, findings: list[Finding]) -> None:
    """While a link the sensors come through is down, the watching is incomplete: the status
    says so (with the first clause of the link's own finding), until it is back."""
    down = {f.evidence.get("source"): f.summary.split(";")[0] for f in findings}
    for source in ("home_broker", "serial_bridge"):
        if source in down:
            health.degraded(source, str(down[source]))
        else:
            health.recovered(source)
