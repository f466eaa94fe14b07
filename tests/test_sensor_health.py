"""Sensor health: learned silences, offline sensors, low batteries, and detectors that abstain."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.config import household_of
from models.detectors.sensor_findings import sensor_findings
from models.detectors.sensor_health import SensorHealth
from models.events import READINGS, SensorEvent
from models.finding import Finding
from models.household import Household, SensorInfo
from models.monitor import Monitor
from tests.test_models import DEMO, learned_monitor

UTC_HOME = Household(
    "h",
    household_of(DEMO).tz,
    (
        SensorInfo("lounge", "motion", "lounge", "lounge"),
        SensorInfo("kitchen", "motion", "kitchen", "kitchen"),
    ),
)
T0 = datetime(2025, 1, 6, tzinfo=UTC)


def hourly_reports(health: SensorHealth, sensor: str, days: int) -> datetime:
    t = T0
    for _ in range(days * 24):
        health.observe(SensorEvent(t, sensor, "link_quality", 100.0))
        t += timedelta(hours=1)
    return t - timedelta(hours=1)


def test_a_reporting_sensor_is_silent_past_twice_its_usual_longest_silence() -> None:
    health = SensorHealth(UTC_HOME)
    last = hourly_reports(health, "lounge", 20)
    assert health.usual_silence_s("lounge") == 2 * 3600
    assert health.problems(last + timedelta(minutes=119), None) == []
    (p,) = health.problems(last + timedelta(hours=2), None)
    assert (p.sensor, p.kind, p.since) == ("lounge", "silent", last)
    (f,) = sensor_findings(health, last + timedelta(hours=3), [p])
    assert f.type == "sensor_silent"
    assert f.severity == "technical"
    assert "lounge motion sensor (lounge) has not been heard from since" in f.summary
    assert "never silent much past 1 h" in f.summary


def test_nothing_is_called_silent_while_still_learning() -> None:
    health = SensorHealth(UTC_HOME)
    last = hourly_reports(health, "lounge", 10)
    assert health.usual_silence_s("lounge") is None
    assert health.problems(last + timedelta(days=3), None) == []


def test_a_sensor_that_only_fires_is_not_broken_when_the_whole_house_is_still() -> None:
    health = SensorHealth(UTC_HOME)
    t = T0
    for _ in range(20 * 24):  # both rooms fire every hour for 20 days
        health.observe(SensorEvent(t, "lounge", "motion", 1.0))
        health.observe(SensorEvent(t, "kitchen", "motion", 1.0))
        t += timedelta(hours=1)
    last = t - timedelta(hours=1)
    # Everything still for five hours: the person's stillness, not a broken sensor.
    assert health.problems(last + timedelta(hours=5), last) == []
    # The kitchen keeps firing while the lounge stays quiet: the lounge sensor is suspect.
    for i in range(1, 6):
        health.observe(SensorEvent(last + timedelta(hours=i), "kitchen", "motion", 1.0))
    problems = health.problems(last + timedelta(hours=5), last + timedelta(hours=5))
    assert [(p.sensor, p.kind) for p in problems] == [("lounge", "quiet")]
    (f,) = sensor_findings(health, last + timedelta(hours=5), problems)
    assert "unless that room is simply not being used" in f.summary


def test_offline_after_the_grace_then_back_online() -> None:
    health = SensorHealth(UTC_HOME)
    health.observe(SensorEvent(T0, "lounge", "availability", 0.0))
    assert health.problems(T0 + timedelta(minutes=9), None) == []
    (p,) = health.problems(T0 + timedelta(minutes=10), None)
    assert p.kind == "offline"
    (f,) = sensor_findings(health, T0 + timedelta(minutes=10), [p])
    assert f.type == "sensor_offline"
    assert "offline since" in f.summary
    health.observe(SensorEvent(T0 + timedelta(minutes=30), "lounge", "motion", 1.0))
    assert health.problems(T0 + timedelta(minutes=31), None) == []


def test_a_link_down_makes_its_sensors_offline_without_an_alert_each() -> None:
    health = SensorHealth(UTC_HOME)
    health.observe(SensorEvent(T0, "lounge", "motion", 1.0))
    health.source_down(["lounge", "kitchen"], T0)
    problems = health.problems(T0 + timedelta(minutes=10), None)
    assert [(p.sensor, p.kind) for p in problems] == [("lounge", "offline"), ("kitchen", "offline")]
    assert (
        sensor_findings(health, T0 + timedelta(minutes=10), problems) == []
    )  # the link's own alert says it
    health.source_up(["lounge", "kitchen"])
    assert health.problems(T0 + timedelta(minutes=11), None) == []


def test_low_battery_is_one_episode_until_the_battery_is_replaced() -> None:
    health = SensorHealth(UTC_HOME)
    health.observe(SensorEvent(T0, "kitchen", "battery", 40.0))
    assert sensor_findings(health, T0, []) == []
    health.observe(SensorEvent(T0 + timedelta(days=1), "kitchen", "battery", 14.0))
    health.observe(SensorEvent(T0 + timedelta(days=2), "kitchen", "battery", 16.0))  # a wobble
    (f,) = sensor_findings(health, T0 + timedelta(days=2), [])
    assert f.type == "battery_low"
    assert "(16%)" in f.summary
    assert f.episode.endswith((T0 + timedelta(days=1)).isoformat())
    health.observe(SensorEvent(T0 + timedelta(days=3), "kitchen", "battery", 100.0))
    assert sensor_findings(health, T0 + timedelta(days=3), []) == []
    health.observe(SensorEvent(T0 + timedelta(days=4), "kitchen", "battery_low", 1.0))
    (g,) = sensor_findings(health, T0 + timedelta(days=4), [])
    assert g.episode != f.episode


def test_every_sensor_silent_at_once_is_one_alert_about_the_hub() -> None:
    health = SensorHealth(UTC_HOME)
    hourly_reports(health, "lounge", 20)
    last = hourly_reports(health, "kitchen", 20)
    problems = health.problems(last + timedelta(hours=6), None)
    assert len(problems) == 2
    (f,) = sensor_findings(health, last + timedelta(hours=6), problems)
    assert f.episode.startswith("sensor_silent:all:")
    assert "No sensor has been heard from" in f.summary


@given(
    st.lists(
        st.tuples(
            st.integers(0, 40 * 24 * 60),
            st.sampled_from(["lounge", "kitchen", "garage"]),
            st.sampled_from(READINGS),
            st.floats(-10, 200),
        ),
        max_size=200,
    )
)
@settings(max_examples=80, deadline=None)
def test_any_readings_in_any_order_never_raise_and_the_state_round_trips(
    readings: list[tuple[int, str, str, float]],
) -> None:
    health = SensorHealth(UTC_HOME)
    for minute, sensor, reading, value in readings:
        health.observe(SensorEvent(T0 + timedelta(minutes=minute), sensor, reading, value))  # type: ignore[arg-type]
    now = T0 + timedelta(days=41)
    problems = health.problems(now, None)
    assert {p.sensor for p in problems} <= {"lounge", "kitchen"}
    findings = sensor_findings(health, now, problems)
    again = SensorHealth.from_state(
        json.loads(json.dumps(health.to_state())), UTC_HOME, health.settings
    )
    assert again.problems(now, None) == problems
    assert sensor_findings(again, now, problems) == findings


# --- a flat battery never looks like an inactive person --------------------------------------


def learned_monitor_and_next_day() -> tuple[Monitor, datetime]:
    m, events = learned_monitor()
    d = events[-1].at.date() + timedelta(days=1)
    return m, datetime(d.year, d.month, d.day, tzinfo=UTC)


def still_afternoon(m: Monitor, day: datetime, before: list[SensorEvent]) -> list[Finding]:
    for e in before:
        m.observe(e)
    found: list[Finding] = []
    t = day.replace(hour=13, minute=1)
    while t < day.replace(hour=21):
        found += m.tick(t)
        t += timedelta(minutes=1)
    return found


def test_a_sensor_offline_pauses_inactivity_with_a_monitoring_gap_instead() -> None:
    m, day = learned_monitor_and_next_day()
    found = still_afternoon(
        m,
        day,
        [
            SensorEvent(day.replace(hour=13), "lounge_motion", "motion", 1.0),
            SensorEvent(day.replace(hour=13, minute=1), "lounge_motion", "availability", 0.0),
        ],
    )
    kinds = [f.type for f in found]
    assert "inactivity" not in kinds
    gap = next(f for f in found if f.type == "monitoring_gap")
    assert gap.severity == "warning"
    assert gap.evidence["sensors"] == {"lounge_motion": "offline"}
    assert "inactivity" in gap.evidence["paused"]  # type: ignore[operator]
    assert gap.detected_at == day.replace(hour=13, minute=11)
    assert "sensor_offline" in kinds


def test_inactivity_is_raised_again_once_the_sensor_is_back() -> None:
    m, day = learned_monitor_and_next_day()
    found = still_afternoon(
        m,
        day,
        [
            SensorEvent(day.replace(hour=12), "lounge_motion", "availability", 0.0),
            SensorEvent(day.replace(hour=12, minute=30), "lounge_motion", "availability", 1.0),
            SensorEvent(day.replace(hour=13), "lounge_motion", "motion", 1.0),
        ],
    )
    assert "inactivity" in [f.type for f in found]
    assert not [f for f in found if f.type == "monitoring_gap"]


def test_the_demos_flat_battery_would_have_been_an_inactivity_alert_without_the_pause(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The demo's planted flat battery: she sits in the lounge all afternoon while its sensor
    is dead. With the detectors pausing, a monitoring gap; with them not pausing, the false
    inactivity alert that this whole mechanism exists to prevent."""
    from datetime import date
    from zoneinfo import ZoneInfo

    import models.monitor
    from agent.replay import replay
    from agent.simulation.persona import DEMO_BAD_DAYS, Persona

    flat_day = date(2026, 3, 2) + timedelta(days=33)
    london = ZoneInfo("Europe/London")

    def alerts_that_day() -> list[str]:
        events = Persona(date(2026, 3, 2), london, seed=7).events(42, DEMO_BAD_DAYS)
        alerts = replay(DEMO, events).alerts
        return [a.type for a in alerts if a.detected_at.astimezone(london).date() == flat_day]

    assert alerts_that_day() == ["battery_low", "sensor_offline", "monitoring_gap"]
    monkeypatch.setattr(models.monitor, "PAUSING", frozenset())
    assert "inactivity" in alerts_that_day()
