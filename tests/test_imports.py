"""The import rule (docs/architecture.md): model <- experiments <- reports <- app, no cycles, and
no drawing below reports. The imports are read from the source (``ast``), every one of them,
including those inside functions and under ``TYPE_CHECKING``, so the test fails the day someone
breaks the rule, whether or not the import would run."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("model", "experiments", "reports", "app")
"""Lowest first: a package may import its own layer and those before it."""
NO_DRAWING = ("model", "experiments")
"""Packages that must not import matplotlib (they run and analyse; reports draw)."""


def modules() -> dict[str, Path]:
    found = {}
    for package in LAYERS:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = modules()


def imported(name: str, path: Path) -> list[tuple[str, int]]:
    """Every module ``path`` imports (absolute names, relative imports resolved), with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.append((base, node.lineno))
            # ``from experiments import files`` imports the module experiments.files
            found += [
                (f"{base}.{alias.name}", node.lineno)
                for alias in node.names
                if f"{base}.{alias.name}" in MODULES
            ]
    return found


def project_edges() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        targets = set()
        for target, _ in imported(name, path):
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name and not name.startswith(f"{target}."):
                targets.add(target)  # a package's __init__ run on the way to a module is no edge
        edges[name] = targets
    return edges


def layer(name: str) -> int:
    return LAYERS.index(name.split(".")[0])


def test_the_packages_hold_modules() -> None:
    assert {name.split(".")[0] for name in MODULES} == set(LAYERS)
    assert {
        "app.cli",
        "experiments.runner",
        "experiments.replicates",
        "experiments.files",
        "model.plan",
    } <= set(MODULES)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_only_go_down(name: str) -> None:
    upward = []
    for target, line in imported(name, MODULES[name]):
        top = target.split(".")[0]
        if top in LAYERS and LAYERS.index(top) > layer(name):
            upward.append(f"{MODULES[name].relative_to(ROOT)}:{line} imports {target}")
    assert not upward, "imports go model <- experiments <- reports <- app:\n" + "\n".join(upward)


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.split(".")[0] in NO_DRAWING))
def test_no_drawing_below_reports(name: str) -> None:
    drawing = [
        f"{MODULES[name].relative_to(ROOT)}:{line} imports {target}"
        for target, line in imported(name, MODULES[name])
        if target.split(".")[0] == "matplotlib"
    ]
    assert not drawing, "model/ and experiments/ draw nothing (charts live in reports/):\n" + "\n".join(
        drawing
    )


def test_no_import_cycles() -> None:
    edges = project_edges()
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[list[str]] = []

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for target in sorted(edges[name]):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[name] = 2

    for name in sorted(edges):
        if name not in state:
            visit(name, [name])
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in cycles)


def test_the_checker_sees_what_it_must(tmp_path: Path) -> None:
    """The parser finds imports inside functions and relative ones (a check of the check)."""
    path = tmp_path / "probe.py"
    path.write_text(
        "def f():\n    from reports import charts\n    import matplotlib.pyplot\nfrom . import run\n"
    )
    found = {target for target, _ in imported("experiments.probe", path)}
    assert {"reports.charts", "matplotlib.pyplot", "experiments.run"} <= found
