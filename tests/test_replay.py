"""Replay and demo, end to end through the command line, on real recorded homes."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest

from agent.cli import main
from agent.config import load_config
from agent.sources.recordings import ReadReport, read_recording
from models.finding import ALERT_TYPES
from tests.conftest import CONFIG, ROOT, dataset
from tests.published import assert_valid_alert

ALERT_KEYS = {
    "schema_version",
    "id",
    "household",
    "type",
    "severity",
    "started_at",
    "detected_at",
    "phase",
    "ends",
    "title",
    "summary",
    "context",
    "action",
    "evidence",
}


def check_alert_lines(path: Path) -> list[dict[str, object]]:
    alerts = [json.loads(line) for line in path.read_text().splitlines()]
    for a in alerts:
        assert set(a) >= ALERT_KEYS
        assert_valid_alert(a)
        assert a["type"] in ALERT_TYPES
        assert isinstance(a["summary"], str)
        assert a["summary"]
    assert len({a["id"] for a in alerts}) == len(alerts)
    return alerts


def test_replay_of_a_tihm_home_writes_valid_alerts_in_recorded_time(tmp_path: Path) -> None:
    out = tmp_path / "a.jsonl"
    src = dataset("tihm-dev", "activity", "0d5ef.csv")
    code = main(
        [
            "replay",
            "--config",
            str(CONFIG / "tihm-home.yaml"),
            "--input",
            f"tihm:{src}",
            "--alerts-out",
            str(out),
            "-q",
        ]
    )
    assert code == 0
    alerts = check_alert_lines(out)
    assert alerts, "seven weeks of a real home should give at least one alert"
    assert all(str(a["detected_at"]).startswith("2019-") for a in alerts)
    assert all(a["household"] == "tihm-home" for a in alerts)


def test_replay_writes_each_days_deviation_score(tmp_path: Path) -> None:
    daily = tmp_path / "days.jsonl"
    src = dataset("tihm-dev", "activity", "0d5ef.csv")
    args = ["replay", "--config", str(CONFIG / "tihm-home.yaml"), "--input", f"tihm:{src}"]
    code = main([*args, "--alerts-out", str(tmp_path / "a.jsonl"), "--daily-out", str(daily), "-q"])
    assert code == 0
    days = [json.loads(line) for line in daily.read_text().splitlines()]
    dates = [d["day"] for d in days]
    assert dates == sorted(set(dates))
    assert dates[0].startswith("2019-05")
    assert len(days) >= 40  # seven weeks, the last day still open when the recording ends
    scored = [d for d in days if d["score"] is not None]
    assert days[0]["score"] is None  # nothing to compare the first day with
    assert len(scored) >= len(days) - 10
    assert all(d["score"] >= 0 for d in scored)
    assert any(d["contributors"] for d in scored)
    assert set(days[-1]["figures"]) >= {"active_minutes", "night_bathroom", "wake"}


def test_tihm_reader_handles_both_headers() -> None:
    cfg = load_config(CONFIG / "tihm-home.yaml")
    report = ReadReport()
    odd = read_recording(f"tihm:{dataset('tihm-dev', 'activity', '0697d.csv')}", cfg, report)
    assert odd
    assert report.dropped == {}
    assert odd[0].at.year == 2019


def test_hearth_csv_drops_bad_rows_with_counts(tmp_path: Path) -> None:
    cfg = load_config(CONFIG / "demo-home.yaml")
    f = tmp_path / "events.csv"
    f.write_text(
        "time,sensor,value\n"
        "2025-03-30 00:30,kitchen_motion,ON\n"
        "2025-03-30T01:30:00+00:00,front_door,open\n"
        "yesterday,kitchen_motion,ON\n"
        "2025-03-30 09:00,garage,ON\n"
        "2025-03-30 09:00,kettle,lots\n"
        "2025-03-30 09:01,kettle,2100\n"
        "2025-03-30 09:04,kettle,3\n"
        "2025-03-30 09:05,kitchen_motion\n"
    )
    report = ReadReport()
    events = read_recording(f"csv:{f}", cfg, report)
    assert report.dropped == {
        "unreadable time": 1,
        "unknown sensor": 1,
        "unreadable value": 1,
        "wrong number of columns": 1,
    }
    # 00:30 on the spring-forward day is GMT; 09:01 is BST.
    assert events[0].at.hour == 0
    assert events[0].at.minute == 30
    assert [(e.reading, e.value) for e in events if e.sensor == "kettle"] == [
        ("power", 2100.0),
        ("appliance", 1.0),
        ("power", 3.0),
        ("appliance", 0.0),
    ]
    assert [e.at.hour for e in events if e.reading == "appliance"] == [8, 8]


def test_replay_rejects_a_bad_input_spec(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "replay",
            "--config",
            str(CONFIG / "tihm-home.yaml"),
            "--input",
            "xml:nowhere",
            "--alerts-out",
            str(tmp_path / "a.jsonl"),
        ]
    )
    assert code == 2
    assert "FORMAT:PATH" in capsys.readouterr().err


def test_demo_command_prints_the_planted_bad_days(tmp_path: Path) -> None:
    out = tmp_path / "demo.jsonl"
    run = subprocess.run(
        [sys.executable, "-m", "agent.cli", "demo", "--alerts-out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "missed_morning" in run.stdout
    assert "inactivity" in run.stdout
    alerts = check_alert_lines(out)
    assert [(a["type"], a["phase"]) for a in alerts] == [
        ("missed_morning", "raised"),
        ("missed_morning", "ended"),  # she gets up late
        ("inactivity", "raised"),
        ("inactivity", "ended"),  # the fall ends
        ("battery_low", "raised"),
        ("sensor_offline", "raised"),
        ("monitoring_gap", "raised"),
        ("monitoring_gap", "ended"),  # the battery is changed
    ]
    # Each end names the alert before it, and is told to the same recipients.
    for raised, ended in itertools.pairwise(alerts):
        if ended["phase"] == "ended":
            assert ended["ends"] == raised["id"]
            assert ended["recipients"] == raised["recipients"]
    assert "(3 of them told when they ended)" in run.stdout
    assert "monitoring_gap" in run.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    "home", sorted(p.name for p in dataset("tihm-dev", "activity").glob("*.csv"))
)
def test_every_tihm_home_replays_without_dropping_rows(home: str, tmp_path: Path) -> None:
    out = tmp_path / "a.jsonl"
    cfg = load_config(CONFIG / "tihm-home.yaml")
    report = ReadReport()
    events = read_recording(f"tihm:{dataset('tihm-dev', 'activity', home)}", cfg, report)
    assert report.dropped == {}
    assert len(events) == report.rows
    assert (
        main(
            [
                "replay",
                "--config",
                str(CONFIG / "tihm-home.yaml"),
                "--input",
                f"tihm:{dataset('tihm-dev', 'activity', home)}",
                "--alerts-out",
                str(out),
                "-q",
            ]
        )
        == 0
    )
    check_alert_lines(out)
