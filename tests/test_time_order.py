"""A recording of any length replayed in time order from bounded memory."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.config import load_config
from agent.replay import replay
from agent.sources.recordings import READERS, ReadReport, read_recording, stream_recording
from agent.sources.time_order import FAN_IN, InTimeOrder
from models.events import SensorEvent
from tests.conftest import CONFIG, dataset

T0 = datetime(2024, 3, 1, tzinfo=UTC)

events = st.lists(
    st.builds(
        SensorEvent,
        st.integers(0, 10**12).map(lambda us: T0 + timedelta(microseconds=us)),
        st.sampled_from(["pir", "door", "kettle"]),
        st.sampled_from(["motion", "contact", "appliance"]),
        st.sampled_from([0.0, 1.0, 0.25]),
        st.booleans(),
    ),
    max_size=60,
)


@settings(max_examples=200)
@given(events, st.integers(1, 8))
def test_the_events_come_out_as_a_stable_sort_would_put_them(
    recorded: list[SensorEvent], run: int
) -> None:
    with InTimeOrder(iter(recorded), run=run) as ordered:
        assert len(ordered) == len(recorded)
        once, twice = list(ordered), list(ordered)
    assert once == twice == sorted(recorded, key=lambda e: e.at)


def test_a_long_recording_waits_on_disk_and_only_one_run_is_held(tmp_path: Path) -> None:
    recorded = [
        SensorEvent(T0 + timedelta(seconds=(i * 7919) % 10_000), "pir", "motion", 1.0)
        for i in range(9_950)
    ]
    ordered = InTimeOrder(recorded, run=100)
    files = [r.file for r in ordered._runs]
    # 99 runs of 100 on disk, the last 50 in memory: merged FAN_IN at a time into longer ones.
    assert len(files) == 99 // FAN_IN + 99 % FAN_IN
    assert all(f.seek(0, os.SEEK_END) > 0 for f in files)
    assert len(ordered._last) == 50  # the rest is in the files, not in memory
    assert list(ordered) == sorted(recorded, key=lambda e: e.at)
    ordered.close()
    assert all(f.closed for f in files)
    # A short one never touches the disk.
    assert InTimeOrder(recorded[:10], run=1000)._runs == []


def test_a_dev_home_streamed_replays_as_the_list_does() -> None:
    cfg = load_config(CONFIG / "tihm-home.yaml")
    path = dataset("tihm-dev", "activity", "0d5ef.csv")
    spec = f"tihm:{path}"
    listed = read_recording(spec, cfg, ReadReport())
    report = ReadReport()
    # Runs far shorter than the home, so that the merge from disk is what is replayed.
    streamed = InTimeOrder(READERS["tihm"](path, cfg, report), run=len(listed) // 7)
    assert len(streamed) == len(listed) == report.events
    with streamed, stream_recording(spec, cfg, ReadReport()) as default:
        assert list(streamed) == listed == list(default)
        a, b = replay(cfg, listed).alerts, replay(cfg, streamed).alerts
    assert [x.to_json() for x in a] == [x.to_json() for x in b]
    assert a  # a home with alerts, so that the comparison says something
