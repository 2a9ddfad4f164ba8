"""The facts by type and version, kept in two small tables as batches are written.

`biv_fact_counts` holds one row a (type, version): how many facts of it the store
holds; `biv_fact_counts_at` one row: the chain position and the stored row through
which those counts are complete. Each batch adds its counts in its own transaction
(the recorders call `in_batch`'s function beside the keys and the funding view),
only if the counts were complete through the batch's head; otherwise it leaves
them, and `biv_domain.ledger.store_info` walks the rows after them and keeps the
new counts. A store made before these tables gets its counts so, once, on its
first `store info`: no fact changes. See `biv_domain.ledger.store_info`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from eventsourcing.application import Application
from eventsourcing.sqlite import SQLiteDatastore

from biv_adapters.stores.keys import reading

if TYPE_CHECKING:  # `store info` loads it; every ledger on SQL keeps counts, a query reads none
    from biv_domain.ledger.store_info import CountsAt, Tally

COUNTS, AT = "biv_fact_counts", "biv_fact_counts_at"
CREATE = (
    "CREATE TABLE IF NOT EXISTS {counts} (topic TEXT NOT NULL, version INTEGER NOT NULL, "
    "facts BIGINT NOT NULL, PRIMARY KEY (topic, version))",
    "CREATE TABLE IF NOT EXISTS {at} (one INTEGER PRIMARY KEY CHECK (one = 1), "
    "position BIGINT NOT NULL, row_id BIGINT NOT NULL)",
)
ADD = (
    "INSERT INTO {counts} (topic, version, facts) VALUES (?, ?, ?) "
    "ON CONFLICT (topic, version) DO UPDATE SET facts = {counts}.facts + excluded.facts"
)


def _postgres(datastore: Any) -> bool:
    return not isinstance(datastore, SQLiteDatastore)


def _sql(datastore: Any, text: str) -> Any:
    """The statement with the tables named: fixed on SQLite, quoted in the tenant's schema."""
    if _postgres(datastore):
        from psycopg import sql

        def name(table: str) -> Any:
            schema = datastore.schema
            return sql.Identifier(schema, table) if schema else sql.Identifier(table)

        return sql.SQL(text.replace("?", "%s")).format(counts=name(COUNTS), at=name(AT))
    return text.format(counts=COUNTS, at=AT)


def _changed(datastore: Any, cursor: Any) -> int:
    """How many rows the cursor's last statement changed (the library's SQLite cursor does
    not say: SQLite's own `changes()` does)."""
    if _postgres(datastore):
        return int(cursor.rowcount)
    cursor.execute("SELECT changes()")
    return int(cursor.fetchone()[0])


class SqlFactCounts:
    """The counts in the store's own database, SQLite or PostgreSQL."""

    def __init__(self, ledger: Application[str]) -> None:
        self._datastore: Any = ledger.factory.datastore  # type: ignore[attr-defined]
        with self._datastore.transaction(commit=True) as c:
            if _postgres(self._datastore):
                c.execute("SELECT pg_advisory_xact_lock(hashtext('biv_ddl'))")
            for statement in CREATE:
                c.execute(_sql(self._datastore, statement))

    def in_batch(self, head: int, position: int, tally: Tally) -> Callable[[Any, int], None]:
        datastore = self._datastore

        def add(cursor: Any, last_row: int) -> None:
            cursor.execute(
                _sql(datastore, "UPDATE {at} SET position = ?, row_id = ? WHERE position = ?"),
                (position, last_row, head),
            )
            if _changed(datastore, cursor) != 1:
                return  # not complete through the head: store_info walks the rows after them
            for (topic, version), facts in tally.items():
                cursor.execute(_sql(datastore, ADD), (topic, version, facts))

        return add

    def read(self) -> CountsAt | None:
        from biv_domain.ledger.store_info import CountsAt

        with reading(self._datastore) as c:
            c.execute(_sql(self._datastore, "SELECT position, row_id FROM {at}"))
            at = c.fetchone()
            if at is None:
                return None
            c.execute(_sql(self._datastore, "SELECT topic, version, facts FROM {counts}"))
            rows = c.fetchall()
        position, row_id = at["position"], at["row_id"]
        counts = {(r["topic"], int(r["version"])): int(r["facts"]) for r in rows}
        return CountsAt(int(position), int(row_id), counts)

    def keep(self, counts: CountsAt, was: CountsAt | None) -> None:
        with self._datastore.transaction(commit=True) as c:
            if was is None:
                c.execute(
                    _sql(
                        self._datastore,
                        "INSERT INTO {at} (one, position, row_id) VALUES (1, ?, ?) "
                        "ON CONFLICT (one) DO NOTHING",
                    ),
                    (counts.position, counts.row),
                )
            else:
                c.execute(
                    _sql(
                        self._datastore,
                        "UPDATE {at} SET position = ?, row_id = ? "
                        "WHERE position = ? AND row_id = ?",
                    ),
                    (counts.position, counts.row, was.position, was.row),
                )
            if _changed(self._datastore, c) != 1:
                return  # another process kept counts (or a batch moved them) meanwhile
            c.execute(_sql(self._datastore, "DELETE FROM {counts}"))
            for (topic, version), facts in counts.counts.items():
                c.execute(_sql(self._datastore, ADD), (topic, version, facts))
