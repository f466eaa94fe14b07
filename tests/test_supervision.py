"""Never silently stop watching: a poison message is one message lost, a part that fails is
restarted and told, and while it is down the retained status says ``degraded``, never
``online``; a part that keeps failing stops the agent with a non-zero exit (issue 15).

The live tests run the agent on two real Mosquitto brokers; the supervisor's own logic is
tested beside them with small waits.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
import yaml

from agent.cli import main
from agent.clock import ManualClock
from agent.config import load_config_text
from agent.delivery.status import Health
from agent.runtime import Agent
from agent.runtime.supervision import MOST_RESTARTS, supervise
from agent.runtime.systemd import Notifier
from agent.sources.backoff import Backoff
from agent.store import Store
from tests.conftest import Mosquitto
from tests.test_live_mqtt import (
    Upstream,
    listen,
    live_config,
    live_doc,
    local,
    prelearn,
    publish,
    retained,
    until,
    with_agent,
)

STATUS = "hearth/live-home/status"


def broken_tick(now: datetime, also: Any = ()) -> Any:
    """The detectors, broken: in place of ``Pipeline.tick``."""
    raise RuntimeError("a detector broke")


def test_a_poison_message_is_one_message_lost_and_reading_goes_on(
    broker: Mosquitto,
    upstream_broker: Mosquitto,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cfg = live_config(broker, upstream_broker, tmp_path / "home.sqlite")
    clock = ManualClock(local(7, 30))
    poison = b'{"occupancy": true, "battery": 1' + b"0" * 400 + b"}"
    huge = b'{"occupancy": "' + b"x" * 1_000_000 + b'"}'

    async def body(agent: Agent) -> None:
        hall = "zigbee2mqtt/hall_motion"
        # Once, this stopped all sensor reading for good, with the status still online.
        await publish(broker, agent, clock, local(7, 31), hall, poison)
        await publish(broker, agent, clock, local(7, 32), hall, huge)
        await publish(broker, agent, clock, local(7, 33), hall, {"occupancy": True})
        assert agent.dropped["malformed"] == 2
        assert agent.pipeline.counters.events == 1
        assert await retained(upstream_broker, STATUS) == b"online"

    with caplog.at_level(logging.WARNING):
        asyncio.run(with_agent(cfg, clock, body))
    # A megabyte payload is not a megabyte of journal.
    assert max(len(r.getMessage()) for r in caplog.records) < 1000
    assert any("(401 characters)" in r.getMessage() for r in caplog.records)


def test_a_failing_part_is_restarted_told_and_the_status_says_degraded_meanwhile(
    broker: Mosquitto, upstream_broker: Mosquitto, tmp_path: Path
) -> None:
    cfg = live_config(broker, upstream_broker, tmp_path / "home.sqlite")
    clock = ManualClock(local(7, 30))
    sock_path = tmp_path / "notify"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(sock_path))
    listener.setblocking(False)

    heard: list[str] = []

    def pings() -> int:
        """Watchdog pings heard so far."""
        while True:
            try:
                heard.append(listener.recv(100).decode())
            except BlockingIOError:
                return heard.count("WATCHDOG=1")

    async def body(agent: Agent) -> None:
        agent.systemd = Notifier({"NOTIFY_SOCKET": str(sock_path)})
        await until(lambda: pings() > 0, "the watchdog pinged while watching")
        working = agent.pipeline.tick

        agent.pipeline.tick = broken_tick  # type: ignore[method-assign]
        await until(lambda: "watch" in agent.health.problems, "the failure noticed")
        degraded = b"degraded: watching (the detectors) failed (RuntimeError: a detector broke)"
        await until(lambda: agent.health.status().encode() == degraded, "status degraded")
        await asyncio.sleep(0.2)
        assert await retained(upstream_broker, STATUS) == degraded
        before = pings()
        await asyncio.sleep(0.5)
        assert pings() == before, "no watchdog ping while the detectors are not looking"
        agent.pipeline.tick = working  # type: ignore[method-assign]
        await until(lambda: not agent.health.problems, "working again", 30)
        await asyncio.sleep(0.2)
        assert await retained(upstream_broker, STATUS) == b"online"
        await until(lambda: pings() > before, "the watchdog pings again")
        # Events still read while the detectors were down.
        await publish(
            broker, agent, clock, local(7, 40), "zigbee2mqtt/hall_motion", {"occupancy": True}
        )

    async def scenario() -> Agent:
        received = Upstream()
        # Restarts 0.3, 0.6, 1.2 s apart: the fifth failure, and the giving up, come well
        # after the detectors are mended.
        agent = await with_fast_agent(cfg, clock, body, upstream_broker, received, 0.3)
        faults = received.on("hearth/live-home/alerts/agent_fault")
        # One alert for the spell it was down, however many restarts it took.
        assert len(faults) == 1
        assert faults[0]["severity"] == "technical"
        assert faults[0]["evidence"]["part"] == "watch"
        assert "RuntimeError: a detector broke" in faults[0]["summary"]
        return agent

    agent = asyncio.run(scenario())
    assert agent.exit_code == 0
    listener.close()


async def with_fast_agent(
    cfg: Any,
    clock: ManualClock,
    body: Any,
    upstream: Mosquitto | None = None,
    received: Upstream | None = None,
    first_restart_s: float = 0.05,
) -> Agent:
    """``with_agent``, its supervisor's waits shortened (working again after 0.5 s, the first
    restart after 0.05 s); the care team listening on ``upstream`` into ``received``."""
    listener = None
    if upstream is not None and received is not None:
        ready = asyncio.Event()
        listener = asyncio.create_task(listen(upstream, received, ready))
        await until(ready.is_set, "care team listening")
    async with await Store.open(cfg.store.path) as store:
        agent = Agent(cfg, store, clock, watch_every_s=0.02)
        agent.stable_s, agent.first_restart_s = 0.5, first_restart_s
        task = asyncio.create_task(agent.run())
        try:
            await until(agent.connected_local.is_set, "connected to the home broker")
            await until(agent.connected_upstream.is_set, "connected upstream")
            await body(agent)
        finally:
            agent.stopping.set()
            await asyncio.wait_for(task, timeout=30)
    if listener is not None:
        await asyncio.sleep(0.3)
        listener.cancel()
    return agent


def test_events_that_cannot_be_processed_are_counted_and_the_status_says_so(
    broker: Mosquitto, upstream_broker: Mosquitto, tmp_path: Path
) -> None:
    cfg = live_config(broker, upstream_broker, tmp_path / "home.sqlite")
    clock = ManualClock(local(7, 30))

    async def body(agent: Agent) -> None:
        working = agent.pipeline.observe

        def broken(event: Any) -> None:
            raise ValueError("a learner broke")

        agent.pipeline.observe = broken  # type: ignore[method-assign]
        hall = "zigbee2mqtt/hall_motion"
        await publish(broker, agent, clock, local(7, 31), hall, {"occupancy": True})
        assert agent.dropped["not_processed"] == 1
        degraded = b"degraded: sensor events could not be processed (ValueError)"
        await asyncio.sleep(0.2)
        assert await retained(upstream_broker, STATUS) == degraded
        agent.pipeline.observe = working  # type: ignore[method-assign]
        # Working again once a while has passed with none failing.
        await publish(broker, agent, clock, local(7, 31), hall, {"occupancy": True})
        assert agent.health.status() == degraded.decode()
        after = local(7, 31) + timedelta(seconds=1)
        await publish(broker, agent, clock, after, hall, {"occupancy": True})
        assert agent.pipeline.counters.events == 2
        await asyncio.sleep(0.2)
        assert await retained(upstream_broker, STATUS) == b"online"

    asyncio.run(with_fast_agent(cfg, clock, body))


def test_a_part_that_keeps_failing_stops_the_agent_with_exit_code_70(
    broker: Mosquitto, upstream_broker: Mosquitto, tmp_path: Path
) -> None:
    cfg = live_config(broker, upstream_broker, tmp_path / "home.sqlite")
    clock = ManualClock(local(7, 30))

    async def body(agent: Agent) -> None:
        agent.pipeline.tick = broken_tick  # type: ignore[method-assign]
        await until(agent.stopping.is_set, "the agent gave up", 30)

    agent = asyncio.run(with_fast_agent(cfg, clock, body))
    assert agent.exit_code == 70


# --- the supervisor's logic, with small waits -----------------------------------------------


def run_supervised(work: Any, stable_s: float = 0.2) -> tuple[Health, list[str], list[str]]:
    health = Health()
    faults: list[str] = []
    gave_up: list[str] = []

    async def on_fault(part: str, exc: BaseException) -> None:
        faults.append(f"{part}: {exc}")

    async def main() -> None:
        await supervise(
            "part", "doing it", work, health, on_fault, gave_up.append, Backoff(0.01), stable_s
        )

    asyncio.run(asyncio.wait_for(main(), 10))
    return health, faults, gave_up


def test_a_task_that_always_fails_is_given_up_after_its_restarts() -> None:
    async def fails() -> None:
        raise OSError("disk on fire")

    health, faults, gave_up = run_supervised(fails)
    assert len(faults) == MOST_RESTARTS
    assert gave_up == ["doing it failed (OSError: disk on fire)"]
    assert health.status() == "degraded: doing it failed (OSError: disk on fire)"


def test_a_task_that_fails_then_works_is_working_again_and_ends_when_it_ends() -> None:
    calls = []

    async def flaky() -> None:
        calls.append(1)
        if len(calls) <= 2:
            raise RuntimeError(f"attempt {len(calls)}")
        await asyncio.sleep(0.4)  # past stable_s: working

    health, faults, gave_up = run_supervised(flaky)
    assert faults == ["part: attempt 1", "part: attempt 2"]
    assert gave_up == []
    assert health.status() == "online"
    assert len(calls) == 3


def test_a_task_that_never_fails_is_never_reported() -> None:
    async def fine() -> None:
        await asyncio.sleep(0.01)

    health, faults, gave_up = run_supervised(fine)
    assert (health.status(), faults, gave_up) == ("online", [], [])


def test_the_systemd_notifier_sends_to_a_real_socket(tmp_path: Path) -> None:
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.bind(str(path))
        assert Notifier({"NOTIFY_SOCKET": str(path)}).send("WATCHDOG=1")
        assert s.recv(100) == b"WATCHDOG=1"
    # Gone: logged once, never raised.
    assert not Notifier({"NOTIFY_SOCKET": str(tmp_path / "nobody")}).send("READY=1")


def test_a_wrong_password_is_not_retried_as_a_link_down_it_is_told_and_stops_hearth(
    upstream_broker: Mosquitto, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    home = Mosquitto(tmp_path, users={"hearth": "right"})
    home.start()
    try:
        doc = live_doc(home, upstream_broker, tmp_path / "home.sqlite")
        wrong = tmp_path / "local.pw"
        wrong.write_text("wrong\n")
        wrong.chmod(0o600)
        doc["local_broker"] |= {"username": "hearth", "password_file": str(wrong)}
        cfg = load_config_text(yaml.safe_dump(doc), "home.yaml")
        clock = ManualClock(local(7, 30))
        received = Upstream()

        async def scenario() -> Agent:
            ready = asyncio.Event()
            listener = asyncio.create_task(listen(upstream_broker, received, ready))
            await until(ready.is_set, "care team listening")
            async with await Store.open(cfg.store.path) as store:
                agent = Agent(cfg, store, clock, watch_every_s=0.02)
                agent.stable_s, agent.first_restart_s = 0.5, 0.05
                task = asyncio.create_task(agent.run())
                await until(agent.stopping.is_set, "Hearth gave up on the home broker", 30)
                await asyncio.wait_for(task, 30)
            await asyncio.sleep(0.3)
            listener.cancel()
            return agent

        with caplog.at_level(logging.WARNING):
            agent = asyncio.run(scenario())
    finally:
        home.stop()
    assert agent.exit_code == 70
    refused = "refused Hearth as 'hearth'"
    assert any(refused in r.getMessage() for r in caplog.records)
    (fault,) = received.on("hearth/live-home/alerts/agent_fault")
    assert fault["evidence"]["part"] == "home"
    assert refused in fault["summary"]
    assert "check the username and password" in fault["summary"]
    # Not the transient retry of a link that is down: no "retrying in" for the home broker.
    assert not any(
        "local broker" in r.getMessage() and "retrying" in r.getMessage() for r in caplog.records
    )


def test_a_missing_ca_file_stops_hearth_at_once_naming_the_file(
    broker: Mosquitto,
    upstream_broker: Mosquitto,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    doc = live_doc(broker, upstream_broker, tmp_path / "home.sqlite")
    doc["upstream"]["tls"] = {"ca_file": str(tmp_path / "care-team-ca.pem")}
    path = tmp_path / "home.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert main(["run", "--config", str(path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err == (
        f"hearth run: upstream.tls.ca_file: cannot read {tmp_path / 'care-team-ca.pem'}"
        " (No such file or directory)"
    )


@pytest.mark.parametrize("booted_at", ["1970", "fake-hwclock"])
def test_a_hub_booting_at_1970_waits_for_the_clock_then_watches_the_day(
    broker: Mosquitto, upstream_broker: Mosquitto, tmp_path: Path, booted_at: str
) -> None:
    # Learned and running until 09:00; the hub restarts with no real-time clock, at 1970 (or,
    # with fake-hwclock, at the time it last saved, 08:00, before Hearth's last save), and NTP
    # sets the time the next morning at 07:35. Once, the jump moved "last activity" to 2082
    # and a whole day of stillness raised nothing.
    cfg = live_config(broker, upstream_broker, tmp_path / "home.sqlite")
    clock = ManualClock(local(7, 30))
    next_day = timedelta(days=1)

    async def morning(agent: Agent) -> None:
        await publish(
            broker, agent, clock, local(8, 50), "zigbee2mqtt/lounge_motion", {"occupancy": True}
        )
        clock.advance(timedelta(minutes=10))
        await asyncio.sleep(0.1)

    wrong = datetime(1970, 1, 1, 0, 0, 40, tzinfo=UTC) if booted_at == "1970" else local(8, 0)
    boot = ManualClock(wrong)

    async def after_boot(agent: Agent) -> None:
        await until(lambda: "clock" in agent.health.problems, "the wrong clock noticed")
        await asyncio.sleep(0.2)
        status = await retained(upstream_broker, STATUS)
        reads = f"{wrong:%Y-%m-%d %H:%M} UTC"
        assert status == f"degraded: the hub's clock is not set (it reads {reads})".encode()
        boot.jump(local(7, 35) + next_day - boot.wall)  # NTP
        await until(lambda: not agent.health.problems, "watching again")
        r = agent.pipeline.monitor.routine
        assert r.last_activity_at is not None
        assert r.last_activity_at <= boot.wall, "last activity is never in the future"
        # Up, about, then still from 13:00: raised as on any day.
        await publish(
            broker,
            agent,
            boot,
            local(7, 40) + next_day,
            "zigbee2mqtt/bedroom_motion",
            {"occupancy": True},
        )
        # About the house until 13:00, in steps short enough that no stillness is news (the
        # clock moved five hours at once would be, on a machine slow to read the message).
        for minute in range(8 * 60, 13 * 60 + 1, 20):
            at = local(minute // 60, minute % 60) + next_day
            await publish(broker, agent, boot, at, "zigbee2mqtt/lounge_motion", {"occupancy": True})
        while agent.pipeline.counters.alerts == 0 and boot.wall < local(21, 0) + next_day:
            boot.advance(timedelta(minutes=10))
            await asyncio.sleep(0.1)
        assert r.last_activity_at <= boot.wall

    async def scenario() -> Agent:
        await prelearn(cfg)
        await with_agent(cfg, clock, morning)
        return await with_agent(cfg, boot, after_boot)

    agent = asyncio.run(scenario())
    raised = agent.pipeline.policy.to_state()["raised"]
    # (The first morning's missed kettle is that morning's; after the boot, only the stillness.)
    assert [e for e in raised if not e.startswith("missed_morning:")] == [
        f"inactivity:{(local(13, 0) + next_day).isoformat()}"
    ]


def test_what_the_sensors_send_while_hearth_restarts_waits_at_the_broker(
    broker: Mosquitto, upstream_broker: Mosquitto, tmp_path: Path
) -> None:
    # Once, the home-broker session was clean: every message sent while the agent restarted
    # was lost (4,726 of 5,384 across a hostile tester's kills).
    cfg = live_config(broker, upstream_broker, tmp_path / "home.sqlite")
    clock = ManualClock(local(7, 30))

    async def first(agent: Agent) -> None:
        await publish(
            broker, agent, clock, local(7, 40), "zigbee2mqtt/hall_motion", {"occupancy": True}
        )

    async def meanwhile() -> None:
        async with aiomqtt.Client(broker.host, broker.port, identifier="z2m") as z2m:
            for room in ("kitchen", "lounge", "bedroom", "bathroom", "hall"):
                payload = json.dumps({"occupancy": True}).encode()
                await z2m.publish(f"zigbee2mqtt/{room}_motion", payload, qos=1)

    async def second(agent: Agent) -> None:
        await until(lambda: agent.pipeline.counters.events == 5, "the waiting messages read")
        await asyncio.sleep(1.5)  # anything read twice would be here by now
        assert agent.pipeline.counters.events == 5
        await agent.store.flush_events()
        async with agent.store.db.execute("SELECT count(*) FROM events") as cur:
            row = await cur.fetchone()
        # Each message once: the first run's, acknowledged when written at its stop, is not
        # sent again; the five sent meanwhile were waiting.
        assert row is not None
        assert row[0] == 6

    async def scenario() -> None:
        await with_agent(cfg, clock, first)
        await meanwhile()  # Hearth is down
        clock.advance(timedelta(minutes=2))
        await with_agent(cfg, clock, second)

    asyncio.run(scenario())


def test_a_full_disk_stops_no_watching_loses_no_alert_and_writing_resumes(
    broker: Mosquitto, upstream_broker: Mosquitto, tmp_path: Path
) -> None:
    # The full disk simulated at the SQLite layer, on the real file: the database may not grow
    # (PRAGMA max_page_count), so writes fail with SQLite's own "database or disk is full".
    # Once, the writer and the detectors died silently, and a low battery raised meanwhile was
    # lost.
    cfg = live_config(broker, upstream_broker, tmp_path / "home.sqlite")
    clock = ManualClock(local(7, 30))
    received = Upstream()
    full = b"degraded: the store cannot be written (database or disk is full)"

    async def pages(agent: Agent) -> int:
        async with agent.store.db.execute("PRAGMA page_count") as cur:
            row = await cur.fetchone()
        assert row is not None
        return int(row[0])

    async def body(agent: Agent) -> None:
        await agent.store.db.execute(f"PRAGMA max_page_count = {await pages(agent)}")
        hall = "zigbee2mqtt/hall_motion"
        for minute in range(300):
            at = local(7, 31) + timedelta(seconds=10 * minute)
            await publish(broker, agent, clock, at, hall, {"occupancy": minute % 2 == 0})
        await until(lambda: "storage" in agent.health.problems, "the full disk noticed")
        await publish(broker, agent, clock, local(8, 30), hall, {"occupancy": True, "battery": 9})
        await until(
            lambda: bool(received.on("hearth/live-home/alerts/battery_low")),
            "the low battery reached the care team from memory",
        )
        await asyncio.sleep(0.2)
        assert await retained(upstream_broker, STATUS) == full
        # Every event read meanwhile (the last message carried two: motion and battery).
        assert agent.pipeline.counters.events == 302
        # Space returns: writing resumes by itself, nothing kept in memory is lost.
        await agent.store.db.execute("PRAGMA max_page_count = 1073741823")
        await until(lambda: "storage" not in agent.health.problems, "writing again")
        await until(lambda: agent.store.pending_events == 0, "the waiting events written")
        async with agent.store.db.execute("SELECT count(*) FROM events") as cur:
            row = await cur.fetchone()
        assert row is not None
        assert row[0] == 302
        await asyncio.sleep(0.2)
        assert await retained(upstream_broker, STATUS) == b"online"
        # What left from memory is in the audit once the store takes it: the low battery,
        # and the degraded status said meanwhile.
        left: list[str] = []
        async with asyncio.timeout(30):
            while not any("battery_low" in p for p in left) or full.decode() not in left:
                await asyncio.sleep(0.1)
                async with agent.store.db.execute("SELECT payload FROM audit") as cur:
                    left = [str(r[0]) for r in await cur.fetchall()]

    asyncio.run(with_fast_agent(cfg, clock, body, upstream_broker, received))
    (told,) = received.on("hearth/live-home/alerts/storage_full")
    assert told["severity"] == "technical"
    assert "database or disk is full" in told["summary"]
