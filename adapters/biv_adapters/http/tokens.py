"""Access tokens, kept hashed in the table `biv_tokens` of the store's own database.

A token is 32 random bytes (`biv_` and their URL-safe base64); only its SHA-256
is stored, beside its holder's name and role, so a copy of the database gives no
one a working token. The table sits beside the facts, in the same SQLite file or
PostgreSQL schema, but outside the chain: a token is a credential of this
service, not part of the partnership's history, and revoking one must really
delete it, which a fact never is. For `memory:` the tokens live in the process.
"""

from __future__ import annotations

import hashlib
import secrets
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from attrs import frozen

from biv_domain.errors import AlreadyExists, InvalidValue, NotFound
from biv_domain.ledger import Ledger

TABLE = "biv_tokens"
TOKEN_BYTES = 32
PREFIX = "biv_"


class Role(StrEnum):
    READER = "reader"  # public figures only: small counts withheld, no history, no replay
    WRITER = "writer"  # a reader who may also import
    AUDITOR = "auditor"  # every figure, the history, replay, diff and the chain's walk


@frozen
class Holder:
    """Whom a token was given to, and in what role."""

    name: str
    role: Role
    created_at: str


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 100 or not name.isprintable():
        raise InvalidValue("name", "must be 1 to 100 printable characters")
    return name


class Tokens(ABC):
    """The tokens of one store."""

    def add(self, name: str, role: Role, now: datetime | None = None) -> str:
        """A new token for `name` in `role`; it is returned once and stored only hashed."""
        name = check_name(name)
        if any(h.name == name for h in self.holders()):
            raise AlreadyExists("name", f"a token named {name!r} exists: remove it first")
        token = new_token()
        created = (now or datetime.now(UTC)).isoformat()
        self._insert(name, role, token_hash(token), created)
        return token

    def holder(self, token: str) -> Holder | None:
        """The holder of `token`, or None when no such token was given (or it was removed)."""
        return self._find(token_hash(token))

    def remove(self, name: str) -> None:
        if not self._delete(name):
            raise NotFound("name", f"no token named {name!r}")

    @abstractmethod
    def holders(self) -> list[Holder]: ...

    @abstractmethod
    def _insert(self, name: str, role: Role, digest: str, created: str) -> None: ...

    @abstractmethod
    def _find(self, digest: str) -> Holder | None: ...

    @abstractmethod
    def _delete(self, name: str) -> bool: ...


class MemoryTokens(Tokens):
    """For `memory:`: the tokens of this process, gone with it."""

    def __init__(self) -> None:
        self._rows: dict[str, tuple[str, Role, str]] = {}

    def holders(self) -> list[Holder]:
        return [Holder(n, r, c) for n, r, c in sorted(self._rows.values())]

    def _insert(self, name: str, role: Role, digest: str, created: str) -> None:
        self._rows[digest] = (name, role, created)

    def _find(self, digest: str) -> Holder | None:
        row = self._rows.get(digest)
        return Holder(*row) if row else None

    def _delete(self, name: str) -> bool:
        found = [d for d, row in self._rows.items() if row[0] == name]
        for digest in found:
            del self._rows[digest]
        return bool(found)


class SqlTokens(Tokens):
    """The table on an SQL database: `connect` gives a connection, `table` the quoted name."""

    placeholder = "?"

    @abstractmethod
    def connect(self) -> AbstractContextManager[Any]: ...

    @abstractmethod
    def table(self) -> Any: ...

    def _sql(self, text: str) -> Any:
        return text.replace("{table}", self.table()).replace("?", self.placeholder)

    def _run(self, text: str, params: tuple[object, ...] = ()) -> tuple[list[Any], int]:
        """The rows a statement selects and how many it changed, in a transaction of its own."""
        with self.connect() as connection:
            self._create(connection)
            cursor = connection.execute(self._sql(text), params)
            rows = list(cursor.fetchall()) if cursor.description else []
            count = cursor.rowcount
            connection.commit()
        return rows, count

    def _create(self, connection: Any) -> None:
        connection.execute(
            self._sql(
                "CREATE TABLE IF NOT EXISTS {table} (hash TEXT PRIMARY KEY, "
                "name TEXT NOT NULL UNIQUE, role TEXT NOT NULL, created_at TEXT NOT NULL)"
            )
        )

    def holders(self) -> list[Holder]:
        rows, _ = self._run("SELECT name, role, created_at FROM {table} ORDER BY name")
        return [Holder(n, Role(r), c) for n, r, c in rows]

    def _insert(self, name: str, role: Role, digest: str, created: str) -> None:
        self._run(
            "INSERT INTO {table} (hash, name, role, created_at) VALUES (?, ?, ?, ?)",
            (digest, name, role.value, created),
        )

    def _find(self, digest: str) -> Holder | None:
        rows, _ = self._run("SELECT name, role, created_at FROM {table} WHERE hash = ?", (digest,))
        return Holder(rows[0][0], Role(rows[0][1]), rows[0][2]) if rows else None

    def _delete(self, name: str) -> bool:
        _, count = self._run("DELETE FROM {table} WHERE name = ?", (name,))
        return count > 0


class SqliteTokens(SqlTokens):
    """On the ledger's own SQLite connections: a second connection of this process to the file
    would, when closed, drop the locks SQLite keeps for the ledger's and break its WAL index."""

    def __init__(self, datastore: Any) -> None:
        self.datastore = datastore

    def connect(self) -> AbstractContextManager[Any]:  # pragma: no cover - _run is overridden
        raise NotImplementedError

    def table(self) -> str:
        return TABLE

    def _run(self, text: str, params: tuple[object, ...] = ()) -> tuple[list[Any], int]:
        with self.datastore.transaction(commit=True) as cursor:
            raw = cursor.sqlite_cursor
            self._create(raw)
            raw.execute(self._sql(text), params)
            rows = list(raw.fetchall()) if raw.description else []
            return rows, raw.rowcount


class PostgresTokens(SqlTokens):
    placeholder = "%s"

    def __init__(self, settings: Mapping[str, str]) -> None:
        self.settings = settings

    @contextmanager
    def connect(self) -> Iterator[Any]:
        from biv_adapters.stores.postgresql import postgres_connection

        with postgres_connection(self.settings, autocommit=False) as connection:
            yield connection

    def table(self) -> str:
        from psycopg import sql

        schema = self.settings.get("POSTGRES_SCHEMA")
        name = sql.Identifier(schema, TABLE) if schema else sql.Identifier(TABLE)
        text: str = name.as_string(None)
        return text


_MEMORY: dict[str, MemoryTokens] = {}


def tokens_of(ledger: Ledger) -> Tokens:
    """The tokens of the ledger's store, on its own database."""
    settings = ledger.store.settings
    module = settings.get("PERSISTENCE_MODULE", "")
    if module == "eventsourcing.sqlite":
        return SqliteTokens(getattr(ledger.app.recorder, "datastore"))  # noqa: B009
    if module == "eventsourcing.postgres":
        return PostgresTokens(settings)
    return _MEMORY.setdefault(module, MemoryTokens())
