"""``scripts/install``, the README's install path, run from a clean copy of the checkout: staged
with ``--root`` (no user made, no systemctl), it builds a working Hearth from the checkout, puts
the YAML and the unit where the unit expects them with the modes it says, keeps a YAML already
there, refuses a YAML with errors, and says what is wrong when run wrongly."""

from __future__ import annotations

import shutil
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import CONFIG, ROOT, make_ca
from tests.test_service import verify

pytestmark = pytest.mark.slow


def run(*args: str, cwd: Path, user: str | None = None) -> subprocess.CompletedProcess[str]:
    cmd = ["bash", "scripts/install", *args]
    if user is not None:
        # The script on standard input: another user cannot read a test's folder.
        cmd = ["runuser", "-u", user, "--", "bash", "-s", "--", *args]
        text = (cwd / "scripts" / "install").read_text()
        return subprocess.run(
            cmd, cwd="/", input=text, capture_output=True, text=True, timeout=120, check=False
        )
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A clean copy of the checkout (its files under version control, and new ones not yet
    committed), a home's YAML whose files exist, and the staged install of both."""
    base = tmp_path_factory.mktemp("install")
    checkout = base / "checkout"
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    for name in files:
        if (ROOT / name).is_file():
            (checkout / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, checkout / name)
    doc = yaml.safe_load((CONFIG / "zigbee2mqtt-home.yaml").read_text(encoding="utf-8"))
    doc["upstream"]["tls"]["ca_file"] = str(make_ca(base / "ca", "care"))
    # The hub's own certificate and key (the CA's own pair will do: they are only read) and
    # its password, in a file only its user can read.
    hub = make_ca(base / "hub", "hub")
    doc["upstream"]["tls"] |= {"cert_file": str(hub), "key_file": str(base / "hub/ca.key")}
    password = base / "upstream.pw"
    password.write_text("change-me\n")
    password.chmod(0o600)
    doc["upstream"]["password_file"] = str(password)
    home = base / "home.yaml"
    home.write_text(yaml.safe_dump(doc), encoding="utf-8")
    root = base / "root"
    done = run("--root", str(root), "--config", str(home), "--no-start", cwd=checkout)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == f"staged under {root}: no user made, no service enabled"
    return checkout, home, root


def test_the_staged_install_runs_and_checks_the_yaml(installed: tuple[Path, Path, Path]) -> None:
    _, home, root = installed
    hearth = root / "opt/hearth/bin/hearth"
    version = subprocess.run([hearth, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.strip() == "hearth 0.1.0"
    yaml_path = root / "etc/hearth/home.yaml"
    assert yaml_path.read_text() == home.read_text()
    check = subprocess.run([hearth, "check-config", yaml_path], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert stat.S_IMODE((root / "etc/hearth").stat().st_mode) == 0o750
    assert stat.S_IMODE(yaml_path.stat().st_mode) == 0o640


def test_the_installed_unit_is_the_checkouts_and_systemd_accepts_it(
    installed: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    checkout, _, root = installed
    unit = root / "etc/systemd/system/hearth.service"
    assert unit.read_text() == (checkout / "config/systemd/hearth.service").read_text()
    good = verify(unit.read_text(), tmp_path)
    assert (good.returncode, good.stderr) == (0, "")


def test_run_again_it_keeps_the_yaml_there_and_refuses_one_with_errors(
    installed: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    checkout, home, root = installed
    yaml_path = root / "etc/hearth/home.yaml"
    edited = yaml_path.read_text() + "# edited on the hub\n"
    yaml_path.write_text(edited)
    again = run("--root", str(root), "--no-start", cwd=checkout)
    assert again.returncode == 0, again.stderr
    assert f"kept {yaml_path} as it is" in again.stdout
    assert yaml_path.read_text() == edited
    # A YAML with an error: installed (backed up the one before), not passed.
    broken = tmp_path / "broken.yaml"
    broken.write_text(home.read_text().replace("timezone: Europe/London", "timezone: Mars/Base"))
    refused = run("--root", str(root), "--config", str(broken), "--no-start", cwd=checkout)
    assert refused.returncode == 1
    assert "unknown time zone 'Mars/Base'" in refused.stdout + refused.stderr
    assert refused.stderr.splitlines()[-1].endswith("the service is not started")
    (backup,) = (root / "etc/hearth").glob("home.yaml.*.bak")
    assert backup.read_text() == edited


def test_run_wrongly_it_says_why_before_it_does_anything(
    installed: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    checkout, home, _ = installed
    missing = run("--root", str(tmp_path / "r"), "--config", "/no/home.yaml", cwd=checkout)
    assert missing.returncode == 1
    assert missing.stderr.strip() == "install: cannot read the household YAML /no/home.yaml"
    assert not (tmp_path / "r").exists()
    unknown = run("--frobnicate", cwd=checkout)
    assert unknown.returncode == 1
    assert unknown.stderr.splitlines()[-1] == "install: unknown option --frobnicate"
    if shutil.which("runuser") is None:
        pytest.fail("runuser (util-linux) is needed to run the script as another user")
    not_root = run("--config", str(home), cwd=checkout, user="nobody")
    assert not_root.returncode == 1
    assert not_root.stderr.strip() == (
        "install: run it as root (sudo scripts/install ...), or stage it with --root DIR"
    )
