"""A household's YAML file: its shape (``schema``, with the detectors' sections generated from
the registry by ``sections``), loading it with errors a technician can act on (``loading``),
durations with units (``durations``), what the models are built from it (``settings``), and
what ``check-config`` adds for a file that loads but is risky (``advice``)."""

from agent.config.loading import json_schema, load_config, load_config_text
from agent.config.schema import HearthConfig
from agent.config.settings import household_of, monitor_settings_of
from agent.errors import ConfigError, ConfigProblem

__all__ = [
    "ConfigError",
    "ConfigProblem",
    "HearthConfig",
    "household_of",
    "json_schema",
    "load_config",
    "load_config_text",
    "monitor_settings_of",
]
