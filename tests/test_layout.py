"""The layout's rules, checked on the source: import direction, no private names across packages.

Data flows one way: ``harness`` imports no other package of the project; ``tasks`` only
``harness``; ``bench`` imports ``tasks`` and ``harness`` (never ``leaderboard``, the CLI or the
tools); ``leaderboard`` imports ``bench`` (never the CLI or the tools); only the CLI (``obench``)
imports everything. No module imports another top-level package's ``_private`` names. The Inspect
extension (``oversightbench``) imports ``bench``, ``tasks`` and ``harness``; only the CLI imports it, lazily,
and Inspect stays out of every other package's import path.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("harness", "tasks", "bench", "leaderboard", "obench", "tools", "oversightbench")
ALLOWED = {
    "harness": set(),
    "tasks": {"harness"},
    "bench": {"harness", "tasks"},
    "leaderboard": {"harness", "tasks", "bench"},
    "tools": {"harness", "tasks", "bench"},
    "obench": {"harness", "tasks", "bench", "leaderboard", "tools", "oversightbench"},
    "oversightbench": {"harness", "tasks", "bench"},
}
INSPECT_FREE = ("oversightbench/__init__.py", "oversightbench/model.py", "oversightbench/offline.py",
                "oversightbench/execution.py")
"""Modules of the Inspect extension that import without Inspect (entry points the core loads, set-up helpers)."""


def _modules() -> list[tuple[str, Path]]:
    return [(pkg, p) for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))]


def _imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, imported module, imported names) for every import in the file, nested ones included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, a.name, []) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.lineno, node.module, [a.name for a in node.names]))
    return out


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def test_every_package_is_checked():
    assert {pkg for pkg, _ in _modules()} == set(PACKAGES)
    assert len(_modules()) > 80


@pytest.mark.parametrize("pkg", PACKAGES)
def test_imports_point_one_way(pkg):
    bad = []
    for owner, path in _modules():
        if owner != pkg:
            continue
        for line, mod, _ in _imports(path):
            top = mod.split(".")[0]
            if top in PACKAGES and top != pkg and top not in ALLOWED[pkg]:
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {mod}")
    assert not bad, f"{pkg} may import only {sorted(ALLOWED[pkg]) or 'no other package'}:\n" + "\n".join(bad)


def test_no_private_names_across_packages():
    bad = []
    for owner, path in _modules():
        for line, mod, names in _imports(path):
            parts = mod.split(".")
            if parts[0] not in PACKAGES or parts[0] == owner:
                continue
            private = [p for p in parts[1:] if _private(p)] + [n for n in names if _private(n)]
            if private:
                bad.append(f"{path.relative_to(ROOT)}:{line} takes {', '.join(private)} from {mod}")
    assert not bad, "what is shared gets a public name:\n" + "\n".join(bad)


def test_runtime_packages_do_not_import_tools():
    """The mock server and the benchmarks are tools: no runtime package needs them (the CLI may)."""
    bad = [f"{p.relative_to(ROOT)}:{line}" for pkg, p in _modules() if pkg not in ("tools", "obench")
           for line, mod, _ in _imports(p) if mod.split(".")[0] == "tools"]
    assert not bad, bad


def test_nothing_below_the_cli_knows_the_leaderboard_folders():
    bad = []
    for pkg, path in _modules():
        if pkg in ("bench", "tasks", "harness"):
            text = path.read_text(encoding="utf-8")
            if '"leaderboard"' in text or "'leaderboard'" in text:
                bad.append(str(path.relative_to(ROOT)))
    assert not bad, bad


def test_every_package_says_what_lives_there_and_who_imports_it():
    inits = [ROOT / pkg / "__init__.py" for pkg in PACKAGES]
    inits += sorted(p for p in (ROOT / "bench").glob("*/__init__.py"))
    missing = []
    for init in inits:
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) if init.exists() else None
        if not doc or "import" not in doc.lower():
            missing.append(str(init.relative_to(ROOT)))
    assert not missing, f"packages without a docstring naming what may import them: {missing}"


def test_one_labelling_rule():
    """The rule's vocabulary (deterministic vs unstable outcomes) and the re-run live in one module each."""
    owners: dict[str, list[str]] = {"DETERMINISTIC = ": [], "fresh=True": [], "SUBTLETY_BUCKETS = ": []}
    for _pkg, path in _modules():
        text = path.read_text(encoding="utf-8")
        for needle in owners:
            if needle in text:
                owners[needle].append(str(path.relative_to(ROOT)))
    assert owners["DETERMINISTIC = "] == ["tasks/labels.py"]
    assert owners["SUBTLETY_BUCKETS = "] == ["tasks/labels.py"]
    # the one re-run mechanism, plus the harness's own check-job confirmation and backends' plumbing
    assert "harness/executor.py" in owners["fresh=True"]
    assert not [p for p in owners["fresh=True"] if p.split("/")[0] in ("tasks", "bench", "leaderboard")], owners


def _module_level_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of the imports a module runs when it is imported (not those inside functions)."""
    out = []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            out.extend((node.lineno, a.name) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.lineno, node.module))
    return out


def test_only_the_cli_imports_the_inspect_extension_and_only_lazily():
    bad = []
    for pkg, path in _modules():
        if pkg == "oversightbench":
            continue
        for line, mod, _ in _imports(path):
            if mod.split(".")[0] == "oversightbench" and pkg != "obench":
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {mod}")
        for line, mod in _module_level_imports(path):
            if mod.split(".")[0] == "oversightbench":
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {mod} at module level (import it where used)")
    assert not bad, bad


def test_inspect_stays_out_of_the_core_import_path():
    bad = []
    for pkg, path in _modules():
        rel = str(path.relative_to(ROOT))
        for line, mod, _ in _imports(path):
            if mod.split(".")[0] == "inspect_ai" and pkg != "oversightbench":
                bad.append(f"{rel}:{line} imports {mod}")
        if rel in INSPECT_FREE:
            bad += [f"{rel}:{line} imports {mod} at module level" for line, mod in _module_level_imports(path)
                    if mod.split(".")[0] in ("inspect_ai", "anyio") or mod in ("oversightbench.evals",
                                                                                "oversightbench.scoring",
                                                                                "oversightbench.solvers")]
    assert not bad, bad
