"""Every reader of outside bytes, fuzzed by atheris (tests/fuzz_targets.py): nothing but its
own documented error escapes. CI runs each for a short while; ``pytest -m long`` feeds each
100,000 inputs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ("decoders", "frames", "commands", "household_files")
# Inputs each in CI: a few seconds to a minute each on 2 cores (the YAML loader is the slow one).
CI_RUNS = {"decoders": 20_000, "frames": 20_000, "commands": 20_000, "household_files": 3_000}


def fuzz(target: str, runs: int, tmp_path: Path) -> str:
    pytest.importorskip("atheris", reason="atheris has wheels for x86-64 Linux only")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.fuzz_targets",
            target,
            f"-runs={runs}",
            "-seed=1",
            f"-artifact_prefix={tmp_path}/",
            "-max_len=4096",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-4000:]
    assert re.search(rf"Done {runs} runs", out), out[-2000:]
    return out


@pytest.mark.parametrize("target", TARGETS)
def test_fuzzed_in_ci(target: str, tmp_path: Path) -> None:
    fuzz(target, CI_RUNS[target], tmp_path)


@pytest.mark.long
@pytest.mark.parametrize("target", TARGETS)
def test_fuzzed_a_hundred_thousand_times(target: str, tmp_path: Path) -> None:
    fuzz(target, 100_000, tmp_path)
