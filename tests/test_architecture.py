"""The package's import structure: no cycle, no import back up the data flow, no private name
taken across packages. Read from the source with ``ast`` (imports inside functions included)."""

import ast
from pathlib import Path

import pytest

import gpec

ROOT = Path(gpec.__file__).parent

#: Ranks: the core modules, the packages in the order data flows through them (as declared in
#: gpec.SUBPACKAGES), the command line, then the deprecated paths. A module may import from its own
#: package and from the packages before it, never from one after it.
ORDER = ["core", *[p for p in gpec.SUBPACKAGES if p != "exceptions"], "cli", "shims"]
SHIMS = {"gpec.matching", "gpec.harmonise"}


def _module_name(path: Path) -> str:
    parts = ("gpec", *path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package(module: str) -> str:
    if module in SHIMS:
        return "shims"
    parts = module.split(".")
    if len(parts) == 1:
        return "core"
    name = parts[1]
    return name if name in ORDER else "core"


def _imports(path: Path, module: str):
    """(imported module, imported name or None, line) for every gpec import of a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_pkg = path.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("gpec"):
                    yield a.name, None, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                if not is_pkg:
                    base = base[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if target == "gpec" or target.startswith("gpec."):
                for a in node.names:
                    sub = f"{target}.{a.name}"
                    if (ROOT / Path(*sub.split(".")[1:])).is_dir() or (
                        ROOT / Path(*sub.split(".")[1:])
                    ).with_suffix(".py").is_file():
                        yield sub, None, node.lineno  # a module imported by name
                    else:
                        yield target, a.name, node.lineno


MODULES = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}
EDGES = [(m, t, n, line) for m, p in MODULES.items() for t, n, line in _imports(p, m)]


def test_every_module_is_read():
    assert "gpec.pipeline" in MODULES and "gpec.forecast._forecaster" in MODULES
    assert len(EDGES) > 100


def test_no_import_points_back_up_the_flow():
    bad = []
    for mod, target, _name, line in EDGES:
        if mod == "gpec":  # the root serves every public name lazily, by name
            continue
        src, dst = _package(mod), _package(target)
        if ORDER.index(dst) > ORDER.index(src):
            bad.append(f"{MODULES[mod].relative_to(ROOT.parent)}:{line} ({src}) imports {target}")
    assert not bad, "imports against the flow:\n" + "\n".join(bad)


def test_no_private_name_across_packages():
    bad = []
    for mod, target, name, line in EDGES:
        if name is None or not name.startswith("_") or name.startswith("__"):
            continue
        if _package(mod) != _package(target) or _package(mod) == "core" and mod != target:
            if _package(mod) == "core" and _package(target) == "core":
                continue  # the core modules are one package
            bad.append(f"{MODULES[mod].relative_to(ROOT.parent)}:{line} takes {target}.{name}")
    assert not bad, "private names across packages:\n" + "\n".join(bad)


def _cycles():
    graph = {m: set() for m in MODULES}
    for mod, target, _name, _line in EDGES:
        if target in MODULES and target != mod:
            graph[mod].add(target)
    # A package's __init__ importing its own submodules is not a cycle of the flow; a
    # submodule importing back its own package's __init__ would be.
    seen, stack, on_stack, found = set(), [], set(), []

    def visit(node):
        seen.add(node)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt in on_stack:
                found.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in seen:
                visit(nxt)
        stack.pop()
        on_stack.discard(node)

    for m in sorted(graph):
        if m not in seen:
            visit(m)
    return found


def test_no_import_cycle():
    cycles = [c for c in _cycles() if c[0] != "gpec"]
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize(
    "path, name",
    [
        ("gpec.matching", "OfferMatcher"),
        ("gpec.harmonise", "harmonise"),
        ("gpec.demand", "apply_scenarios"),
        ("gpec.demand", "run_scenarios"),
        ("gpec.supply", "apply_supply_scenarios"),
    ],
)
def test_moved_names_still_import_with_a_warning(path, name):
    import importlib

    module = importlib.import_module(path)
    with pytest.warns(DeprecationWarning, match="deprecated"):
        assert callable(getattr(module, name))


def test_readme_stage_paths_work_after_import_gpec():
    import subprocess
    import sys

    code = (
        "import gpec\n"
        "for f in (gpec.demand.openings, gpec.demand.skill_needs, gpec.supply.entrants,\n"
        "          gpec.territory.catchment, gpec.gap.allocate, gpec.gap.skill_gaps,\n"
        "          gpec.gap.transitions, gpec.scenarios.run, gpec.forecast.Forecaster):\n"
        "    assert callable(f)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _module_map(text: str) -> dict[str, str]:
    """First cell of each row of the module map -> the package its paths are in ('' at top)."""
    table = text.split("### Modules, one job each", 1)[1].split("\n## ", 1)[0]
    cells = [line.split("|")[1] for line in table.splitlines() if line.startswith("| `")]
    return {c: c.split("`")[1].split("/")[0] if "/" in c else "" for c in cells}


def test_every_module_is_in_the_module_map():
    """docs/architecture.md's module map names every module in its package's row, so that the
    next engineer finds where a piece of behaviour lives (a module added without its row fails
    here)."""
    rows = _module_map((ROOT.parent / "docs" / "architecture.md").read_text(encoding="utf-8"))
    missing = []
    for path in MODULES.values():
        rel = path.relative_to(ROOT)
        pkg = "" if rel.parent == Path(".") else rel.parts[0]
        if rel.name == "__init__.py" and pkg:
            continue  # a package's __init__ serves its public names
        if not any(
            p == pkg and f"`{rel.name}`" in c or f"/{rel.name}`" in c and p == pkg
            for c, p in rows.items()
        ):
            missing.append(str(rel))
    assert not missing, f"modules missing from docs/architecture.md's module map: {missing}"
