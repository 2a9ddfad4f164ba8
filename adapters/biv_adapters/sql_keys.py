"""Participants' keys in an SQLite or PostgreSQL table beside the facts, and the recorders
that write them in the same transaction as a batch's facts.

`biv_subject_keys` holds one row a participant: their pseudonym, their key and
their reference sealed under it; an erased participant's row keeps only the
pseudonym and the day (the key is overwritten with NULL). The row with the
empty pseudonym holds the store's pepper, the HMAC key of pseudonyms. After an
erasure the destroyed key is purged from the files the store writes: SQLite
runs with `secure_delete` and truncates its WAL; PostgreSQL rewrites the table
(`VACUUM FULL`). What remains in backups and WAL archives is the operator's to
purge (see the README).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from eventsourcing.application import Application
from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

from biv_domain.ledger.store import BatchRows
from biv_domain.ledger.subjects import KeyChanges, SubjectKey, SubjectKeys

if TYPE_CHECKING:  # the PostgreSQL extra may not be installed: import it only where it is used
    from eventsourcing.postgres import PostgresDatastore

TABLE = "biv_subject_keys"
CREATE = (
    "CREATE TABLE IF NOT EXISTS {keys} (subject TEXT PRIMARY KEY, key {blob}, "
    "sealed_ref TEXT, erased_on TEXT)"
)


def _postgres(datastore: Any) -> bool:
    """The SQL stores are SQLite and PostgreSQL: whatever is not SQLite is PostgreSQL."""
    return not isinstance(datastore, SQLiteDatastore)


def _statement(datastore: Any, text: str) -> Any:
    """The statement with the table named: fixed on SQLite, quoted in the tenant's schema."""
    if _postgres(datastore):
        from psycopg import sql

        keys = (
            sql.Identifier(datastore.schema, TABLE) if datastore.schema else sql.Identifier(TABLE)
        )
        return sql.SQL(text.replace("?", "%s")).format(keys=keys, blob=sql.SQL("BYTEA"))
    return text.format(keys=TABLE, blob="BLOB")


@contextmanager
def reading(datastore: Any) -> Iterator[Any]:
    """A cursor for one read: on PostgreSQL the pool's autocommit connection, so a read is
    one round trip (a read-only transaction adds its BEGIN and its ROLLBACK: three)."""
    if _postgres(datastore):
        with datastore.get_connection() as connection, connection.cursor() as cursor:
            yield cursor
    else:
        with datastore.transaction(commit=False) as cursor:
            yield cursor


def write_changes(datastore: Any, cursor: Any, changes: KeyChanges | None) -> None:
    """Adds new participants' keys and destroys erased ones, in the caller's transaction."""
    if not changes:
        return
    if not _postgres(datastore):
        cursor.execute("PRAGMA secure_delete = ON")  # freed bytes are overwritten with zeros
    if changes.added and _postgres(datastore):
        # One statement of three arrays: psycopg's executemany runs in pipeline mode, whose
        # sending loop can stop before a large message is sent whole (the import's hang).
        added = changes.added.items()
        cursor.execute(
            _statement(
                datastore,
                "INSERT INTO {keys} (subject, key, sealed_ref) "
                "SELECT * FROM unnest(?::text[], ?::bytea[], ?::text[])",
            ),
            (
                [subject for subject, _ in added],
                [r.key for _, r in added],
                [r.sealed_ref for _, r in added],
            ),
        )
    elif changes.added:
        cursor.executemany(
            _statement(datastore, "INSERT INTO {keys} VALUES (?, ?, ?, NULL)"),
            [(subject, r.key, r.sealed_ref) for subject, r in changes.added.items()],
        )
    for subject, on in changes.erased.items():
        cursor.execute(
            _statement(
                datastore,
                "UPDATE {keys} SET key = NULL, sealed_ref = NULL, erased_on = ? WHERE subject = ?",
            ),
            (on, subject),
        )


class KeyedSQLiteRecorder(SQLiteApplicationRecorder):
    """The library's SQLite recorder, writing the batch's key changes with its facts."""

    def existing_streams(self, streams: Sequence[str]) -> set[str]:
        """Which of these streams hold a fact: one query for each 500 of them."""
        found: set[str] = set()
        with self.datastore.transaction(commit=False) as cursor:
            for start in range(0, len(streams), 500):
                chunk = list(streams[start : start + 500])
                marks = ",".join("?" * len(chunk))
                cursor.execute(
                    f"SELECT DISTINCT originator_id FROM {self.events_table_name} "
                    f"WHERE originator_id IN ({marks})",
                    chunk,
                )
                found.update(str(row[0]) for row in cursor.fetchall())
        return found

    def select_streams(self, streams: Sequence[str]) -> list[StoredEvent]:
        """The facts of many streams, each in order: one query for each 500 of them."""
        found: list[StoredEvent] = []
        with self.datastore.transaction(commit=False) as cursor:
            for start in range(0, len(streams), 500):
                chunk = list(streams[start : start + 500])
                cursor.execute(
                    "SELECT originator_id, originator_version, topic, state "
                    f"FROM {self.events_table_name} "
                    f"WHERE originator_id IN ({','.join('?' * len(chunk))}) "
                    "ORDER BY originator_id, originator_version",
                    chunk,
                )
                found.extend(StoredEvent(*row) for row in cursor.fetchall())
        return found

    def select_streams_after(
        self, streams: Sequence[str], after: int, limit: int
    ) -> list[Notification]:
        """A page of many streams' facts in recorded order: the first `limit` rows after row
        id `after` (a history's page). The row ids are found in the streams' index alone
        (`+rowid` keeps SQLite from walking the table from `after` instead); only the
        page's rows are read."""
        if not streams:
            return []
        marks = ",".join("?" * len(streams))
        statement = (
            "SELECT originator_id, originator_version, topic, state, rowid "
            f"FROM {self.events_table_name} WHERE rowid IN ("
            f"SELECT rowid FROM {self.events_table_name} "
            f"WHERE originator_id IN ({marks}) AND +rowid > ? ORDER BY rowid LIMIT ?"
            ") ORDER BY rowid"
        )
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(statement, [*streams, after, limit])
            return [Notification(*row) for row in cursor.fetchall()]

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        """The library's query, its columns read by place, not by name through `sqlite3.Row`.

        A view's rebuild and an audit read every row of the store through this: reading
        each column by name cost as much as parsing the row's JSON.
        """
        where = ["rowid >= ?" if inclusive_of_start else "rowid > ?"] if start is not None else []
        params: list[int | str] = [start] if start is not None else []
        if stop is not None:
            where.append("rowid <= ?")
            params.append(stop)
        if topics:
            where.append(f"topic IN ({','.join('?' * len(topics))})")
            params += list(topics)
        statement = (
            "SELECT originator_id, originator_version, topic, state, rowid "
            f"FROM {self.events_table_name} "
            + (f"WHERE {' AND '.join(where)} " if where else "")
            + "ORDER BY rowid LIMIT ?"
        )
        params.append(limit)
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(statement, params)
            return [Notification(*row) for row in cursor.fetchall()]

    def _insert_events(
        self,
        c: Any,
        stored_events: Sequence[StoredEvent],
        *,
        batch: BatchRows | None = None,
        **kwargs: Any,
    ) -> Sequence[int] | None:
        """The batch's rows in one executemany (the library executes one INSERT a row).

        The library's notification ids are the rows' rowids. This transaction holds
        the store's write lock, and SQLite gives each new row the largest rowid plus
        one, so the batch's ids are the consecutive ones ending at the last inserted.
        """
        c.executemany(
            self.insert_events_statement,
            [(s.originator_id, s.originator_version, s.topic, s.state) for s in stored_events],
        )
        c.execute("SELECT last_insert_rowid()")
        last = int(c.fetchone()[0])
        if batch is not None:  # the batch's keys, log, view and counts, in its transaction
            write_changes(self.datastore, c, batch.key_changes)
            batch.after_insert(c, last)
        return list(range(last - len(stored_events) + 1, last + 1))


def _record(row: Any) -> SubjectKey:
    key = row["key"]
    return SubjectKey(bytes(key) if key is not None else None, row["sealed_ref"], row["erased_on"])


class SqlSubjectKeys(SubjectKeys):
    """The keys in the store's own database."""

    def __init__(self, ledger: Application[str]) -> None:
        super().__init__()
        self._datastore: SQLiteDatastore | PostgresDatastore = ledger.factory.datastore  # type: ignore[attr-defined]
        with self._datastore.transaction(commit=True) as c:
            if _postgres(self._datastore):
                c.execute("SELECT pg_advisory_xact_lock(hashtext('biv_ddl'))")
            c.execute(_statement(self._datastore, CREATE))

    def _write_row(self, subject: str, record: SubjectKey) -> None:
        with self._datastore.transaction(commit=True) as c:
            c.execute(
                _statement(
                    self._datastore,
                    "INSERT INTO {keys} VALUES (?, ?, NULL, NULL) ON CONFLICT (subject) DO NOTHING",
                ),
                (subject, record.key),
            )

    def _rows(self) -> list[tuple[str, SubjectKey]]:
        with self._datastore.transaction(commit=False) as c:
            c.execute(_statement(self._datastore, "SELECT * FROM {keys}"))
            rows = c.fetchall()
        return [(r["subject"], _record(r)) for r in rows]

    def _rewrap(self, rows: list[tuple[str, SubjectKey]]) -> None:
        with self._datastore.transaction(commit=True) as c:
            if not _postgres(self._datastore):
                c.execute("PRAGMA secure_delete = ON")
            for subject, record in rows:
                c.execute(
                    _statement(self._datastore, "UPDATE {keys} SET key = ? WHERE subject = ?"),
                    (record.key, subject),
                )
        self._purge()

    def _read(self, subject: str) -> SubjectKey | None:
        with reading(self._datastore) as c:
            c.execute(
                _statement(
                    self._datastore,
                    "SELECT key, sealed_ref, erased_on FROM {keys} WHERE subject = ?",
                ),
                (subject,),
            )
            row = c.fetchone()
        if row is None:
            return None
        key = row["key"]
        return SubjectKey(
            bytes(key) if key is not None else None, row["sealed_ref"], row["erased_on"]
        )

    def _read_many(self, subjects: list[str]) -> dict[str, SubjectKey]:
        found: dict[str, SubjectKey] = {}
        with reading(self._datastore) as c:
            for start in range(0, len(subjects), 500):
                chunk = subjects[start : start + 500]
                marks = ",".join("?" * len(chunk))
                c.execute(
                    _statement(
                        self._datastore, f"SELECT * FROM {{keys}} WHERE subject IN ({marks})"
                    ),
                    chunk,
                )
                found.update((row["subject"], _record(row)) for row in c.fetchall())
        return found

    def committed(self, changes: KeyChanges) -> None:
        super().committed(changes)
        if changes.erased:
            self._purge()

    def _purge(self) -> None:
        """Makes sure destroyed keys are gone from the files, not only from the table."""
        if isinstance(self._datastore, SQLiteDatastore):
            with self._datastore.transaction(commit=True) as c:
                c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return
        with self._datastore.get_connection() as connection:
            connection.autocommit = True
            connection.execute(_statement(self._datastore, "VACUUM FULL {keys}"))
            connection.autocommit = False
