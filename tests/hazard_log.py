"""The hazard log, ``docs/safety/hazard-log.yaml``: read, checked, rendered, and held to the run.

Each hazard's controls name, by pytest node id, the tests that prove them. Two checks keep the
log true to the code (both in ``tests/test_safety_case.py``):

- ``problems``: every field is there and in range, a hazard without a control is marked open
  with a reason, each figure is found in the document it quotes, and the rendered page is current;
- ``unproven``: every test a control names was collected and passed *in this run*. The hooks
  below (registered by ``tests/conftest.py``) record each test's outcome, and the check itself is
  marked ``after_all`` so that it runs once everything else has.

``python -m tests.hazard_log`` writes ``docs/safety/hazard-log.md`` from the YAML.

>>> Risk(severity="major", likelihood="medium").rating
3
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Generator, Iterable, Mapping
from pathlib import Path
from typing import Literal

import pytest
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

LOG = Path("docs/safety/hazard-log.yaml")
PAGE = Path("docs/safety/hazard-log.md")

Severity = Literal["minor", "significant", "considerable", "major", "catastrophic"]
Likelihood = Literal["very low", "low", "medium", "high", "very high"]
SEVERITIES: tuple[Severity, ...] = ("minor", "significant", "considerable", "major", "catastrophic")
LIKELIHOODS: tuple[Likelihood, ...] = ("very low", "low", "medium", "high", "very high")
# DCB0129's risk matrix: a row per likelihood (very low first), a column per severity.
MATRIX = ((1, 1, 2, 2, 3), (1, 2, 2, 3, 4), (2, 2, 3, 3, 4), (2, 3, 3, 4, 5), (3, 4, 4, 5, 5))
RATINGS = {
    1: "acceptable, no further action",
    2: "acceptable where further reduction would cost more than it gains",
    3: "undesirable: acceptable only where further reduction is impractical",
    4: "unacceptable: must be controlled further",
    5: "unacceptable",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Risk(_Strict):
    severity: Severity
    likelihood: Likelihood

    @property
    def rating(self) -> int:
        return MATRIX[LIKELIHOODS.index(self.likelihood)][SEVERITIES.index(self.severity)]

    def words(self) -> str:
        return f"{self.rating} ({self.severity}, {self.likelihood})"


class Figure(_Strict):
    says: str = Field(min_length=1)
    source: str = Field(min_length=1)  # a file of the repository
    quote: str = Field(min_length=1)  # found in that file as it is
    command: str = Field(min_length=1)  # the command that measures it again


class Control(_Strict):
    does: str = Field(min_length=1)
    tests: tuple[str, ...] = Field(min_length=1)
    figures: tuple[Figure, ...] = ()


class Hazard(_Strict):
    id: str = Field(pattern=r"^H\d\d$")
    title: str = Field(min_length=1)
    cause: str = Field(min_length=1)
    effect: str = Field(min_length=1)
    before: Risk
    after: Risk
    controls: tuple[Control, ...] = ()
    # What is not controlled yet, and why: required where no control is, or the risk left is 4+.
    open: str | None = None


class HazardLog(_Strict):
    hazards: tuple[Hazard, ...] = Field(min_length=1)

    def tests(self) -> list[str]:
        """Every test id a control names, once each, in the log's order."""
        return list(dict.fromkeys(t for h in self.hazards for c in h.controls for t in c.tests))


class LogError(Exception):
    pass


def load(path: Path) -> HazardLog:
    """The log at ``path``, or a ``LogError`` naming each field that is wrong."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        return HazardLog.model_validate(doc)
    except (OSError, yaml.YAMLError) as exc:
        raise LogError(f"{path}: {exc}") from exc
    except ValidationError as exc:
        lines = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise LogError(f"{path}:\n" + "\n".join(lines)) from exc


def problems(log: HazardLog, root: Path) -> list[str]:
    """What makes the log untrue or incomplete, read without running anything."""
    found: list[str] = []
    ids = [h.id for h in log.hazards]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    found += [f"{i}: two hazards have this id" for i in twice]
    for h in log.hazards:
        if not h.controls and not h.open:
            found.append(f"{h.id}: no control, and not marked open with a reason")
        before, after = h.before.rating, h.after.rating
        if after >= 4 and not h.open:
            found.append(f"{h.id}: risk {after} is left and the hazard is not marked open")
        if after > before:
            found.append(f"{h.id}: its controls raise the risk ({before} to {after})")
        for c in h.controls:
            found += [f"{h.id}: {t}: {why}" for t in c.tests if (why := _not_a_test(t, root))]
            for f in c.figures:
                source = root / f.source
                if not source.is_file():
                    found.append(f"{h.id}: figure source {f.source} does not exist")
                elif f.quote not in source.read_text(encoding="utf-8"):
                    found.append(f"{h.id}: {f.source} does not say {f.quote!r} ({f.says})")
    return found


def _not_a_test(test_id: str, root: Path) -> str | None:
    """Why ``test_id`` names no test of the tree (read from its source, not run), or None."""
    path, _, rest = test_id.partition("::")
    if not rest or not path.startswith("tests/") or not path.endswith(".py"):
        return "not a test id of the form tests/<file>.py::<test>"
    if not (root / path).is_file():
        return f"{path} does not exist"
    *classes, name = rest.split("[")[0].split("::")
    body = ast.parse((root / path).read_text(encoding="utf-8")).body
    for cls in classes:
        found = [n for n in body if isinstance(n, ast.ClassDef) and n.name == cls]
        if not found:
            return f"{path} has no class {cls}"
        body = found[0].body
    defined = {n.name for n in body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    return None if name in defined else f"{path} has no test {name}"


NOT_COLLECTED = "renamed, removed, deselected or marked long"


def unproven(
    log: HazardLog,
    collected: Iterable[str],
    outcomes: Mapping[str, str],
    deselected: Iterable[str] = (),
) -> list[str]:
    """Each test the log names that this run did not collect (or collected only in part), or
    did not pass."""
    ran, left_out = list(collected), list(deselected)
    found: list[str] = []
    for test_id in log.tests():
        runs = [n for n in ran if n == test_id or n.startswith(test_id + "[")]
        found += [f"{n}: deselected in this run" for n in left_out if n.startswith(test_id + "[")]
        if not runs:
            found.append(f"{test_id}: not collected in this run ({NOT_COLLECTED})")
        for n in runs:
            if outcomes.get(n, "not run") != "passed":
                found.append(f"{n}: {outcomes.get(n, 'not run')}")
    return found


def render(log: HazardLog) -> str:
    """The log as a page a clinical safety officer reads."""
    out = [
        "# Hearth's hazard log",
        "",
        "Generated from [`hazard-log.yaml`](hazard-log.yaml) by `python -m tests.hazard_log`; "
        "the argument built on it is the [safety case](safety-case.md).",
        "",
        "Risk is rated on DCB0129's matrix: severity (minor, significant, considerable, major,",
        "catastrophic) against likelihood (very low, low, medium, high, very high) gives 1 to 5:",
        "",
        "| likelihood \\ severity | " + " | ".join(SEVERITIES) + " |",
        "|---|" + "---:|" * len(SEVERITIES),
        *(
            f"| {likelihood} | " + " | ".join(map(str, MATRIX[i])) + " |"
            for i, likelihood in reversed(list(enumerate(LIKELIHOODS)))
        ),
        "",
        *(f"- {n}: {words}" for n, words in RATINGS.items()),
        "",
        "Every test a control names runs in CI (`scripts/check`), and `tests/test_safety_case.py`",
        "fails the run if one of them is missing or did not pass in that same run.",
        "",
        "| hazard | before | after | controls | open |",
        "|---|---|---|---:|---|",
    ]
    for h in log.hazards:
        status = "yes" if h.open else ""
        out.append(
            f"| [{h.id}](#{h.id.lower()}) {h.title} | {h.before.words()} | {h.after.words()}"
            f" | {len(h.controls)} | {status} |"
        )
    for h in log.hazards:
        out += ["", f"## {h.id}", "", f"**{h.title}**", "", f"- Cause: {h.cause}"]
        out += [f"- Effect on the resident: {h.effect}"]
        out += [f"- Risk before controls: {h.before.words()}; after: {h.after.words()}"]
        for n, c in enumerate(h.controls, 1):
            tests = ", ".join(f"`{t}`" for t in c.tests)
            out += ["", f"Control {n}: {c.does}", "", f"- Tests: {tests}"]
            out += [f"- Measured: {f.says} ({f.source}; `{f.command}`)" for f in c.figures]
        if h.open:
            out += ["", f"Open: {h.open}"]
    return "\n".join(out) + "\n"


# The hooks: tests/conftest.py registers this module, so that each run records what it collected and
# how each test ended, for the check marked after_all.
COLLECTED = pytest.StashKey[list[str]]()
DESELECTED = pytest.StashKey[list[str]]()
OUTCOMES = pytest.StashKey[dict[str, str]]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "after_all: runs once every other test of the run has")
    config.stash[OUTCOMES] = {}
    config.stash[DESELECTED] = []


# Outermost, so the check is put last after any other plugin's ordering (--ff, --nf).
@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> Generator[None, None, None]:
    yield
    items.sort(key=lambda item: item.get_closest_marker("after_all") is not None)


def pytest_deselected(items: list[pytest.Item]) -> None:
    if items:
        items[0].config.stash[DESELECTED].extend(item.nodeid for item in items)


def pytest_collection_finish(session: pytest.Session) -> None:
    session.config.stash[COLLECTED] = [item.nodeid for item in session.items]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    outcomes = item.config.stash[OUTCOMES]
    # A test passed when its call passed, was not expected to fail, and neither its set-up nor
    # its tear-down failed.
    if report.failed:
        outcomes[item.nodeid] = "failed"
    elif hasattr(report, "wasxfail"):
        outcomes.setdefault(item.nodeid, "marked xfail")
    elif report.skipped:
        outcomes.setdefault(item.nodeid, "skipped")
    elif report.when == "call":
        outcomes.setdefault(item.nodeid, "passed")
    return report


def check_this_run(config: pytest.Config) -> None:
    """Fails unless every test the log names was collected and passed in this run."""
    log = load(config.rootpath / LOG)
    collected: list[str] = config.stash[COLLECTED]
    outcomes: dict[str, str] = config.stash[OUTCOMES]
    deselected: list[str] = config.stash[DESELECTED]
    missing = unproven(log, collected, outcomes, deselected)
    if missing:
        pytest.fail(
            "the hazard log's controls are not proven by this run (run the whole suite, as"
            " scripts/check does):\n" + "\n".join(missing),
            pytrace=False,
        )


ROOT = Path(__file__).resolve().parent.parent


def main(root: Path = ROOT) -> int:
    try:
        log = load(root / LOG)
    except LogError as exc:
        print(exc, file=sys.stderr)
        return 1
    (root / PAGE).write_text(render(log), encoding="utf-8")
    for line in problems(log, root):
        print(line, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
