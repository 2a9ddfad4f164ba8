"""Fuzz of the command line and of exchange lines: whatever the input, `biv` exits 0, 1 or 2,
never prints a traceback (nor the last-resort "internal error"), and stores nothing unless it
exits 0. SQLite runs thousands of cases; PostgreSQL fewer.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from biv_adapters.demo import CASE_NUMBER
from biv_domain.model.commands import COMMANDS
from tests.conftest import drop_schema, postgres_url

from .test_hardening_support import postgres_rows, run, sqlite_rows

FUZZ = settings(
    max_examples=1500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
FEW = settings(FUZZ, max_examples=150)

junk = st.text(max_size=12) | st.sampled_from(["", "-", "--", "'", '"', ";", "\udcff", "\x00"])
day = (
    st.sampled_from(["2017-04-01", "2018-01-01", "2019-03-31", "0001-01-01", "9999-12-31"])
    | st.dates().map(str)
    | junk
)
moment = day | st.sampled_from(
    ["2023-10-31T12:00Z", "9999-12-31T23:00-05:00", "0001-01-01T00:00+01:00"]
)
number = st.integers(-(10**30), 10**30).map(str) | junk
case = st.sampled_from([CASE_NUMBER, "2016-292", "Dnr X"]) | junk
STORE_WORDS = [
    "{store}",
    "{store}",
    "{store}",
    "sqlite:{folder}",
    "sqlite:{junk}",
    "sqlite:{missing}",
    "postgresql://eva:s3cret@[::1/db",
    "postgresql://eva:s3cret@127.0.0.1:1/db?schema=x;y",
    "memory:",
    "bogus:",
]

OPTIONS: dict[str, list[tuple[str, Any]]] = {
    "demo": [("--json", None), ("--actor", junk)],
    "import": [("{file}", None), ("--json", None), ("--actor", junk)],
    "history": [("{case}", None), ("--json", None), ("--as-known-at", moment)],
    "budget": [
        ("{case}", None),
        ("--on", day),
        ("--fiscal-year", number),
        ("--municipality", junk),
        ("--split", st.sampled_from(["months", "days", "weeks"])),
        ("--json", None),
        ("--as-known-at", moment),
    ],
    "report": [
        ("{case}", None),
        ("--from", day),
        ("--to", day),
        ("--follow-up", junk),
        ("--public", None),
        ("--threshold", number),
        ("--json", None),
    ],
    "rebuild": [("--json", None)],
    "follow-ups": [("{case}", None), ("--on", day), ("--json", None)],
    "configure": [
        ("--require-actor", st.sampled_from(["yes", "no", "maybe"])),
        ("--json", None),
        ("--actor", junk),
    ],
    "audit verify": [
        ("--digest", st.sampled_from(["12:abc", "1:" + "0" * 64]) | junk),
        ("--json", None),
    ],
    "audit digest": [("--json", None)],
    "audit replay": [
        ("{case}", None),
        ("--until", moment),
        ("--since", moment),
        ("--diff", None),
        ("--on", day),
        ("--json", None),
    ],
}


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    command = draw(st.sampled_from([*OPTIONS, "junk"]))
    argv: list[str] = draw(st.lists(junk, max_size=2)) if command == "junk" else command.split()
    for option, values in draw(
        st.lists(st.sampled_from(OPTIONS.get(command, [("--x", junk)])), max_size=6)
    ):
        if option == "{case}":
            argv.append(draw(case))
        elif option == "{file}":
            argv.append(draw(st.sampled_from(["{good}", "{bad}", "{bom}", "{missing}", "-"])))
        else:
            argv.append(option)
            if values is not None:
                argv.append(draw(values))
    if draw(st.booleans()):
        argv += ["--store", draw(st.sampled_from(STORE_WORDS))]
    return draw(st.permutations(argv)) if draw(st.integers(0, 9)) == 0 else argv


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**25), 10**25)
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | st.sampled_from(
        [
            "2017-04-01",
            "2018-02-30",
            "530000",
            "1.005",
            "-1",
            "99999999999999999999",
            CASE_NUMBER,
            "G1",
            "children",
            "municipality",
            "children_per_year",
            "x" * 1001,
            # Issue 22: refused the same on every store, naming the field
            "Dnr N-\x00X",
            "Dnr P-1\u200b",
            "G-\u202e1",
            "Linko\u0308ping",
            " 100 ",
            "i" * 201,
        ]
    ),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def exchange_line(draw: st.DrawFn) -> dict[str, Any]:
    name = draw(st.sampled_from(sorted(COMMANDS)))
    fields = [a.name for a in attrs.fields(COMMANDS[name])]
    chosen = draw(
        st.lists(st.sampled_from([*fields, "id", "junk"]), max_size=len(fields) + 2, unique=True)
    )
    line: dict[str, Any] = {"command": name}
    for field in chosen:
        line[field] = draw(json_values)
    return line


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("fuzz")
    store = folder / "fuzz.sqlite3"
    assert run(["demo", "--store", f"sqlite:{store}"]).code == 0
    (folder / "junk.sqlite3").write_bytes(b"not SQLite\n" * 20)
    good = {
        "command": "set_target",
        "case_number": CASE_NUMBER,
        "target": "children_per_year",
        "value": 5,
        "decided_on": "2017-04-01",
    }
    (folder / "good.jsonl").write_text(json.dumps(good) + "\n", encoding="utf-8")
    (folder / "bom.jsonl").write_text("\ufeff" + json.dumps(good) + "\n", encoding="utf-8")
    (folder / "bad.jsonl").write_text(
        '{"command": "set_funding", "amount": 1e99}\n', encoding="utf-8"
    )
    return {
        "store": f"sqlite:{store}",
        "folder": str(folder),
        "junk": str(folder / "junk.sqlite3"),
        "missing": str(folder / "missing.sqlite3"),
        "good": str(folder / "good.jsonl"),
        "bad": str(folder / "bad.jsonl"),
        "bom": str(folder / "bom.jsonl"),
        "path": str(store),
    }


def _filled(argv: list[str], places: dict[str, str]) -> list[str]:
    out = []
    for word in argv:
        for key, value in places.items():
            word = word.replace("{" + key + "}", value)
        out.append(word)
    return out


def _holds(argv: list[str], count: Any, monkeypatch: pytest.MonkeyPatch, store: str) -> None:
    monkeypatch.setenv("BIV_STORE", store)
    before = count()
    result = run(argv, stdin='{"command": "give_notice"}\n')
    assert result.code in (0, 1, 2), (argv, result)
    assert "Traceback" not in result.err, (argv, result.err)
    assert "internal error" not in result.err, (argv, result.err)
    if result.code != 0:
        assert count() == before, (argv, result)


@FUZZ
@given(argv=command_lines())
def test_fuzz_the_command_line_on_sqlite(
    argv: list[str], places: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _holds(
        _filled(argv, places),
        lambda: sqlite_rows(Path(places["path"])),
        monkeypatch,
        places["store"],
    )
    assert (
        not Path(places["missing"]).exists()
        or "demo" in argv
        or "import" in argv
        or "configure" in argv
    )
    Path(places["missing"]).unlink(missing_ok=True)


@FUZZ
@given(lines=st.lists(exchange_line(), min_size=1, max_size=4), bom=st.booleans())
def test_fuzz_exchange_lines_on_sqlite(
    lines: list[dict[str, Any]],
    bom: bool,
    places: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    exchange = tmp_path / "lines.jsonl"
    text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    exchange.write_text(("\ufeff" if bom else "") + text, encoding="utf-8", errors="surrogatepass")
    argv = ["import", str(exchange), "--store", places["store"]]
    _holds(argv, lambda: sqlite_rows(Path(places["path"])), monkeypatch, places["store"])


@pytest.fixture(scope="module")
def tenant() -> Iterator[str]:
    schema = f"fuzz_{uuid.uuid4().hex[:12]}"
    url = postgres_url(schema)
    assert run(["demo", "--store", url]).code == 0
    yield url
    drop_schema(schema)


@FEW
@given(lines=st.lists(exchange_line(), min_size=1, max_size=4))
def test_fuzz_exchange_lines_on_postgresql(
    lines: list[dict[str, Any]], tenant: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    exchange = tmp_path / "lines.jsonl"
    exchange.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    _holds(
        ["import", str(exchange), "--store", tenant],
        lambda: postgres_rows(tenant),
        monkeypatch,
        tenant,
    )


@FEW
@given(argv=command_lines())
def test_fuzz_the_command_line_on_postgresql(
    argv: list[str], tenant: str, places: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = _filled([w.replace("{store}", tenant) for w in argv], places)
    _holds(argv, lambda: postgres_rows(tenant), monkeypatch, tenant)
    Path(places["missing"]).unlink(missing_ok=True)
    shutil.rmtree(Path(places["folder"]) / "none", ignore_errors=True)
