"""Issue 11: a refusal stores nothing, no input gives a traceback, tenants and passwords are
safe, a query never creates a store, and the desk's conveniences.

The concrete cases the issue found are kept in tests/corpus/hardening.json and replayed here.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from biv_adapters.demo import CASE_NUMBER
from biv_adapters.stores.postgresql import TENANT
from biv_adapters.stores.registry import open_ledger, redact
from biv_domain.errors import InvalidValue
from biv_domain.model.commands import PlanGroup, SetFunding, SetTarget
from biv_domain.model.money import MAX_ORE, Money
from biv_domain.model.validators import COUNT_LIMIT, FREE_TEXT_LIMIT, NAME_LIMIT
from biv_domain.model.vocabulary import GroupKind, Party, TargetKind
from tests.conftest import POSTGRES_URL, drop_schema, postgres_url

from .test_hardening_support import message, one_line, run, sqlite_rows

CORPUS = json.loads((Path(__file__).parents[1] / "corpus" / "hardening.json").read_text("utf-8"))
GOOD_LINE = {
    "command": "set_target",
    "case_number": CASE_NUMBER,
    "target": "children_per_year",
    "value": 5,
    "decided_on": "2017-04-01",
}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite store holding the Linköping history, copied for each test that changes it."""
    path = tmp_path_factory.mktemp("seeded") / "seeded.sqlite3"
    assert run(["demo", "--store", f"sqlite:{path}"]).code == 0
    return path


@pytest.fixture
def store(seeded: Path, tmp_path: Path) -> Path:
    path = tmp_path / "biv.sqlite3"
    shutil.copy(seeded, path)
    return path


# --- The corpus -------------------------------------------------------------------------------


def _fill(value: Any, places: dict[str, str]) -> Any:
    if isinstance(value, str):
        for key, place in places.items():
            value = value.replace("{" + key + "}", place)
        return value
    if isinstance(value, list):
        return [_fill(v, places) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, places) for k, v in value.items()}
    return value


@pytest.mark.parametrize("case", CORPUS, ids=[c["name"] for c in CORPUS])
def test_the_corpus_gives_one_line_and_stores_nothing(
    case: dict[str, Any], store: Path, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not an SQLite file\n" * 10)
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps(GOOD_LINE) + "\n", encoding="utf-8")
    missing = tmp_path / "missing.sqlite3"
    places = {
        "store": str(store),
        "folder": str(tmp_path),
        "junk": str(junk),
        "good": str(good),
        "missing": str(missing),
        "long": "x" * 1_048_576,
    }
    if "argv" in case:
        argv = _fill(case["argv"], places)
    else:
        exchange = tmp_path / "lines.jsonl"
        if "lines" in case:
            lines = _fill(case["lines"], places)
            exchange.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
        elif "raw" in case:
            exchange.write_text(case["raw"], encoding="utf-8")
        else:
            exchange.write_bytes(bytes.fromhex(case["raw_bytes"]))
        argv = ["import", str(exchange), "--store", f"sqlite:{store}"]
    before, junk_before = sqlite_rows(store), junk.read_bytes()
    result = run(argv)
    assert result.code == case["code"], result
    assert "Traceback" not in result.err
    if result.code:
        line = message(result.err)
        assert line.startswith("biv"), line
        assert sqlite_rows(store) == before
        if "field" in case:
            assert case["field"] in line, line
    else:
        assert sqlite_rows(store) != before
    assert junk.read_bytes() == junk_before
    if "secret" in case:
        assert case["secret"] not in result.err + result.out
    if case.get("creates") is False:
        assert not missing.exists()


# --- 1. Refused, yet stored: bounds, and a view that lags harmlessly ---------------------------


def test_amounts_are_bounded_in_the_domain() -> None:
    assert Money.parse(str(Money(MAX_ORE))) == Money(MAX_ORE)
    assert MAX_ORE < 2**63 // 1000  # thousands of maximal lines still add up in 64 bits
    with pytest.raises(InvalidValue) as refused:
        Money.parse("10000000000000.01", "amount")
    assert refused.value.field == "amount"
    with pytest.raises(InvalidValue) as refused:
        SetFunding(
            case_number=CASE_NUMBER,
            party=Party.MUNICIPALITY,
            source="committee_budget",
            start=date(2017, 4, 1),
            end=date(2019, 3, 31),
            amount=Money(MAX_ORE + 1),  # the Python API does not go through Money.parse
            decided_on=date(2017, 4, 1),
        )
    assert refused.value.field == "amount"


def test_texts_and_counts_are_bounded_with_the_field_named() -> None:
    def plan(**changes: Any) -> PlanGroup:
        values: dict[str, Any] = {
            "group_ref": "G",
            "case_number": CASE_NUMBER,
            "kind": GroupKind.CHILDREN,
            "area": "Skäggetorp",
            "starts_on": date(2017, 9, 1),
            **changes,
        }
        return PlanGroup(**values)

    plan(area="a" * NAME_LIMIT)
    for field, value in [
        ("area", "a" * (NAME_LIMIT + 1)),
        ("group_ref", "g" * (NAME_LIMIT + 1)),
        ("planned_sessions", COUNT_LIMIT + 1),
        ("language", "l" * (NAME_LIMIT + 1)),
    ]:
        with pytest.raises(InvalidValue) as refused:
            plan(**{field: value})
        assert refused.value.field == field
    target: dict[str, Any] = {
        "case_number": CASE_NUMBER,
        "target": TargetKind.CHILDREN_PER_YEAR,
        "value": 5,
        "decided_on": date(2017, 4, 1),
    }
    SetTarget(**target, note="n" * FREE_TEXT_LIMIT)
    with pytest.raises(InvalidValue) as refused:
        SetTarget(**target, note="n" * (FREE_TEXT_LIMIT + 1))
    assert refused.value.field == "note"


def test_a_view_that_cannot_catch_up_leaves_the_write_stored(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from biv_domain.ledger.read_models import FundingView

    def broken(self: FundingView, progress: object = None) -> int:
        raise OverflowError("Python int too large to convert to SQLite INTEGER")

    funding = {
        "command": "set_funding",
        "case_number": CASE_NUMBER,
        "party": "municipality",
        "source": "lag_test",
        "start": "2017-04-01",
        "end": "2017-12-31",
        "amount": "1000",
        "decided_on": "2017-04-01",
    }
    exchange = tmp_path / "funding.jsonl"
    exchange.write_text(json.dumps(funding) + "\n", encoding="utf-8")
    before = sqlite_rows(store)
    with monkeypatch.context() as patched:
        patched.setattr(FundingView, "catch_up", broken)
        result = run(["import", str(exchange), "--store", f"sqlite:{store}"])
    assert result.code == 0, result
    assert "Traceback" not in result.err
    assert sqlite_rows(store) != before  # stored
    ledger = open_ledger(f"sqlite:{store}")
    try:
        assert ledger.funding_view.position() < (ledger.app.recorder.max_notification_id() or 0)
        # Reads fold the facts since the view's position: the line is there.
        rows = ledger.funding_view.current_rows()
        assert any(key[1].source == "lag_test" for key in rows.lines)
    finally:
        ledger.close()
    # The next write catches the view up.
    assert run(["import", str(_write(tmp_path, GOOD_LINE)), "--store", f"sqlite:{store}"]).code == 0
    ledger = open_ledger(f"sqlite:{store}")
    try:
        assert ledger.funding_view.position() == ledger.app.recorder.max_notification_id()
    finally:
        ledger.close()


def _write(folder: Path, line: dict[str, Any]) -> Path:
    path = folder / f"{uuid.uuid4().hex}.jsonl"
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    return path


# --- 3. Tenant names and passwords --------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        'x"; CREATE TABLE stray (a int); --',
        "o'brien",
        "semi;colon",
        "a" * 64,
        "Tenant",
        "9lives",
        "",
        "tenant-one",
        "tenant one",
        "tenänt",
    ],
)
def test_a_tenant_name_outside_the_pattern_is_refused_in_one_line(name: str) -> None:
    assert not TENANT.fullmatch(name)
    url = f"postgresql://eva:s3cret-pw@127.0.0.1:1/db?schema={name}"
    result = run(["history", CASE_NUMBER, "--store", url])
    assert result.code == 2, result
    assert "schema" in one_line(result.err)
    assert "s3cret-pw" not in result.err


@pytest.mark.parametrize("name", ["t", "_t", "tenant_2024", "a" * 63])
def test_tenant_names_within_the_pattern(name: str) -> None:
    assert TENANT.fullmatch(name)


def test_redact_blanks_every_password() -> None:
    assert redact("postgresql://eva:pw@h:1/db") == "postgresql://eva:***@h:1/db"
    assert redact("at postgresql://:p%40w@h/db and x") == "at postgresql://:***@h/db and x"
    assert redact("sqlite:biv.sqlite3") == "sqlite:biv.sqlite3"


@pytest.fixture
def tenant() -> Iterator[str]:
    schema = f"test_{uuid.uuid4().hex[:12]}"
    url = postgres_url(schema)
    yield url
    drop_schema(schema)


def test_a_refused_schema_leaves_no_schema_on_the_server() -> None:
    if not POSTGRES_URL:
        pytest.skip("no PostgreSQL server: set BIV_TEST_POSTGRES_URL (see README)")
    import psycopg

    stray = 'x"; CREATE SCHEMA stray_from_injection; --'
    result = run(["import", "-", "--store", f"{POSTGRES_URL}?schema={stray}"])
    assert result.code == 2
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        names = [r[0] for r in connection.execute("SELECT nspname FROM pg_namespace")]
    assert not [n for n in names if "stray" in n or '"' in n]


def test_a_wrong_password_never_shows(tenant: str) -> None:
    # The throwaway server trusts every user; a database that does not exist fails alike.
    base = tenant.partition("?")[0]
    scheme, _, rest = base.partition("://")
    user_host, _, _database = rest.rpartition("/")
    user, _, host = user_host.partition("@")
    url = f"{scheme}://{user.split(':')[0]}:Hunter2-secret@{host}/no_such_db_{uuid.uuid4().hex[:6]}"
    result = run(["history", CASE_NUMBER, "--store", url])
    assert result.code == 2, result
    one_line(result.err)
    assert "Hunter2-secret" not in result.err


def test_the_funding_view_lives_in_its_tenant(tenant: str) -> None:
    assert run(["demo", "--store", tenant]).code == 0
    result = run(["budget", "--fiscal-year", "2018", "--json", "--store", tenant])
    assert result.code == 0, result
    assert json.loads(result.out)["agreements"]


# --- 4. A query never creates a store ------------------------------------------------------------

QUERIES = [
    ["history", CASE_NUMBER],
    ["budget", CASE_NUMBER, "--on", "2018-01-01"],
    ["budget", "--fiscal-year", "2018"],
    ["report", CASE_NUMBER, "--from", "2017-04-01", "--to", "2018-03-31"],
    ["follow-ups", CASE_NUMBER],
    ["rebuild"],
    ["audit", "verify"],
    ["audit", "digest"],
    ["audit", "replay", CASE_NUMBER],
]


@pytest.mark.parametrize("argv", QUERIES, ids=[" ".join(q[:2]) for q in QUERIES])
def test_a_query_on_a_missing_store_is_refused_and_creates_nothing(
    argv: list[str], tmp_path: Path
) -> None:
    missing = tmp_path / "typo.sqlite3"
    result = run([*argv, "--store", f"sqlite:{missing}"])
    assert result.code == 1, result
    assert "no SQLite store" in one_line(result.err)
    assert not missing.exists()


@pytest.mark.parametrize(
    "argv",
    [["demo"], ["configure", "--require-actor", "no"], ["import", "GOOD"]],
    ids=["demo", "configure", "import"],
)
def test_only_writes_create_a_store(argv: list[str], tmp_path: Path) -> None:
    new = tmp_path / "new.sqlite3"
    argv = [
        str(_write(tmp_path, {**GOOD_LINE, "command": "give_notice"})) if a == "GOOD" else a
        for a in argv
    ]
    result = run([*argv, "--store", f"sqlite:{new}"])
    assert new.exists()
    assert "Traceback" not in result.err


def test_biv_store_names_a_missing_store_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BIV_STORE", raising=False)
    assert run(["history", CASE_NUMBER]).code == 1
    assert not (tmp_path / "biv.sqlite3").exists()


# --- 5. The desk ---------------------------------------------------------------------------------


def test_version() -> None:
    result = run(["--version"])
    assert result.code == 0
    assert result.out.startswith("biv ")


@pytest.mark.parametrize(
    "argv",
    [
        ["rebuild"],
        ["configure", "--require-actor", "no"],
        ["demo"],
        ["audit", "verify"],
        ["audit", "digest"],
    ],
    ids=lambda argv: " ".join(argv[:2]),
)
def test_every_command_takes_json(argv: list[str], store: Path) -> None:
    result = run([*argv, "--json", "--store", f"sqlite:{store}"])
    assert result.code == 0, result
    assert isinstance(json.loads(result.out), dict)


def test_import_takes_json(store: Path, tmp_path: Path) -> None:
    result = run(
        ["import", str(_write(tmp_path, GOOD_LINE)), "--json", "--store", f"sqlite:{store}"]
    )
    assert json.loads(result.out) == {"applied": 1, "skipped": 0}


def test_history_fits_a_terminal_line_and_json_keeps_it_whole(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    result = run(["history", CASE_NUMBER, "--store", f"sqlite:{store}"])
    assert result.code == 0, result
    lines = result.out.rstrip("\n").split("\n")
    assert all(len(line) <= 100 for line in lines), max(lines, key=len)
    assert "--json" in lines[-1]
    whole = json.loads(run(["history", CASE_NUMBER, "--json", "--store", f"sqlite:{store}"]).out)
    # the demo store's mark (issue 23), title, header, rule, the note
    assert lines[0].startswith("Demo store: ")
    assert len(whole["facts"]) == len(lines) - 5


def test_history_piped_elsewhere_is_not_cut(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    result = run(["history", CASE_NUMBER, "--store", f"sqlite:{store}"])
    assert "cut to fit" not in result.out


@pytest.mark.parametrize(
    "argv",
    [
        ["demo"],
        ["import"],
        ["history"],
        ["budget"],
        ["report"],
        ["rebuild"],
        ["follow-ups"],
        ["configure"],
        ["audit", "verify"],
        ["audit", "digest"],
        ["audit", "replay"],
    ],
    ids=lambda argv: " ".join(argv),
)
def test_help_gives_an_example(argv: list[str]) -> None:
    result = run([*argv, "--help"])
    assert result.code == 0
    assert "example:" in result.out
    assert f"biv {' '.join(argv)}" in result.out.split("example:")[1]


def test_follow_ups_on_defaults_to_today(store: Path) -> None:
    result = run(["follow-ups", CASE_NUMBER, "--json", "--store", f"sqlite:{store}"])
    assert result.code == 0, result
    assert json.loads(result.out)["on"] == date.today().isoformat()


def test_a_bom_before_an_exchange_file_is_accepted(store: Path) -> None:
    result = run(
        ["import", "-", "--store", f"sqlite:{store}"], stdin="\ufeff" + json.dumps(GOOD_LINE)
    )
    assert result.code == 0, result


def test_a_case_number_not_recorded_yet_or_written_without_dnr_says_why(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path}/biv.sqlite3"
    assert run(["demo", "--store", url]).code == 0
    typo = run(["budget", "2016-292", "--on", "2023-01-01", "--store", url])
    assert typo.code == 1
    assert "did you mean 'Dnr 2016-292'?" in one_line(typo.err)
    # the demo is recorded in stages from 2017-04-10 (issue 23): a moment before that
    early = run(["history", "Dnr 2016-292", "--as-known-at", "2017-01-01", "--store", url])
    assert early.code == 1
    line = one_line(early.err)
    assert "was not yet recorded at 2017-01-01T23:59:59.999999+00:00" in line
    assert "it was first recorded at" in line
