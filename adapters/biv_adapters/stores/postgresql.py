"""The PostgreSQL store: `postgresql://user:password@host:port/dbname[?schema=tenant]`.

Needs the extra `biv-domain[postgresql]` (psycopg). A tenant's schema is made
on first use. Every wait on the server is bounded, so that a stuck store fails
with a message instead of hanging.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from eventsourcing.persistence import InterfaceError, Notification, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from biv_adapters.stores.keys import SqlSubjectKeys, reading, write_changes
from biv_adapters.stores.log import SqlLog
from biv_adapters.stores.registry import StoreError, redact
from biv_adapters.stores.views import SqlFundingView
from biv_domain.ledger import Store
from biv_domain.ledger.store import BatchRows

LOCK_TIMEOUT_SECONDS = 10
CONNECT_TIMEOUT_SECONDS = 3
"""How long a connection may take before the store is said to be unreachable; the environment's
BIV_POSTGRES_CONNECT_TIMEOUT (whole seconds, 1 to 600) sets another."""


def connect_timeout() -> int:
    text = os.environ.get("BIV_POSTGRES_CONNECT_TIMEOUT", "").strip()
    if not text:
        return CONNECT_TIMEOUT_SECONDS
    if not text.isdigit() or not 1 <= int(text) <= 600:
        raise StoreError(
            f"BIV_POSTGRES_CONNECT_TIMEOUT must be whole seconds from 1 to 600, got {text[:20]!r}"
        )
    return int(text)


TENANT = re.compile(r"[a-z_][a-z0-9_]{0,62}")
"""A tenant's schema name (`?schema=`): lower-case letters, digits and _, not starting with a
digit, at most 63 characters (PostgreSQL's limit), so it is never quoted differently anywhere."""


def postgresql_store(url: str) -> Store:
    shape = (
        "write a PostgreSQL store as postgresql://user:password@host:port/dbname, "
        f"got {redact(url)!r}"
    )
    try:
        parts = urlsplit(url)
        port = parts.port
        hostname = parts.hostname
    except ValueError as error:  # a port out of range, a broken [IPv6] host
        raise StoreError(f"{shape}: {error}") from None
    if not hostname or not parts.path.strip("/"):
        raise StoreError(shape)
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(query) - {"schema"})
    if unknown:
        raise StoreError(f"a PostgreSQL store takes only ?schema=NAME, not {unknown[0]!r}")
    schemas = query.get("schema", [])
    if len(schemas) > 1:
        raise StoreError("a PostgreSQL store takes one ?schema=NAME, not several")
    schema = schemas[0] if schemas else None
    if schema is not None and not TENANT.fullmatch(schema):
        raise StoreError(
            f"a tenant's schema must match {TENANT.pattern} (lower-case letters, digits, _; "
            f"at most 63 characters), got {schema[:80]!r}"
        )
    settings = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": unquote(parts.path.strip("/")),
        "POSTGRES_HOST": hostname,
        "POSTGRES_PORT": str(port or 5432),
        "POSTGRES_USER": unquote(parts.username or os.environ.get("USER", "postgres")),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "APPLICATION_RECORDER_TOPIC": f"{__name__}:{PostgresBatchRecorder.__qualname__}",
        # Bounds on waits, so that a stuck store fails with a message instead of
        # hanging: a connection within a few seconds (connect_timeout), the events
        # table's write lock within 10 s (the library's default, 0, waits forever
        # behind a writer that never commits). The library retries either up to ten times.
        "POSTGRES_CONNECT_TIMEOUT": str(connect_timeout()),
        "POSTGRES_LOCK_TIMEOUT": str(LOCK_TIMEOUT_SECONDS),
    }
    if schema:
        settings["POSTGRES_SCHEMA"] = schema
        _create_schema(settings, schema)
    return Store(
        settings=settings,
        funding_view=SqlFundingView,
        subject_keys=SqlSubjectKeys,
        schema_lock=lambda: _ddl_lock(settings),
        log=SqlLog,
    )


class PostgresBatchRecorder(PostgresApplicationRecorder):
    """The library's recorder, storing a batch statement by statement, not in pipeline mode.

    The library sends a batch's LOCK, NOTIFY and INSERT in psycopg's pipeline mode
    and calls `Pipeline.sync()`. psycopg 3.3.9 (C and Python alike) leaves its
    sending loop once its queue of commands is empty, whether or not libpq could
    flush all of the INSERT; it then waits for a reply to a message the server is
    still waiting to receive. An INSERT of a few MB or more (a 20,000-line import
    is one ~20 MB INSERT) hangs so whenever the socket cannot take the rest at once:
    across a network nearly always, on loopback at times. It hangs forever, holding
    the events table's write lock, since the server ignores statement timeouts while
    reading a message and is not "idle in transaction". Outside pipeline mode
    psycopg flushes until everything is sent, and the server's timeouts apply.
    """

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self,
        stored_events: Sequence[StoredEvent],
        *,
        batch: BatchRows | None = None,
        **kwargs: Any,
    ) -> Sequence[int] | None:
        if not stored_events:
            return None
        with self.datastore.transaction(commit=True) as curs:
            # Participants' new keys and destroyed ones, in the same transaction as the facts.
            write_changes(self.datastore, curs, batch.key_changes if batch else None)
            # The library's lock timeout, table lock and NOTIFY (`_insert_stored_events`) in
            # one round trip, not three: statements without parameters go as one message.
            notify = SQL("NOTIFY {0}").format(Identifier(self.channel_name))
            curs.execute(SQL("; ").join([*self.lock_table_statements, notify]))
            # The rows as four arrays sent in binary, not the library's array of composites:
            # psycopg writes those as text, escaping every byte of every state with a regex
            # (~2 ms of a 90-fact batch). Rows are inserted, and numbered, in array order.
            rows = (
                [s.originator_id for s in stored_events],
                [s.originator_version for s in stored_events],
                [s.topic for s in stored_events],
                [s.state for s in stored_events],
            )
            # The batch's part of the log (its tree's nodes and signed checkpoint) goes in the
            # same statement, as common table expressions: one round trip fewer a batch.
            part = batch.log if batch is not None else None
            if part is None or (log := part.statement()) is None:
                curs.execute(self._insert_arrays, rows, binary=True)
            else:
                expressions, params = log
                curs.execute(
                    SQL("WITH {} {}").format(expressions, self._insert_arrays),
                    (*params, *rows),
                    binary=True,
                )
                part.written = True
            ids = self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
            if batch is not None:  # the batch's log, view and counts, in its transaction
                batch.after_insert(curs, ids[-1] if ids else None)
            return ids

    @property
    def _insert_arrays(self) -> Any:
        return SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%b::{id_type}[], %b::bigint[], %b::text[], %b::bytea[]) "
            "RETURNING notification_id"
        ).format(
            schema=Identifier(self.datastore.schema),
            table=Identifier(self.events_table_name),
            id_type=Identifier(self.datastore.originator_id_type),
        )

    def existing_streams(self, streams: Sequence[str]) -> set[str]:
        """Which of these streams hold a fact, in one query (the ledger's line ids, a batch's)."""
        if not streams:
            return set()
        statement = SQL(
            "SELECT DISTINCT originator_id FROM {schema}.{table} WHERE originator_id = ANY(%s)"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))
        with reading(self.datastore) as curs:
            # Never prepared: a generic plan of `= ANY($1)`, made after five runs, may scan
            # the whole table for any array.
            curs.execute(statement, (list(streams),), prepare=False)
            return {str(row["originator_id"]) for row in curs.fetchall()}

    def select_streams(self, streams: Sequence[str]) -> list[StoredEvent]:
        """The facts of many streams, each in order, in one query (a history, a report's groups)."""
        if not streams:
            return []
        statement = SQL(
            "SELECT originator_id, originator_version, topic, state FROM {schema}.{table} "
            "WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))
        # One statement on the pool's autocommit connection (one round trip, no BEGIN and
        # ROLLBACK), a history's thousand rows as tuples (the store's cursors make dicts).
        with (
            self.datastore.get_connection() as connection,
            connection.cursor(row_factory=tuple_row) as rows,
        ):
            rows.execute(statement, (list(streams),))
            return [
                StoredEvent(
                    originator_id=row[0],
                    originator_version=row[1],
                    topic=row[2],
                    state=bytes(row[3]),
                )
                for row in rows.fetchall()
            ]

    def select_streams_after(
        self,
        streams: Sequence[str],
        after: int,
        limit: int | None,
        topics: Sequence[str] = (),
    ) -> list[Notification]:
        """A page of many streams' facts in recorded order: the first `limit` rows (all: None)
        after row id `after` (a history's page), only those of `topics` if given, in one query.

        PostgreSQL has no `holds_streams_starting` (SQLite's): under the database's collation
        a range of ids need not be the ids with a prefix, so the ledger looks for a history's
        erasures by name in every store (`LedgerReads.history`)."""
        if not streams:
            return []
        statement = SQL(
            "SELECT originator_id, originator_version, topic, state, notification_id "
            "FROM {schema}.{table} WHERE originator_id = ANY(%s) AND notification_id > %s "
            + ("AND topic = ANY(%s) " if topics else "")
            + "ORDER BY notification_id LIMIT %s"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))
        params: list[Any] = [list(streams), after]
        if topics:
            params.append(list(topics))
        params.append(limit)  # LIMIT NULL: every row
        with (
            self.datastore.get_connection() as connection,
            connection.cursor(row_factory=tuple_row) as rows,
        ):
            rows.execute(statement, params, prepare=False)
            return [
                Notification(
                    originator_id=row[0],
                    originator_version=row[1],
                    topic=row[2],
                    state=bytes(row[3]),
                    id=row[4],
                )
                for row in rows.fetchall()
            ]

    def _create_table(self, curs: Any) -> None:
        # Opening the store runs CREATE INDEX IF NOT EXISTS, which waits for the
        # table's lock behind any writer; not forever.
        curs.execute(SQL("SET LOCAL lock_timeout = '{}s'").format(LOCK_TIMEOUT_SECONDS))
        super()._create_table(curs)


# Every process that opens a PostgreSQL store runs CREATE ... IF NOT EXISTS
# statements; run at the same moment they collide in the catalogue ("tuple
# concurrently updated"), so they take turns under this advisory lock.
DDL_LOCK = "SELECT pg_advisory_lock(hashtext('biv_ddl'))"
DDL_UNLOCK = "SELECT pg_advisory_unlock(hashtext('biv_ddl'))"


@contextmanager
def postgres_connection(settings: Mapping[str, str], *, autocommit: bool = True) -> Iterator[Any]:
    """A direct connection to the store's server, for what the library does not do itself."""
    import psycopg

    try:
        with psycopg.connect(
            dbname=settings["POSTGRES_DBNAME"],
            host=settings["POSTGRES_HOST"],
            port=settings["POSTGRES_PORT"],
            user=settings["POSTGRES_USER"],
            password=settings["POSTGRES_PASSWORD"],
            connect_timeout=int(settings["POSTGRES_CONNECT_TIMEOUT"]),
            # The DDL lock, like every lock, is waited for a bounded time.
            options=f"-c lock_timeout={LOCK_TIMEOUT_SECONDS * 3}s",
            autocommit=autocommit,
        ) as connection:
            yield connection
    except psycopg.OperationalError as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else "no answer"
        if settings["POSTGRES_PASSWORD"]:
            first_line = first_line.replace(settings["POSTGRES_PASSWORD"], "***")
        raise StoreError(
            f"cannot reach PostgreSQL at {settings['POSTGRES_HOST']}:{settings['POSTGRES_PORT']}: "
            f"{first_line}"
        ) from None


def _create_schema(settings: Mapping[str, str], schema: str) -> None:
    """A tenant's schema is made on first use; the library makes only tables."""
    from psycopg import sql

    with postgres_connection(settings) as connection:
        connection.execute(DDL_LOCK)
        connection.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        connection.execute(DDL_UNLOCK)


@contextmanager
def _ddl_lock(settings: Mapping[str, str]) -> Iterator[None]:
    """Held while a ledger makes its tables, so that processes starting at once take turns."""
    with postgres_connection(settings) as connection:
        connection.execute(DDL_LOCK)
        try:
            yield
        finally:
            connection.execute(DDL_UNLOCK)
