"""How a fact is stored: its envelope as canonical JSON, and how a stored row is read back.

The envelope holds what the `eventsourcing` row does not: the recorded time,
the actor, the event's fields and the fact's place in the chain. The row's
topic is the event's class name, not a module path, so that moving code never
orphans stored facts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from attrs import frozen
from cattrs import Converter
from eventsourcing.persistence import Mapper, StoredEvent

from biv_domain.converter import (
    canonical_json,
    converter,
    parse_json,
    register_stored_form,
    store_reader,
)
from biv_domain.ledger.bookkeeping import RECORDABLE_TYPES
from biv_domain.ledger.crypto import Unsealable, seal, unseal
from biv_domain.ledger.personal import is_personal, open_fields, seal_fields, subjects
from biv_domain.ledger.subjects import CipherKeyRefused, KeyChanges, SubjectKeys, stream_id
from biv_domain.ledger.unreadable import UnreadableFact
from biv_domain.ledger.upcasting import NewerFormat, upcast, version_of
from biv_domain.model.fact import Fact


@frozen
class ChainPlace:
    """A fact's place in the store's chain: its position, the previous hash and its own."""

    position: int
    previous: str
    hash: str


@frozen
class Envelope:
    """The stored form of a fact, as it is written and as the chain hashes it.

    `recorded_at` and `event` are kept as they were stored (text and JSON
    fields), so that verification hashes exactly what the store holds.
    """

    recorded_at: str
    actor: str | None
    event: dict[str, Any]
    chain: ChainPlace
    # The version of the event type's shape (`upcasting.VERSIONS`); absent (None) in
    # format-1 stores, where every shape is version 1.
    schema: int | None = None
    # 1 when a participant's fields are sealed under their key (`personal`); absent before
    # format 3, whose facts hold them in the clear.
    personal: int | None = None
    # 1 when the whole payload (stream name, actor, event) is sealed under the store's data
    # key (BIV_CIPHER_KEY); absent in a plain store.
    encrypted: int | None = None

    @property
    def type_version(self) -> int:
        return self.schema or 1


def envelope_of(
    fact: Fact,
    keys: SubjectKeys | None = None,
    changes: KeyChanges | None = None,
    data: dict[str, Any] | None = None,
) -> Envelope:
    """The fact's stored form; with `keys`, a participant's fields sealed under their key.

    `data` is the event's fields (`fact.data()`) when the caller has them already.
    """
    data = fact.data() if data is None else data
    data_key = keys.data_key() if keys is not None else None
    stored_id = stream_id(data_key, fact.originator_id)
    event, actor, personal, encrypted = stored_event(
        fact.originator_id,
        stored_id,
        fact.originator_version,
        fact.type,
        data,
        fact.actor,
        keys,
        changes if changes is not None else KeyChanges(),
        data_key,
    )
    return Envelope(
        recorded_at=converter.unstructure(fact.recorded_at),
        actor=actor,
        event=event,
        chain=ChainPlace(fact.position, fact.previous, fact.hash),
        schema=version_of(fact.type),
        personal=personal,
        encrypted=encrypted,
    )


def stored_event(
    stream: str,
    stored_id: str,
    version: int,
    type_name: str,
    data: dict[str, Any],
    actor: str | None,
    keys: SubjectKeys | None,
    changes: KeyChanges,
    data_key: bytes | None,
) -> tuple[dict[str, Any], str | None, int | None, int | None]:
    """A fact's event fields and actor as stored, and its envelope's `personal` and `encrypted`.

    A participant's fields are sealed under their key (with `keys`); in an encrypted
    store (`data_key`) the stream's name, the actor and the fields are sealed together.
    """
    personal, encrypted = None, None
    if keys is not None and is_personal(type_name):
        data, personal = seal_fields(type_name, data, keys, changes), 1
    if data_key is not None and stored_id != stream:
        payload = {"stream": stream, "actor": actor, "event": data}
        bound = f"{stored_id}:{version}:{type_name}".encode()  # opens only in its own row
        data = {"sealed": seal(data_key, canonical_json(payload), bound)}
        actor, encrypted = None, 1
    return data, actor, personal, encrypted


# The event's fields are JSON already (`Fact.data`, sealed fields, a sealed payload); the
# keys that format-1 and format-2 facts lack stay absent.
_unstructure_envelope = register_stored_form(
    Envelope, as_is=("event",), absent_if_none=("personal", "encrypted")
)


def stored_bytes(envelope: Envelope) -> bytes:
    """The envelope's canonical JSON, without the keys a format-1 or format-2 fact lacks."""
    return canonical_json(_unstructure_envelope(envelope))


def envelope_bytes(
    recorded_at: str,
    actor: str | None,
    event: dict[str, Any],
    chain: tuple[int, str, str],
    schema: int,
    personal: int | None,
    encrypted: int | None,
) -> bytes:
    """`stored_bytes` of the Envelope of these fields, without making the Envelope.

    The ledger writes every fact of a batch through here; the dict is the one cattrs
    makes of an Envelope (`tests/test_write_path.py` checks they stay the same bytes).
    """
    position, previous, digest = chain
    stored: dict[str, Any] = {
        "recorded_at": recorded_at,
        "actor": actor,
        "event": event,
        "chain": {"position": position, "previous": previous, "hash": digest},
        "schema": schema,
    }
    if personal is not None:
        stored["personal"] = personal
    if encrypted is not None:
        stored["encrypted"] = encrypted
    return canonical_json(stored)


def encode(fact: Fact) -> bytes:
    """How a fact without personal fields is stored: its envelope's canonical JSON."""
    return stored_bytes(envelope_of(fact))


def read_envelope(stored: StoredEvent) -> Envelope:
    """The stored row's envelope, exactly as stored; raises on bytes that are no envelope."""
    return converter.structure(parse_json(stored.state), Envelope)


def decode(stored: StoredEvent, keys: SubjectKeys | None = None, *, strict: bool = False) -> Fact:
    """The stored row as a fact: read back as written, or refused naming what does not fit.

    The fast reading (`_read_trusted`) trusts the shapes this ledger wrote; a row it
    cannot read is read again the strict way (`strict=True` reads it so at once),
    which raises the precise reason.
    """
    event_type = RECORDABLE_TYPES.get(stored.topic)
    if event_type is None:
        raise NewerFormat(
            "format",
            f"the store holds facts of type {stored.topic!r}, unknown to this biv-domain: "
            "upgrade biv-domain before reading this store",
        )
    if not strict:
        try:
            return _read_trusted(stored, event_type, keys)
        except (CipherKeyRefused, NewerFormat):
            raise
        except (KeyError, TypeError, ValueError, AttributeError):
            pass  # read again below, the strict way, to say what does not fit
    try:
        return _fact(stored, read_envelope(stored), event_type, keys, converter)
    except (CipherKeyRefused, NewerFormat):
        raise
    except Exception as error:  # cattrs' ExceptionGroup, a ValueError, a missing key, …
        raise UnreadableFact.of(stored, error) from None


def decode_all(rows: Sequence[StoredEvent], keys: SubjectKeys | None) -> list[Fact]:
    """Many rows as facts, the keys of every participant they name read in one query first.

    A history names hundreds of children: asked for one at a time, their keys cost a
    query each (80 ms of a history on PostgreSQL, 5 on SQLite). The rows that name
    participants are read twice for it, which costs a microsecond each.
    """
    if keys is not None:
        keys.prefetch(name for row in rows for name in _subjects_named(row, keys))
    return [decode(row, keys) for row in rows]


def _subjects_named(stored: StoredEvent, keys: SubjectKeys) -> list[str]:
    """The pseudonyms a row names; none where it cannot be read (`decode` will say why)."""
    if not is_personal(stored.topic):
        return []
    try:
        body = parse_json(stored.state)
        event = body["event"]
        if body.get("encrypted"):
            event = _payload(stored, event, keys)["event"]
        return subjects(stored.topic, event) if body.get("personal") else []
    except (KeyError, TypeError, ValueError, CipherKeyRefused):
        return []


def _read_trusted(stored: StoredEvent, event_type: type[Any], keys: SubjectKeys | None) -> Fact:
    """The fast reading: the envelope's dict read field by field, each only of its kind.

    A store reads millions of rows, and structuring the envelope through cattrs cost
    more than the event itself: here each of its few fields is taken as stored after
    one type check (no coercion), and any row that breaks a shape raises, so that
    `decode` reads it the strict way and names what does not fit.
    """
    body = parse_json(stored.state)
    chain = body["chain"]
    position, previous, hash_ = chain["position"], chain["previous"], chain["hash"]
    recorded_at, actor, event = body["recorded_at"], body["actor"], body["event"]
    schema, personal, encrypted = body.get("schema"), body.get("personal"), body.get("encrypted")
    if (
        (schema is not None and type(schema) is not int)
        or (personal is not None and type(personal) is not int)
        or (encrypted is not None and type(encrypted) is not int)
        or type(position) is not int
        or type(previous) is not str
        or type(hash_) is not str
        or type(recorded_at) is not str
        or (actor is not None and type(actor) is not str)
        or type(event) is not dict
    ):
        raise TypeError("an envelope field of another kind than written")
    topic, name = stored.topic, str(stored.originator_id)
    if encrypted:
        payload = _payload(stored, event, keys)
        name, actor, event = payload["stream"], payload["actor"], payload["event"]
    if personal:
        event = _open_personal(topic, event, keys)
    return Fact(
        name,
        stored.originator_version,
        datetime.fromisoformat(recorded_at),
        _trusted_hook(event_type)(upcast(topic, schema or 1, event), event_type),
        actor,
        position,
        previous,
        hash_,
    )


def _fact(
    stored: StoredEvent,
    envelope: Envelope,
    event_type: type[Any],
    keys: SubjectKeys | None,
    reader: Converter,
) -> Fact:
    name, actor, event = str(stored.originator_id), envelope.actor, envelope.event
    if envelope.encrypted:
        payload = _payload(stored, event, keys)
        name, actor, event = payload["stream"], payload["actor"], payload["event"]
    if envelope.personal:
        event = _open_personal(stored.topic, event, keys)
    return Fact(
        originator_id=name,
        originator_version=stored.originator_version,
        recorded_at=_hook(reader, datetime)(envelope.recorded_at, datetime),
        event=_hook(reader, event_type)(
            upcast(stored.topic, envelope.type_version, event), event_type
        ),
        actor=actor,
        position=envelope.chain.position,
        previous=envelope.chain.previous,
        hash=envelope.chain.hash,
    )


_HOOKS: dict[tuple[int, object], Callable[[Any, Any], Any]] = {}
_TRUSTED: dict[object, Callable[[Any, Any], Any]] = {}


def _trusted_hook(type_: object) -> Callable[[Any, Any], Any]:
    """`store_reader`'s structuring function for a type: one dict lookup a fact."""
    found = _TRUSTED.get(type_)
    if found is None:
        found = _TRUSTED[type_] = store_reader.get_structure_hook(type_)
    return found


def _hook(reader: Converter, type_: object) -> Callable[[Any, Any], Any]:
    """The reader's structuring function for a type, found once (a store reads millions)."""
    found = _HOOKS.get((id(reader), type_))
    if found is None:
        found = _HOOKS[(id(reader), type_)] = reader.get_structure_hook(type_)
    return found


def _payload(stored: StoredEvent, event: dict[str, Any], keys: SubjectKeys | None) -> Any:
    data_key = keys.data_key() if keys is not None else None
    if data_key is None:
        raise CipherKeyRefused("BIV_CIPHER_KEY", "this store is encrypted: set its key to read it")
    bound = f"{stored.originator_id}:{stored.originator_version}:{stored.topic}".encode()
    try:
        return parse_json(unseal(data_key, event["sealed"], bound))
    except Unsealable:
        raise ValueError("a sealed payload that its store's key does not open") from None


def _open_personal(type_name: str, event: dict[str, Any], keys: SubjectKeys | None) -> Any:
    if keys is None:
        raise ValueError("a participant's sealed fields need the store's keys to be read")
    return open_fields(type_name, event, keys)


class FactMapper(Mapper[str]):
    """Stores facts as JSON written by the project's one converter.

    The ledger writes through `stored_event` and `envelope_bytes` itself (it seals
    and chains a batch in one pass, `ledger.sealing`); the library reads through this mapper,
    which opens a participant's fields with the store's `keys`.
    """

    keys: SubjectKeys | None = None

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        """The fact's plain stored form (`encode`), unsealed and as placed already.

        Not the ledger's way to store: `Ledger._store` seals participants' fields,
        places a batch in the chain and stores the keys in the same transaction,
        and never calls the library's `save`. This serves the library's interface.
        """
        fact: Fact = domain_event
        return StoredEvent(
            originator_id=fact.originator_id,
            originator_version=fact.originator_version,
            topic=fact.type,
            state=encode(fact),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        return decode(stored_event, self.keys)
