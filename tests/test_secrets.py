"""Secrets kept out of the YAML, and alerts kept off plain text: a password inline is refused, a
password file other users can open is refused, one in a file or a variable reaches a real
broker; the care team's broker off this hub is TLS unless the YAML says ``insecure: true``,
which check-config, the start-up log and ``hearth status`` all say loudly."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.cli.status import read_status, words
from agent.config import load_config, load_config_text
from agent.config.brokers import BrokerConfig
from agent.config.secrets import LONGEST, SecretProblem, read_secret
from agent.errors import BrokerRefused, ConfigError
from agent.sources.mqtt import check_files, session
from tests.conftest import ROOT, Mosquitto, hearth, make_ca, make_cert
from tests.test_config import GOOD


def secret_file(path: Path, secret: str, mode: int = 0o600) -> Path:
    path.write_text(secret + "\n")
    path.chmod(mode)
    return path


TOLD = "alerts: {recipients: [{name: Home-care team, severities: [urgent, technical]}]}\n"


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
        " and give it to the user Hearth runs as (chown)"
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
    remote = GOOD + TOLD + "upstream: {host: care.example.org}\n"
    with pytest.raises(ConfigError, match=r"would go to care\.example\.org unencrypted: add tls:"):
        load_config_text(remote, "home.yaml")
    # To this hub itself (a broker bridging on over TLS), plain MQTT is fine.
    assert load_config_text(GOOD + TOLD + "upstream: {host: 127.0.0.1}\n").upstream is not None
    run = checked(tmp_path, GOOD + TOLD + "upstream: {host: care.example.org, insecure: true}\n")
    assert run.returncode == 0, run.stderr
    assert "go to care.example.org UNENCRYPTED (insecure: true)" in run.stdout


def test_alerts_leave_with_the_hubs_own_certificate_unless_the_yaml_says_without(
    tmp_path: Path,
) -> None:
    ca = make_ca(tmp_path / "pki", "care")
    cert, key = make_cert(tmp_path / "pki", "hub", "DNS:hub")

    def upstream(tls: dict[str, object], host: str = "care.example.org") -> str:
        doc = {"host": host, "tls": {"ca_file": str(ca), **tls}}
        return GOOD + TOLD + "upstream: " + json.dumps(doc) + "\n"

    with pytest.raises(ConfigError, match=r"tls: has no cert_file: care\.example\.org could not"):
        load_config_text(upstream({}), "home.yaml")
    run = checked(tmp_path, upstream({}))
    assert run.returncode == 1
    assert "add cert_file: and key_file:" in run.stderr, run.stderr
    # With it, no warning of it; said on purpose, a warning; both, a contradiction.
    run = checked(tmp_path, upstream({"cert_file": str(cert), "key_file": str(key)}))
    assert run.returncode == 0, run.stderr
    assert "client certificate" not in run.stdout
    run = checked(tmp_path, upstream({"without_client_certificate": True}))
    assert run.returncode == 0, run.stderr
    assert "no client certificate (without_client_certificate: true)" in run.stdout
    both = {"cert_file": str(cert), "key_file": str(key), "without_client_certificate": True}
    with pytest.raises(ConfigError, match="cert_file and without_client_certificate"):
        load_config_text(upstream(both), "home.yaml")
    # A broker on this hub itself (bridging on) needs no certificate to be told from others.
    assert load_config_text(upstream({}, "127.0.0.1")).upstream is not None


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


def test_a_secret_is_never_quoted_when_the_yaml_around_it_does_not_parse(tmp_path: Path) -> None:
    for written in ("@Tr0ub4dor&3", "*Tr0ub4dor&3", '"Tr0ub4dor&3', "!Tr0ub4dor&3 x"):
        run = checked(tmp_path, GOOD + f"local_broker:\n  host: localhost\n  password: {written}\n")
        assert run.returncode == 1
        assert "Tr0ub4dor" not in run.stdout + run.stderr, run.stderr
        assert "home.yaml:1" in run.stderr  # the line (15 or 16) is still said
    run = checked(tmp_path, GOOD + "local_broker: {password_file: [Tr0ub4dor]}\n")
    assert "Tr0ub4dor" not in run.stdout + run.stderr


@given(st.text(st.characters(blacklist_characters="\n\r\x00\ufeff", codec="utf-8"), min_size=1))
@settings(max_examples=100, deadline=None)
def test_a_password_file_is_read_as_written(secret: str) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "pw"
        path.write_bytes(secret.encode() + b"\n" + b"the rest is not read\n")
        path.chmod(0o600)
        if len(secret.encode()) > LONGEST:
            with pytest.raises(SecretProblem, match="longer than"):
                read_secret(str(path), None)
        else:
            assert read_secret(str(path), None) == secret


def test_what_is_not_a_password_file_is_refused_not_hung_on_or_changed(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo, 0o600)
    with pytest.raises(SecretProblem, match="is not a plain file"):
        read_secret(str(fifo), None)  # a blocking open would wait here for ever
    for data, says in [
        (b"\xff\xfepw\n", "not UTF-8"),
        ("\ufeffpw\n".encode(), "byte-order mark"),
        (b"x" * 5000, "longer than 4096"),
        (b"\n", "is empty"),
    ]:
        f = secret_file(tmp_path / "pw", "")
        f.write_bytes(data)
        with pytest.raises(SecretProblem, match=says):
            read_secret(str(f), None)
    assert read_secret(str(secret_file(tmp_path / "crlf", "pw\r")), None) == "pw"
    with pytest.raises(SecretProblem, match="not an environment variable's name"):
        read_secret(None, "hunter2 xyz")


def test_a_key_that_cannot_be_used_is_found_by_check_config_never_prompted_for(
    tmp_path: Path,
) -> None:
    d = tmp_path / "pki"
    ca = make_ca(d, "care")
    cert, key = make_cert(d, "hub", "DNS:hub")
    locked = d / "locked.key"
    subprocess.run(["openssl", "pkey", "-in", key, "-aes256", "-passout", "pass:Tr0ub4dor",
                    "-out", locked], check=True, capture_output=True)  # fmt: skip
    other_cert, _ = make_cert(d, "other", "DNS:other")

    def upstream(**tls: str) -> str:
        doc = {"host": "care.example.org", "tls": {"ca_file": str(ca), **tls}}
        return GOOD + TOLD + "upstream: " + json.dumps(doc) + "\n"

    for tls, says in [
        ({"cert_file": str(cert), "key_file": str(locked)}, "upstream.tls.key_file: the key is"
         " encrypted: name its passphrase in key_password_file or _env"),
        ({"cert_file": str(other_cert), "key_file": str(key)}, "cannot be used together"),
        ({"cert_file": str(cert), "key_file": str(locked),
          "key_password_file": str(secret_file(tmp_path / "k.pw", "wrong"))},
         "cannot be used together"),
    ]:  # fmt: skip
        run = checked(tmp_path, upstream(**tls))
        assert run.returncode == 1, run.stdout
        assert says in run.stderr, run.stderr
        assert "Tr0ub4dor" not in run.stderr
        with pytest.raises(BrokerRefused, match=r"upstream\.tls\."):
            check_files(load_config(tmp_path / "home.yaml").upstream or BrokerConfig(), "upstream")
    right = secret_file(tmp_path / "right.pw", "Tr0ub4dor")
    run = checked(tmp_path, upstream(cert_file=str(cert), key_file=str(locked),
                                     key_password_file=str(right)))  # fmt: skip
    assert run.returncode == 0, run.stderr
    # A certificate and its key in one file.
    both = d / "both.pem"
    both.write_bytes(cert.read_bytes() + key.read_bytes())
    assert checked(tmp_path, upstream(cert_file=str(both))).returncode == 0


def test_a_home_broker_off_the_hub_with_a_password_and_no_tls_is_warned_of(tmp_path: Path) -> None:
    pw = secret_file(tmp_path / "local.pw", "hunter2-xyz")
    text = GOOD + f"local_broker: {{host: 192.168.1.20, username: h, password_file: {pw}}}\n"
    run = checked(tmp_path, text)
    assert run.returncode == 0, run.stderr
    assert "local_broker.host: the home broker's password goes to 192.168.1.20 unencrypted" in (
        run.stdout
    )


def test_no_secret_reaches_the_log_of_a_hub_that_connects_and_is_refused(tmp_path: Path) -> None:
    """A live hub, debug logging on: its home broker and the care team's accept its passwords,
    a recipient's own broker refuses one; then check-config, status and audit. No password
    appears in anything it wrote."""
    from tests.test_live_mqtt import live_doc

    secrets = {"home": "h0me-Secret-1", "care": "Up-Secret-2", "gp": "Wrong-Secret-3"}
    home = Mosquitto(tmp_path, users={"hearth": secrets["home"]})
    care = Mosquitto(tmp_path, users={"hub": secrets["care"]})
    gp = Mosquitto(tmp_path, users={"hearth-gp": "the-right-one"})
    for b in (home, care, gp):
        b.start()
    try:
        doc = live_doc(home, care, tmp_path / "hub.sqlite")
        doc["local_broker"] |= {"username": "hearth", "password_file": str(
            secret_file(tmp_path / "home.pw", secrets["home"]))}  # fmt: skip
        doc["upstream"] |= {"username": "hub", "password_env": "CARE_PW"}
        gp_pw = str(secret_file(tmp_path / "gp.pw", secrets["gp"]))
        own = {"host": gp.host, "port": gp.port, "username": "hearth-gp", "password_file": gp_pw}
        doc["alerts"]["recipients"].append(
            {"name": "GP practice", "severities": ["urgent"], "upstream": own}
        )
        path = tmp_path / "home.yaml"
        path.write_text(yaml.safe_dump(doc))
        env = dict(os.environ, CARE_PW=secrets["care"])
        log = tmp_path / "run.log"
        with log.open("wb") as out:
            run = subprocess.Popen(
                [sys.executable, "-m", "agent.cli", "run", "-v", "--config", str(path)],
                stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=env,
            )  # fmt: skip
        waited_for = ("connected to local broker", "connected to the care team's broker",
                      "GP practice's own broker")  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while not all(w in log.read_text() for w in waited_for):
                assert run.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        finally:
            run.send_signal(signal.SIGTERM)
            run.wait(60)
        said = log.read_text()
        assert "refused Hearth as 'hearth-gp'" in said  # the refusal, told; never its password
        for command in (["check-config", str(path)], ["status", "--config", str(path)],
                        ["audit", "--config", str(path)]):  # fmt: skip
            done = subprocess.run([sys.executable, "-m", "agent.cli", *command], cwd=ROOT,
                                  env=env, capture_output=True, text=True, check=False)  # fmt: skip
            said += done.stdout + done.stderr
        # Online, or degraded if the GP's broker refused before the care team's accepted.
        assert re.search(r"Hearth's status: (online|degraded: )", said), said
    finally:
        for b in (home, care, gp):
            b.stop()
    for name, secret in secrets.items():
        assert secret not in said, name
