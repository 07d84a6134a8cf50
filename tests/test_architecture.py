"""The import rules of docs/architecture.md, checked on every module of src/loopwise.

Layers, bottom up: core and numeric; db; web (shared page and API plumbing) and console
(shared CLI plumbing); the slices in the order loopwise.slices lists them; the top (the
assembly, the app factory, the root CLI, the SDK, the demo). A module may import its own
slice or package and anything below it, never above; no module imports another slice's
tables. Imports under ``if TYPE_CHECKING`` count too: they are arrows all the same.
"""

from __future__ import annotations

import ast
from dataclasses import fields
from pathlib import Path

import pytest

from loopwise import slices
from loopwise.core.slice import Slice, resolve

SRC = Path(slices.__file__).parent
SLICE_NAMES = [s.name for s in slices.SLICES]
BOTTOM = {"core": 0, "numeric": 0, "db": 1, "web": 2, "console": 3}
TOP = len(BOTTOM) + len(SLICE_NAMES) + 1
# Packages that will become slices but are not in slices.SLICES yet: pure modules that may
# import only loopwise.core. They sit just below the top, so no slice imports them either.
PENDING: set[str] = set()


def layer(part: str) -> int:
    """The layer of a top-level package or module of loopwise (``tracking``, ``app``...)."""
    if part in BOTTOM:
        return BOTTOM[part]
    if part in SLICE_NAMES:
        return len(BOTTOM) + SLICE_NAMES.index(part)
    if part in PENDING:
        return TOP - 1
    return TOP  # slices.py, app.py, cli.py, maintenance.py, sdk, demo, __init__.py


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every ``loopwise.*`` import in a file, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("loopwise")]
        elif (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and (node.module == "loopwise" or (node.module or "").startswith("loopwise."))
        ):
            found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
    return found


MODULES = sorted(p for p in SRC.rglob("*.py") if "migrations" not in p.parts)


def test_every_package_has_a_layer() -> None:
    parts = {p.relative_to(SRC).parts[0].removesuffix(".py") for p in MODULES}
    unknown = parts - set(BOTTOM) - set(SLICE_NAMES) - PENDING
    allowed_top = {"__init__", "slices", "app", "cli", "maintenance", "sdk", "demo"}
    assert unknown <= allowed_top, f"new top-level modules need a place: {unknown - allowed_top}"


def test_no_import_runs_up_a_layer_or_into_another_slices_tables() -> None:
    problems = []
    for path in MODULES:
        own = path.relative_to(SRC).parts[0].removesuffix(".py")
        for line, module in imports(path):
            parts = module.split(".")
            target = parts[1] if len(parts) > 1 else ""
            where = f"{path.relative_to(SRC)}:{line} imports {module}"
            if target and target != own and layer(target) > layer(own):  # "": __version__
                problems.append(f"{where} (up from {own} to {target})")
            if target not in (own, "slices") and target in SLICE_NAMES and "tables" in parts:
                problems.append(f"{where} (another slice's tables)")
    assert problems == []


def test_a_pending_package_imports_only_core() -> None:
    assert not PENDING & set(SLICE_NAMES), "a package in slices.SLICES is no longer pending"
    problems = [
        f"{path.relative_to(SRC)}:{line} imports {module}"
        for path in MODULES
        if path.relative_to(SRC).parts[0] in PENDING
        for line, module in imports(path)
        if module.split(".")[1] not in ("core", path.relative_to(SRC).parts[0])
    ]
    assert problems == []


@pytest.mark.parametrize("declared", slices.SLICES, ids=lambda s: s.name)
def test_each_slice_declares_its_own_parts_and_they_exist(declared: Slice) -> None:
    """Every reference resolves, and names the slice's own module (an event handled may be
    another slice's event class)."""
    events = {event for event, _ in declared.handlers}
    refs = [
        *(r for f in fields(Slice) if f.name in _REF_TUPLES for r in getattr(declared, f.name)),
        *(ref for pair in declared.handlers for ref in pair),
        *(ref for _, ref in declared.done_rules),
        *(p.job for p in declared.periodic),
        *([declared.identity] if declared.identity else []),
    ]
    assert refs, f"{declared.name} declares nothing"
    for ref in refs:
        assert ref in events or ref.split(".")[1] == declared.name, ref
        assert resolve(ref) is not None


_REF_TUPLES = {
    "tables",
    "api",
    "raw_api",
    "pages",
    "cli",
    "promotion_checks",
    "phase_checks",
    "run_panels",
    "dataset_panels",
    "error_shapes",
    "app_hooks",
}


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    """The rule itself: a tracking module importing planning is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("from loopwise.planning import hypotheses\nimport loopwise.core.errors\n")
    assert imports(bad)[0] == (1, "loopwise.planning.hypotheses")
    assert layer("planning") > layer("tracking") > layer("web") > layer("db")
