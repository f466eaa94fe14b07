"""A stop that ends: every task is told to stop until it does, so that the routine is saved and
the outbox flushed even when a task carries on after its first cancellation (on Python 3.11,
``asyncio.wait_for`` swallows one that lands as what it waits for completes), and a task that
never stops is named and left rather than holding the stop until systemd kills Hearth.

The helper is tested on its own; the agent is tested live, on real Mosquitto brokers, with its
Home Assistant link made to carry on after a cancellation.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.clock import ManualClock
from agent.config import load_config_text
from agent.delivery import home_assistant
from agent.delivery.home_assistant import HomeAssistant
from agent.delivery.status import Health
from agent.runtime import agent as agent_module
from agent.runtime import supervision
from agent.runtime.supervision import cancel_until_done, supervise
from agent.sources.backoff import Backoff
from tests.conftest import Mosquitto
from tests.test_live_mqtt import live_doc, local, prelearn, until, with_agent


async def _publishing(futures: list[asyncio.Future[int]], said: list[int]) -> None:
    """A loop that waits, with a timeout, for each thing it sends to be acknowledged."""
    loop = asyncio.get_running_loop()
    while True:
        acknowledged: asyncio.Future[int] = loop.create_future()
        futures.append(acknowledged)
        said.append(await asyncio.wait_for(acknowledged, 5))


def test_a_task_that_carries_on_after_a_cancellation_is_told_again_until_it_stops() -> None:
    async def scenario() -> tuple[bool, set[asyncio.Task[None]], asyncio.Task[None]]:
        futures: list[asyncio.Future[int]] = []
        said: list[int] = []
        task = asyncio.create_task(_publishing(futures, said))
        await until(lambda: len(futures) == 1, "waiting for its first acknowledgement")
        # The acknowledgement arrives as the stop does.
        futures[0].set_result(1)
        task.cancel()
        await asyncio.sleep(0.05)
        carried_on = not task.done()
        left = await cancel_until_done({task}, "a test", patience_s=5)
        return carried_on, left, task

    carried_on, left, task = asyncio.run(scenario())
    if sys.version_info < (3, 12):
        assert carried_on, "Python 3.11's wait_for swallowed the cancellation, as it is known to"
    assert left == set()
    assert task.cancelled()


def test_a_task_that_never_stops_is_named_in_the_log_and_left_after_the_patience(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> tuple[set[asyncio.Task[None]], int, float]:
        told = 0
        free = asyncio.Event()

        async def stubborn() -> None:
            nonlocal told
            while not free.is_set():
                try:
                    await asyncio.sleep(10)
                except asyncio.CancelledError:
                    told += 1

        task = asyncio.create_task(stubborn(), name="stubborn")
        quiet = asyncio.create_task(asyncio.sleep(10), name="quiet")
        await asyncio.sleep(0)
        loop = asyncio.get_running_loop()
        began = loop.time()
        left = await cancel_until_done({task, quiet}, "stopping", patience_s=1.2)
        took = loop.time() - began
        assert quiet.cancelled()
        free.set()
        task.cancel()
        await asyncio.wait({task}, timeout=5)
        return left, told, took

    with caplog.at_level(logging.ERROR, "hearth.runtime"):
        left, told, took = asyncio.run(scenario())
    assert [t.get_name() for t in left] == ["stubborn"]
    assert told >= 2  # told more than once, at CANCEL_AGAIN_S
    assert 1.2 <= took < 5
    assert "stopping: stubborn did not stop when told to; going on without it" in caplog.text


def test_tasks_already_ended_are_left_as_they_are() -> None:
    async def scenario() -> set[asyncio.Task[None]]:
        task = asyncio.create_task(asyncio.sleep(0))
        await task
        return await cancel_until_done({task}, "stopping", patience_s=1)

    assert asyncio.run(scenario()) == set()


def test_a_supervised_part_told_to_stop_is_told_again_until_it_does_and_told_again_meanwhile() -> (
    None
):
    async def scenario() -> tuple[bool, bool]:
        futures: list[asyncio.Future[int]] = []
        said: list[int] = []

        async def quiet(part: str, exc: BaseException) -> None:
            raise AssertionError(f"no fault expected: {part} {exc!r}")

        supervised = asyncio.create_task(
            supervise(
                "publish",
                "publishing",
                lambda: _publishing(futures, said),
                Health(),
                quiet,
                lambda why: None,
                Backoff(0.01),
                0.2,
            )
        )
        await until(lambda: len(futures) == 1, "waiting for its first acknowledgement")
        futures[0].set_result(1)
        supervised.cancel()
        await asyncio.sleep(0)
        supervised.cancel()  # the agent's stop tells it again while it is stopping its part
        done, _ = await asyncio.wait({supervised}, timeout=5)
        inner_left = [t for t in asyncio.all_tasks() if "_publishing" in repr(t)]
        return bool(done) and supervised.cancelled(), inner_left == []

    stopped, inner_ended = asyncio.run(scenario())
    assert stopped
    assert inner_ended


def _carrying_on(
    times: int | None, freed: asyncio.Event | None = None
) -> Callable[..., Coroutine[Any, Any, None]]:
    """``HomeAssistant._keep_showing`` that carries on after ``times`` cancellations (``None``:
    after every one until ``freed``), as its loop does when a cancellation is swallowed."""
    original = HomeAssistant._keep_showing

    async def keep_showing(self: HomeAssistant, client: Any) -> None:
        swallowed = 0
        while True:
            try:
                await original(self, client)
                return
            except asyncio.CancelledError:
                swallowed += 1
                if times is not None and swallowed > times:
                    raise
                if freed is not None and freed.is_set():
                    raise
                current = asyncio.current_task()
                if current is not None:
                    current.uncancel()

    return keep_showing


def _shown(broker: Mosquitto, upstream: Mosquitto, tmp_path: Path) -> Any:
    doc = live_doc(broker, upstream, tmp_path / "home.sqlite")
    doc["home_assistant"] = {}
    return load_config_text(yaml.safe_dump(doc), "live-home.yaml")


@pytest.mark.parametrize("times", [1, None], ids=["once", "always"])
def test_a_live_hub_stops_and_saves_its_routine_when_a_task_carries_on_after_being_told(
    broker: Mosquitto,
    upstream_broker: Mosquitto,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    times: int | None,
) -> None:
    monkeypatch.setattr(home_assistant, "LOOK_EVERY_S", 0.05)
    freed = asyncio.Event()  # the test's end: else it would outlast the test, as it would Hearth
    monkeypatch.setattr(HomeAssistant, "_keep_showing", _carrying_on(times, freed))
    monkeypatch.setattr(supervision, "CANCEL_PATIENCE_S", 1.0)
    monkeypatch.setattr(agent_module, "CANCEL_PATIENCE_S", 1.0)
    cfg = _shown(broker, upstream_broker, tmp_path)
    clock = ManualClock(local(7, 30))

    async def body(agent: agent_module.Agent) -> None:
        shown = agent.home_assistant
        assert shown is not None
        await until(shown.connected.is_set, "shown in Home Assistant")

    async def run() -> None:
        await prelearn(cfg)
        await with_agent(cfg, clock, body)
        freed.set()

    with caplog.at_level(logging.INFO, "hearth.runtime"):
        asyncio.run(run())  # with_agent allows 30 s for the stop
    said = caplog.text
    assert "could not save the routine" not in said
    assert "stopped; counters" in said
    refused = "stopping: home_assistant did not stop when told to; going on without it"
    assert (refused in said) == (times is None)
