"""The log (issue 21) in SQLite or PostgreSQL tables beside the facts.

- `biv_log_nodes (last_leaf, level, hash)`: the tree's perfect nodes, never changed once
  written. A node `(level, index)` is keyed by the leaf that completed it,
  `(index + 1) * 2**level - 1`, and its level, so that each batch's nodes go at the end of the
  key's order (appended, never splitting a page midway). Level 0 holds the leaves' data (the
  facts' chain hashes) as *runs*: a row keyed `(last_leaf, 0)` holds the data of the consecutive
  leaves ending at `last_leaf`, 32 bytes each, at most `RUN` of them (a store written before runs
  holds one leaf a row: a run of one). One row for a batch's leaves, not one a leaf, is what
  keeps the tree's cost in an import small (issue 21: an import with the tree at least 0.9 x
  one without).
- `biv_log_checkpoints (size, note)`: the checkpoints the log signed, one a size.
- `biv_log_cosignatures (size, witness, line)`: the witnesses' cosignature lines.
- `biv_log_keys (role, key)`: the log's verifier key (role `log`); never a signer key.

A batch's nodes and checkpoint are written by the store's recorder in the batch's
transaction (`write_log`); the behaviour is the ledger's (`biv_domain.ledger.log`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from eventsourcing.application import Application
from eventsourcing.sqlite import SQLiteDatastore

from biv_adapters.stores.keys import reading
from biv_domain.ledger.log_storage import LogAppend, LogStorage, Node
from biv_domain.ledger.merkle import NodeId

TABLES = {
    "nodes": "biv_log_nodes",
    "checkpoints": "biv_log_checkpoints",
    "cosignatures": "biv_log_cosignatures",
    "keys": "biv_log_keys",
}
CREATE = (
    "CREATE TABLE IF NOT EXISTS {nodes} (last_leaf BIGINT NOT NULL, level INTEGER NOT NULL, "
    "hash {blob} NOT NULL, PRIMARY KEY (last_leaf, level)){without_rowid}",
    "CREATE TABLE IF NOT EXISTS {checkpoints} (size BIGINT PRIMARY KEY, note TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {cosignatures} (size BIGINT NOT NULL, witness TEXT NOT NULL, "
    "line TEXT NOT NULL, PRIMARY KEY (size, witness))",
    "CREATE TABLE IF NOT EXISTS {keys} (role TEXT PRIMARY KEY, key TEXT NOT NULL)",
)
CHUNK = 400  # nodes a query
RUN = 60
"""At most this many leaves' data in one level-0 row (1,920 bytes): a batch's leaves in a row or a
few, and a leaf found by reading the rows keyed from it to `RUN - 1` after it. Never lowered: a
reader must reach the longest run ever written. 60, not 64: a row of 2 KiB would be moved out of
line by PostgreSQL (TOAST, above about 2,000 bytes a row), a second table written and read."""
LEAF = 32  # bytes of a leaf's data (a SHA-256 chain hash)


def _last_leaf(level: int, index: int) -> int:
    """The leaf (0-based) whose arrival completed the node: the nodes' key, with the level."""
    return ((index + 1) << level) - 1


def _node(level: int, last_leaf: int) -> NodeId:
    return level, ((last_leaf + 1) >> level) - 1


def _rows(nodes: Sequence[Node]) -> list[tuple[int, int, bytes]]:
    """The rows `(level, last_leaf, hash)` that keep these nodes: consecutive leaves' data in runs
    of at most `RUN` (level 0), each other node in a row of its own."""
    rows: list[tuple[int, int, bytes]] = []
    run: list[bytes] = []
    last = -1
    for (level, index), value in nodes:
        if level != 0:
            rows.append((level, _last_leaf(level, index), value))
            continue
        if run and (index != last + 1 or len(run) == RUN):
            rows.append((0, last, b"".join(run)))
            run = []
        run.append(value)
        last = index
    if run:
        rows.append((0, last, b"".join(run)))
    return rows


def _leaf_ranges(leaves: Sequence[int]) -> list[tuple[int, int]]:
    """The ranges of level-0 keys whose rows hold these leaves (sorted): a leaf i is in the run
    keyed from i to i + RUN - 1; leaves near each other share one range."""
    ranges: list[tuple[int, int]] = []
    for leaf in leaves:
        if ranges and leaf <= ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], leaf + RUN - 1)
        else:
            ranges.append((leaf, leaf + RUN - 1))
    return ranges


def _queries(wanted: set[NodeId]) -> Iterator[tuple[list[str], list[int]]]:
    """The `WHERE` terms and parameters that read these nodes, at most `CHUNK` nodes a query: the
    leaves' runs as ranges of keys (in the first query), the other nodes one term a level,
    `level = ? AND last_leaf IN (...)`: index searches (a row value IN a list of rows is a scan of
    the table on SQLite)."""
    ranges = _leaf_ranges(sorted(index for level, index in wanted if level == 0))
    terms = ["(level = 0 AND last_leaf BETWEEN ? AND ?)"] * len(ranges)
    params = [key for keys in ranges for key in keys]
    others = sorted(node for node in wanted if node[0] != 0)
    for start in range(0, len(others), CHUNK):
        levels: dict[int, list[int]] = {}
        for level, index in others[start : start + CHUNK]:
            levels.setdefault(level, []).append(_last_leaf(level, index))
        terms += [
            f"(level = ? AND last_leaf IN ({','.join('?' * len(v))}))" for v in levels.values()
        ]
        params += [x for level, v in levels.items() for x in (level, *v)]
        yield terms, params
        terms, params = [], []
    if terms:
        yield terms, params


def _kept(level: int, last_leaf: int, value: bytes) -> Iterator[Node]:
    """The nodes a stored row keeps: a node, or (level 0) each leaf's data of its run."""
    if level:
        yield _node(level, last_leaf), value
        return
    first = last_leaf - len(value) // LEAF + 1
    for leaf in range(first, last_leaf + 1):
        at = (leaf - first) * LEAF
        yield (0, leaf), value[at : at + LEAF]


class SqlLog(LogStorage):
    """The log in the store's own database."""

    def __init__(self, ledger: Application[str]) -> None:
        super().__init__(ledger)
        datastore = ledger.factory.datastore  # type: ignore[attr-defined]
        self._datastore = datastore
        self._postgres = not isinstance(datastore, SQLiteDatastore)
        self._schema: str | None = datastore.schema if self._postgres else None
        if self._postgres:
            with self._transaction(commit=True) as c:
                c.execute("SELECT pg_advisory_xact_lock(hashtext('biv_ddl'))")
                for statement in CREATE:
                    c.execute(self._sql(statement))
            return
        for statement in CREATE:  # SQLite: one a transaction (see stores.views)
            with self._transaction(commit=True) as c:
                c.execute(self._sql(statement))

    def _sql(self, statement: str) -> Any:
        """A statement with its tables named (quoted in the tenant's schema on PostgreSQL)."""
        if not self._postgres:
            # SQLite keeps the nodes in their key's own B-tree (one write a node, not two).
            return statement.format(**TABLES, blob="BLOB", without_rowid=" WITHOUT ROWID")
        from psycopg import sql

        names = {
            key: sql.Identifier(self._schema, table) if self._schema else sql.Identifier(table)
            for key, table in TABLES.items()
        }
        return sql.SQL(statement.replace("?", "%s")).format(
            **names, blob=sql.SQL("BYTEA"), without_rowid=sql.SQL("")
        )

    @contextmanager
    def _transaction(self, *, commit: bool) -> Iterator[Any]:
        with self._datastore.transaction(commit=commit) as cursor:
            yield cursor

    def read_stored(self, nodes: Iterable[NodeId]) -> dict[NodeId, bytes]:
        wanted = set(nodes)
        found: dict[NodeId, bytes] = {}
        with reading(self._datastore) as c:
            for terms, params in _queries(wanted):
                c.execute(
                    self._sql(
                        "SELECT level, last_leaf, hash FROM {nodes} WHERE " + " OR ".join(terms)
                    ),
                    params,
                )
                for r in c.fetchall():
                    found.update(_kept(int(r["level"]), int(r["last_leaf"]), bytes(r["hash"])))
        return {node: found[node] for node in wanted if node in found}

    def _insert_nodes(self, c: Any, nodes: Sequence[Node], keep: bool = False) -> None:
        """Inserts nodes; with `keep`, nodes already stored are kept (a backfill's). In a batch a
        node already stored means another writer came first: the batch is decided again."""
        if not nodes:
            return
        conflict = " ON CONFLICT DO NOTHING" if keep else ""
        rows = _rows(nodes)
        if self._postgres:
            c.execute(
                self._sql(
                    "INSERT INTO {nodes} (level, last_leaf, hash) SELECT * FROM "
                    "unnest(?::integer[], ?::bigint[], ?::bytea[])" + conflict
                ),
                ([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]),
            )
        else:
            c.executemany(
                self._sql(
                    "INSERT INTO {nodes} (level, last_leaf, hash) VALUES (?, ?, ?)" + conflict
                ),
                rows,
            )

    def _write(self, cursor: Any, append: LogAppend) -> None:
        if cursor is None:
            with self._transaction(commit=True) as c:
                self._write(c, append)
            return
        if append.verifier is not None:
            self._keep_verifier(cursor, append.verifier)
        if self._postgres and append.nodes:
            self._write_postgres(cursor, append)
            return
        self._insert_nodes(cursor, append.nodes)
        if append.checkpoint is not None:
            self._keep_checkpoint(cursor, append.size, append.checkpoint)

    def _write_postgres(self, c: Any, append: LogAppend) -> None:
        """A batch's nodes and checkpoint in one statement (when the recorder did not send them
        with the facts), its arrays sent in binary."""
        from psycopg import sql

        expressions, params = self._expressions(append)
        c.execute(sql.SQL("WITH {} SELECT 1").format(expressions), params)

    def _statement(self, append: LogAppend) -> tuple[Any, tuple[Any, ...]] | None:
        """PostgreSQL: the batch's nodes and checkpoint as two common table expressions, their
        arrays in binary, for the recorder to send with the facts (`WITH ... INSERT INTO
        events`): one round trip fewer a batch. None on SQLite (no round trips), and for the
        batch that first keeps the log's verifier key (written after the facts)."""
        if not self._postgres or append.verifier is not None or not append.nodes:
            return None
        return self._expressions(append)

    def _expressions(self, append: LogAppend) -> tuple[Any, tuple[Any, ...]]:
        """The batch's nodes and checkpoint as PostgreSQL's common table expressions."""
        rows = _rows(append.nodes)
        expressions = self._sql(
            "biv_log_added AS (INSERT INTO {nodes} (level, last_leaf, hash) SELECT * FROM "
            "unnest(%b::integer[], %b::bigint[], %b::bytea[])), "
            "biv_log_signed AS (INSERT INTO {checkpoints} SELECT size, note FROM "
            "(VALUES (%b::bigint, %b::text)) AS c (size, note) WHERE note IS NOT NULL "
            "ON CONFLICT (size) DO NOTHING)"
        )
        params = (
            [r[0] for r in rows],
            [r[1] for r in rows],
            [r[2] for r in rows],
            append.size,
            append.checkpoint,
        )
        return expressions, params

    def add_nodes(self, nodes: Sequence[Node]) -> None:
        with self._transaction(commit=True) as c:
            self._insert_nodes(c, nodes, keep=True)

    def verifier(self) -> str | None:
        with reading(self._datastore) as c:
            c.execute(self._sql("SELECT key FROM {keys} WHERE role = ?"), ("log",))
            row = c.fetchone()
        return str(row["key"]) if row else None

    def _keep_verifier(self, c: Any, key: str) -> None:
        c.execute(
            self._sql("INSERT INTO {keys} VALUES (?, ?) ON CONFLICT (role) DO NOTHING"),
            ("log", key),
        )

    def keep_verifier(self, key: str) -> None:
        with self._transaction(commit=True) as c:
            self._keep_verifier(c, key)

    def checkpoint_at(self, size: int) -> str | None:
        with reading(self._datastore) as c:
            c.execute(self._sql("SELECT note FROM {checkpoints} WHERE size = ?"), (size,))
            row = c.fetchone()
        return str(row["note"]) if row else None

    def _keep_checkpoint(self, c: Any, size: int, note: str) -> None:
        c.execute(
            self._sql("INSERT INTO {checkpoints} VALUES (?, ?) ON CONFLICT (size) DO NOTHING"),
            (size, note),
        )

    def keep_checkpoint(self, size: int, note: str) -> None:
        with self._transaction(commit=True) as c:
            self._keep_checkpoint(c, size, note)

    def checkpoint_at_size(self, size: int) -> tuple[str | None, dict[str, str]]:
        """The checkpoint and its cosignatures in one query (one round trip on PostgreSQL)."""
        with reading(self._datastore) as c:
            c.execute(
                self._sql(
                    "SELECT '' AS witness, note AS line FROM {checkpoints} WHERE size = ? "
                    "UNION ALL SELECT witness, line FROM {cosignatures} WHERE size = ?"
                ),
                (size, size),
            )
            rows = [(str(r["witness"]), str(r["line"])) for r in c.fetchall()]
        notes = [line for witness, line in rows if not witness]
        return (notes[0] if notes else None), {w: line for w, line in rows if w}

    def cosignatures_at(self, size: int) -> dict[str, str]:
        with reading(self._datastore) as c:
            c.execute(self._sql("SELECT witness, line FROM {cosignatures} WHERE size = ?"), (size,))
            return {str(r["witness"]): str(r["line"]) for r in c.fetchall()}

    def keep_cosignature(self, size: int, witness: str, line: str) -> None:
        with self._transaction(commit=True) as c:
            c.execute(
                self._sql(
                    "INSERT INTO {cosignatures} VALUES (?, ?, ?) ON CONFLICT (size, witness) "
                    "DO UPDATE SET line = excluded.line"
                ),
                (size, witness, line),
            )
