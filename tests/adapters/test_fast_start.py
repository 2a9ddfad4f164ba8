"""A command loads only what it uses: `biv --version` and `--help` the grammar alone, a query
on SQLite neither PostgreSQL's driver, nor cryptography, nor the server's or the pack's
libraries. Checked in a fresh interpreter by what is in `sys.modules` afterwards; what that
buys in time is measured by `benchmarks/start_up.py`, not here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from biv_adapters.demo import CASE_NUMBER

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
