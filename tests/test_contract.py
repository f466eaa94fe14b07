"""One contract, checked over every registered detector (as river's ``check_estimator`` runs over
every estimator): its state survives a JSON round trip mid-stream, with identical findings after;
it raises nothing but its safety net while the routine is still being learned; it abstains while
a sensor it needs is offline, and the monitor says so; a replay is deterministic. A toy detector
registered here shows up in the YAML schema, the agent's start-up log and the monitor.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.config import household_of, json_schema, load_config_text, monitor_settings_of
from agent.replay import drive
from agent.runtime import Agent
from agent.store import Store
from models.alert_policy import AlertPolicy
from models.detectors import DetectorSpec, register, registered, unregister
from models.detectors.contract import Settings, Stateless, setting
from models.events import SensorEvent
from models.finding import Finding
from models.monitor import Monitor, MonitorSettings
from models.routine import HouseholdRoutine
from tests import contract_home
from tests.conftest import CONFIG

DEMO_DOC: dict[str, Any] = yaml.safe_load((CONFIG / "demo-home.yaml").read_text())
DEMO = load_config_text(yaml.safe_dump(DEMO_DOC), "demo-home.yaml")
HOME = household_of(DEMO)
BUILT_IN = [spec.name for spec in registered()]
# What a household's YAML runs unless it says otherwise (the weekly summary is off).
ON_BY_DEFAULT = [spec.name for spec in registered() if spec.enabled_by_default]


def key(f: Finding) -> tuple[object, ...]:
    return (f.type, f.episode, f.detected_at, f.summary, json.dumps(f.evidence, sort_keys=True))


def round_trip_times(events: list[SensorEvent]) -> frozenset[datetime]:
    """Once a day, at a minute that moves through the day (so some fall inside episodes)."""
    first = events[0].at.replace(second=0, microsecond=0)
    return frozenset(first + timedelta(days=d, minutes=(d * 137) % 1440) for d in range(60))


@dataclass
class Watching:
    monitor: Monitor
    learned_at: datetime | None = None


def run(
    settings: MonitorSettings,
    events: list[SensorEvent],
    round_trips: frozenset[datetime] = frozenset(),
) -> tuple[list[Finding], datetime | None]:
    """Every finding, minute by minute, and when the routine counted as learned."""
    w = Watching(Monitor(HOME, settings))
    found: list[Finding] = []

    def tick(now: datetime) -> None:
        if now in round_trips:
            saved = json.loads(json.dumps(w.monitor.to_state()))
            w.monitor = Monitor.from_state(saved, HOME, settings)
        if w.monitor.learned and w.learned_at is None:
            w.learned_at = now
        found.extend(w.monitor.tick(now))

    def observe(e: SensorEvent) -> None:
        w.monitor.observe(e)

    drive(events, observe, tick)
    return found, w.learned_at


def only(name: str, settings: MonitorSettings | None = None) -> MonitorSettings:
    base = settings or monitor_settings_of(DEMO)
    spec = next(s for s in registered() if s.name == name)
    mine = base.detectors.get(name) or spec.settings()  # one off unless turned on: its defaults
    return MonitorSettings(base.learning_days, base.routine, {name: mine}, base.health)


@cache
def scenario() -> list[SensorEvent]:
    return contract_home.events()


@cache
def full_run(name: str) -> tuple[tuple[Finding, ...], datetime | None]:
    found, learned_at = run(only(name), scenario())
    return tuple(found), learned_at


def of_type(found: tuple[Finding, ...] | list[Finding], name: str) -> list[Finding]:
    return [f for f in found if f.type == name]


@pytest.mark.parametrize("name", BUILT_IN)
def test_the_home_gives_each_detector_something_to_find(name: str) -> None:
    found, learned_at = full_run(name)
    assert learned_at is not None
    mine = of_type(found, name)
    assert mine, f"{name} found nothing in the contract home"
    for anomaly in contract_home.ANOMALIES:
        if anomaly.detector == name:
            day = contract_home.at(anomaly.day, 0)
            assert any(day <= f.detected_at < day + timedelta(days=8) for f in mine), anomaly.what


@pytest.mark.parametrize("name", BUILT_IN)
def test_state_survives_a_json_round_trip_mid_stream(name: str) -> None:
    found, _ = full_run(name)
    again, _ = run(only(name), scenario(), round_trip_times(scenario()))
    assert [key(f) for f in again] == [key(f) for f in found]


@pytest.mark.parametrize("name", BUILT_IN)
def test_replay_is_deterministic(name: str) -> None:
    found, _ = full_run(name)
    again, _ = run(only(name), scenario())
    assert [key(f) for f in again] == [key(f) for f in found]


@pytest.mark.parametrize("name", BUILT_IN)
def test_while_learning_only_the_safety_net_is_raised(name: str) -> None:
    """Still learning after seven weeks, the detector meets every anomaly of the contract home
    (which it finds once learned: see above) and raises at most its safety net."""
    never = dataclasses.replace(only(name), learning_days=10_000)
    found, learned_at = run(never, scenario())
    assert learned_at is None
    mine = of_type(found, name)
    assert all(f.evidence.get("basis") == "safety_ceiling" for f in mine), mine[:1]
    if name == "inactivity":  # a day of stillness while learning, and the fall, pass 14 h
        assert mine


def needed_and_unheard(name: str, f: Finding, events: list[SensorEvent], lo: datetime) -> str:
    """A sensor ``name`` needs that says nothing from ``lo`` until ``f`` is raised."""
    spec = next(s for s in registered() if s.name == name)
    detector = spec.build(spec.settings(), {})
    needs = detector.needs(HouseholdRoutine(HOME, monitor_settings_of(DEMO).routine))
    heard = {e.sensor for e in events if lo <= e.at <= f.detected_at}
    quiet = sorted(needs - heard)
    assert quiet, f"every sensor {name} needs was heard just before {f.episode}"
    return quiet[0]


@pytest.mark.parametrize("name", BUILT_IN)
def test_it_abstains_while_a_sensor_it_needs_is_offline_and_says_so(name: str) -> None:
    found, learned_at = full_run(name)
    spec = next(s for s in registered() if s.name == name)
    if not spec.build(spec.settings(), {}).needs(HouseholdRoutine(HOME)):
        # Needs no sensor (the digest: a broken sensor shows as a day's gap, not a change), so
        # it is never paused; and it still finds what it found.
        assert of_type(found, name)
        return
    assert learned_at is not None
    first = next(f for f in of_type(found, name) if f.detected_at > learned_at)
    off_at = first.detected_at - timedelta(minutes=15)
    sensor = needed_and_unheard(name, first, scenario(), off_at)
    offline = sorted(
        [*scenario(), SensorEvent(off_at, sensor, "availability", 0.0)], key=lambda e: e.at
    )
    again, _ = run(only(name), offline)
    window = [f for f in again if off_at + timedelta(minutes=10) <= f.detected_at]
    window = [f for f in window if f.detected_at <= first.detected_at + timedelta(minutes=30)]
    assert not of_type(window, name), f"{name} raised while {sensor} was offline"
    gaps = of_type(window, "monitoring_gap")
    assert gaps
    assert name in gaps[0].evidence["paused"]  # type: ignore[operator]
    assert sensor in gaps[0].evidence["sensors"]  # type: ignore[operator]


# --- a toy detector -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LateKettleSettings(Settings):
    until_hour: int = setting(4, "Until", "The kettle before this hour is a late one.", ge=1)


class LateKettle(Stateless):
    """The kettle used between midnight and ``until_hour``: a toy, for the contract."""

    type = "late_kettle"

    def __init__(self, settings: LateKettleSettings) -> None:
        self.settings = settings

    def needs(self, routine: HouseholdRoutine) -> frozenset[str]:
        return routine.mornings.sensors

    def check(self, routine: HouseholdRoutine, now: datetime, learned: bool) -> Finding | None:
        last = routine.last_activity_at
        if not learned or last is None or routine.last_activity_sensor != "kettle":
            return None
        if last.astimezone(routine.household.tz).hour >= self.settings.until_hour:
            return None
        return Finding(
            self.type, "warning", last, now, "The kettle, late.", f"late_kettle:{last}", {}
        )


@pytest.fixture
def toy() -> Iterator[DetectorSpec]:
    spec = register(
        DetectorSpec(
            name="late_kettle",
            title="Late kettle",
            watches="Watch for the kettle in the small hours.",
            settings=LateKettleSettings,
            build=lambda settings, _state: LateKettle(settings),
        )
    )
    try:
        yield spec
    finally:
        unregister(spec.name)


def test_a_toy_detector_is_in_the_schema_the_config_and_the_monitor(toy: DetectorSpec) -> None:
    section = json_schema()["$defs"]["LateKettleConfig"]
    assert section["properties"]["until_hour"]["minimum"] == 1
    assert section["properties"]["enabled"]["description"] == toy.watches
    doc = {**DEMO_DOC, "detectors": {**DEMO_DOC["detectors"], "late_kettle": {"until_hour": 3}}}
    cfg = load_config_text(yaml.safe_dump(doc), "toy.yaml")
    settings = monitor_settings_of(cfg)
    assert settings.detectors["late_kettle"] == LateKettleSettings(until_hour=3)
    assert list(Monitor(HOME, settings).detectors)[-1] == "late_kettle"
    off = {**doc, "detectors": {"late_kettle": {"enabled": False}}}
    assert "late_kettle" not in monitor_settings_of(load_config_text(yaml.safe_dump(off))).detectors
    with pytest.raises(Exception, match="until_hour"):
        load_config_text(yaml.safe_dump({**doc, "detectors": {"late_kettle": {"until": 3}}}))


def test_a_toy_detector_keeps_the_contract(toy: DetectorSpec) -> None:
    late = [*scenario(), *contract_home_kettle_at_night()]
    late.sort(key=lambda e: e.at)
    settings = only("late_kettle", MonitorSettings(detectors={"late_kettle": LateKettleSettings()}))
    found, _ = run(settings, late)
    assert of_type(found, "late_kettle")
    again, _ = run(settings, late, round_trip_times(late))
    assert [key(f) for f in again] == [key(f) for f in found]


def contract_home_kettle_at_night() -> list[SensorEvent]:
    t = contract_home.at(30, 2, 30)
    return [SensorEvent(t, "kettle", "appliance", 1.0)]


def test_a_toy_detector_is_named_in_the_agents_start_up_log(
    toy: DetectorSpec, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    doc = {**DEMO_DOC, "store": {"path": str(tmp_path / "home.sqlite")}}
    cfg = load_config_text(yaml.safe_dump(doc), "toy.yaml")

    async def start_and_stop() -> None:
        async with await Store.open(cfg.store.path) as store:
            agent = Agent(cfg, store, watch_every_s=0.01)
            task = asyncio.create_task(agent.run())
            await asyncio.sleep(0.2)
            agent.stopping.set()
            await asyncio.wait_for(task, timeout=30)

    with caplog.at_level(logging.INFO, logger="hearth.runtime"):
        asyncio.run(start_and_stop())
    (line,) = [r.getMessage() for r in caplog.records if "detectors:" in r.getMessage()]
    assert line.endswith(", ".join([*ON_BY_DEFAULT, "late_kettle"]))


# --- every learner keeps all it knows ---------------------------------------------------------


def same_state(a: Any, b: Any, path: str = "monitor") -> None:
    """``a`` and ``b`` hold the same, all the way down, but for what a class declares it does
    not save (``NOT_SAVED``: caches, and counters of the run)."""
    assert type(a) is type(b), f"{path}: {type(a).__name__} against {type(b).__name__}"
    if isinstance(a, list | tuple | deque):
        assert len(a) == len(b), f"{path}: {len(a)} items against {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same_state(x, y, f"{path}[{i}]")
        return
    if isinstance(a, dict):
        assert a.keys() == b.keys(), f"{path}: keys {sorted(a)} against {sorted(b)}"
        for k in a:
            same_state(a[k], b[k], f"{path}[{k!r}]")
        return
    params = getattr(type(a), "__dataclass_params__", None)
    frozen = params is not None and params.frozen
    slots: tuple[str, ...] = getattr(type(a), "__slots__", ())
    if frozen or not (hasattr(a, "__dict__") or slots):
        assert a == b, f"{path}: {a!r} against {b!r}"
        return
    skip: frozenset[str] = getattr(type(a), "NOT_SAVED", frozenset())
    names = set(vars(a)) if hasattr(a, "__dict__") else set(slots)
    for name in sorted(names - skip):
        same_state(getattr(a, name), getattr(b, name), f"{path}.{name}")


@pytest.mark.parametrize(("day", "hour"), [(9, 12), (22, 14), (31, 3), (40, 2), (44, 9)])
def test_every_learner_keeps_all_it_knows_through_a_json_round_trip(day: int, hour: int) -> None:
    settings = monitor_settings_of(DEMO)
    m = Monitor(HOME, settings)
    policy = AlertPolicy(HOME.id, {"inactivity": timedelta(hours=2)})
    until = contract_home.at(day, hour, 7)

    def tick(now: datetime) -> None:
        for f in m.tick(now):
            policy.decide(f)

    def observe(e: SensorEvent) -> None:
        m.observe(e)

    drive([e for e in scenario() if e.at < until], observe, tick, until=until)
    again = Monitor.from_state(json.loads(json.dumps(m.to_state())), HOME, settings)
    same_state(m, again)
    saved = json.loads(json.dumps(policy.to_state()))
    same_state(policy, AlertPolicy.from_state(saved, HOME.id, policy.cooldown), "policy")


def test_the_comparison_sees_a_field_left_unsaved() -> None:
    m, again = Monitor(HOME), Monitor(HOME)
    m.routine.presence.coincidences.append(contract_home.at(3, 12))
    with pytest.raises(AssertionError, match="coincidences"):
        same_state(m, again)
