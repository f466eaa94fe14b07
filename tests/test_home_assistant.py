"""Hearth in the home's Home Assistant, by MQTT discovery on a real Mosquitto: each config as
Home Assistant's documented schema has it, the states it shows (watching, status, the last
alert, learning), announced again when Home Assistant starts, offline at a stop; an entity the
resident stops sharing is removed; a household that has not asked for it shows nothing."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiomqtt
import jsonschema
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from agent.clock import ManualClock
from agent.config import ConfigError, load_config_text
from agent.config.schema import HearthConfig
from agent.delivery import home_assistant
from agent.delivery.home_assistant import (
    ENTITIES,
    LONGEST_STATE,
    HubView,
    config_topic,
    discovery,
    shared,
    states,
)
from agent.runtime import Agent
from models.alert_policy import Alert
from models.learning import Learning
from tests.conftest import CONFIG, Mosquitto
from tests.test_live_mqtt import (
    Upstream,
    let_the_afternoon_pass,
    listen,
    live_doc,
    local,
    ordinary_morning_then_still,
    retained,
    run_and_listen,
    until,
)

SCHEMA = json.loads(
    (Path(__file__).parent / "fixtures/home_assistant/discovery.schema.json").read_text()
)
# Home Assistant's discovery topic (homeassistant/components/mqtt/discovery.py, TOPIC_MATCHER).
DISCOVERY_TOPIC = re.compile(
    r"^homeassistant/(?P<component>\w+)/(?:(?P<node_id>[a-zA-Z0-9_-]+)/)?"
    r"(?P<object_id>[a-zA-Z0-9_-]+)/config$"
)


def problems(component: str, payload: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft202012Validator({**SCHEMA, "$ref": f"#/$defs/{component}"})
    return [e.message for e in validator.iter_errors(payload)]


def shown(share: list[str] | None = None, household: str = "demo-home") -> HearthConfig:
    doc: dict[str, Any] = yaml.safe_load((CONFIG / "demo-home.yaml").read_text())
    doc["household"]["id"] = household
    doc["local_broker"] = {"host": "localhost"}
    doc["home_assistant"] = {} if share is None else {"share": share}
    return load_config_text(yaml.safe_dump(doc))


def test_each_config_is_as_home_assistant_documents_it_and_a_wrong_one_is_not() -> None:
    cfg = shown(household="flat.12")
    assert [e.object_id for e in shared(cfg)] == [e.object_id for e in ENTITIES]
    ids = set()
    for entity in shared(cfg):
        payload = discovery(cfg, entity)
        assert problems(entity.component, payload) == [], entity
        match = DISCOVERY_TOPIC.match(config_topic(cfg, entity))
        assert match is not None
        assert (match["component"], match["node_id"]) == (entity.component, "hearth_flat_12")
        for key in ("state_topic", "json_attributes_topic", "availability_topic"):
            assert not set(str(payload[key])) & set("+#"), key
        ids.add(payload["unique_id"])
    assert len(ids) == len(ENTITIES)
    # The schema refuses what Home Assistant would: it is not a schema that passes anything.
    good = discovery(cfg, ENTITIES[3])
    assert problems("sensor", {**good, "unit_of_measurment": "d"})  # a typo, lost in HA
    assert problems("sensor", {**good, "unit_of_measurement": "days"})  # not a duration unit
    assert problems("sensor", {**good, "device": {"name": "Hearth"}})  # no identifier
    assert problems("binary_sensor", {**discovery(cfg, ENTITIES[0]), "device_class": "fall"})
    assert problems("sensor", {k: v for k, v in good.items() if k != "state_topic"})


def test_what_is_not_shared_is_not_announced() -> None:
    cfg = shown(["learning"])
    assert [e.object_id for e in shared(cfg)] == ["days_learned", "learning"]
    now = datetime(2026, 12, 2, 9, tzinfo=UTC)
    view = HubView(now, now, "online", None, [Learning("inactivity", 3, 14, safety_net=True)])
    assert sorted(states(cfg, view)) == [
        "hearth/demo-home/home_assistant/days_learned",
        "hearth/demo-home/home_assistant/days_learned/attributes",
        "hearth/demo-home/home_assistant/learning",
        "hearth/demo-home/home_assistant/learning/attributes",
    ]
    assert states(cfg, view)["hearth/demo-home/home_assistant/learning"] == (
        b"learning, 0 of 1 detectors learned"
    )


def test_home_assistant_needs_the_home_broker_and_knows_what_it_can_share() -> None:
    doc: dict[str, Any] = yaml.safe_load((CONFIG / "demo-home.yaml").read_text())
    doc["home_assistant"] = {}
    with pytest.raises(ConfigError, match="home_assistant: Home Assistant reads Hearth on the"):
        load_config_text(yaml.safe_dump(doc))
    doc["local_broker"] = {"host": "localhost"}
    doc["home_assistant"] = {"share": ["watching", "events"]}
    with pytest.raises(
        ConfigError,
        match=re.escape("home_assistant.share[1]: 'events' is not allowed; use one of: watching,"),
    ):
        load_config_text(yaml.safe_dump(doc))
    doc["home_assistant"] = {"discovery_prefix": "homeassistant/"}
    with pytest.raises(ConfigError, match="is not a topic prefix Home Assistant can use"):
        load_config_text(yaml.safe_dump(doc))
    doc["home_assistant"] = {"discovery_prefix": "ha/discovery"}
    assert config_topic(load_config_text(yaml.safe_dump(doc)), ENTITIES[1]) == (
        "ha/discovery/sensor/hearth_demo-home/status/config"
    )


@given(
    looked=st.one_of(st.none(), st.integers(-60, 600)),
    status=st.text(min_size=1, max_size=600),
    summary=st.text(min_size=1, max_size=600),
)
def test_states_say_watching_only_while_the_detectors_look_and_fit_home_assistant(
    looked: int | None, status: str, summary: str
) -> None:
    cfg = shown()
    now = datetime(2026, 12, 2, 9, tzinfo=UTC)
    watched = None if looked is None else now - timedelta(seconds=looked)
    alert = Alert("a1", "demo-home", "inactivity", "urgent", now, now, summary, {})
    out = states(cfg, HubView(now, watched, status, alert, ()))
    on = looked is not None and 0 <= looked <= 120
    assert out["hearth/demo-home/home_assistant/watching"] == (b"ON" if on else b"OFF")
    for topic, payload in out.items():
        if topic.endswith("/attributes"):
            assert isinstance(json.loads(payload), dict)
        else:
            assert len(payload.decode()) <= LONGEST_STATE
    said = out["hearth/demo-home/home_assistant/last_alert"].decode()
    assert said == summary or (len(summary) > LONGEST_STATE and said.endswith("…"))
    # The whole status stays in the attributes, however long.
    assert json.loads(out["hearth/demo-home/home_assistant/status/attributes"]) == {
        "status": status
    }


async def home_assistant_listening(broker: Mosquitto, into: Upstream) -> asyncio.Task[None]:
    ready = asyncio.Event()
    task = asyncio.create_task(listen(broker, into, ready, "#"))
    await until(ready.is_set, "Home Assistant listening")
    return task


def last(into: Upstream, topic: str) -> bytes | None:
    said = [p for t, p, _ in into.messages if t == topic]
    return said[-1] if said else None


def live_file(broker: Mosquitto, upstream: Mosquitto, tmp_path: Path, **section: Any) -> Any:
    doc = live_doc(broker, upstream, tmp_path / "home.sqlite")
    if section.get("share") != "absent":
        doc["home_assistant"] = section
    return load_config_text(yaml.safe_dump(doc), "live-home.yaml")


def test_a_live_hub_shows_in_home_assistant_and_says_offline_at_its_stop(
    broker: Mosquitto, upstream_broker: Mosquitto, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(home_assistant, "LOOK_EVERY_S", 0.05)
    cfg = live_file(broker, upstream_broker, tmp_path)
    clock = ManualClock(local(7, 30))
    ha = Upstream()
    base = "hearth/live-home/home_assistant"
    seen: dict[str, Any] = {}

    async def body(agent: Agent) -> None:
        listener = await home_assistant_listening(broker, ha)
        await until(lambda: last(ha, f"{base}/watching") == b"ON", "shown watching")
        await until(lambda: last(ha, f"{base}/learning") is not None, "its learning shown")
        configs = {t: json.loads(p) for t, p, _ in ha.messages if t.startswith("homeassistant/")}
        seen["configs"] = configs
        # Home Assistant starts again: every config is announced again.
        before = len([t for t, _, _ in ha.messages if t.startswith("homeassistant/")])
        async with aiomqtt.Client(broker.host, broker.port, identifier="ha-core") as core:
            await core.publish("homeassistant/status", b"online", qos=1)
        await until(
            lambda: (
                len([t for t, _, _ in ha.messages if t.startswith("homeassistant/")])
                >= before + len(ENTITIES)
            ),
            "announced again",
        )
        await ordinary_morning_then_still(broker, agent, clock)
        await let_the_afternoon_pass(agent, clock)
        await until(lambda: last(ha, f"{base}/last_alert") is not None, "the alert shown")
        seen["note"] = agent.home_assistant is not None and agent.home_assistant.connected.is_set()
        await asyncio.sleep(0.2)
        listener.cancel()

    asyncio.run(run_and_listen(cfg, upstream_broker, clock, body))
    configs = seen["configs"]
    assert len(configs) == len(ENTITIES)
    for topic, payload in configs.items():
        match = DISCOVERY_TOPIC.match(topic)
        assert match is not None, topic
        assert problems(match["component"], payload) == [], topic
        assert payload["device"]["identifiers"] == ["hearth_live-home"]
    assert seen["note"]
    assert last(ha, f"{base}/availability") == b"online"
    assert last(ha, f"{base}/status") == b"online"
    assert last(ha, f"{base}/days_learned") == b"21"
    assert last(ha, f"{base}/learning") == b"learned"
    learning = json.loads(last(ha, f"{base}/learning/attributes") or b"{}")
    assert learning["night_exit"] == "night exit: learned, 21 days"
    said = (last(ha, f"{base}/last_alert") or b"").decode()
    assert "No movement at home since 13:00" in said
    alert = json.loads(last(ha, f"{base}/last_alert/attributes") or b"{}")
    assert (alert["type"], alert["severity"]) == ("inactivity", "urgent")
    # No sensor event is among what Home Assistant was sent.
    assert not any(t.startswith(f"{base}/") and "motion" in p.decode() for t, p, _ in ha.messages)
    # Stopped: offline, retained for a Home Assistant that looks later; the states stay.
    assert asyncio.run(retained(broker, f"{base}/availability")) == b"offline"
    assert asyncio.run(retained(broker, f"{base}/last_alert")) == said.encode()
    assert asyncio.run(retained(broker, config_topic(cfg, ENTITIES[0]))) is not None


def test_what_the_resident_stops_sharing_leaves_home_assistant_and_nothing_shows_unasked(
    broker: Mosquitto, upstream_broker: Mosquitto, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(home_assistant, "LOOK_EVERY_S", 0.05)
    clock = ManualClock(local(7, 30))
    base = "hearth/live-home/home_assistant"
    everything = live_file(broker, upstream_broker, tmp_path)
    only_watching = live_file(broker, upstream_broker, tmp_path, share=["watching"])
    unasked = live_file(broker, upstream_broker, tmp_path, share="absent")
    alert_config = config_topic(everything, ENTITIES[2])

    def live(into: Upstream) -> list[str]:
        """Published while listening (not retained from before) for Home Assistant."""
        for_ha = ("homeassistant/", f"{base}/")
        said = [t for t, _, kept in into.messages if t.startswith(for_ha) and not kept]
        return [t for t in said if t != "homeassistant/status"]  # Home Assistant's own

    async def shown_then(cfg: HearthConfig, into: Upstream) -> None:
        async def body(agent: Agent) -> None:
            listener = await home_assistant_listening(broker, into)
            if (shown := agent.home_assistant) is not None:
                await until(shown.connected.is_set, "Hearth showing itself")
            # Home Assistant starts while Hearth runs: a shown hub answers live, whether or not
            # its first states reached the listener before it subscribed.
            async with aiomqtt.Client(broker.host, broker.port, identifier="ha-core") as core:
                await core.publish("homeassistant/status", b"online", qos=1)
            if cfg.home_assistant is not None:
                await until(lambda: f"{base}/watching" in live(into), "shown watching")
            else:
                await asyncio.sleep(1.0)  # as long as a shown hub takes to say so, and more
            listener.cancel()

        await run_and_listen(cfg, upstream_broker, clock, body)

    first, second, third = Upstream(), Upstream(), Upstream()
    asyncio.run(shown_then(everything, first))
    assert asyncio.run(retained(broker, alert_config)) is not None
    asyncio.run(shown_then(only_watching, second))
    # Removed: the config is cleared (empty, retained no more), and the state with it.
    assert asyncio.run(retained(broker, alert_config)) is None
    assert asyncio.run(retained(broker, f"{base}/days_learned")) is None
    assert asyncio.run(retained(broker, f"{base}/watching")) == b"ON"
    # A household that has not asked publishes nothing for Home Assistant at all.
    asyncio.run(shown_then(unasked, third))

    assert f"{base}/watching" in live(second)
    assert live(third) == []


def test_the_shipped_example_shows_the_section_to_uncomment() -> None:
    text = (CONFIG / "zigbee2mqtt-home.yaml").read_text()
    assert "home_assistant" not in load_config_text(text).model_dump(exclude_none=True)
    block = re.search(r"^# home_assistant:\n(?:#   .*\n)+", text, flags=re.MULTILINE)
    assert block is not None
    uncommented = text.replace(block[0], re.sub(r"^# ", "", block[0], flags=re.MULTILINE))
    cfg = load_config_text(uncommented)
    assert cfg.home_assistant is not None
    assert cfg.home_assistant.share == ["watching", "last_alert", "learning"]
    assert cfg.home_assistant.discovery_prefix == "homeassistant"
