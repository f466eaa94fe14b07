"""A fall that ends is raised while she is still on the floor: by day, inactivity never waits
past the long-lie limit, whatever the hour usually holds; at night, in bed, it still waits
for her usual waking."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml

from agent.config import (
    ConfigError,
    household_of,
    load_config,
    load_config_text,
    monitor_settings_of,
)
from agent.simulation.persona import Persona
from models.detectors.inactivity import InactivitySettings
from models.detectors.wording import rarity_text
from models.events import SensorEvent
from models.finding import Finding
from models.monitor import Monitor, MonitorSettings
from tests.conftest import CONFIG, config_with

LONDON = ZoneInfo("Europe/London")
DEMO = load_config(CONFIG / "demo-home.yaml")
START = date(2025, 1, 6)
DAYS = 28


def at(day: int, hour: int, minute: int = 0) -> datetime:
    d = START + timedelta(days=day)
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=LONDON).astimezone(UTC)


def still_from(settings: MonitorSettings, last: SensorEvent, hours: float) -> list[Finding]:
    """The learned household, then nothing after ``last`` for ``hours``: every inactivity
    finding, minute by minute."""
    m = Monitor(household_of(DEMO), settings)
    for e in Persona(START, LONDON, seed=3).events(DAYS):
        m.observe(e)
    assert m.learned
    m.observe(last)
    found = []
    for minute in range(1, int(hours * 60)):
        found += [f for f in m.tick(last.at + timedelta(minutes=minute)) if f.type == "inactivity"]
    return found


def test_a_fall_in_the_lounge_after_lunch_is_raised_at_the_long_lie_limit() -> None:
    # With a budget of once in 30 days, the learned limit for the lounge after lunch (a nap is
    # usual then) is past two hours (at the default 10, it is a little under).
    settings = monitor_settings_of(DEMO).with_detector(
        "inactivity", InactivitySettings(once_in_days=30.0)
    )
    fall = SensorEvent(at(DAYS, 14, 0), "lounge_motion", "motion", 1.0)
    found = still_from(settings, fall, 2.5)
    assert found, "a lie of two and a half hours after lunch was not raised while she was down"
    first = found[0]
    assert first.detected_at - fall.at == timedelta(hours=2)
    assert first.evidence["basis"] == "long_lie"
    assert first.evidence["alert_after_minutes"] == 120.0
    assert "By day, Hearth waits no longer than this for a stillness after the lounge" in (
        first.summary
    )
    # Her naps end within two hours: stillness that long by day is rare here, and the alert
    # says how rare, the number in its text the number in its evidence.
    once_in = first.evidence["about_once_in_days"]
    assert isinstance(once_in, float)
    assert once_in > 10
    said = f" Here, stillness this long by day comes {rarity_text(once_in)}."
    assert first.summary.endswith(said)
    # Without the limit, the learned afternoon (a nap is usual here) waits longer.
    off = settings.with_detector(
        "inactivity", InactivitySettings(once_in_days=30.0, long_lie=timedelta(hours=14))
    )
    learned = still_from(off, fall, 3.0)
    assert learned
    assert learned[0].detected_at - fall.at > timedelta(hours=2)
    assert learned[0].evidence["basis"] == "learned"


def test_at_a_long_lie_limit_her_naps_reach_the_alert_says_how_often_they_do() -> None:
    # At 50 minutes, the limit is shorter than her naps after lunch: stillness that long by
    # day comes often here, and the alert says so.
    settings = monitor_settings_of(DEMO).with_detector(
        "inactivity", InactivitySettings(long_lie=timedelta(minutes=50))
    )
    found = still_from(settings, SensorEvent(at(DAYS, 14, 0), "lounge_motion", "motion", 1.0), 1)
    assert found
    assert found[0].evidence["basis"] == "long_lie"
    once_in = found[0].evidence["about_once_in_days"]
    assert isinstance(once_in, float)
    assert once_in < 10, "her naps come more often than once in 10 days"
    assert found[0].summary.endswith(
        f" Here, stillness this long by day comes {rarity_text(once_in)}."
    )


def test_in_bed_at_night_she_is_asleep_until_she_usually_wakes_not_lying_hurt() -> None:
    settings = monitor_settings_of(DEMO)
    bed = SensorEvent(at(DAYS, 22, 50), "bedroom_motion", "motion", 1.0)
    found = still_from(settings, bed, 7.0)
    assert found == []


def test_the_long_lie_limit_is_set_in_the_yaml_and_checked() -> None:
    cfg = config_with(DEMO, ("detectors", "inactivity", "long_lie"), "2h")
    assert cfg.detectors.settings_of("inactivity").long_lie == timedelta(hours=2)
    doc = DEMO.model_dump(mode="json")
    doc["detectors"]["inactivity"]["long_lie"] = "30min"
    with pytest.raises(ConfigError, match="long_lie must be between shortest and ceiling"):
        load_config_text(yaml.safe_dump(doc), "home.yaml")
