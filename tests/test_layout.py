"""The tree keeps its shape: the pure core imports no I/O and never reads a clock, the live
agent loads nothing of the evaluation, and no module or class grows past what one person reads
at a sitting."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from models.detectors import registered
from tests.conftest import ROOT

MODELS = sorted((ROOT / "models").rglob("*.py"))
SOURCES = sorted([*MODELS, *(ROOT / "agent").rglob("*.py")])
# What the pure core may not import: I/O, and the libraries that do it.
NOT_IN_MODELS = ("asyncio", "sqlite3", "aiosqlite", "paho", "aiomqtt", "serial", "pydantic")
# Calls that read the wall clock (or time itself); the core is given the time instead.
CLOCK_READS = ("now", "utcnow", "today", "time", "monotonic", "perf_counter", "time_ns")
LONGEST_MODULE = 400
LONGEST_CLASS = 200


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def banned(names: set[str]) -> list[str]:
    return sorted(n for n in names if n.split(".")[0] in NOT_IN_MODELS)


def test_the_pure_core_imports_no_io() -> None:
    found = {str(p.relative_to(ROOT)): banned(imports(p)) for p in MODELS}
    assert {p: b for p, b in found.items() if b} == {}
    assert len(MODELS) > 20


def test_the_import_check_sees_a_banned_import() -> None:
    assert banned({"models.events", "asyncio", "paho.mqtt.client", "json"}) == [
        "asyncio",
        "paho.mqtt.client",
    ]


def clock_reads(path: Path, root: Path = ROOT) -> list[str]:
    """Calls in ``path`` that read a clock (``datetime.now()``, ``time.monotonic()``, a bare
    ``monotonic()`` imported from ``time``), and any import of ``time``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        call = node.func if isinstance(node, ast.Call) else None
        name = (
            call.attr
            if isinstance(call, ast.Attribute)
            else call.id
            if isinstance(call, ast.Name)
            else None
        )
        if name in CLOCK_READS or "time" in imports_of(node):
            out.append(f"{path.relative_to(root)}:{getattr(node, 'lineno', 0)}")
    return out


def imports_of(node: ast.AST) -> set[str]:
    if isinstance(node, ast.Import):
        return {a.name.split(".")[0] for a in node.names}
    if isinstance(node, ast.ImportFrom) and node.module:
        return {node.module.split(".")[0]}
    return set()


def test_the_pure_core_never_reads_a_clock() -> None:
    assert [r for p in MODELS for r in clock_reads(p)] == []


def test_the_clock_check_sees_each_way_of_reading_one(tmp_path: Path) -> None:
    ways = tmp_path / "ways.py"
    ways.write_text(
        "import time\nfrom time import monotonic\nfrom datetime import datetime\n"
        "a = datetime.now()\nb = monotonic()\nc = time.time()\nd = datetime(2024, 1, 1)\n"
    )
    assert clock_reads(ways, tmp_path) == [f"ways.py:{n}" for n in (1, 2, 4, 5, 6)]


def test_the_live_agent_loads_nothing_of_the_evaluation() -> None:
    """What the live agent imports, in a fresh interpreter: no evaluation module, river,
    scikit-learn or numpy (each costs a Pi Zero tens of MiB; see the README's Measured)."""
    code = (
        "import json, sys\n"
        "import agent.runtime, agent.cli, agent.cli.live, agent.config, agent.store\n"
        "from agent.cli import build_parser\n"
        "build_parser()\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    loaded = json.loads(out.stdout)
    heavy = [
        m
        for m in loaded
        if m.startswith(("agent.evaluation", "river", "sklearn", "numpy", "scipy"))
    ]
    assert heavy == []
    assert "agent.runtime.agent" in loaded  # it did load the agent
    assert "aiomqtt" in loaded


def test_the_check_sees_the_evaluation_load_river() -> None:
    code = (
        "import sys\n"
        "from agent.config import load_config\n"
        "from agent.evaluation.contenders import CONTENDERS\n"
        "CONTENDERS['half_space_trees'](load_config('config/tihm-home.yaml'))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('river', 'numpy')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "'river'" in out.stdout


def sizes(path: Path, root: Path = ROOT) -> list[str]:
    """What in ``path`` is too long: the module itself, or a class in it."""
    text = path.read_text(encoding="utf-8")
    name = path.relative_to(root)
    out = []
    if text.count("\n") > LONGEST_MODULE:
        out.append(f"{name}: {text.count(chr(10))} lines")
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
            n = node.end_lineno - node.lineno + 1
            if n > LONGEST_CLASS:
                out.append(f"{name}: class {node.name}, {n} lines")
    return out


def test_no_module_or_class_is_too_long_to_read() -> None:
    assert [s for p in SOURCES for s in sizes(p)] == []


def test_the_size_check_sees_a_long_module_and_a_long_class(tmp_path: Path) -> None:
    long = tmp_path / "long.py"
    long.write_text("class Long:\n" + "    x = 1\n" * 250 + "y = 2\n" * 200)
    assert sizes(long, tmp_path) == ["long.py: 451 lines", "long.py: class Long, 251 lines"]


def test_the_readme_lists_every_registered_detector_in_order() -> None:
    """The README's list of detectors is the registry's: one bullet each, in the order they
    are checked."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("- **Detectors**", 1)[1].split("\n- **", 1)[0]
    listed = [line.split("`")[1] for line in section.splitlines() if line.startswith("  - `")]
    assert listed == [spec.name for spec in registered()]


@pytest.mark.parametrize("doc", ["README.md", "docs/architecture.md"])
def test_the_layout_the_docs_draw_is_the_tree(doc: str) -> None:
    """Every module path the layout names exists, and every package of the tree is named."""
    text = (ROOT / doc).read_text(encoding="utf-8")
    named = {w.strip("`,.:;()") for w in text.split() if w.strip("`,.:;()").endswith((".py", "/"))}
    paths = [n for n in named if n.startswith(("agent/", "models/"))]
    assert paths
    missing = [p for p in paths if not (ROOT / p).exists()]
    assert missing == []
    packages = {
        str(p.parent.relative_to(ROOT)) + "/"
        for p in [*(ROOT / "agent").rglob("__init__.py"), *(ROOT / "models").rglob("__init__.py")]
    }
    assert sorted(packages - named) == []
