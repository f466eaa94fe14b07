"""The systemd unit in config/systemd/ is one systemd itself accepts, and it promises what the
agent does: notify when ready, a watchdog pinged while watching, restart on failure, the state
directory the shipped examples keep their store in."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import CONFIG

UNIT = CONFIG / "systemd" / "hearth.service"
HEARTH = Path(sys.executable).parent / "hearth"


def verify(text: str, folder: Path) -> subprocess.CompletedProcess[str]:
    """``systemd-analyze verify`` of the unit, run as this checkout's ``hearth``."""
    exe = shutil.which("systemd-analyze")
    if exe is None:
        pytest.fail("systemd-analyze is missing: apt-get install -y systemd (.ci/run does this)")
    unit = folder / "hearth.service"
    unit.write_text(text.replace("/opt/hearth/bin/hearth", str(HEARTH)))
    return subprocess.run(
        [exe, "verify", str(unit)], capture_output=True, text=True, check=False, timeout=60
    )


def test_systemd_accepts_the_unit_and_would_refuse_a_broken_one(tmp_path: Path) -> None:
    text = UNIT.read_text()
    good = verify(text, tmp_path)
    assert (good.returncode, good.stderr) == (0, "")
    wrong = verify(text.replace("Type=notify", "Type=notifyy"), tmp_path)
    assert "Failed to parse service type" in wrong.stderr
    missing = verify(text.replace("/opt/hearth/bin/hearth", "/nowhere/hearth"), tmp_path)
    assert missing.returncode != 0
    assert "/nowhere/hearth" in missing.stderr


def test_the_unit_promises_what_the_agent_does() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read_string(UNIT.read_text())
    service = unit["Service"]
    # The agent says READY=1 and pings the watchdog after each look (agent/runtime/systemd.py).
    assert service["Type"] == "notify"
    assert service["WatchdogSec"] == "30"
    # Exit code 70 is a part that kept failing: systemd starts it again.
    assert service["Restart"] == "on-failure"
    assert service["User"] == "hearth"
    config = service["ExecStart"].split("--config ")[1]
    assert Path(config).parent == Path("/etc") / service["ConfigurationDirectory"]
    state = Path("/var/lib") / service["StateDirectory"]
    for example in ("zigbee2mqtt-home.yaml", "serial-home.yaml"):
        store = yaml.safe_load((CONFIG / example).read_text())["store"]["path"]
        assert Path(store).parent == state, example
    assert "dialout" in service["SupplementaryGroups"]  # the serial bridge's port
