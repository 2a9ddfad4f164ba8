"""The SQLite store, the embedded default: `sqlite:///abs/path/file.sqlite3` or
`sqlite:relative/file.sqlite3`.

`sqlite_store` is its factory (registered under the entry-point group `biv.stores`);
`KeyedSQLiteRecorder` is the library's recorder, reading many streams in one query and
writing a batch's rows in one statement, with the participants' keys (`stores.keys`), the
log (`stores.log`), the funding view (`stores.views`) and the fact counts (`stores.counts`)
in the batch's own transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder

from biv_adapters.stores.keys import SqlSubjectKeys, write_changes
from biv_adapters.stores.log import SqlLog
from biv_adapters.stores.registry import StoreError, sqlite_path
from biv_adapters.stores.views import SqlFundingView
from biv_domain.ledger import Store
from biv_domain.ledger.store import BatchRows

SQLITE_HEADER = b"SQLite format 3\x00"


def sqlite_store(url: str) -> Store:
    path = sqlite_path(url)
    if not path.parent.is_dir():
        raise StoreError(f"the folder {str(path.parent)!r} of the SQLite store does not exist")
    if path.is_dir():
        raise StoreError(f"the SQLite store {str(path)!r} is a folder, not a file")
    if path.exists():
        try:
            with open(path, "rb") as handle:
                header = handle.read(len(SQLITE_HEADER))
        except OSError as error:
            raise StoreError(
                f"cannot read the SQLite store {str(path)!r}: {error.strerror}"
            ) from None
        if header and header != SQLITE_HEADER:
            raise StoreError(f"the file {str(path)!r} is not an SQLite store")
    settings = {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(path),
        # Writers wait for each other's transactions instead of failing at once.
        "SQLITE_LOCK_TIMEOUT": "30",
        # Writes each batch's key changes in the batch's transaction (children's data).
        "APPLICATION_RECORDER_TOPIC": "biv_adapters.stores.sqlite:KeyedSQLiteRecorder",
    }
    return Store(
        settings=settings, funding_view=SqlFundingView, subject_keys=SqlSubjectKeys, log=SqlLog
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
        self,
        streams: Sequence[str],
        after: int,
        limit: int | None,
        topics: Sequence[str] = (),
    ) -> list[Notification]:
        """A page of many streams' facts in recorded order: the first `limit` rows (all: None)
        after row id `after` (a history's page), only those of `topics` if given. The row ids
        are found in the streams' index alone (`+rowid` keeps SQLite from walking the table
        from `after` instead); only the page's rows are read."""
        if not streams:
            return []
        marks = ",".join("?" * len(streams))
        kinds = f"AND topic IN ({','.join('?' * len(topics))}) " if topics else ""
        where = f"WHERE originator_id IN ({marks}) AND +rowid > ? {kinds}"
        if limit is None:  # every row after: read in the index's order, sorted here (faster)
            statement = (
                "SELECT originator_id, originator_version, topic, state, rowid "
                f"FROM {self.events_table_name} {where}"
            )
            with self.datastore.transaction(commit=False) as cursor:
                cursor.execute(statement, [*streams, after, *topics])
                rows = sorted(cursor.fetchall(), key=itemgetter(4))
            return [Notification(*row) for row in rows]
        statement = (
            "SELECT originator_id, originator_version, topic, state, rowid "
            f"FROM {self.events_table_name} WHERE rowid IN ("
            f"SELECT rowid FROM {self.events_table_name} {where}ORDER BY rowid LIMIT ?"
            ") ORDER BY rowid"
        )
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(statement, [*streams, after, *topics, limit])
            return [Notification(*row) for row in cursor.fetchall()]

    def holds_streams_starting(self, prefix: str) -> bool:
        """Whether any stream's id starts with `prefix`: one step into the streams' index
        (ids compare byte by byte, so those with the prefix sort together after it)."""
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                f"SELECT originator_id FROM {self.events_table_name} "
                "WHERE originator_id >= ? ORDER BY originator_id LIMIT 1",
                [prefix],
            )
            row = cursor.fetchone()
        return row is not None and str(row[0]).startswith(prefix)

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
