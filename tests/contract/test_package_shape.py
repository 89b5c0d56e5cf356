"""The shape every service keeps (docs/architecture.md): concept packages whose routers
speak only to their own concept, whose rules are pure, and whose SQL stays in their own
repository; no module too long to read. Checked on the import graph (grimp, the engine
import-linter runs on) so that a newcomer finds a rule's home from its name.
"""

from __future__ import annotations

from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("ledger", "funding", "diagnostics", "gateway")
PURE_FORBIDDEN = ("sqlalchemy", "fastapi", "starlette", "asyncpg", "aiohttp", "httpx", "aiokafka")
MAX_LINES = 400
# Modules allowed past MAX_LINES, each with its reason.
LONG_MODULES: dict[str, str] = {}


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("services", "shared", include_external_packages=True)


# Packages every concept of a service builds on: HTTP plumbing (cursors, scopes, bodies),
# the database base (a generic repository: get, get_or_none, paginate) and tenancy clauses.
INFRASTRUCTURE = frozenset({"http", "db", "tenancy"})


def concept_of(module: str) -> tuple[str, str] | None:
    """(service, concept) of a module inside a concept package, else None."""
    parts = module.split(".")
    if len(parts) < 4 or parts[0] != "services" or parts[2] in INFRASTRUCTURE:
        return None
    return parts[1], parts[2]


def kind_of(module: str) -> str:
    """router, service, repository, rules… (the file name, or the package's name)."""
    parts = module.split(".")
    return parts[3] if len(parts) > 3 else ""


def test_rules_import_no_framework_driver_or_database(graph: grimp.ImportGraph) -> None:
    offenders = []
    for module in sorted(graph.modules):
        if concept_of(module) and kind_of(module) in ("rules", "domain"):
            for imported in graph.find_modules_directly_imported_by(module):
                if imported.split(".")[0] in PURE_FORBIDDEN:
                    offenders.append(f"{module} imports {imported}")
    assert not offenders, "\n".join(offenders)


def test_a_router_speaks_only_to_its_own_concept(graph: grimp.ImportGraph) -> None:
    offenders = []
    for module in sorted(graph.modules):
        where = concept_of(module)
        if not where or kind_of(module) != "router":
            continue
        service, concept = where
        for imported in graph.find_modules_directly_imported_by(module):
            other = concept_of(imported)
            if other is None or other[0] != service or other[1] == concept:
                continue
            if kind_of(imported) in ("schemas", "errors"):
                continue  # another concept's shapes and errors, declared in `responses=`
            offenders.append(f"{module} imports {imported}")
    assert not offenders, "\n".join(offenders)


def test_concepts_never_reach_into_each_others_repository(graph: grimp.ImportGraph) -> None:
    offenders = []
    for module in sorted(graph.modules):
        where = concept_of(module)
        if not where:
            continue
        for imported in graph.find_modules_directly_imported_by(module):
            other = concept_of(imported)
            if other and other[0] == where[0] and other[1] != where[1]:
                if kind_of(imported) == "repository":
                    offenders.append(f"{module} imports {imported}")
    assert not offenders, "\n".join(offenders)


@pytest.mark.parametrize("service", SERVICES)
def test_no_module_is_too_long_to_read(service: str) -> None:
    long = []
    for path in sorted((ROOT / "services" / service).rglob("*.py")):
        relative = str(path.relative_to(ROOT))
        if "migrations" in path.parts or relative in LONG_MODULES:
            continue
        lines = len(path.read_text().splitlines())
        if lines > MAX_LINES:
            long.append(f"{relative}: {lines} lines")
    assert not long, "\n".join(long)


def test_no_grab_bag_module_names() -> None:
    bags = {"common", "utils", "helpers", "misc"}
    found = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "services").rglob("*.py")
        if path.stem in bags or path.parent.name in bags
    ]
    assert not found, found
