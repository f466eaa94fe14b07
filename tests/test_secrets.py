"""Secrets kept out of the YAML, and alerts kept off plain text: a password inline is refused, a
password file other users can open is refused, one in a file or a variable reaches a real
broker; the care team's broker off this hub is TLS unless the YAML says ``insecure: true``,
which check-config, the start-up log and ``hearth status`` all say loudly."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from agent.cli.status import read_status, words
from agent.config import load_config, load_config_text
from agent.config.brokers import BrokerConfig
from agent.errors import BrokerRefused, ConfigError
from agent.sources.mqtt import check_files, session
from tests.conftest import ROOT, Mosquitto, hearth
from tests.test_config import GOOD


def secret_file(path: Path, secret: str, mode: int = 0o600) -> Path:
    path.write_text(secret + "\n")
    path.chmod(mode)
    return path


def checked(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    home = tmp_path / "home.yaml"
    home.write_text(text)
    return hearth("check-config", str(home))


def test_a_password_in_the_yaml_is_refused_and_never_shown(tmp_path: Path) -> None:
    run = checked(tmp_path, GOOD + "local_broker: {host: localhost, password: hunter2-xyz}\n")
    assert run.returncode == 1
    assert "local_broker.password: a password is not kept in the YAML" in run.stderr
    assert "password_file:" in run.stderr
    assert "hunter2-xyz" not in run.stdout + run.stderr


def test_a_password_file_others_can_open_is_refused_and_one_only_hearth_can_is_read(
    tmp_path: Path,
) -> None:
    pw = secret_file(tmp_path / "local.pw", "hunter2-xyz", 0o644)
    text = GOOD + f"local_broker: {{host: localhost, username: hearth, password_file: {pw}}}\n"
    run = checked(tmp_path, text)
    assert run.returncode == 1
    assert (
        f"local_broker.password_file: {pw}: other users can open it (mode 0644): chmod 600 {pw},"
        " owned by the user Hearth runs as"
    ) in run.stderr
    assert "hunter2-xyz" not in run.stdout + run.stderr
    pw.chmod(0o600)
    run = checked(tmp_path, text)
    assert run.returncode == 0, run.stderr
    assert "hunter2-xyz" not in run.stdout + run.stderr
    # hearth run refuses it as well, in one line, before it opens anything.
    pw.chmod(0o640)
    with pytest.raises(BrokerRefused, match="other users can open it"):
        check_files(load_config(tmp_path / "home.yaml").local_broker or BrokerConfig(), "local")
    pw.unlink()
    run = checked(tmp_path, text)
    assert f"local_broker.password_file: cannot read {pw} (No such file" in run.stderr


def test_a_password_in_a_variable_must_be_set_and_one_place_is_enough(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = GOOD + "local_broker: {host: localhost, password_env: HEARTH_TEST_PW}\n"
    monkeypatch.delenv("HEARTH_TEST_PW", raising=False)
    run = checked(tmp_path, text)
    assert run.returncode == 1
    assert "local_broker.password_env: the environment variable HEARTH_TEST_PW is not set" in (
        run.stderr
    )
    monkeypatch.setenv("HEARTH_TEST_PW", "hunter2-xyz")
    run = checked(tmp_path, text)
    assert run.returncode == 0, run.stderr
    both = GOOD + "local_broker: {host: localhost, password_env: X, password_file: /f}\n"
    with pytest.raises(ConfigError, match="password_file and password_env both set"):
        load_config_text(both, "home.yaml")


def test_a_password_from_a_file_or_a_variable_reaches_a_real_broker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = Mosquitto(tmp_path, users={"hearth": "right-one"})
    home.start()
    try:
        where = {"host": home.host, "port": home.port, "username": "hearth"}

        def connects(**secret: str) -> bool:
            async def go() -> bool:
                async with session(BrokerConfig.model_validate(where | secret), "t") as c:
                    await c.publish("hearth/test", b"1", qos=1)
                    return True

            try:
                return asyncio.run(go())
            except BrokerRefused:
                return False

        right = secret_file(tmp_path / "right.pw", "right-one")
        wrong = secret_file(tmp_path / "wrong.pw", "wrong-one")
        monkeypatch.setenv("HEARTH_TEST_PW", "right-one")
        assert connects(password_file=str(right))
        assert not connects(password_file=str(wrong))
        assert connects(password_env="HEARTH_TEST_PW")
    finally:
        home.stop()


def test_alerts_leave_this_hub_over_tls_unless_the_yaml_says_insecure(tmp_path: Path) -> None:
    remote = GOOD + "upstream: {host: care.example.org}\n"
    with pytest.raises(ConfigError, match=r"would go to care\.example\.org unencrypted: add tls:"):
        load_config_text(remote, "home.yaml")
    # To this hub itself (a broker bridging on over TLS), plain MQTT is fine.
    assert load_config_text(GOOD + "upstream: {host: 127.0.0.1}\n").upstream is not None
    run = checked(tmp_path, GOOD + "upstream: {host: care.example.org, insecure: true}\n")
    assert run.returncode == 0, run.stderr
    assert "go to care.example.org UNENCRYPTED (insecure: true)" in run.stdout


def test_an_insecure_link_is_said_at_start_and_in_the_status(tmp_path: Path) -> None:
    doc = yaml.safe_load((ROOT / "config/demo-home.yaml").read_text())
    # TEST-NET-1: never reachable, so the hub keeps trying while the log is read.
    doc["upstream"] = {"host": "192.0.2.1", "port": 1883, "insecure": True}
    doc["store"] = {"path": str(tmp_path / "hub.sqlite")}
    home = tmp_path / "home.yaml"
    home.write_text(yaml.safe_dump(doc))
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        run = subprocess.Popen(
            [sys.executable, "-m", "agent.cli", "run", "--config", str(home)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    try:
        deadline = time.monotonic() + 60
        while "UNENCRYPTED" not in log.read_text() and time.monotonic() < deadline:
            assert run.poll() is None, log.read_text()
            time.sleep(0.1)
    finally:
        run.send_signal(signal.SIGTERM)
        run.wait(60)
    said = log.read_text()
    assert "WARNING" in said
    assert "upstream.insecure: the alerts go to 192.0.2.1 UNENCRYPTED (insecure: true)" in said

    # The store the run left: the status says it too, and only while the YAML says so.
    text = words(read_status(load_config(home), datetime.now(UTC)))
    assert "  alerts go to 192.0.2.1:1883 UNENCRYPTED (upstream.insecure: true)" in text
    doc["upstream"] = {"host": "127.0.0.1", "port": 1883}
    home.write_text(yaml.safe_dump(doc))
    text = words(read_status(load_config(home), datetime.now(UTC)))
    assert not [line for line in text if "UNENCRYPTED" in line]
