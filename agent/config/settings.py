"""From a household's configuration to what the models are built with: the household as the
models see it, and the monitor's settings (each detector's taken from its section as it is)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from agent.config.schema import HearthConfig
from models.detectors import registered
from models.household import Household, SensorInfo
from models.monitor import MonitorSettings
from models.routine import RoutineSettings


def household_of(cfg: HearthConfig) -> Household:
    return Household(
        cfg.household.id,
        ZoneInfo(cfg.household.timezone),
        tuple(SensorInfo(s.id, s.kind, s.room, s.role) for s in cfg.sensors),
    )


def routine_settings_of(cfg: HearthConfig) -> RoutineSettings:
    """What the routine learns, and what each detector's section asks it to (even a detector
    switched off: the routine is the same whichever detectors watch it)."""
    asked: dict[str, object] = {}
    for spec in registered():
        if spec.routine is not None:
            asked |= spec.routine(cfg.detectors.settings_of(spec.name))
    half_life = cfg.learning.half_life / timedelta(days=1)
    return RoutineSettings(half_life_days=half_life, **asked)  # type: ignore[arg-type]


def monitor_settings_of(cfg: HearthConfig) -> MonitorSettings:
    return MonitorSettings(
        learning_days=cfg.learning.days,
        routine=routine_settings_of(cfg),
        detectors=cfg.detectors.chosen(),
        health=cfg.detectors.settings_of("sensor_health"),
    )
