"""Away mode, the resident's pause and visitors: parsing the commands, and what they change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.errors import ControlError
from agent.pipeline import Pipeline
from agent.sources.control import Command, parse_command
from models.events import SensorEvent
from models.finding import Finding
from tests.test_models import DEMO, learned_monitor

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")


def cmd(name: str, payload: bytes = b"") -> Command:
    return parse_command(f"hearth/h1/control/{name}", payload, "h1", NOW, LONDON)


def test_commands_are_read_from_durations_json_and_local_times() -> None:
    assert cmd("pause", b"2h") == cmd("pause", b'{"for": "2h"}')
    away = parse_command(
        "hearth/h1/control/away", b'{"until": "2026-01-07T18:00"}', "h1", NOW, LONDON
    )
    assert away.until == datetime(2026, 1, 7, 18, 0, tzinfo=LONDON)
    assert parse_command("hearth/h1/control/home", b"", "h1", NOW, LONDON).until is None


@pytest.mark.parametrize(
    ("name", "payload", "says"),
    [
        ("pause", b"", "needs an end"),
        ("pause", b"366d", "at most 365 days"),
        ("away", b"90", "write a number and a unit"),
        ("away", b'{"until": "2020-01-01T00:00"}', "already past"),
        ("away", b"{nope", "not valid JSON"),
        ("away", b'{"for": "2h", "x": 1}', "expected a duration"),
        ("sleep", b"", "unknown command 'sleep'"),
    ],
)
def test_bad_commands_say_what_is_wrong(name: str, payload: bytes, says: str) -> None:
    with pytest.raises(ControlError, match=says):
        cmd(name, payload)


@given(st.binary(max_size=80), st.sampled_from(["away", "home", "pause", "resume", "x"]))
@settings(max_examples=200, deadline=None)
def test_any_payload_is_a_command_or_a_control_error(payload: bytes, name: str) -> None:
    try:
        c = cmd(name, payload)
    except ControlError:
        return
    if c.name in ("home", "resume"):
        assert c.until is None
    else:
        assert c.until is not None
        assert NOW < c.until <= NOW + timedelta(days=365)


def afternoon(m: object, day: datetime, until_hour: int = 21) -> list[Finding]:
    from models.monitor import Monitor

    assert isinstance(m, Monitor)
    found: list[Finding] = []
    t = day.replace(hour=13, minute=1)
    while t < day.replace(hour=until_hour):
        found += m.tick(t)
        t += timedelta(minutes=1)
    return found


def next_day(events: list[SensorEvent]) -> datetime:
    d = events[-1].at.date() + timedelta(days=1)
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def test_away_mode_silences_the_detectors_and_quiet_counts_from_its_end() -> None:
    m, events = learned_monitor()
    day = next_day(events)
    m.observe(SensorEvent(day.replace(hour=13), "lounge_motion", "motion", 1.0))
    m.set_away(day.replace(hour=13), day.replace(hour=17))
    found = afternoon(m, day)
    inactivity = [f for f in found if f.type == "inactivity"]
    assert inactivity  # the house still quiet hours after away mode ended
    assert min(f.detected_at for f in inactivity) >= day.replace(hour=17, minute=45)
    assert {f.started_at for f in inactivity} == {day.replace(hour=17)}


def test_visitors_leaving_by_the_door_do_not_take_the_resident_out() -> None:
    m, events = learned_monitor()
    day = next_day(events)
    t = day.replace(hour=12)
    for i in range(3):  # two people in two rooms, moving at the same moments
        m.observe(SensorEvent(t + timedelta(minutes=i), "lounge_motion", "motion", 1.0))
        m.observe(SensorEvent(t + timedelta(minutes=i, seconds=2), "kitchen_motion", "motion", 1.0))
    assert m.routine.presence.visitors(t + timedelta(minutes=5))
    m.observe(SensorEvent(day.replace(hour=13), "front_door", "contact", 1.0))
    m.observe(SensorEvent(day.replace(hour=13, second=20), "front_door", "contact", 0.0))
    assert not m.routine.maybe_out
    found = afternoon(m, day)
    assert "inactivity" in {f.type for f in found}
    assert "not_returned" not in {f.type for f in found}


def test_one_person_walking_between_rooms_is_not_visitors() -> None:
    m, events = learned_monitor()
    day = next_day(events)
    t = day.replace(hour=12)
    for i in range(10):
        room = ("lounge_motion", "kitchen_motion")[i % 2]
        m.observe(SensorEvent(t + timedelta(seconds=20 * i), room, "motion", 1.0))
    assert not m.routine.presence.visitors(t + timedelta(minutes=5))


def test_the_residents_pause_holds_back_carer_alerts_not_technical_ones() -> None:
    p = Pipeline(DEMO)
    p.command(cmd("pause", b"3h"), NOW)
    urgent = Finding("inactivity", "urgent", NOW, NOW + timedelta(hours=1), "x", "e1")
    tech = Finding("battery_low", "technical", NOW, NOW + timedelta(hours=1), "y", "e2")
    assert p.policy.decide(urgent) is None
    assert p.policy.decide(tech) is not None
    restored = Pipeline(DEMO, p.to_state())
    assert restored.policy.paused_until == NOW + timedelta(hours=3)
    p.command(cmd("resume"), NOW)
    later = Finding("inactivity", "urgent", NOW, NOW + timedelta(hours=1), "x", "e3")
    assert p.policy.decide(later) is not None


def test_a_pause_or_away_longer_than_the_yaml_allows_changes_nothing() -> None:
    p = Pipeline(DEMO)
    with pytest.raises(ControlError, match=r"pause may last at most 7 days \(controls"):
        p.command(cmd("pause", b"8d"), NOW)
    with pytest.raises(ControlError, match="away may last at most 60 days"):
        p.command(cmd("away", b"61d"), NOW)
    assert p.policy.paused_until is None
    assert p.monitor.away_until is None
    assert p.told == []
    # Only the YAML raises it.
    longer = DEMO.model_copy(update={"controls": DEMO.controls.model_copy(
        update={"longest_pause": timedelta(days=14)})})  # fmt: skip
    q = Pipeline(longer)
    q.command(cmd("pause", b"8d"), NOW)
    assert q.policy.paused_until == NOW + timedelta(days=8)


def test_each_change_is_told_to_the_care_team_even_while_paused_renewals_too() -> None:
    p = Pipeline(DEMO)
    p.command(cmd("pause", b"3h"), NOW)
    assert not p.settled(p.policy.decided)  # a save waits for it to be told
    told = p.tick(NOW)
    assert [(a.type, a.severity) for a in told] == [("household_control", "warning")]
    assert told[0].summary.startswith("Monitoring paused by the household until Mon 05 Jan 12:00")
    assert p.settled(p.policy.decided)
    assert p.tick(NOW + timedelta(minutes=1)) == []  # told once
    # Renewed: told again, though alerts are paused.
    later = NOW + timedelta(hours=2)
    p.command(parse_command("hearth/h1/control/pause", b"3h", "h1", later, LONDON), later)
    again = p.tick(later)
    assert [a.summary[:48] for a in again] == ["Monitoring paused by the household until Mon 05 "]
    assert again[0].id != told[0].id
    p.command(cmd("resume"), later)
    p.command(cmd("away", b"2d"), later)
    p.command(cmd("home"), later)
    assert [a.evidence["command"] for a in p.tick(later)] == ["resume", "away", "home"]
    # "ordinary" changes what is learned, not what is watched: not told.
    p.command(cmd("ordinary", b"0b6a1f5e-4c2d-4e8f-9a7b-1c2d3e4f5a6b"), later)
    assert p.tick(later) == []
