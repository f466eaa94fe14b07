"""``hearth explain``: the learned routine in words and as an actogram, from a real dataset
home (a recording) and from a hub's real store; the PNG is read back and is coloured by room
exactly where there was activity, white where there was none, and red where an alert was."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from matplotlib import image

from agent.cli.actogram import ALERT_COLOUR, BACKGROUND, ROOM_COLOURS, cell_pixel, draw
from agent.cli.actogram import grid as make_grid
from agent.cli.explain import from_recording
from agent.config import load_config
from agent.delivery.rendering import alert_payload
from agent.pipeline import Pipeline
from agent.replay import replay
from agent.runtime import keeping
from agent.simulation.persona import BadDay, Persona
from agent.store import Store
from tests.conftest import CONFIG, dataset, hearth

TIHM = CONFIG / "tihm-home.yaml"
HOME = dataset("tihm-dev", "activity", "0d5ef.csv")


def rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def pixel(png: object, at: tuple[int, int]) -> tuple[int, int, int]:
    px = png[at]  # type: ignore[index]
    return tuple(round(float(c) * 255) for c in px[:3])  # type: ignore[return-value]


def demo_with_store(tmp_path: Path, store: Path) -> Path:
    doc = yaml.safe_load((CONFIG / "demo-home.yaml").read_text(encoding="utf-8"))
    doc["store"] = {"path": str(store)}
    path = tmp_path / "home.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def test_the_actogram_of_a_real_home_is_coloured_where_she_was_and_white_where_not(
    tmp_path: Path,
) -> None:
    cfg = load_config(TIHM)
    _, activity, urgent = from_recording(cfg, f"tihm:{HOME}")
    rooms = list(dict.fromkeys(s.room for s in cfg.sensors))
    g = make_grid(activity, urgent, rooms, ZoneInfo(cfg.household.timezone))
    out = tmp_path / "home.png"
    draw(g, str(out), "0d5ef")
    png = image.imread(out)
    height = png.shape[0]
    busy = [(d, b, c) for d, row in enumerate(g.cells) for b, c in enumerate(row) if c]
    # Not the first or last five minutes, a pixel from the frame.
    idle = [(d, b) for d, row in enumerate(g.cells) for b, c in enumerate(row[1:-1], 1) if not c]
    # A real home: most of its days, and many five minutes of each, with activity.
    assert len(g.days) > 40
    assert len(busy) > 20 * len(g.days)
    for d, b, c in busy[:: max(1, len(busy) // 400)]:
        assert pixel(png, cell_pixel(g, d, b, height)) == rgb(ROOM_COLOURS[c - 1]), (d, b)
    for d, b in idle[:: max(1, len(idle) // 400)]:
        # Not under an alert's marker, which may overlap a neighbouring empty cell.
        if all(abs(d - ad) > 1 or abs(b - ab) > 3 for ad, ab, _ in g.alerts):
            assert pixel(png, cell_pixel(g, d, b, height)) == rgb(BACKGROUND), (d, b)
    assert g.alerts, "this home raises urgent alerts in its recording"
    for d, b, _ in g.alerts:
        assert pixel(png, cell_pixel(g, d, b, height)) == rgb(ALERT_COLOUR)


def test_explain_from_a_recording_says_the_routine_and_draws_its_last_days(
    tmp_path: Path,
) -> None:
    out = tmp_path / "week.png"
    run = hearth(
        "explain", "--config", str(TIHM), "--input", f"tihm:{HOME}", "--png", str(out),
        "--days", "7",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("household tihm-home: learned from ")
    assert any(x.startswith("mornings (weekdays): the day begins around ") for x in lines)
    assert any(x.startswith("nights: usually asleep from ") for x in lines)
    assert any(x.startswith("stillness: 'no movement' is said after") for x in lines)
    assert "  inactivity: learned, " in "\n".join(lines)
    assert lines[-1] == f"actogram of 7 days written to {out}"
    assert image.imread(out).shape[0] == 300  # 3 inches at 100 dpi: a week is short


def test_explain_reads_a_hubs_store_and_marks_its_alerts(tmp_path: Path) -> None:
    store_path = tmp_path / "home.sqlite"
    cfg_path = demo_with_store(tmp_path, store_path)
    cfg = load_config(cfg_path)
    events = list(Persona(date(2026, 3, 2), ZoneInfo("Europe/London"), 3).events(
        24, (BadDay(20, "fall"),)
    ))  # fmt: skip
    pipeline = Pipeline(cfg)
    alerts = replay(cfg, events, pipeline=pipeline).alerts
    assert any(a.type == "inactivity" for a in alerts)

    async def keep() -> None:
        async with await Store.open(store_path) as store:
            for e in events:
                store.add_event(e)
            await store.flush_events()
            for a in alerts:
                await store.enqueue_alert(a, f"hearth/{a.type}", alert_payload(cfg, a))
            assert await keeping.save(pipeline, store, events[-1].at)

    asyncio.run(keep())
    out = tmp_path / "hub.png"
    run = hearth("explain", "--config", str(cfg_path), "--png", str(out))
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("household demo-home: learned from 23 days")
    assert "actogram of 24 days written to" in run.stdout
    png = image.imread(out)
    red = (png[:, :, 0] > 0.8) & (png[:, :, 1] < 0.25) & (png[:, :, 2] < 0.25)
    assert red.sum() > 20, "the fall's alert is marked"


def test_explain_without_a_store_or_with_an_empty_recording_says_why(tmp_path: Path) -> None:
    cfg_path = demo_with_store(tmp_path, tmp_path / "none.sqlite")
    run = hearth("explain", "--config", str(cfg_path))
    assert run.returncode == 1
    assert run.stderr.startswith("hearth explain: no store at ")
    empty = tmp_path / "empty.csv"
    empty.write_text("date,location_name,value\n", encoding="utf-8")
    run = hearth("explain", "--config", str(TIHM), "--input", f"tihm:{empty}", "--png", "x.png")
    assert run.returncode == 1
    assert "no sign of life to draw" in run.stderr
