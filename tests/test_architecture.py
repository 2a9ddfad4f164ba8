"""The layers of docs/architecture.md hold: each layer imports only those below it, the model and
the projections are pure (no I/O, no clock, no eventsourcing), no modules import each other in a
circle, and no module takes another module's private name.

Imports are read from the source with `ast` (every `import` and `from … import`,
at the top of a module or inside a function), not searched for as text, so a
word in a docstring neither hides nor fakes one. The rules name layers and packages,
never a module inside `biv_adapters`, so they hold however the adapters are arranged.
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

# Each layer and the layers it may import (besides the standard library and third parties):
# the model nothing above it, the projections the model, the service both, the adapters all.
BESIDE = ("biv_domain.errors", "biv_domain.converter", "biv_domain._version", "biv_domain._lazy")
LAYERS: dict[str, tuple[str, ...]] = {
    "biv_domain.model": ("biv_domain.model", *BESIDE),
    "biv_domain.projections": ("biv_domain.projections", "biv_domain.model", *BESIDE),
    "biv_domain.ledger": (
        "biv_domain.ledger",
        "biv_domain.projections",
        "biv_domain.model",
        *BESIDE,
    ),
    "biv_adapters": ("biv_adapters", "biv_domain"),
}
# The standard library's ways to the outside world and to the clock: none is for the pure layers.
IO_MODULES = {
    "asyncio",
    "ftplib",
    "glob",
    "http",
    "io",
    "logging",
    "os",
    "pathlib",
    "random",
    "secrets",
    "select",
    "selectors",
    "shutil",
    "signal",
    "smtplib",
    "socket",
    "sqlite3",
    "ssl",
    "subprocess",
    "sys",
    "tempfile",
    "threading",
    "time",
    "urllib",
    "uuid",
    "zoneinfo",
}
# What reads the clock, the console or a file when called.
IO_CALLS = {"now", "today", "utcnow", "time", "monotonic", "perf_counter", "open", "print", "input"}


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


def type_only(tree: ast.Module) -> set[int]:
    """The ids of the imports under `if TYPE_CHECKING:`: they name a type, and load nothing."""
    only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            only.update(id(inner) for body in node.body for inner in ast.walk(body))
    return only


def resolved(name: str) -> Iterator[tuple[str, ast.alias, ast.ImportFrom | ast.Import]]:
    """Each module of ours `name` loads when it runs, with the name imported and its statement.

    `from package import module` loads the module; `from module import name`, the module. An
    import inside a function counts (it loads when called); one under `TYPE_CHECKING` does not.
    """
    path = ALL[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(), str(path))
    skipped = type_only(tree)
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                found = ours(alias.name)
                if found:
                    yield found, alias, node
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                source = f"{base}.{node.module}" if node.module else base
            else:
                assert node.module is not None
                source = node.module
            for alias in node.names:
                found = ours(f"{source}.{alias.name}") or ours(source)
                if found:
                    yield found, alias, node


def ours(name: str) -> str | None:
    """The longest prefix of `name` that is a module of ours, or None."""
    while name and name not in ALL:
        name = name.rpartition(".")[0]
    return name or None


def graph() -> dict[str, set[str]]:
    """Every module of ours and the modules of ours it imports (itself left out)."""
    return {name: {m for m, _, _ in resolved(name) if m != name} for name in ALL}


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for after in sorted(edges[node]):
            if after not in index:
                visit(after)
                low[node] = min(low[node], low[after])
            elif after in on_stack:
                low[node] = min(low[node], index[after])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(found)


def private(name: str) -> bool:
    return name.startswith("_") and not name.endswith("__")


def private_imports(name: str) -> Iterator[str]:
    """Each private name (`_x`, not `__x__`) `name` takes from another module of ours."""
    for module, alias, node in resolved(name):
        # A module `_x` taken from its package is not a name of another module's.
        submodule = module.endswith("." + alias.name)
        taken = isinstance(node, ast.ImportFrom) and module != name and not submodule
        if taken and private(alias.name):
            yield f"{name} imports {alias.name} from {module}"


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


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_each_layer_imports_only_the_layers_below_it(layer: str) -> None:
    # Given the modules of a layer
    members = in_layer(layer)
    assert members
    # When their imports of our own packages are read (those only a type checker reads too)
    beyond = {
        f"{name} imports {imported}"
        for name in members
        for imported in imports(name)
        if top(imported) in ("biv_domain", "biv_adapters") and not within(imported, *LAYERS[layer])
    }
    # Then each is of the layer itself or of one below it
    assert beyond == set()


def test_every_module_is_in_a_layer_or_beside_them() -> None:
    # Given every module under src/ and adapters/
    # Then each is of a layer, or one of those beside the layers, or the package itself
    placed = (*LAYERS, *BESIDE)
    assert [name for name in ALL if name != "biv_domain" and not within(name, *placed)] == []


def test_the_pure_layers_use_no_clock_no_file_and_no_console() -> None:
    # Given every module of the model and the projections
    pure = in_layer(*PURE)
    # When their imports and their calls are read
    reaching = {
        f"{name} imports {imported}"
        for name in pure
        for imported in imports(name)
        if top(imported) in IO_MODULES
    }
    for name in pure:
        for node in ast.walk(ast.parse(ALL[name].read_text(), str(ALL[name]))):
            if isinstance(node, ast.Call):
                called = node.func
                word = called.attr if isinstance(called, ast.Attribute) else None
                word = called.id if isinstance(called, ast.Name) else word
                if word in IO_CALLS:
                    reaching.add(f"{name} calls {ast.unparse(called)} (line {node.lineno})")
    # Then none reads the clock, a file, the network, the environment or the console:
    # a recorded time comes from the ledger's clock, a date from the command
    assert reaching == set()


def test_the_circle_finder_finds_a_circle_and_only_it() -> None:
    # Given a → b → c → a, and d → a outside the circle
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    # Then the circle is found, and nothing else
    assert circles(edges) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_modules_import_each_other_in_a_circle() -> None:
    # Given every import that loads a module of ours when it runs (inside functions too)
    found = circles(graph())
    # Then there is none
    assert found == []


def test_no_module_takes_another_module_s_private_name() -> None:
    # Given every module of ours; when its `from … import _name` are read
    taking = {line for name in ALL for line in private_imports(name)}
    # Then none takes another module's private name
    assert taking == set()


def test_no_test_takes_a_private_name() -> None:
    # Given every module of the tests
    tests = sorted((ROOT / "tests").rglob("*.py"))
    # When their `from … import _name` are read
    taking = {
        f"{path.relative_to(ROOT)} imports {alias.name} from {node.module}"
        for path in tests
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if private(alias.name)
    }
    # Then none does: a test uses what a module offers, or shares a helper by a public name
    assert taking == set()


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
