"""Shared by the hardening tests (none of its own): `biv` in this process, a store's rows."""

from __future__ import annotations

import contextlib
import io
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

from biv_adapters.cli import main


class Run(NamedTuple):
    code: int
    out: str
    err: str


def run(argv: Sequence[str], stdin: str = "") -> Run:
    """`biv ARGV…` in this process, with its own standard streams."""
    out, err = io.StringIO(), io.StringIO()
    with (
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        _stdin(stdin),
    ):
        try:
            code = main(list(argv))
        except SystemExit as leaving:  # pragma: no cover - main returns its code
            code = leaving.code if isinstance(leaving.code, int) else 1
    return Run(code, out.getvalue(), err.getvalue())


@contextlib.contextmanager
def _stdin(text: str) -> Iterator[None]:
    saved = sys.stdin
    sys.stdin = io.StringIO(text)
    try:
        yield
    finally:
        sys.stdin = saved


def sqlite_rows(path: Path) -> int | None:
    """How many facts rows an SQLite store holds (its tables, not the read models'), or None."""
    if not path.is_file():
        return None
    with contextlib.closing(sqlite3.connect(path)) as connection:
        tables = [
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            if not name.startswith(("biv_view_", "sqlite_"))
        ]
        return sum(
            int(connection.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]) for t in tables
        )


def postgres_rows(url: str) -> int:
    """How many facts rows a PostgreSQL tenant holds (every table of its schema but the views')."""
    import psycopg
    from psycopg import sql

    base, _, query = url.partition("?schema=")
    with psycopg.connect(base, autocommit=True) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (query,),
            )
            if not row[0].startswith("biv_view_")
        ]
        total = 0
        for table in tables:
            counted = connection.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(query, table))
            ).fetchone()
            total += counted[0] if counted else 0
        return total


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


def message(text: str) -> str:
    """The one line of a refusal, or the last of argparse's usage error (its usage first)."""
    lines = text.strip().splitlines()
    if len(lines) > 1:
        assert lines[0].startswith("usage:"), text
        assert ": error: " in lines[-1], text
        return lines[-1]
    return one_line(text)
