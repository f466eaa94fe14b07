"""The detectors' YAML sections, generated from the registry: each key from a field of the
detector's settings (its title, description, default and bounds), and ``enabled``.

A detector registered in ``models.detectors`` has its section in the YAML file, the JSON
Schema and ``check-config`` with nothing written here. ``config_model()`` builds the model of
the whole file for the detectors registered now, and keeps it until the registry changes.

>>> model = config_model()
>>> list(model.model_fields["detectors"].annotation.model_fields)[:3]
['inactivity', 'missed_morning', 'night_exit']
"""

from __future__ import annotations

import typing
from datetime import timedelta
from typing import Any

from pydantic import Field, create_model
from pydantic.fields import FieldInfo

from agent.config.durations import Duration
from agent.config.schema import DetectorsSection, HearthConfig, SettingsSection
from models.detectors import registered
from models.detectors.contract import DetectorSpec, yaml_keys
from models.detectors.sensor_health import SensorHealthSettings

BOUNDS = ("gt", "ge", "le", "min_length")
SENSOR_HEALTH_DESCRIPTION = (
    "When a sensor counts as silent, offline or low on battery; the detectors that need it"
    " pause meanwhile."
)

_built: tuple[tuple[DetectorSpec, ...], type[HearthConfig]] | None = None


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _field(annotation: Any, default: Any, metadata: typing.Mapping[str, Any]) -> tuple[Any, Any]:
    """The pydantic type and Field of one settings field."""
    bounds = {k: metadata[k] for k in BOUNDS if k in metadata}
    text = {"title": metadata["title"], "description": metadata["description"]}
    if annotation is timedelta:
        return Duration, Field(default, **text, **bounds)
    if typing.get_origin(annotation) is tuple:
        item = typing.get_args(annotation)[0]
        items = list(default)
        return list[item], Field(default_factory=lambda: list(items), **text, **bounds)  # type: ignore[valid-type]
    return annotation, Field(default, **text, **bounds)


def section_model(
    name: str, settings: type[Any], enabled: str | None = None, on: bool = True
) -> type[SettingsSection]:
    """The YAML section of one settings dataclass; with ``enabled`` (its description; on by
    default, or off) first."""
    hints = typing.get_type_hints(settings)
    fields: dict[str, Any] = {}
    if enabled is not None:
        fields["enabled"] = (bool, Field(on, title="Enabled", description=enabled))
    for key in yaml_keys(settings):
        f = settings.__dataclass_fields__[key]
        fields[key] = _field(hints[key], f.default, f.metadata)
    model = create_model(f"{_camel(name)}Config", __base__=SettingsSection, **fields)
    model.settings_class = settings
    return model


def config_model() -> type[HearthConfig]:
    """The model of the whole YAML file, with a section for each registered detector."""
    global _built
    specs = tuple(registered())
    if _built is not None and _built[0] == specs:
        return _built[1]
    sections: dict[str, Any] = {}
    for spec in specs:
        model = section_model(spec.name, spec.settings, spec.watches, spec.enabled_by_default)
        sections[spec.name] = (model, Field(default_factory=model, title=spec.title))
    health = section_model("sensor_health", SensorHealthSettings)
    sections["sensor_health"] = (
        health,
        FieldInfo(
            default_factory=health, title="Sensor health", description=SENSOR_HEALTH_DESCRIPTION
        ),
    )
    detectors = create_model("DetectorsConfig", __base__=DetectorsSection, **sections)
    whole = create_model(
        "HearthConfig",
        __base__=HearthConfig,
        __doc__=HearthConfig.__doc__,
        detectors=(detectors, Field(default_factory=detectors, title="Detectors")),
    )
    _built = (specs, whole)
    return whole
