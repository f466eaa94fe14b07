"""Readers for the Ordóñez and van Kasteren releases, on the real files."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.config import load_config
from agent.replay import replay
from agent.sources.recordings import ReadReport, read_kasteren, read_ordonez, read_recording
from tests.conftest import CONFIG, dataset

ORDONEZ = load_config(CONFIG / "ordonez-home.yaml")
KASTEREN = load_config(CONFIG / "kasteren-home.yaml")


def test_ordonez_homes_are_read_whole_with_each_interval_as_two_events() -> None:
    for house, rows in (("A", 409), ("B", 2334)):
        report = ReadReport()
        path = dataset("ordonez-uci-adl", f"Ordonez{house}_Sensors.txt")
        events = read_recording(f"ordonez:{path}", ORDONEZ, report)
        assert report.rows == rows
        assert report.dropped == {}
        assert len(events) == 2 * rows
    first = read_recording(
        f"ordonez:{dataset('ordonez-uci-adl', 'OrdonezA_Sensors.txt')}", ORDONEZ, ReadReport()
    )[0]
    # 2011-11-28 02:27:59 in Madrid (CET, UTC+1): the bed pressed.
    assert (first.at, first.sensor, first.reading, first.value) == (
        datetime(2011, 11, 28, 1, 27, 59, tzinfo=UTC),
        "bedroom_bed",
        "motion",
        1.0,
    )


def test_kasteren_house_a_is_read_whole_past_its_preamble_and_footer() -> None:
    report = ReadReport()
    path = dataset("kasteren", "2008_houseA_original", "kasterenSenseData.txt")
    events = read_recording(f"kasteren:{path}", KASTEREN, report)
    assert report.rows == 1319  # the count the release states in its last line
    assert report.dropped == {}
    assert {e.sensor for e in events} <= {s.id for s in KASTEREN.sensors}
    assert events[0].at == datetime(2008, 2, 24, 23, 20, 14, tzinfo=UTC)  # 00:20:14 in Amsterdam


def test_the_short_homes_replay_and_learn() -> None:
    path = dataset("ordonez-uci-adl", "OrdonezB_Sensors.txt")
    result = replay(ORDONEZ, read_recording(f"ordonez:{path}", ORDONEZ, ReadReport()))
    assert result.pipeline.monitor.routine.days_learned >= 20
    assert all(a.household == "ordonez-home" for a in result.alerts)


@given(st.lists(st.text(max_size=60), max_size=30))
@settings(max_examples=60, deadline=None)
def test_any_lines_are_read_or_dropped_with_a_reason(lines: list[str]) -> None:
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "x.txt"
        p.write_text("\n".join(lines), encoding="utf-8")
        for reader, cfg in ((read_ordonez, ORDONEZ), (read_kasteren, KASTEREN)):
            report = ReadReport()
            events = list(reader(p, cfg, report))
            assert report.events == len(events)
            assert report.rows >= sum(report.dropped.values())
