"""Coverage-guided fuzzing (atheris, libFuzzer's engine) of everything that reads bytes from
outside: each decoder, the serial frame reader, the household's commands and the YAML loader.

Each target lets through only the error its reader documents; anything else escaping is a
crash, which libFuzzer reports with the input that caused it, and a non-zero exit.

Run one: ``python -m tests.fuzz_targets zigbee2mqtt -runs=100000`` (``tests/test_fuzz.py``
runs each, shorter in CI, 100,000 inputs with ``pytest -m long``).
"""

from __future__ import annotations

import contextlib
import json
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import atheris

with atheris.instrument_imports():
    from agent.config import load_config
    from agent.config.schema import SensorConfig
    from agent.decode import Decoder
    from agent.errors import ConfigError, ControlError, DecodeError, UnknownTopic
    from agent.sources.bridge_protocol import FrameReader, parse_reading
    from agent.sources.control import parse_command

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config"
NOW = datetime(2026, 3, 1, 9, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")
_cfg = load_config(CONFIG / "zigbee2mqtt-home.yaml")
# The example's Zigbee2MQTT and plain sensors, and a plug of each other style.
_plugs = [
    SensorConfig.model_validate(
        {"id": f"plug_{style}", "kind": kind, "room": "kitchen", "role": role,
         "mqtt": {"topic": topic, "style": style}}
    )
    for style, kind, role, topic in (
        ("tasmota", "power", "microwave", "tele/microwave/SENSOR"),
        ("shelly", "power", "fridge", "shelly-fridge/status/switch:0"),
        ("esphome", "contact", "back_door", "back/binary_sensor/door/state"),
    )
]  # fmt: skip
_decoder = Decoder([*_cfg.sensors, *_plugs])
_topics = sorted(t for t in _decoder.topics() if "+" not in t and "#" not in t)
_folder = Path(tempfile.mkdtemp(prefix="hearth-fuzz-"))


def decoders(data: bytes) -> None:
    """A payload on one of the household's topics (the first byte picks which)."""
    if not data:
        return
    topic = _topics[data[0] % len(_topics)]
    with contextlib.suppress(DecodeError, UnknownTopic):
        _decoder.decode(topic, data[1:], NOW, True)


def frames(data: bytes) -> None:
    """Line noise on the serial port, in arbitrary pieces; every frame's reading parsed."""
    reader = FrameReader()
    step = 1 + (data[0] % 64) if data else 1
    for i in range(0, len(data), step):
        for frame in reader.feed(data[i : i + step]):
            if frame.type == "R":
                with contextlib.suppress(ValueError):
                    parse_reading(frame)


def commands(data: bytes) -> None:
    """A household command: its name from the first byte, its payload the rest."""
    if not data:
        return
    names = ("away", "home", "pause", "resume", "ordinary", "bogus")
    topic = f"hearth/mrs-b-flat-12/control/{names[data[0] % len(names)]}"
    with contextlib.suppress(ControlError):
        parse_command(topic, data[1:], "mrs-b-flat-12", NOW, LONDON)


def household_files(data: bytes) -> None:
    """A household's YAML file, as a technician might have broken it."""
    path = _folder / "home.yaml"
    path.write_bytes(data)
    with contextlib.suppress(ConfigError):
        load_config(path)


def seeds(target: str) -> list[bytes]:
    """Inputs that get each target past its first checks, for the fuzzer to mutate."""
    if target == "decoders":
        payloads = [
            b'{"occupancy": true, "battery": 90, "linkquality": 120}',
            b'{"contact": false, "battery_low": false}',
            b'{"power": 2150.5, "state": "ON"}',
            b"ON",
            b"open",
            b"2150",
            b"online",
        ]
        return [bytes([i]) + p for i in range(len(_topics)) for p in payloads]
    if target == "frames":
        golden = json.loads((ROOT / "firmware-bridge" / "golden_frames.json").read_text())
        return [bytes([1]) + "".join(g["frame"] for g in golden["frames"]).encode()]
    if target == "commands":
        return [bytes([i]) + p for i in range(6) for p in (b"2h", b'{"until": "2026-03-02T10:00"}')]
    return [p.read_bytes() for p in sorted((ROOT / "config").glob("*.yaml"))]


TARGETS: dict[str, Callable[[bytes], None]] = {
    "decoders": decoders,
    "frames": frames,
    "commands": commands,
    "household_files": household_files,
}


def main() -> None:
    """``python -m tests.fuzz_targets <target> [libFuzzer flags]``: the seeds are written to a
    fresh corpus folder, which libFuzzer grows."""
    name = sys.argv[1]
    corpus = Path(tempfile.mkdtemp(prefix=f"hearth-fuzz-{name}-"))
    for i, seed in enumerate(seeds(name)):
        (corpus / f"seed-{i}").write_bytes(seed)
    atheris.Setup([sys.argv[0], *sys.argv[2:], str(corpus)], TARGETS[name])
    atheris.Fuzz()


if __name__ == "__main__":
    main()
