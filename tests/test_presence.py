"""An mmWave presence sensor in the lounge (``kind: presence``): its arrivals are signs of life,
learned like motion; its "present" said again and again while she lies still on the floor is
not movement, and the fall is raised as it is with a PIR."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from agent.config import HearthConfig, load_config
from agent.decode import Decoder
from agent.errors import ConfigError
from agent.replay import replay
from agent.simulation.persona import BadDay, Persona
from models.events import SensorEvent
from tests.conftest import CONFIG

LONDON = ZoneInfo("Europe/London")
START = date(2026, 3, 2)
FALL_DAY = 20
TOPIC = "zigbee2mqtt/lounge_radar"


def with_a_radar() -> HearthConfig:
    doc = load_config(CONFIG / "demo-home.yaml").model_dump(mode="json")
    for s in doc["sensors"]:
        s["mqtt"] = {"topic": f"zigbee2mqtt/{s['id']}"}
        if s["id"] == "lounge_motion":
            s["kind"], s["mqtt"] = "presence", {"topic": TOPIC}
    return HearthConfig.from_document(doc)


def through_the_radar(cfg: HearthConfig, repeat: bool) -> list[SensorEvent]:
    """The demo household's weeks, the lounge read by the radar (payloads decoded); on the
    fall day it says "present" every minute from her fall until the visitor comes. With
    ``repeat``, each of those is taken as an event, as a decoder without memory would."""
    decoder = Decoder(cfg.sensors)
    bad = (BadDay(FALL_DAY, "fall"),)
    events: list[SensorEvent] = []
    for e in Persona(START, LONDON, seed=3).events(FALL_DAY + 2, bad):
        if e.sensor != "lounge_motion":
            events.append(e)
            continue
        payload = json.dumps({"presence": e.value > 0.5}).encode()
        events += decoder.decode(TOPIC, payload, e.at)
    day = START + timedelta(days=FALL_DAY)
    visitor = datetime(day.year, day.month, day.day, 18, 30, tzinfo=LONDON)
    fell = max(e.at for e in events if e.at < visitor and e.is_activity)
    at = fell + timedelta(minutes=1)
    while at < visitor:
        said = decoder.decode(TOPIC, b'{"presence": true, "target_distance": 1.2}', at)
        events += said or ([SensorEvent(at, "lounge_motion", "presence", 1.0)] if repeat else [])
        at += timedelta(minutes=1)
    return sorted(events, key=lambda e: e.at)


def falls(cfg: HearthConfig, events: list[SensorEvent]) -> list[datetime]:
    day = START + timedelta(days=FALL_DAY)
    alerts = replay(cfg, events).alerts
    return [
        a.detected_at
        for a in alerts
        if a.type == "inactivity" and a.detected_at.astimezone(LONDON).date() == day
    ]


def test_a_fall_under_a_radar_that_keeps_saying_present_is_raised() -> None:
    cfg = with_a_radar()
    events = through_the_radar(cfg, repeat=False)
    # The radar's arrivals were learned as signs of life, as a PIR's are.
    assert sum(e.sensor == "lounge_motion" and e.is_activity for e in events) > 100
    assert falls(cfg, events), "the fall is raised"


def test_the_same_fall_is_missed_if_each_repeat_were_taken_as_movement() -> None:
    cfg = with_a_radar()
    assert falls(cfg, through_the_radar(cfg, repeat=True)) == []


def test_a_presence_sensor_on_the_serial_bridge_is_refused(tmp_path: Path) -> None:
    doc = yaml.safe_load((CONFIG / "serial-home.yaml").read_text(encoding="utf-8"))
    (radar,) = [s for s in doc["sensors"] if s["kind"] == "motion" and "serial" in s][:1]
    radar["kind"] = "presence"
    path = tmp_path / "home.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(ConfigError, match="a presence sensor is read over mqtt"):
        load_config(path)
