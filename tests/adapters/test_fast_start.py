"""A command loads only what it uses: `biv --version` and `--help` the grammar alone, a query
on SQLite neither PostgreSQL's driver, nor cryptography, nor the server's or the pack's
libraries, nor the ledger's write side, nor the installation's metadata (a built-in store is
found without it). Checked in a fresh interpreter by what is in `sys.modules` afterwards;
what that buys in time is measured by `benchmarks/start_up.py`, not here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from biv_adapters.demo import CASE_NUMBER
from biv_adapters.stores.registry import (
    BUILT_IN,
    ENTRY_POINT_GROUP,
    StoreError,
    open_store,
    store_factories,
)
from biv_domain.ledger import MEMORY

LIBRARIES = (
    "psycopg",
    "cryptography",
    "eventsourcing",
    "openpyxl",
    "matplotlib",
    "starlette",
    "uvicorn",
    "prometheus_client",
    "tqdm",
)
# Besides those, --version and --help load none of the domain's own libraries.
GRAMMAR_ONLY = (*LIBRARIES, "attrs", "cattrs", "orjson", "biv_domain.model", "biv_domain.ledger")
# What a query never loads: the write side (which decider, erasure, a batch sealed), the
# checks and documents of an audit (the chain walked, receipts, the log's checks), "did you
# mean" for a case number nobody mistyped, and the installation's metadata (entry points).
WRITE_SIDE = (
    "biv_domain.ledger.deciding",
    "biv_domain.ledger.erasure",
    "biv_domain.ledger.sealing",
    "biv_domain.model.handling",
)
AUDIT_SIDE = (
    "biv_domain.ledger.audit_checks",
    "biv_domain.ledger.verification",
    "biv_domain.ledger.receipts",
    "biv_domain.ledger.log_verification",
    "biv_domain.projections.replay",
)
NEVER_FOR_A_QUERY = (
    *WRITE_SIDE,
    *AUDIT_SIDE,
    "biv_domain.ledger.case_numbers",
    "importlib.metadata",
)


def loaded_after(*argv: str) -> list[str]:
    """The top-level packages in `sys.modules` after `biv ARGV` ran in a fresh interpreter."""
    script = (
        "import contextlib, io, json, sys\n"
        "from biv_adapters.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    code = main({list(argv)!r})\n"
        "print(json.dumps([code, sorted(sys.modules)]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    code, modules = json.loads(done.stdout)
    assert code == 0, done.stderr
    return list(modules)


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["budget", "--help"]])
def test_the_grammar_loads_no_library(argv: list[str]) -> None:
    modules = loaded_after(*argv)
    assert [m for m in GRAMMAR_ONLY if m in modules] == []


@pytest.fixture(scope="module")
def sqlite_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("fast")
    url = f"sqlite://{folder}/biv.sqlite3"
    subprocess.run(
        [sys.executable, "-m", "biv_adapters.cli", "demo", "--store", url],
        check=True,
        capture_output=True,
        cwd=Path(__file__).parents[2],
    )
    return url


QUERIES = [
    ["budget", CASE_NUMBER, "--on", "2023-10-01", "--json"],
    ["report", CASE_NUMBER, "--from", "2023-04-01", "--to", "2024-03-31", "--json"],
    ["history", CASE_NUMBER, "--after", "100", "--limit", "20", "--json"],
    ["facts", "--after", "100", "--limit", "20", "--json"],
]


@pytest.mark.parametrize("argv", QUERIES, ids=lambda argv: argv[0])
def test_a_query_on_sqlite_loads_no_driver_key_server_or_pack(
    sqlite_store: str, argv: list[str]
) -> None:
    modules = loaded_after(*argv, "--store", sqlite_store)
    # The ledger runs on eventsourcing; a report, the history and the feed open children's
    # fields (their keys), the budget none
    allowed = {"eventsourcing"}
    if argv[0] != "budget":
        allowed.add("cryptography")
    assert [m for m in LIBRARIES if m in modules and m not in allowed] == []
    assert "eventsourcing" in modules
    assert [m for m in NEVER_FOR_A_QUERY if m in modules] == []
    if argv[0] == "budget":  # a budget judges no report's targets
        assert "biv_domain.projections.report" not in modules
    # nor the log's commands, which bring the web client a witness needs (urllib, http.client)
    assert "biv_adapters.cli.log" not in modules
    assert "http.client" not in modules
    # nor the adapters of the pack, the e-archive, PostgreSQL or the server behind the grammar
    unused = ("biv_adapters.pack", "biv_adapters.archive", "biv_adapters.stores.postgresql")
    assert [m for m in modules if m.startswith(unused) or m == "biv_adapters.http.app"] == []


def test_the_grammar_spells_the_domains_words_as_the_domain_does() -> None:
    from biv_adapters.cli.parser import SPLITS
    from biv_adapters.http.commands import ROLE_NAMES
    from biv_adapters.http.tokens import Role
    from biv_domain._version import __version__
    from biv_domain.projections.budget import Split

    assert tuple(s.value for s in Split) == SPLITS
    assert tuple(r.value for r in Role) == ROLE_NAMES
    out = subprocess.run(
        [sys.executable, "-m", "biv_adapters.cli", "--version"], capture_output=True, text=True
    )
    assert out.stdout.strip() == f"biv {__version__}"


def test_a_mistyped_case_number_loads_did_you_mean_and_the_answer_names_the_near_one(
    sqlite_store: str,
) -> None:
    """The one query that needs `case_numbers` loads it when it is asked, and still answers."""
    argv = ["budget", "Dnr 2016-293", "--on", "2023-10-01", "--store", sqlite_store]
    script = (
        "import contextlib, io, sys\n"
        "from biv_adapters.cli import main\n"
        "err = io.StringIO()\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):\n"
        f"    code = main({argv!r})\n"
        "print(code, 'biv_domain.ledger.case_numbers' in sys.modules, err.getvalue().strip())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == (
        "1 True biv: refused: case_number: no agreement with case number 'Dnr 2016-293'; "
        "did you mean 'Dnr 2016-292'?"
    )


def test_the_built_in_stores_are_the_ones_the_package_registers() -> None:
    """`BUILT_IN` resolves this package's schemes without reading the metadata: it must name
    what pyproject.toml registers under the entry-point group, no more and no less."""
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    registered = pyproject["project"]["entry-points"][ENTRY_POINT_GROUP]
    assert dict(BUILT_IN) == registered


def test_a_store_another_package_registers_is_found_by_its_entry_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a package that registers the scheme `trial` under `biv.stores` (its module and its
    dist-info on the path, as pip would install it), when a URL names `trial:`, then the
    registry finds it through the entry points; the built-in schemes are still known."""
    (tmp_path / "trial_store.py").write_text(
        "from biv_domain.ledger import MEMORY\n\ndef trial_store(url):\n    return MEMORY\n"
    )
    info = tmp_path / "trial_store-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: trial-store\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\ntrial = trial_store:trial_store\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert open_store("trial:anything") is MEMORY
    assert {"memory", "sqlite", "postgresql", "trial"} <= set(store_factories())
    with pytest.raises(StoreError, match="the known schemes are memory, postgresql, sqlite, trial"):
        open_store("nowhere:x")
