"""An alerted episode is not learned as ordinary, so that it is as unusual the second time;
unless the household says it was ordinary (``hearth ordinary``), and then it is learned."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from agent.config import load_config
from agent.pipeline import Pipeline
from agent.replay import drive
from agent.simulation.persona import Persona
from agent.sources.control import Command, parse_command
from models.alert_policy import Alert
from models.events import SensorEvent
from tests.conftest import CONFIG

LONDON = ZoneInfo("Europe/London")
DEMO = load_config(CONFIG / "demo-home.yaml")
START = date(2025, 1, 6)
# The door is shut 20 s after it opens; the outing counts from then.
CLOSED = timedelta(seconds=20)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    d = START + timedelta(days=day)
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=LONDON).astimezone(UTC)


def out_at_night(events: list[SensorEvent], day: int) -> list[SensorEvent]:
    """The front door at 03:10, and no one indoors until she comes back at 06:10."""
    gone, back = at(day, 3, 10), at(day, 6, 10)
    kept = [e for e in events if not gone <= e.at < back + timedelta(minutes=5)]
    return [
        *kept,
        SensorEvent(gone, "front_door", "contact", 1.0),
        SensorEvent(gone + CLOSED, "front_door", "contact", 0.0),
        SensorEvent(back, "front_door", "contact", 1.0),
        SensorEvent(back + timedelta(minutes=1), "hall_motion", "motion", 1.0),
        SensorEvent(back + timedelta(minutes=3), "kitchen_motion", "motion", 1.0),
    ]


def two_nights_out() -> list[SensorEvent]:
    events = list(Persona(START, LONDON, seed=3).events(40))
    events = out_at_night(out_at_night(events, 30), 34)
    return sorted(events, key=lambda e: e.at)


def run(events: list[SensorEvent], ordinary_after_first: bool) -> list[Alert]:
    p = Pipeline(DEMO)
    alerts: list[Alert] = []

    def tick(now: datetime) -> None:
        for a in p.tick(now):
            alerts.append(a)
            if ordinary_after_first and a.type == "night_exit" and len(alerts) == 1:
                # The daughter rings; she was letting the cat in. Sent as the button would.
                cmd = parse_command(
                    f"hearth/{DEMO.household.id}/control/ordinary",
                    json.dumps({"alert": a.id}).encode(),
                    DEMO.household.id,
                    now,
                    LONDON,
                )
                assert "learning the outing" in p.command(cmd, now + timedelta(hours=4))

    drive(events, p.observe, tick)
    return [a for a in alerts if a.type == "night_exit" and a.ends is None]


def test_a_second_night_exit_four_days_after_the_first_is_raised() -> None:
    exits = run(two_nights_out(), ordinary_after_first=False)
    assert [a.started_at for a in exits] == [at(30, 3, 10) + CLOSED, at(34, 3, 10) + CLOSED]


def test_after_ordinary_the_same_night_exit_is_learned_and_not_raised_again() -> None:
    exits = run(two_nights_out(), ordinary_after_first=True)
    assert [a.started_at for a in exits] == [at(30, 3, 10) + CLOSED]


def test_a_held_episode_survives_a_restart_and_ordinary_for_an_unknown_alert_says_so() -> None:
    p = Pipeline(DEMO)
    events = [e for e in two_nights_out() if e.at < at(30, 12)]
    first: list[Alert] = []
    drive(events, p.observe, lambda now: first.extend(a for a in p.tick(now) if a.ends is None))
    (exit_,) = [a for a in first if a.type == "night_exit"]
    again = Pipeline(DEMO, json.loads(json.dumps(p.to_state())))
    held = again.monitor.routine.withheld.by_alert[exit_.id]
    assert held.learner == "outing"
    assert held.kept is not None
    assert held.kept["length_s"] == 3 * 3600 - 20
    unknown = Command("ordinary", None, "00000000-0000-0000-0000-000000000000")
    assert "no alert" in again.command(unknown, at(30, 13))
    assert "learning the outing" in again.command(Command("ordinary", None, exit_.id), at(30, 13))
    assert exit_.id not in again.monitor.routine.withheld.by_alert
