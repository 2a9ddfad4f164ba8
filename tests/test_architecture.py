"""The layers of docs/architecture.md hold: the domain is pure and no import runs back up.

Imports are read from the source with `ast` (every `import` and `from … import`,
at the top of a module or inside a function), not searched for as text, so a
word in a docstring neither hides nor fakes one.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
ADAPTERS = ROOT / "adapters"
PURE = ("biv_domain.model", "biv_domain.projections")

# What the pure layers may import besides the standard library.
PURE_THIRD_PARTY = {"attrs", "cattrs"}
PURE_OWN = (*PURE, "biv_domain.errors", "biv_domain.converter")
# The converter, beside the layers, is the one place the JSON library lives.
CONVERTER_THIRD_PARTY = {"attrs", "cattrs", "orjson"}
CONVERTER_OWN = ("biv_domain.model", "biv_domain.errors")

# A module over this many lines is split, or named here with the reason it is not.
MAX_LINES = 400
LONG_MODULES: dict[str, str] = {
    # Every question of the read side, each with its example (issue 25); issue 20 restructures
    # the Ledger's surface and its packages, and with them this module.
    "biv_domain.ledger.reading": "the read side's questions and their examples",
    # The write path, now also placing a batch's tree nodes and counts in its transaction
    # (issues 21, 22); issue 20 gives the Ledger an application instead of inheriting one.
    "biv_domain.ledger.application": "the write path, with the log's and the counts' rows",
}


def module_name(path: Path) -> str:
    base = SRC if path.is_relative_to(SRC) else ADAPTERS
    parts = path.relative_to(base).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(root: Path) -> dict[str, Path]:
    return {module_name(path): path for path in sorted(root.rglob("*.py"))}


ALL = {**modules(SRC), **modules(ADAPTERS)}


def imports(name: str) -> Iterator[str]:
    """Every module `name` imports, relative imports resolved to absolute names."""
    path = ALL[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                yield f"{base}.{node.module}" if node.module else base
            else:
                assert node.module is not None
                yield node.module


def within(name: str, *packages: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def top(name: str) -> str:
    return name.partition(".")[0]


def in_layer(*packages: str) -> list[str]:
    return [name for name in ALL if within(name, *packages)]


def test_the_pure_layers_import_only_attrs_cattrs_the_standard_library_and_their_own() -> None:
    # Given every module of biv_domain.model and biv_domain.projections
    pure = in_layer(*PURE)
    assert len(pure) > 10
    # When their imports are read
    foreign = {
        f"{name} imports {imported}"
        for name in pure
        for imported in imports(name)
        if not (
            top(imported) in sys.stdlib_module_names
            or top(imported) in PURE_THIRD_PARTY
            or within(imported, *PURE_OWN)
        )
        and imported != "__future__"
    }
    # Then none is of eventsourcing, hashlib's chain, a store, a file format, or the service
    assert foreign == set()


@pytest.mark.parametrize("forbidden", ["eventsourcing", "hashlib", "sqlite3", "psycopg", "orjson"])
def test_no_pure_module_imports_the_infrastructure(forbidden: str) -> None:
    # Given the pure layers; when their imports are read; then none names the infrastructure
    assert [name for name in in_layer(*PURE) if forbidden in map(top, imports(name))] == []


def test_the_same_reading_finds_the_infrastructure_where_it_is() -> None:
    # Given the service and the adapters, read the same way; then the reading sees their imports
    assert "eventsourcing" in {top(i) for n in in_layer("biv_domain.ledger") for i in imports(n)}
    assert "hashlib" in map(top, imports("biv_domain.ledger.chain"))
    assert "psycopg" in {top(i) for n in in_layer("biv_adapters") for i in imports(n)}


def test_the_converter_is_the_one_place_of_the_json_library_and_imports_only_the_model() -> None:
    # Given biv_domain.converter, which the model's `Fact` uses to unstructure events
    imported = set(imports("biv_domain.converter")) - {"__future__"}
    # Then it imports attrs, cattrs, orjson, the standard library, the model and the errors
    assert {
        name
        for name in imported
        if top(name) not in sys.stdlib_module_names | CONVERTER_THIRD_PARTY
        and not within(name, *CONVERTER_OWN)
    } == set()
    # And no other module of biv_domain's pure layers or errors reaches for orjson itself
    assert [n for n in in_layer("biv_domain") if "orjson" in map(top, imports(n))] == [
        "biv_domain.converter"
    ]


def test_importing_the_pure_layers_does_not_load_eventsourcing() -> None:
    # Given a fresh interpreter
    pure = in_layer(*PURE)
    script = (
        "import importlib, sys\n"
        f"for name in {pure!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in ('eventsourcing', 'sqlite3', 'psycopg') if m in sys.modules))\n"
    )
    # When it imports every module of biv_domain.model and biv_domain.projections
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    )
    # Then neither eventsourcing nor a store's driver was loaded
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("layer", "above"),
    [
        ("biv_domain.model", ("biv_domain.projections", "biv_domain.ledger", "biv_adapters")),
        ("biv_domain.projections", ("biv_domain.ledger", "biv_adapters")),
        ("biv_domain", ("biv_adapters",)),
    ],
)
def test_no_import_runs_back_up(layer: str, above: tuple[str, ...]) -> None:
    # Given the modules of a layer
    # When their imports are read
    upward = {
        f"{name} imports {imported}"
        for name in in_layer(layer)
        for imported in imports(name)
        if within(imported, *above)
    }
    # Then none is of a layer above it
    assert upward == set()


def test_no_module_is_over_400_lines() -> None:
    # Given every module under src/ and adapters/
    lengths = {name: len(path.read_text().splitlines()) for name, path in ALL.items()}
    # Then each is at most 400 lines, or named with its reason
    assert {n: lines for n, lines in lengths.items() if lines > MAX_LINES} == {
        n: lengths[n] for n in LONG_MODULES
    }


def test_the_readme_s_first_command_needs_no_extra(tmp_path: Path) -> None:
    # Given an installation without the extras (`pip install -e .`: no psycopg, no openpyxl)
    script = (
        "import sys\n"
        "for name in ('psycopg', 'openpyxl', 'matplotlib', 'starlette', 'uvicorn'):\n"
        "    sys.modules[name] = None  # an import of it fails, as where it is not installed\n"
        "from biv_adapters.cli import main\n"
        f"sys.exit(main(['demo', '--store', 'sqlite://{tmp_path}/biv.sqlite3']))\n"
    )
    # When `biv demo` runs on the embedded SQLite store
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    # Then it records and prints the Linköping history
    assert done.returncode == 0, done.stderr
    assert "Dnr 2016-292" in done.stdout
    # And what needs an extra says which, in one line
    pack = script.replace(
        "['demo',", f"['audit', 'export', 'Dnr 2016-292', '--out', '{tmp_path}/p',"
    )
    done = subprocess.run([sys.executable, "-c", pack], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "biv: the auditor's pack needs openpyxl: pip install 'biv-domain[pack]'"
    )
