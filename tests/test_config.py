"""Configuration a technician writes: every error located, explained, and all at once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from agent.cli import main
from agent.config import ConfigError, json_schema, load_config, load_config_text
from tests.conftest import CONFIG, ROOT, hearth, make_ca, make_cert

GOOD = """\
household:
  id: h1
  timezone: Europe/London
sensors:
  - id: front_door
    kind: contact
    room: hall
    role: front_door
  - id: kettle
    kind: power
    room: kitchen
    role: kettle
"""


def errors(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config_text(text, "home.yaml")
    return [str(p) for p in info.value.problems]


def test_good_config_loads_with_defaults() -> None:
    cfg = load_config_text(GOOD)
    assert cfg.learning.days == 14
    assert cfg.detectors.settings_of("inactivity").ceiling.total_seconds() == 14 * 3600


def test_typo_in_role_names_line_path_value_and_suggestion() -> None:
    text = GOOD.replace("role: kettle", "role: ketle")
    (e,) = errors(text)
    assert e.startswith(
        "home.yaml:12: sensors[1].role: 'ketle' is not allowed (did you mean 'kettle'?)"
    )
    assert "front_door" in e  # lists what is allowed


def test_unknown_key_suggests_the_near_one() -> None:
    (e,) = errors(GOOD + "lerning:\n  days: 3\n")
    assert e.startswith("home.yaml:13: lerning: unknown key 'lerning' (did you mean 'learning'?)")


def test_unknown_nested_key_is_found_in_its_own_section() -> None:
    (e,) = errors(GOOD + "detectors:\n  inactivity:\n    celing: 10h\n")
    assert (
        "home.yaml:15: detectors.inactivity.celing: unknown key 'celing' (did you mean 'ceiling'?)"
        in e
    )


def test_all_errors_are_reported_at_once() -> None:
    text = GOOD.replace("kind: contact", "kind: door").replace("Europe/London", "Europe/Londn")
    text += "learning:\n  days: 0\n"
    errs = errors(text)
    assert len(errs) == 3
    assert any("household.timezone" in e and "did you mean 'Europe/London'" in e for e in errs)
    assert any(e.startswith("home.yaml:6: sensors[0].kind") for e in errs)
    assert any(e.startswith("home.yaml:14: learning.days") for e in errs)


def test_durations_need_units() -> None:
    (e,) = errors(GOOD + "detectors:\n  inactivity:\n    ceiling: 14\n")
    assert "detectors.inactivity.ceiling" in e
    assert "needs a unit" in e


def test_objects_cannot_be_built_from_tags() -> None:
    errs = errors(GOOD.replace("id: h1", "id: !!python/object/apply:os.system ['true']"))
    assert "home.yaml:2: household.id: tag" in errs[0]


def test_duplicate_keys_and_sensor_ids_are_errors() -> None:
    errs = errors(GOOD.replace("  timezone: Europe/London", "  timezone: Europe/London\n  id: h2"))
    assert "household.id: key given twice (first on line 2)" in errs[0]
    errs = errors(GOOD.replace("id: kettle", "id: front_door"))
    assert "sensors[1].id: sensor id 'front_door' is already used by sensors[0]" in errs[0]


def test_broken_yaml_gives_its_line() -> None:
    (e,) = errors("household:\n  id: h1\n  timezone: [Europe/London\nsensors: []\n")
    assert e.startswith("home.yaml:")
    assert "not valid YAML" in e


def test_mqtt_sensors_need_a_local_broker() -> None:
    text = GOOD.replace(
        "    role: front_door\n", "    role: front_door\n    mqtt: {topic: zigbee2mqtt/door}\n"
    )
    (e,) = errors(text)
    assert "local_broker: sensors read over MQTT need a local_broker" in e


def test_shipped_examples_are_valid() -> None:
    for path in sorted(CONFIG.glob("*.yaml")):
        load_config(path)


def test_json_schema_in_config_is_up_to_date() -> None:
    committed = json.loads((CONFIG / "hearth.schema.json").read_text())
    assert committed == json_schema(), "run: hearth schema --output config/hearth.schema.json"


def test_check_config_command_exits_non_zero_with_line_numbers(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("room: kitchen", "room: kitchen\n    colour: red"))
    run = subprocess.run(
        [sys.executable, "-m", "agent.cli", "check-config", str(bad)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert run.returncode == 1
    assert f"{bad}:12: sensors[1].colour: unknown key 'colour'" in run.stderr


def check_config(path: Path) -> subprocess.CompletedProcess[str]:
    return hearth("check-config", str(path))


def test_check_config_warns_of_a_file_that_runs_but_leaves_her_less_safe(tmp_path: Path) -> None:
    risky = tmp_path / "risky.yaml"
    text = GOOD.replace("Europe/London", "GMT").replace(
        "    role: front_door\n",
        "    role: front_door\n    mqtt: {topic: zigbee2mqtt/front_door}\n",
    )
    text += "local_broker: {host: localhost}\n"
    text += "upstream: {host: care.example.org, username: h1, insecure: true}\n"
    text += "alerts: {recipients: [{name: Ann, severities: [urgent]}]}\n"
    risky.write_text(text)
    run = check_config(risky)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        f"warning: {risky}:15: upstream.insecure: the password and the alerts go to"
        " care.example.org UNENCRYPTED (insecure: true): anyone on the way can read them; add"
        " tls: instead",
        f"warning: {risky}:16: alerts.recipients: nobody receives technical alerts (a flat battery,"
        " a silent sensor, Hearth's own faults): add a recipient with severities: [technical]",
        f"warning: {risky}:10: sensors[1]: kettle has no source (mqtt: or serial:): hearth run"
        " never hears from it",
        f"warning: {risky}:3: household.timezone: 'GMT' has no summer time: a home in the UK is"
        " 'Europe/London'",
        f"{risky}: OK: household h1 (GMT), 2 sensors (1 over MQTT); 4 warnings",
        "  Ann receives: urgent alerts, the summary only, on hearth/h1/alerts/<type>",
        "    not: warning, info, technical alerts",
        "  sent to nobody: warning, info, technical alerts",
        "  household controls (pause, away) accepted from the home broker's users: household"
        " (hearth acl writes its access list so)",
    ]
    assert "secret" not in run.stdout + run.stderr


def test_check_config_refuses_a_file_naming_a_certificate_it_cannot_read(tmp_path: Path) -> None:
    shipped = (CONFIG / "zigbee2mqtt-home.yaml").read_text()
    ca = tmp_path / "care-ca.pem"
    missing = tmp_path / "missing.yaml"
    hub_cert, hub_key, password = tmp_path / "hub.pem", tmp_path / "hub.key", tmp_path / "up.pw"
    missing.write_text(
        shipped.replace("/etc/hearth/care-ca.pem", str(ca))
        .replace("/etc/hearth/hub.pem", str(hub_cert))
        .replace("/etc/hearth/hub.key", str(hub_key))
        .replace("/etc/hearth/upstream.pw", str(password))
    )
    pki = tmp_path / "pki"
    make_ca(pki, "care")
    made_cert, made_key = make_cert(pki, "hub", "DNS:hub")
    hub_cert.write_bytes(made_cert.read_bytes())
    hub_key.write_bytes(made_key.read_bytes())
    password.write_text("change-me\n")
    password.chmod(0o600)
    run = check_config(missing)
    assert run.returncode == 1
    line = shipped[: shipped.index("ca_file:")].count("\n") + 1
    assert (
        f"{missing}:{line}: upstream.tls.ca_file: cannot read {ca} (No such file or directory)"
        in (run.stderr)
    )
    # With the file there, the shipped example is clean: nothing to warn of.
    ca.write_bytes((pki / "ca.pem").read_bytes())
    run = check_config(missing)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        f"{missing}: OK: household mrs-b-flat-12 (Europe/London), 7 sensors (7 over MQTT)",
        # What each recipient will and will not be told, and where.
        "  Daughter (Sarah) receives: urgent inactivity, missed_morning, night_exit,"
        " not_returned alerts, the summary only, on hearth/mrs-b-flat-12/to/sarah/alerts/<type>",
        "    not: urgent alerts of other types; warning, info, technical alerts",
        "  Council monitoring team receives: urgent/warning/info alerts, with their evidence,"
        " on hearth/mrs-b-flat-12/alerts/<type>",
        "    not: technical alerts",
        "  Installer receives: technical alerts, with their evidence, on"
        " hearth/mrs-b-flat-12/to/installer/alerts/<type>",
        "    not: urgent, warning, info alerts",
        "  household controls (pause, away) accepted from the home broker's users: household"
        " (hearth acl writes its access list so)",
    ]


def test_shipped_examples_pass_the_json_schema_editors_use() -> None:
    import jsonschema
    import yaml

    schema = json.loads((CONFIG / "hearth.schema.json").read_text())
    for path in sorted(CONFIG.glob("*.yaml")):
        jsonschema.validate(yaml.safe_load(path.read_text()), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"household": {"id": "h"}, "sensors": [], "colour": 1}, schema)


def test_the_digest_budget_sets_each_figures_test_and_detectors_can_be_turned_off() -> None:
    from agent.config import monitor_settings_of

    base = monitor_settings_of(load_config_text(GOOD))
    looser = monitor_settings_of(
        load_config_text(GOOD + "detectors:\n  digest: {false_per_fortnight: 2}\n")
    )
    assert looser.detectors["digest"].p_value == pytest.approx(2 * base.detectors["digest"].p_value)
    off = monitor_settings_of(
        load_config_text(
            GOOD
            + "detectors:\n  not_returned: {enabled: false}\n"
            + "  night_restlessness: {enabled: false}\n"
        )
    )
    assert "not_returned" in base.detectors
    assert "not_returned" not in off.detectors
    assert "night_restlessness" not in off.detectors
    assert set(off.detectors) == set(base.detectors) - {"not_returned", "night_restlessness"}
    (problem,) = errors(GOOD + "detectors:\n  digest: {false_per_fortnight: 0}\n")
    assert "detectors.digest.false_per_fortnight" in problem


def test_hearths_own_errors_are_one_line_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "home.yaml"
    path.write_text(GOOD + f"store: {{path: {tmp_path / 'no-such-dir' / 'home.sqlite'}}}\n")
    assert main(["run", "--config", str(path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("hearth run: cannot open the store ")
    assert "no-such-dir/home.sqlite" in err
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1


BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdef", "bcdefg", strict=True)
)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        # 292 bytes that took 18 s and 1.2 GB of memory to refuse before aliases were counted.
        (BOMB, "home.yaml:1: more than 50,000 values, counting each alias (*name)"),
        ("a: " + "[" * 20_000 + "]" * 20_000 + "\n", "home.yaml: nested more than 50 levels deep"),
        ("a: " + "{b: " * 60 + "1" + "}" * 60 + "\n", "nested more than 50 levels deep"),
        (GOOD.replace("id: h1", "id: h\x001"), "not valid YAML: unacceptable character #x0000"),
        ("a: " + "x" * 1_000_001 + "\n", "characters is too long for a household's file"),
    ],
)
def test_a_hostile_file_is_one_clear_error_quickly(text: str, says: str) -> None:
    (e,) = errors(text)
    assert says in e
    assert "\n" not in e


def test_a_file_not_in_utf8_or_too_big_is_named_with_its_line(tmp_path: Path) -> None:
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(GOOD.replace("id: h1", "id: café").encode("latin-1"))
    with pytest.raises(ConfigError) as info:
        load_config(latin)
    assert [str(p) for p in info.value.problems] == [
        f"{latin}:2: not UTF-8 text (byte 0xe9); save it as UTF-8"
    ]
    # A 50 MB file is refused after reading a megabyte of it.
    big = tmp_path / "big.yaml"
    with big.open("wb") as f:
        f.write(GOOD.encode())
        f.write(b"# " + b"x" * 50_000_000 + b"\n")
    with pytest.raises(ConfigError, match="more than 1,000,000 bytes"):
        load_config(big)


def test_an_availability_topic_hearth_cannot_tell_or_that_is_taken_is_an_error() -> None:
    text = GOOD.replace(
        "    role: front_door\n",
        "    role: front_door\n    mqtt: {topic: kettle/power, style: tasmota}\n",
    ).replace(
        "    role: kettle\n",
        "    role: kettle\n    mqtt: {topic: z2m/k, availability_topic: kettle/power}\n",
    )
    text += "local_broker: {host: localhost}\n"
    assert errors(text) == [
        "home.yaml:9: sensors[0].mqtt.topic: 'kettle/power' is not a tasmota device's topic as"
        " Hearth knows them: set availability_topic (where it says online or offline)",
        "home.yaml:14: sensors[1].mqtt.availability_topic: 'kettle/power' is the topic of"
        " sensors[0]",
    ]
    wild = GOOD.replace(
        "    role: kettle\n",
        "    role: kettle\n    mqtt: {topic: z2m/k, availability_topic: +/LWT}\n",
    )
    assert errors(wild + "local_broker: {host: localhost}\n") == [
        "home.yaml:13: sensors[1].mqtt.availability_topic: a sensor's topic names one device:"
        " no + or # wildcards"
    ]


def test_a_password_is_never_shown_in_an_error() -> None:
    text = GOOD + "upstream: {host: care.example.org, password: 12345678}\n"
    (e,) = errors(text)
    assert "12345678" not in e
    assert e == (
        "home.yaml:13: upstream.password: Input should be a valid string (the value is not shown)"
    )
