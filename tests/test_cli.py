"""The ``hearth`` command as a technician meets it: a version, the same options on every
command, ranges said before anything runs, one line for a file it cannot write, and a replay
that watched nothing is a failure, not a pass."""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml

from agent.cli import build_parser, main
from agent.sources.recordings import FORMATS
from tests.conftest import CONFIG, ROOT, Mosquitto, dataset, hearth
from tests.test_live_mqtt import live_doc


def commands(p: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (sub,) = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def test_the_version_is_the_installed_ones() -> None:
    run = hearth("--version")
    assert run.returncode == 0
    assert run.stdout == f"hearth {version('hearth')}\n"


def test_every_command_takes_verbose_and_log_format_before_or_after_its_name() -> None:
    p = build_parser()
    for name, command in commands(p).items():
        options = {o for a in command._actions for o in a.option_strings}
        assert {"-v", "--log-format"} <= options, name
    assert p.parse_args(["demo", "-v"]).verbose is True
    assert p.parse_args(["-v", "demo"]).verbose is True
    assert p.parse_args(["demo"]).verbose is False
    assert p.parse_args(["demo", "--log-format", "json"]).log_format == "json"
    assert p.parse_args(["--log-format", "json", "demo"]).log_format == "json"
    assert p.parse_args(["demo"]).log_format == "text"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["demo", "--weeks", "-1"], "argument --weeks: -1 is out of range: 1 to 520"),
        (["demo", "--weeks", "two"], "argument --weeks: 'two' is not a whole number"),
        (["bridge-sim", "--config", "x", "--noise", "2"], "2.0 is not a chance from 0 to 1"),
        (["bridge-sim", "--config", "x", "--every", "0"], "--every: 0.0 is out of range"),
        (["bridge-sim", "--config", "x", "--every", "nan"], "'nan' is not a number"),
        (["eval", "--jobs", "0"], "argument --jobs: 0 is out of range: 1 to 256"),
    ],
)
def test_an_argument_out_of_range_is_refused_with_its_range(
    args: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(args)
    assert exit_.value.code == 2
    assert says in capsys.readouterr().err


def test_a_file_it_cannot_write_is_one_line_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder" / "alerts.jsonl"
    run = hearth("demo", "--weeks", "1", "--alerts-out", str(missing))
    assert run.returncode == 1
    assert run.stderr == f"hearth demo: {missing}: No such file or directory\n"
    run = hearth("schema", "--output", str(missing))
    assert (run.returncode, run.stderr) == (
        1,
        f"hearth schema: {missing}: No such file or directory\n",
    )
    written = tmp_path / "alerts.jsonl"
    assert hearth("demo", "--weeks", "1", "--alerts-out", str(written)).returncode == 0
    assert written.exists()


def test_a_replay_that_replays_nothing_fails_and_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = sorted(dataset("tihm-dev", "activity").glob("*.csv"))[0]
    args = ["replay", "--input", f"tihm:{home}", "--alerts-out", str(tmp_path / "a.jsonl"), "-q"]
    # The demo household's sensors are not the TIHM home's: every row is an unknown sensor.
    assert main([*args[:1], "--config", str(CONFIG / "demo-home.yaml"), *args[1:]]) == 1
    err = capsys.readouterr().err
    assert "dropped: 1044 unknown sensor" in err
    assert "no event replayed from" in err
    assert "(is --config the household it was recorded in?)" in err
    assert main([*args[:1], "--config", str(CONFIG / "tihm-home.yaml"), *args[1:]]) == 0
    assert "replayed 1044 events" in capsys.readouterr().err


def test_replay_lists_every_format_it_reads(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["replay", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"FORMAT one of {', '.join(FORMATS)}" in text
    assert {"csv", "tihm", "ordonez", "kasteren"} <= set(FORMATS)


def test_the_live_agent_logs_one_json_object_a_line(
    tmp_path: Path, broker: Mosquitto, upstream_broker: Mosquitto
) -> None:
    cfg = tmp_path / "home.yaml"
    doc = live_doc(broker, upstream_broker, tmp_path / "home.sqlite")
    doc["alerts"]["recipients"] = [{"name": "Daughter (Sarah)", "severities": ["urgent"]}]
    cfg.write_text(yaml.safe_dump(doc))
    log = tmp_path / "agent.log"
    with log.open("wb") as out:
        agent = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "agent.cli",
                "run",
                "--config",
                str(cfg),
                "--log-format",
                "json",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    try:
        deadline = time.monotonic() + 60
        while "connected to local broker" not in log.read_text():
            assert agent.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        agent.send_signal(signal.SIGTERM)
        assert agent.wait(30) == 0, log.read_text()
    finally:
        if agent.poll() is None:
            agent.kill()
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert all(set(line) >= {"time", "level", "logger", "message"} for line in lines)
    assert any("connected to local broker" in line["message"] for line in lines)
    assert {line["level"] for line in lines} <= {"debug", "info", "warning", "error", "critical"}
    # What check-config warns of is said again at start, where the running hub's log is read.
    warned = [line["message"] for line in lines if line["level"] == "warning"]
    assert any("nobody receives technical alerts" in m for m in warned), warned


def test_a_simulated_bridge_it_cannot_link_is_one_line_saying_what_to_do(tmp_path: Path) -> None:
    run = hearth(
        "bridge-sim", "--config", str(CONFIG / "serial-home.yaml"), "--count", "1",
        "--link", str(tmp_path / "no-such-folder" / "bridge"),
    )  # fmt: skip
    assert run.returncode == 1
    assert run.stderr.count("\n") == 1
    assert "cannot make the link" in run.stderr
    assert "--link /tmp/hearth-bridge" in run.stderr
    link = tmp_path / "bridge"
    run = hearth("bridge-sim", "--config", str(CONFIG / "serial-home.yaml"), "--count", "1",
                 "--every", "0.1", "--link", str(link))  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert f"simulated bridge on {link}" in run.stdout


def test_a_long_replay_shows_its_progress_on_a_terminal_or_when_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = sorted(dataset("tihm-dev", "activity").glob("*.csv"))[0]
    args = ["replay", "--config", str(CONFIG / "tihm-home.yaml"), "--input", f"tihm:{home}"]
    args += ["--alerts-out", str(tmp_path / "a.jsonl"), "-q"]
    # Standard error here is not a terminal: no bar, by default, in a log or a script.
    assert main(args) == 0
    assert "replaying" not in capsys.readouterr().err
    assert main([*args, "--progress", "yes"]) == 0
    err = capsys.readouterr().err
    assert "replaying: 100%" in err
    assert "1.04k/1.04k" in err
