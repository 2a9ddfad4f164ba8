"""The adapters' packages hold the architecture: each imports only what its job needs.

- `stores` (the registry, SQLite, PostgreSQL and what they keep beside the facts) imports no
  other adapter: a store plugin is written against the ledger alone.
- `pack` (the auditor's pack) reads the ledger, not the command line, the service or a store.
- `cli` is the outermost: besides the `biv` grammar in `http.commands`, only `demo` (which
  prints `biv demo`'s tables) imports it; the service, the documents and the stores do not.

Imports are read with `ast` (at the top of a module or inside a function), as in
tests/test_architecture.py.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ADAPTERS = Path(__file__).resolve().parents[2] / "adapters"


def module_name(path: Path) -> str:
    parts = path.relative_to(ADAPTERS).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(ADAPTERS.rglob("*.py"))}


def imports(name: str) -> Iterator[str]:
    """The adapters' modules that `name` imports (absolute imports: the code uses no other)."""
    for node in ast.walk(ast.parse(MODULES[name].read_text())):
        if isinstance(node, ast.Import):
            found = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        yield from (n for n in found if n in MODULES and n != "biv_adapters")


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_the_packages_are_read() -> None:
    # Given the adapters' modules, read from the source
    names = set(MODULES)
    # Then each package of the architecture is there, with its modules
    assert {"biv_adapters.cli", "biv_adapters.cli.commands", "biv_adapters.stores.sqlite"} <= names
    assert {"biv_adapters.pack.export", "biv_adapters.http.app", "biv_adapters.archive"} <= names
    # And an import is seen wherever it stands (cli.commands imports inside its functions)
    assert "biv_adapters.documents" in set(imports("biv_adapters.cli.commands"))


@pytest.mark.parametrize(
    ("package", "allowed"),
    [
        ("biv_adapters.stores", ("biv_adapters.stores",)),
        ("biv_adapters.pack", ("biv_adapters.pack", "biv_adapters.demo_stages")),
    ],
)
def test_a_package_imports_only_what_its_job_needs(package: str, allowed: tuple[str, ...]) -> None:
    # Given every module of the package
    found = {
        f"{name} imports {imported}"
        for name in MODULES
        if within(name, package)
        for imported in imports(name)
        if not any(within(imported, a) for a in allowed)
    }
    # Then none imports an adapter outside what it is allowed
    assert found == set()


def test_only_the_command_line_imports_the_command_line() -> None:
    # Given every module outside `biv_adapters.cli`
    outside = {
        name
        for name in MODULES
        if not within(name, "biv_adapters.cli")
        and any(within(i, "biv_adapters.cli") for i in imports(name))
    }
    # Then only the `biv` commands kept beside what they run import it
    assert outside == {"biv_adapters.demo", "biv_adapters.http.commands"}
