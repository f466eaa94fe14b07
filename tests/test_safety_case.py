"""The hazard log holds: each hazard controlled or open with a reason, each figure found where it
was measured, the page current, and every control's tests collected and passed in this run."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT
from tests.hazard_log import (
    LOG,
    PAGE,
    Control,
    Figure,
    Hazard,
    HazardLog,
    LogError,
    Risk,
    check_this_run,
    load,
    problems,
    render,
)

# The hazards the safety case must cover (issue 20), by the words each one's title has.
COVERED = {
    "H01": "fall",
    "H02": "missed morning",
    "H03": "night exit",
    "H04": "false alerts",
    "H05": "monitoring silently stopped",
    "H06": "clock",
    "H07": "pause or away",
    "H08": "consent",
    "H09": "configuration mistake",
    "H10": "outbox",
    "H11": "learned state",
}


def test_the_hazard_log_is_complete_true_to_its_sources_and_its_page_current() -> None:
    log = load(ROOT / LOG)
    assert problems(log, ROOT) == []
    titles = {h.id: h.title.lower() for h in log.hazards}
    assert {i: w for i, w in COVERED.items() if w not in titles.get(i, "")} == {}
    assert (ROOT / PAGE).read_text(encoding="utf-8") == render(log), (
        "docs/safety/hazard-log.md is out of date: python -m tests.hazard_log"
    )
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/safety/safety-case.md" in readme


@pytest.mark.after_all
def test_every_control_is_proven_by_tests_that_passed_in_this_run(
    request: pytest.FixtureRequest,
) -> None:
    check_this_run(request.config)


def hazard(controls: tuple[Control, ...] = (), open_: str | None = None) -> Hazard:
    risk = Risk(severity="major", likelihood="low")
    return Hazard(
        id="H01", title="t", cause="c", effect="e", before=risk, after=risk,
        controls=controls, open=open_,
    )  # fmt: skip


def test_the_check_sees_a_hazard_with_no_control_a_false_figure_and_a_missing_test(
    tmp_path: Path,
) -> None:
    (tmp_path / "tests").mkdir()
    # A name in a string is not a test.
    (tmp_path / "tests/test_a.py").write_text(
        "def test_door() -> None:\n    assert 'def test_gone(' != ''\n"
    )
    (tmp_path / "eval.md").write_text("recall 0.93\n")
    figure = Figure(says="s", source="eval.md", quote="0.95", command="c")
    named = Control(does="d", tests=("tests/test_a.py::test_door", "tests/test_a.py::test_gone"))
    log = HazardLog(
        hazards=(
            hazard(),
            hazard((named,), "left"),
            hazard((Control(does="d", tests=("tests/test_a.py::test_door",), figures=(figure,)),)),
        )
    )
    assert problems(log, tmp_path) == [
        "H01: two hazards have this id",
        "H01: no control, and not marked open with a reason",
        "H01: tests/test_a.py::test_gone: tests/test_a.py has no test test_gone",
        "H01: eval.md does not say '0.95' (s)",
    ]
    fine = HazardLog(hazards=(hazard((Control(does="d", tests=("tests/test_a.py::test_door",)),)),))
    assert problems(fine, tmp_path) == []


def test_risk_is_rated_on_dcb0129s_matrix_and_left_high_only_if_open() -> None:
    def rated(severity: str, likelihood: str) -> int:
        return Risk.model_validate({"severity": severity, "likelihood": likelihood}).rating

    assert rated("minor", "very low") == 1
    assert rated("catastrophic", "very high") == 5
    assert rated("major", "medium") == 3
    assert rated("catastrophic", "very low") == 3
    assert rated("minor", "very high") == 3
    high = Risk(severity="major", likelihood="high")
    control = Control(does="d", tests=("tests/test_a.py::test_door",))
    left = Hazard(
        id="H02", title="t", cause="c", effect="e", before=high, after=high, controls=(control,)
    )
    assert "H02: risk 4 is left and the hazard is not marked open" in problems(
        HazardLog(hazards=(left,)), ROOT
    )


def test_a_broken_log_is_one_error_naming_each_field(tmp_path: Path) -> None:
    path = tmp_path / "log.yaml"
    path.write_text(yaml.safe_dump({"hazards": [{"id": "X1", "before": {"severity": "bad"}}]}))
    with pytest.raises(LogError) as err:
        load(path)
    text = str(err.value)
    assert "hazards.0.id" in text
    assert "hazards.0.before.severity" in text
    assert "hazards.0.title: Field required" in text


CONFTEST = """
from tests import hazard_log

def pytest_configure(config):
    config.pluginmanager.register(hazard_log, "hazard-log")
"""
# Named so that it sorts first: the hooks must still run it last.
CHECK = """
import pytest
from tests.hazard_log import check_this_run

@pytest.mark.after_all
def test_a_log(request):
    check_this_run(request.config)
"""


def a_home(pytester: pytest.Pytester, tests: str, named: list[str]) -> None:
    """A project with one hazard whose control names ``named``, and the tests in ``tests``."""
    pytester.makeini("[pytest]\n")
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_a_log=CHECK, test_door=tests)
    log = {
        "hazards": [
            {
                "id": "H01",
                "title": "a night exit not reported",
                "cause": "c",
                "effect": "e",
                "before": {"severity": "major", "likelihood": "high"},
                "after": {"severity": "major", "likelihood": "low"},
                "controls": [{"does": "d", "tests": named}],
            }
        ]
    }
    (pytester.path / "docs/safety").mkdir(parents=True, exist_ok=True)
    (pytester.path / LOG).write_text(yaml.safe_dump(log))


DOOR = "def test_door_at_night():\n    assert True\n\ndef test_door_by_day():\n    assert True\n"


def test_the_run_fails_when_a_control_names_a_renamed_test(pytester: pytest.Pytester) -> None:
    a_home(pytester, DOOR, ["test_door.py::test_door_at_night"])
    assert pytester.runpytest().ret == 0
    renamed = DOOR.replace("test_door_at_night", "test_door_after_dark")
    a_home(pytester, renamed, ["test_door.py::test_door_at_night"])
    result = pytester.runpytest()
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        ["*test_door.py::test_door_at_night: not collected in this run (renamed, removed*"]
    )


def test_the_run_fails_when_a_named_test_fails_is_skipped_or_is_not_selected(
    pytester: pytest.Pytester,
) -> None:
    failing = DOOR.replace("assert True", "assert False", 1)
    a_home(pytester, failing, ["test_door.py::test_door_at_night"])
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(["*test_door.py::test_door_at_night: failed*"])

    skipped = "import pytest\n\n" + DOOR.replace("assert True", "pytest.skip('later')", 1)
    a_home(pytester, skipped, ["test_door.py::test_door_at_night"])
    result = pytester.runpytest()
    result.stdout.fnmatch_lines(["*test_door.py::test_door_at_night: skipped*"])
    assert result.ret != 0

    a_home(pytester, DOOR, ["test_door.py::test_door_at_night", "test_door.py::test_door_by_day"])
    result = pytester.runpytest("test_a_log.py", "test_door.py::test_door_by_day")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*test_door.py::test_door_at_night: not collected in this run*"])


def test_an_unexpected_pass_or_a_case_left_out_proves_nothing(pytester: pytest.Pytester) -> None:
    lucky = "import pytest\n\n@pytest.mark.xfail\n" + DOOR
    a_home(pytester, lucky, ["test_door.py::test_door_at_night"])
    result = pytester.runpytest()
    result.stdout.fnmatch_lines(["*test_door.py::test_door_at_night: marked xfail*"])
    assert result.ret != 0

    cases = "import pytest\n\n@pytest.mark.parametrize('hour', [1, 3])\ndef test_door(hour):\n"
    cases += "    pass\n"
    a_home(pytester, cases, ["test_door.py::test_door"])
    assert pytester.runpytest().ret == 0
    result = pytester.runpytest("--deselect", "test_door.py::test_door[3]")
    result.assert_outcomes(passed=1, failed=1, deselected=1)
    result.stdout.fnmatch_lines(["*test_door.py::test_door[[]3[]]: deselected in this run*"])
