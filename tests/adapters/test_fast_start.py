"""A command loads only what it uses: `biv --version` and `--help` the grammar alone, a query
on SQLite neither PostgreSQL's driver, nor cryptography, nor the server's or the pack's
libraries, nor the ledger's write side, nor the installation's metadata (a built-in store is
found without it). Checked in a fresh interpreter by what is in `sys.modules` afterwards;
what that buys in time is measured by `benchmarks/start_up.py`, not here.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from biv_adapters.cli.parser import COMMAND_NAMES, build_parser
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
# Nor, since the second round (issue 25, item 3): the commands (a query structures none; the
# converter and the deciders load them with the first one read or decided) and the checks only
# they use, the log's signed notes and proofs (a ledger opens its log, a query asks it nothing),
# the reader of the store's counts (`store info`'s), the exchange reader (a write's), logging
# (a lagging view's warning), and the grammar of commands other than the one run.
MOVED_OUT = (
    "biv_domain.model.commands",
    "biv_domain.model.protection",
    "biv_domain.model.validators",
    "biv_domain.model.log_proofs",
    "biv_domain.ledger.note",
    "biv_domain.ledger.store_info",
    "biv_adapters.exchange",
    "logging",
    "biv_adapters.cli.audit",
    "biv_adapters.cli.archive",
    "biv_adapters.cli.store",
    "biv_adapters.http.commands",
)
# ... and for a budget or a report, the history's rows and the feed's grammar (history's own)
NOT_FOR_A_FIGURE = ("biv_domain.projections.history", "biv_adapters.cli.feed")


def run_fresh(*argv: str) -> tuple[int, list[str], str]:
    """`biv ARGV` in a fresh interpreter: its exit code, the modules in `sys.modules` after it,
    and what it wrote to stderr."""
    script = (
        "import contextlib, io, json, sys\n"
        "from biv_adapters.cli import main\n"
        "err = io.StringIO()\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):\n"
        f"    code = main({list(argv)!r})\n"
        "print(json.dumps([code, sorted(sys.modules), err.getvalue()]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    code, modules, err = json.loads(done.stdout)
    return code, list(modules), err


def loaded_after(*argv: str) -> list[str]:
    """The modules in `sys.modules` after `biv ARGV` ran, and succeeded, in a fresh interpreter."""
    code, modules, err = run_fresh(*argv)
    assert code == 0, err
    return modules


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
    assert [m for m in MOVED_OUT if m in modules] == []
    if argv[0] in ("budget", "report"):
        assert [m for m in NOT_FOR_A_FIGURE if m in modules] == []
    if argv[0] == "budget":  # a budget judges no report's targets
        assert "biv_domain.projections.report" not in modules
    # nor the log's commands, which bring the web client a witness needs (urllib, http.client)
    assert "biv_adapters.cli.log" not in modules
    assert "http.client" not in modules
    # nor the adapters of the pack, the e-archive, PostgreSQL or the server behind the grammar
    unused = ("biv_adapters.pack", "biv_adapters.archive", "biv_adapters.stores.postgresql")
    assert [m for m in modules if m.startswith(unused) or m == "biv_adapters.http.app"] == []


def grammar(parser: argparse.ArgumentParser, path: str = "") -> dict[str, object]:
    """Each command's help, defaults and options, by its path (`audit verify`), as parsed."""
    found: dict[str, object] = {
        path: (parser.format_help(), parser._defaults, [a.option_strings for a in parser._actions])
    }
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found |= grammar(sub, f"{path} {name}".strip())
    return found


@pytest.mark.parametrize("name", sorted(COMMAND_NAMES))
def test_a_command_run_by_name_gets_the_grammar_it_has_among_all(name: str) -> None:
    """Given the arguments of one command (after --store, as a user may write it), when the
    grammar is built for them, then it holds that command alone (and `serve` beside `token`,
    which one function adds), each of its parsers as in the whole grammar: the same help, the
    same defaults (what runs it), the same options."""
    whole = grammar(build_parser())
    for argv in ([name, "--json"], ["--store", "memory:", name], ["--store=memory:", name]):
        one = grammar(build_parser(argv))
        commands = {path.split(" ")[0] for path in one if path}
        assert commands == ({"serve", "token"} if name in ("serve", "token") else {name})
        for path, parsed in one.items():
            if path:
                assert parsed == whole[path], path


@pytest.mark.parametrize(
    "argv", [[], ["--help"], ["--version"], ["budgt"], ["--store"], ["-h", "budget"]]
)
def test_arguments_that_name_no_command_first_get_every_commands_grammar(
    argv: list[str],
) -> None:
    """--help lists every command, and a mistyped one is refused naming the known ones."""
    assert grammar(build_parser(argv)) == grammar(build_parser())
    assert set(grammar(build_parser(argv))) >= set(COMMAND_NAMES)


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
    code, modules, err = run_fresh(*argv)
    assert (code, "biv_domain.ledger.case_numbers" in modules, err.strip()) == (
        1,
        True,
        "biv: refused: case_number: no agreement with case number 'Dnr 2016-293'; "
        "did you mean 'Dnr 2016-292'?",
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


def test_the_biv_process_exits_with_mains_code_and_its_collector_frozen(sqlite_store: str) -> None:
    """Given `biv` run as a process (`run`, its script's and `python -m`'s), when the command
    is done, then the process exits with `main`'s code and its output, every object left to
    the exit (`gc.freeze`, ~15 ms of a query), and `atexit`'s work still done; `main` called
    by a program that embeds it leaves the collector as it was."""
    script = (
        "import atexit, gc, sys\n"
        "from biv_adapters.cli import main, run\n"
        "atexit.register(lambda: print('frozen', gc.get_freeze_count() > 0, file=sys.stderr))\n"
        "assert main(['--version']) == 0 and gc.get_freeze_count() == 0\n"
        "run()\n"
    )
    for argv, code in (
        (["budget", CASE_NUMBER, "--on", "2023-10-01", "--json", "--store", sqlite_store], 0),
        (["budget", "Dnr 1999-1", "--on", "2023-10-01", "--store", sqlite_store], 1),
        (["budget", "--bogus"], 2),
    ):
        done = subprocess.run([sys.executable, "-c", script, *argv], capture_output=True, text=True)
        assert done.returncode == code, done.stderr
        assert done.stderr.endswith("frozen True\n")
        if code == 0:
            assert json.loads(done.stdout.split("\n", 1)[1])["case_number"] == CASE_NUMBER
