"""Make a frozen store of one stored format, once: `tests/stores/format-N/`.

    python tests/stores/make_frozen_store.py tests/stores/format-1 --postgres-url URL

A frozen store is written by the code of its format (check that tag out first) and is never
regenerated: this script refuses to run when the folder already holds a store or answers. It
keeps a record of how the store was made. From the folder's `history.jsonl` it builds, on SQLite
and on PostgreSQL (schema `formatN`), the same history through the command line only:

1. `biv demo --actor "biv demo"` (the Linköping case), then a moment T1 is noted;
2. `biv import` of the first SPLIT_AT lines of history.jsonl (`--actor "format-1 fixture"`),
   then a moment T2 is noted;
3. `biv import history.jsonl` (its first lines are skipped: they carry ids already applied);
4. `biv configure --require-actor no` (a SettingsChanged fact).

Then it asks the store the questions in `questions()` and records each answer, `argv` (without
`--store`), exit code and standard output (parsed JSON, or the text for `audit digest`), in
`answers-sqlite.json` / `answers-postgresql.json`, and the digest in `digest-*.txt`. The SQLite
file is checkpointed into one file (journal mode DELETE) and copied to `store.sqlite3`; the
PostgreSQL schema is dumped with `pg_dump` as plain SQL into `postgresql.sql`.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from biv_adapters.cli import main

DEMO_CASE = "Dnr 2016-292"
FIXTURE_CASE = "Dnr 2020-431"
FIXTURE_MUNICIPALITY = "Fixturköpings kommun, Socialnämnden"
DEMO_MUNICIPALITY = "Linköpings kommun, Omsorgsnämnden"
SPLIT_AT = 48  # history.jsonl's lines imported first, before the moment T2
FIXTURE_ACTOR = "format-1 fixture"  # set from the folder: "format-N fixture"
FROZEN = ("store.sqlite3", "postgresql.sql", "answers-sqlite.json", "answers-postgresql.json")


def run(argv: Sequence[str]) -> tuple[int, str]:
    """`biv ARGV` in this process: its exit code and standard output."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(argv))
    return code, out.getvalue()


def checked(argv: Sequence[str]) -> str:
    code, out = run(argv)
    if code != 0:
        raise SystemExit(f"biv {' '.join(argv)} exited {code}")
    return out


def moment() -> str:
    """A moment strictly between the facts recorded before and after it."""
    time.sleep(1.1)
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    time.sleep(1.1)
    return now


def build(folder: Path, store: str) -> tuple[str, str]:
    """Records the history in an empty store; returns the moments T1 and T2."""
    history = folder / "history.jsonl"
    checked(["demo", "--store", store, "--actor", "biv demo", "--json"])
    t1 = moment()
    lines = history.read_text("utf-8").splitlines(keepends=True)
    with tempfile.TemporaryDirectory() as scratch:
        first = Path(scratch) / "first.jsonl"
        first.write_text("".join(lines[:SPLIT_AT]), "utf-8")
        checked(["import", str(first), "--store", store, "--actor", FIXTURE_ACTOR])
    t2 = moment()
    checked(["import", str(history), "--store", store, "--actor", FIXTURE_ACTOR])
    checked(["configure", "--require-actor", "no", "--store", store, "--actor", FIXTURE_ACTOR])
    return t1, t2


def questions(t1: str, t2: str) -> list[list[str]]:
    """Every question asked of the frozen store; dates are given, never left to today."""
    demo, mine = DEMO_CASE, FIXTURE_CASE
    asked: list[list[str]] = []
    for case, days in (
        (demo, ["2017-06-01", "2018-01-01", "2023-03-31", "2023-10-01", "2024-06-01"]),
        (mine, ["2020-12-20", "2021-06-15", "2022-07-01", "2022-12-01", "2023-03-01"]),
    ):
        asked += [["budget", case, "--on", day, "--json"] for day in days]
        asked.append(["budget", case, "--on", days[3], "--split", "days", "--json"])
    asked += [
        ["budget", demo, "--on", "2023-10-01", "--as-known-at", t1, "--json"],
        ["budget", mine, "--on", "2022-07-01", "--as-known-at", t2, "--json"],
        ["budget", mine, "--on", "2021-06-15", "--as-known-at", t1, "--json"],  # not yet known
    ]
    for year in ("2017", "2019", "2021", "2022", "2023", "2024"):
        asked.append(["budget", "--fiscal-year", year, "--json"])
    asked += [
        ["budget", "--fiscal-year", "2021", "--split", "days", "--json"],
        ["budget", "--fiscal-year", "2023", "--municipality", FIXTURE_MUNICIPALITY, "--json"],
        ["budget", "--fiscal-year", "2023", "--municipality", DEMO_MUNICIPALITY, "--json"],
        ["budget", "--fiscal-year", "2023", "--as-known-at", t1, "--json"],
        ["budget", "--fiscal-year", "2021", "--as-known-at", t2, "--json"],
    ]
    for case, windows in (
        (demo, [("2017-04-01", "2018-03-31"), ("2023-04-01", "2023-09-30"),
                ("2023-04-01", "2024-03-31")]),
        (mine, [("2021-01-01", "2021-06-30"), ("2021-01-01", "2021-12-31"),
                ("2022-01-01", "2022-12-31")]),
    ):  # fmt: skip
        for start, end in windows:
            asked.append(["report", case, "--from", start, "--to", end, "--json"])
            asked.append(["report", case, "--from", start, "--to", end, "--public", "--json"])
    asked += [
        ["report", mine, "--from", "2021-01-01", "--to", "2021-12-31", "--public",
         "--threshold", "3", "--json"],
        ["report", mine, "--from", "2021-01-01", "--to", "2021-06-30", "--as-known-at", t2,
         "--json"],
        ["report", demo, "--from", "2023-04-01", "--to", "2024-03-31", "--as-known-at", t1,
         "--json"],
    ]  # fmt: skip
    for case, refs in (
        (demo, ["ILL-2023-H1", "ILL-2023-H2"]),
        (mine, ["FIX-2021-H1", "FIX-2021-H2", "FIX-2022-H1"]),
    ):
        asked += [["report", case, "--follow-up", ref, "--json"] for ref in refs]
    for case, days in (
        (demo, ["2023-09-01", "2023-11-15", "2024-06-01"]),
        (mine, ["2021-08-15", "2022-02-15", "2022-09-01", "2023-03-01"]),
    ):
        asked += [["follow-ups", case, "--on", day, "--json"] for day in days]
    asked += [
        ["follow-ups", mine, "--on", "2023-03-01", "--as-known-at", t2, "--json"],
        ["history", demo, "--json"],
        ["history", mine, "--json"],
        ["history", mine, "--as-known-at", t2, "--json"],
        ["history", "Dnr 1999-1", "--json"],  # unknown
        ["audit", "replay", demo, "--on", "2023-10-01", "--json"],
        ["audit", "replay", demo, "--until", t1, "--on", "2023-10-01", "--json"],
        ["audit", "replay", mine, "--on", "2022-12-01", "--json"],
        ["audit", "replay", mine, "--until", t2, "--on", "2022-12-01", "--json"],
        ["audit", "replay", mine, "--until", t1, "--on", "2022-12-01", "--json"],  # not yet
        ["audit", "replay", mine, "--since", t2, "--diff", "--on", "2022-12-01", "--json"],
        ["audit", "replay", mine, "--since", t1, "--until", t2, "--diff", "--on", "2022-12-01",
         "--json"],
        ["audit", "replay", demo, "--since", t1, "--diff", "--on", "2023-10-01", "--json"],
        ["audit", "digest"],
        ["audit", "verify", "--json"],
    ]  # fmt: skip
    return asked


def record(store: str, asked: list[list[str]]) -> list[dict[str, Any]]:
    answers: list[dict[str, Any]] = []
    for argv in asked:
        code, out = run([*argv, "--store", store])
        again = run([*argv, "--store", store])
        if again != (code, out):
            raise SystemExit(f"biv {' '.join(argv)} does not answer the same twice")
        stdout: Any = None
        if out:
            stdout = json.loads(out) if "--json" in argv else out.rstrip("\n")
        answers.append({"argv": argv, "exit": code, "stdout": stdout})
    return answers


def write_answers(folder: Path, kind: str, answers: list[dict[str, Any]]) -> None:
    text = json.dumps(answers, ensure_ascii=False, indent=1) + "\n"
    (folder / f"answers-{kind}.json").write_text(text, "utf-8")
    digest = next(a["stdout"] for a in answers if a["argv"] == ["audit", "digest"])
    (folder / f"digest-{kind}.txt").write_text(f"{digest}\n", "utf-8")
    print(f"{kind}: {len(answers)} answers, digest {digest}")


def make_sqlite(folder: Path) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "store.sqlite3"
        store = f"sqlite://{path}"
        t1, t2 = build(folder, store)
        connection = sqlite3.connect(path)
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("PRAGMA journal_mode=DELETE")
        connection.close()
        leftovers = [p.name for p in path.parent.iterdir() if p.name != path.name]
        if leftovers:
            raise SystemExit(f"the SQLite store is not one file: {leftovers}")
        shutil.copyfile(path, folder / "store.sqlite3")
    # The answers are those of the frozen file itself, on a scratch copy of it.
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "store.sqlite3"
        shutil.copyfile(folder / "store.sqlite3", copy)
        write_answers(folder, "sqlite", record(f"sqlite://{copy}", questions(t1, t2)))


def postgres_tool(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if found is None:
        raise SystemExit(f"{name} not found (Debian's postgresql client)")
    return found


def make_postgresql(folder: Path, server: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(server) as connection:
        found = connection.execute(
            "SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", (schema,)
        ).fetchone()
    if found:
        raise SystemExit(f"the schema {schema} already exists on {server}: start from an empty one")
    store = f"{server}?schema={schema}"
    t1, t2 = build(folder, store)
    dump = subprocess.run(
        [postgres_tool("pg_dump"), f"--schema={schema}", "--no-owner", "--no-privileges",
         "--dbname", server],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    (folder / "postgresql.sql").write_text(dump, "utf-8")
    # Asked after the dump, as the SQLite store is asked after it is frozen.
    write_answers(folder, "postgresql", record(store, questions(t1, t2)))


def make_frozen_store(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("folder", type=Path, help="tests/stores/format-N, holding history.jsonl")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BIV_TEST_POSTGRES_URL"),
        help="an empty PostgreSQL database (default: $BIV_TEST_POSTGRES_URL)",
    )
    args = parser.parse_args(argv)
    folder: Path = args.folder
    present = [name for name in FROZEN if (folder / name).exists()]
    if present:
        print(
            f"{folder} already holds {', '.join(present)}: frozen stores are never regenerated",
            file=sys.stderr,
        )
        return 1
    if not (folder / "history.jsonl").is_file():
        print(f"{folder} has no history.jsonl", file=sys.stderr)
        return 1
    if not args.postgres_url:
        print("name a PostgreSQL server: --postgres-url or BIV_TEST_POSTGRES_URL", file=sys.stderr)
        return 1
    global FIXTURE_ACTOR
    FIXTURE_ACTOR = f"{folder.name} fixture"
    schema = folder.name.replace("-", "")  # format-1 -> format1
    steps: list[Callable[[], None]] = [
        lambda: make_sqlite(folder),
        lambda: make_postgresql(folder, args.postgres_url, schema),
    ]
    for step in steps:
        step()
    return 0


if __name__ == "__main__":
    sys.exit(make_frozen_store())
