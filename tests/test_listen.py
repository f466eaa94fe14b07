"""``hearth listen`` and ``hearth answer`` (issue 18), as a carer runs them, in their own process,
against a real Mosquitto that the hub's real outbox publishes to: the alerts in words, an end
joined to its alert, a FHIR recipient's Bundles read as well as the JSON, and an answer typed
in that leaves as the hub takes it (``models.carers_answers.parse_answer``)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import aiomqtt

from agent.sources.mqtt import as_bytes
from models.carers_answers import parse_answer
from tests.conftest import ROOT, Mosquitto, hearth
from tests.test_consent import home, listen
from tests.test_fhir import DAUGHTER, ENDED, FALL, FALL_ID, GP, hub_sends


async def line_with(out: asyncio.StreamReader, text: str, seen: list[str]) -> str:
    async with asyncio.timeout(30):
        while True:
            raw = await out.readline()
            assert raw, f"hearth listen ended before {text!r}; it said {seen}"
            seen.append(raw.decode().rstrip("\n"))
            if text in seen[-1]:
                return seen[-1]


def test_a_carer_reads_the_alerts_and_answers_one(
    upstream_broker: Mosquitto, tmp_path: Path
) -> None:
    doc = {
        "household": {"id": "h1", "timezone": "Europe/London"},
        "sensors": [{"id": "k", "kind": "power", "room": "kitchen", "role": "kettle"}],
        "upstream": {"host": upstream_broker.host, "port": upstream_broker.port},
        "store": {"path": str(tmp_path / "hub.sqlite")},
    }
    cfg = home([GP, DAUGHTER], doc)
    said: list[str] = []
    answers: list[tuple[str, bytes]] = []

    async def go() -> None:
        ready = asyncio.Event()
        hears = asyncio.create_task(listen(upstream_broker, answers, ready, "hearth/h1/answers/#"))
        await asyncio.wait_for(ready.wait(), 10)
        carer = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "agent.cli", "listen", "--host", upstream_broker.host,
            "--port", str(upstream_broker.port), "--as", "GP practice",
            "--timezone", "Europe/London", "--topic", "hearth/h1/to/gp",
            "--topic", "hearth/h1/to/sarah", cwd=ROOT,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert carer.stdout is not None
        assert carer.stdin is not None
        try:
            await line_with(carer.stdout, "listening on", said)
            await hub_sends(cfg, tmp_path / "hub.sqlite", [FALL, ENDED])
            await line_with(carer.stdout, "[2]", said)
            await line_with(carer.stdout, "ends [1]", said)
            carer.stdin.write(b"9 was_fine\n")
            await line_with(carer.stdout, "not answered: no alert [9] shown yet", said)
            carer.stdin.write(b"1 maybe\n")
            await line_with(carer.stdout, "not answered: type <number> <answer>", said)
            carer.stdin.write(b"1 was_fine asleep in the chair\n")
            await carer.stdin.drain()
            await line_with(carer.stdout, "answered [1]", said)
            async with asyncio.timeout(10):
                while not answers:
                    await asyncio.sleep(0.05)
        finally:
            carer.terminate()
            await carer.wait()
            hears.cancel()

    asyncio.run(go())
    urgent = [line for line in said if line.startswith("[")]
    # The daughter's JSON and the GP's FHIR Bundle of one alert are shown once, then its end.
    assert len(urgent) == 2, said
    assert urgent[0].startswith("[1] Sat 28 Mar 15:28 GMT  URGENT   h1: No movement at home")
    assert "ENDED" in urgent[1]
    assert "    Ring now. If there is no answer, go round or send someone who can get in." in said
    ((topic, payload),) = answers
    a = parse_answer(topic, payload, "hearth", "h1")
    assert (a.alert_id, a.answer, a.by, a.note) == (FALL_ID, "was_fine", "GP practice",
                                                    "asleep in the chair")  # fmt: skip


def test_one_answer_from_the_command_line(upstream_broker: Mosquitto) -> None:
    got: list[tuple[str, bytes]] = []

    async def go() -> None:
        async with aiomqtt.Client(upstream_broker.host, upstream_broker.port) as c:
            await c.subscribe("hearth/h1/answers/#", qos=1)
            run = asyncio.to_thread(
                hearth, "answer", "--host", upstream_broker.host, "--port",
                str(upstream_broker.port), "--as", "Sarah", "h1", FALL_ID, "visitor",
                "--note", "her son",
            )  # fmt: skip
            result = await run
            assert result.returncode == 0, result.stderr
            assert result.stdout.strip() == f"answered {FALL_ID}: a visitor explains it"
            async with asyncio.timeout(10):
                async for m in c.messages:
                    got.append((str(m.topic), as_bytes(m.payload)))
                    break

    asyncio.run(go())
    ((topic, payload),) = got
    assert parse_answer(topic, payload, "hearth", "h1").answer == "visitor"


def test_listen_says_what_is_wrong_with_the_broker_settings(tmp_path: Path) -> None:
    bad = tmp_path / "broker.yaml"
    bad.write_text("host: care.example.org\nport: 8883\n")
    r = hearth("listen", "--broker", str(bad))
    assert r.returncode == 1
    assert "unencrypted" in r.stderr
    r = hearth("answer", "--host", "127.0.0.1", "--port", "1", "h1", FALL_ID, "confirmed")
    assert r.returncode == 1
    assert "--as" in r.stderr


def test_what_is_not_an_alert_is_said_so_and_never_stops_it() -> None:
    from agent.cli.listen import Seen

    seen = Seen()
    for junk in (b"{}", b"[1]", b'"x"', b"\xff", b'{"id": 1, "ends": [1]}', b"{" * 5000,
                 b'{"resourceType": "Bundle", "entry": []}'):  # fmt: skip
        assert seen.lines("hearth/h1/alerts/x", junk) == [
            "    (not an alert Hearth wrote, on hearth/h1/alerts/x)"]  # fmt: skip
    assert seen.shown == []
