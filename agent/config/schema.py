"""The shape of a household's YAML file: every key with a title and a description.

The detectors' sections are generated from the detectors' own settings
(``agent.config.sections``). The JSON Schema in ``config/hearth.schema.json`` is generated from
these models (``hearth schema``), so editors validate and complete the YAML as the agent reads
it.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any, ClassVar, Literal, Self

from pydantic import ConfigDict, Field, field_validator, model_validator

from agent.config.brokers import BrokerConfig, UpstreamConfig
from agent.config.check_in import CheckInConfig
from agent.config.durations import Duration
from agent.config.household import HouseholdSection, Identifier
from agent.config.recipients import AlertsConfig, Recipient
from agent.config.strict import Strict
from models.household import Role, SensorKind

Severity = Literal["urgent", "warning", "info", "technical"]
PayloadStyle = Literal["zigbee2mqtt", "plain", "tasmota", "shelly", "esphome"]
# What Hearth can show in the home's Home Assistant (``agent.delivery.home_assistant``).
HomeAssistantShare = Literal["watching", "last_alert", "learning"]


class MqttBinding(Strict):
    topic: str = Field(
        title="MQTT topic",
        description="Topic the sensor publishes on, e.g. zigbee2mqtt/front_door.",
        min_length=1,
    )
    style: PayloadStyle = Field(
        "zigbee2mqtt",
        title="Payload style",
        description="zigbee2mqtt: JSON device state; plain: ON/OFF, open/closed, 1/0 or watts;"
        " tasmota: tele/<device>/SENSOR's ENERGY.Power; shelly: Gen2 <prefix>/status/switch:0's"
        " apower; esphome: <node>/<component>/<name>/state (ON/OFF or a number).",
    )
    availability_topic: str | None = Field(
        None,
        title="Availability topic",
        description="Where the device says online or offline. Default by style:"
        " <topic>/availability (zigbee2mqtt, plain), tele/<device>/LWT (tasmota),"
        " <prefix>/online (shelly), <node>/status (esphome).",
        min_length=1,
    )

    def availability(self) -> str | None:
        """The availability topic: as set, else the style's own; None when the topic does not
        have the style's shape (the YAML must then set ``availability_topic``).

        >>> MqttBinding(topic="tele/kettle_plug/SENSOR", style="tasmota").availability()
        'tele/kettle_plug/LWT'
        >>> MqttBinding(topic="kettle_plug/tele/SENSOR", style="tasmota").availability()
        'kettle_plug/tele/LWT'
        >>> MqttBinding(topic="shellyplugsg3-a1/status/switch:0", style="shelly").availability()
        'shellyplugsg3-a1/online'
        >>> MqttBinding(topic="esphome/hall/sensor/pir/state", style="esphome").availability()
        'esphome/hall/status'
        >>> MqttBinding(topic="kettle/power", style="tasmota").availability() is None
        True
        """
        if self.availability_topic is not None:
            return self.availability_topic
        parts = self.topic.split("/")
        if self.style == "tasmota":
            # %prefix%/%topic%/ or %topic%/%prefix%/: the last will is tele's, named LWT.
            prefixes = [i for i, p in enumerate(parts[:-1]) if p in ("tele", "stat")]
            if not prefixes:
                return None
            parts[prefixes[-1]], parts[-1] = "tele", "LWT"
            return "/".join(parts)
        if self.style == "shelly":
            prefix, status, _ = self.topic.rpartition("/status/")
            return f"{prefix}/online" if status and prefix else None
        if self.style == "esphome":
            # <topic_prefix>/<component>/<name>/state; the prefix may have slashes of its own.
            ok = len(parts) >= 4 and parts[-1] == "state"
            return "/".join(parts[:-3]) + "/status" if ok else None
        return f"{self.topic}/availability"


class PowerThresholds(Strict):
    on_watts: float = Field(
        1000.0, gt=0, title="On above (W)", description="The appliance counts as in use above this."
    )
    off_watts: float = Field(
        50.0,
        ge=0,
        title="Off below (W)",
        description="And as off again only below this (hysteresis).",
    )


class SerialBinding(Strict):
    id: Identifier = Field(
        title="Id on the bridge",
        description="The sensor's id in the bridge firmware's SENSORS list.",
    )


class SensorConfig(Strict):
    id: Identifier = Field(title="Sensor id", description="Name used in alerts and logs.")
    kind: SensorKind = Field(
        title="Kind",
        description="contact (door), motion (PIR), presence (mmWave radar) or power (plug).",
    )
    room: str = Field(
        title="Room", description="Where it is: kitchen, hall, bathroom...", min_length=1
    )
    role: Role = Field(
        title="Role",
        description="What it means in the day: front_door, kettle, bathroom, bedroom, kitchen...",
    )
    mqtt: MqttBinding | None = Field(
        None, title="MQTT source", description="Where it is read from."
    )
    serial: SerialBinding | None = Field(
        None,
        title="Serial source",
        description="Read from the serial bridge instead (see serial_bridge).",
    )
    power: PowerThresholds = Field(
        default_factory=PowerThresholds,
        title="Power thresholds",
        description="For kind power: when the appliance counts as on and off.",
    )


class SerialBridgeConfig(Strict):
    port: str = Field(
        title="Serial port",
        description="The bridge's device, best by id: /dev/serial/by-id/usb-MicroPython_Board_...",
        min_length=1,
    )
    baud: int = Field(
        115200, ge=1200, le=4_000_000, title="Baud rate", description="As the firmware sets it."
    )
    heartbeat_timeout: Duration = Field(
        timedelta(seconds=60),
        title="Heartbeat timeout",
        description="A bridge heard from not at all for this long raises a sensor_silent alert.",
    )


def _every_share() -> list[HomeAssistantShare]:
    return ["watching", "last_alert", "learning"]


class HomeAssistantConfig(Strict):
    discovery_prefix: str = Field(
        "homeassistant",
        title="Discovery prefix",
        description="As Home Assistant's MQTT integration is set (its default: homeassistant).",
        min_length=1,
    )
    share: list[HomeAssistantShare] = Field(
        default_factory=_every_share,
        title="What Home Assistant shows",
        description=(
            "As the resident agrees: watching (is Hearth watching, and its status), last_alert"
            " (the last alert's words), learning (days learned, each detector's progress). One"
            " left out is removed from Home Assistant."
        ),
    )

    @field_validator("discovery_prefix")
    @classmethod
    def _a_topic_prefix(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*", v):
            raise ValueError(
                f"{v!r} is not a topic prefix Home Assistant can use: letters, digits, _ and -,"
                " levels joined by / (no + or #, and no / at either end)"
            )
        return v


class DetectorsSection(Strict):
    """The detectors' sections, one per registered detector, and sensor health: generated
    from the registry (``agent.config.sections``), so only reached through these methods."""

    def settings_of(self, name: str) -> Any:
        """The settings a detector's section (or ``sensor_health``) sets, enabled or not."""
        section: SettingsSection = getattr(self, name)
        return section.to_settings()

    def enabled(self, name: str) -> bool:
        return bool(getattr(getattr(self, name), "enabled", True))

    def chosen(self) -> dict[str, Any]:
        """Each enabled detector's settings, by name."""
        return {
            name: self.settings_of(name)
            for name in type(self).model_fields
            if name != "sensor_health" and self.enabled(name)
        }


class SettingsSection(Strict):
    """A section whose keys are the fields of a settings dataclass of ``models``."""

    settings_class: ClassVar[type[Any]]

    def to_settings(self) -> Any:
        values: dict[str, Any] = {}
        for key in type(self).model_fields:
            if key != "enabled":
                v = getattr(self, key)
                values[key] = tuple(v) if isinstance(v, list) else v
        return self.settings_class(**values)


class LearningConfig(Strict):
    days: int = Field(
        14,
        ge=1,
        le=365,
        title="Learning days",
        description="Days learned before the first learned alert.",
    )
    half_life: Duration = Field(
        timedelta(days=60),
        title="Forgetting half-life",
        description="How fast old days lose weight.",
    )


class ControlsConfig(Strict):
    """What the household may tell Hearth from the home broker (``hearth pause``, a button):
    each change is told to the care team; how long it may last, only this file can raise."""

    longest_pause: Duration = Field(
        timedelta(days=7),
        title="Longest pause",
        description="The longest the household may pause carers' alerts at once (at most 365d).",
    )
    longest_away: Duration = Field(
        timedelta(days=60),
        title="Longest away",
        description="The longest away mode may be set for at once (at most 365d).",
    )

    users: list[str] = Field(
        default_factory=lambda: ["household"],
        title="Who may use them",
        description=(
            "The home broker's users allowed to write Hearth's controls (a button, the"
            " household's app); hearth acl writes the broker's ACL that lets only them."
        ),
        min_length=1,
    )

    @field_validator("longest_pause", "longest_away")
    @classmethod
    def _within_a_year(cls, v: timedelta) -> timedelta:
        if not timedelta(minutes=1) <= v <= timedelta(days=365):
            raise ValueError("between 1min and 365d: a pause left on must still end")
        return v


class StoreConfig(Strict):
    path: str = Field(
        "hearth.sqlite",
        title="Database file",
        description="SQLite file for events, state and outbox.",
    )
    keep_events: Duration = Field(
        timedelta(days=35),
        title="How long sensor events are kept",
        description=(
            "Raw sensor events older than this are deleted from the hub (hourly), and alerts"
            " sent that long ago with them. What was learned from them is kept. At least 1d."
        ),
    )

    @field_validator("keep_events")
    @classmethod
    def _at_least_a_day(cls, v: timedelta) -> timedelta:
        if v < timedelta(days=1):
            raise ValueError("keep events for at least 1d")
        return v


class HearthConfig(Strict):
    """One household's Hearth configuration."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_default=True, title="Hearth household configuration"
    )

    household: HouseholdSection = Field(title="Household")
    sensors: list[SensorConfig] = Field(title="Sensors", min_length=1)
    local_broker: BrokerConfig | None = Field(
        None, title="Local broker", description="The in-home MQTT broker the sensors publish to."
    )
    serial_bridge: SerialBridgeConfig | None = Field(
        None,
        title="Serial bridge",
        description="A microcontroller on a USB port reading wired sensors (firmware-bridge/).",
    )
    upstream: UpstreamConfig | None = Field(
        None, title="Upstream broker", description="Where alerts go (the care team's broker)."
    )
    home_assistant: HomeAssistantConfig | None = Field(
        None,
        title="Home Assistant",
        description=(
            "Only if the resident wants it: Hearth's status, last alert and learning appear in"
            " the home's Home Assistant (MQTT discovery on the local broker). No sensor event."
        ),
    )
    alerts: AlertsConfig = Field(default_factory=AlertsConfig, title="Alerts")
    learning: LearningConfig = Field(default_factory=LearningConfig, title="Learning")
    # Replaced by the registry's sections in the model ``config_model()`` builds.
    detectors: DetectorsSection = Field(default_factory=DetectorsSection, title="Detectors")
    controls: ControlsConfig = Field(default_factory=ControlsConfig, title="Household controls")
    check_in: CheckInConfig = Field(default_factory=CheckInConfig, title="Check-in first")
    store: StoreConfig = Field(default_factory=StoreConfig, title="Store")

    @model_validator(mode="after")
    def _someone_to_tell(self) -> Self:
        # Whoever reads a topic reads all sent there: the topic each is sent on, as sent (a
        # topic: that spells out the household's is the household's).
        first: dict[tuple[str, str], Recipient] = {}
        for r in self.alerts.recipients:
            up = r.upstream or self.upstream
            where = r.topic or f"{up.topic_prefix if up else 'hearth'}/{self.household.id}"
            other = first.setdefault((r.broker, where), r)
            if (other.severities, other.types, other.detail) != (r.severities, r.types, r.detail):
                raise ValueError(
                    f"{other.name!r} and {r.name!r} are both sent {where}/alerts/<type> but"
                    " agreed to different alerts or detail: give one a topic of its own"
                )
            if other.fhir != r.fhir:
                raise ValueError(
                    f"{other.name!r} and {r.name!r} are both sent {where}/alerts/<type> but in"
                    " different formats (fhir:), or about different patients: give one a topic"
                    " of its own"
                )
        readers = [r for r in self.alerts.recipients if r.upstream is None]
        if self.upstream is not None and not readers:
            raise ValueError(
                "upstream is set but alerts.recipients names nobody who reads it: no alert"
                " would leave the hub there (each goes only to whom the resident agreed); add"
                " the care team, e.g. {name: Home-care team, severities: [urgent, warning,"
                " info, technical]}"
            )
        main = None if self.upstream is None else (self.upstream.host, self.upstream.port)
        for r in self.alerts.recipients:
            if r.upstream is not None and (r.upstream.host, r.upstream.port) == main:
                raise ValueError(
                    f"{r.name!r}: its own broker is the care team's (upstream): give it a"
                    " topic: of its own there instead"
                )
        return self

    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any]]]:
        # The model of the whole file is built at run time, which pickle cannot look up: a
        # configuration travels (to another process of hearth eval) as its document.
        return (HearthConfig.from_document, (self.model_dump(mode="json"),))

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> HearthConfig:
        """A parsed YAML document, validated with a section for each registered detector.

        Validating with this class itself would know no detector: the model of the whole file
        is built from the registry (``agent.config.sections.config_model``); this is it.
        """
        from agent.config.sections import config_model

        return config_model().model_validate(doc)
