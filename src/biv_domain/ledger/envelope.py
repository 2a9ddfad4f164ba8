"""How a fact is stored and read back: its envelope, the one codec of the stored form.

A stored row (an `eventsourcing` stored event) holds the fact's stream, its version
in the stream and its type (the topic: the event's class name, not a module path, so
that moving code never orphans stored facts). Its `state` is the fact's *envelope*,
canonical JSON of what the row does not hold: the recorded time, the actor, the
event's fields and the fact's place in the chain.

`Envelope` is the one table of the envelope's keys and the store format that
introduced each (`KEYS`). A key of a later format than the first is absent, never
null, from a fact that has no value for it, as the facts of the formats before it
lack it: from this one rule come the bytes written (`write`), the body the chain
hashes (`stored_content`, the same for every format) and what a reader expects
(`read`). `docs/verification.md` writes the same table and rule down for an auditor.

Reading trusts the shapes this ledger wrote, for speed: a row that does not fit is
read again the strict way (`read(..., strict=True)`), whose refusal names the row
and the field (`UnreadableFact`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import attrs
from attrs import frozen
from eventsourcing.persistence import StoredEvent

from biv_domain.converter import canonical_json, converter, parse_json, store_reader
from biv_domain.ledger.bookkeeping import RECORDABLE_TYPES
from biv_domain.ledger.chain import sha256
from biv_domain.ledger.crypto import Unsealable, seal, unseal
from biv_domain.ledger.personal import is_personal, open_fields, seal_fields, subjects
from biv_domain.ledger.subjects import (
    CipherKeyRefused,
    KeyChanges,
    KeyUnknown,
    SubjectKeys,
    stream_id,
)
from biv_domain.ledger.unreadable import UnreadableFact
from biv_domain.ledger.upcasting import NewerFormat, upcast, version_of
from biv_domain.model.fact import Fact


@frozen
class ChainPlace:
    """A fact's place in the store's chain: its position, the previous hash and its own."""

    position: int
    previous: str
    hash: str


def _since(store_format: int) -> Any:
    """A key that the store format `store_format` introduced: absent from older facts."""
    return attrs.field(default=None, metadata={"since": store_format})


@frozen
class Envelope:
    """The stored form of a fact (a row's `state`): its keys and the format that introduced each.

    Read from a row (`read_envelope`), `recorded_at` and `event` are as they were stored
    (text and JSON fields), so that verification hashes exactly what the store holds.
    """

    recorded_at: str
    actor: str | None
    event: dict[str, Any]
    chain: ChainPlace
    # The version of the event type's shape (`upcasting.VERSIONS`); absent in format-1
    # stores, where every shape is version 1.
    schema: int | None = _since(2)
    # 1 when a participant's fields are sealed under their key (`personal`); absent before
    # format 3, whose facts hold them in the clear.
    personal: int | None = _since(3)
    # 1 when the whole payload (stream name, actor, event) is sealed under the store's data
    # key (BIV_CIPHER_KEY, format 3 on); absent in a plain store.
    encrypted: int | None = _since(3)

    @property
    def type_version(self) -> int:
        return self.schema or 1


KEYS: dict[str, int] = {key.name: key.metadata.get("since", 1) for key in attrs.fields(Envelope)}
"""The envelope's keys and the store format that introduced each."""

# The keys every format has but `chain` (the fact's place, stored as one object and hashed as
# its position and previous), and those of formats after the first (each an `int | None`).
_FIRST = tuple(name for name, since in KEYS.items() if since == 1 and name != "chain")
_LATER = tuple(name for name, since in KEYS.items() if since > 1)


def _kept(first: Iterable[Any], later: Iterable[Any]) -> dict[str, Any]:
    """The envelope's keys but `chain`, from their values in `KEYS`' order: every key of
    the first format, and a later format's only where the fact has one (never null)."""
    kept = dict(zip(_FIRST, first))  # noqa: B905 (a tuple of _FIRST's length; strict costs)
    for name, value in zip(_LATER, later):  # noqa: B905
        if value is not None:
            kept[name] = value
    return kept


def _content(stream: str, version: int, type: str, kept: dict[str, Any], chain: Any) -> bytes:
    """What the chain hashes: the envelope's keys as kept, but for `chain` its position and
    previous, and the row's stream, version and type (a payload moved to another row no
    longer matches its hash); everything about the fact but its own hash."""
    return canonical_json(
        {
            **kept,
            "stream": stream,
            "version": version,
            "type": type,
            "position": chain["position"],
            "previous": chain["previous"],
        }
    )


# --- Writing ----------------------------------------------------------------------------------


def write(
    fact: Fact,
    keys: SubjectKeys | None = None,
    changes: KeyChanges | None = None,
    *,
    data: dict[str, Any] | None = None,
    recorded_at: str | None = None,
) -> tuple[StoredEvent, str]:
    """The fact's row, placed at `fact.position` after `fact.previous`, and its hash there.

    The fact's own `hash` is not read: the hash is taken here, over the row as stored.
    With `keys`, a participant's fields are sealed under their key (one seen for the
    first time gets a key in `changes`, stored with the row), and in an encrypted store
    the stream's name, the actor and the fields are sealed together under its data key.
    `data` and `recorded_at` are the event's fields and the recorded time as stored
    (`fact.data()`, the time's text), when the caller has them already: the facts of a
    batch share one time.
    """
    type_name = fact.type
    stream, version = fact.originator_id, fact.originator_version
    event = fact.data() if data is None else data
    actor, personal, encrypted = fact.actor, None, None
    data_key = keys.data_key() if keys is not None else None
    stored_id = stream_id(data_key, stream)  # a keyed hash of the name in an encrypted store
    if keys is not None and is_personal(type_name):
        event = seal_fields(type_name, event, keys, KeyChanges() if changes is None else changes)
        personal = 1
    if data_key is not None and stored_id != stream:
        payload = canonical_json({"stream": stream, "actor": actor, "event": event})
        event = {"sealed": seal(data_key, payload, _bound(stored_id, version, type_name))}
        actor, encrypted = None, 1
    if recorded_at is None:
        recorded_at = converter.unstructure(fact.recorded_at)
    kept = _kept((recorded_at, actor, event), (version_of(type_name), personal, encrypted))
    chain = {"position": fact.position, "previous": fact.previous, "hash": ""}
    chain["hash"] = digest = sha256(_content(stored_id, version, type_name, kept, chain))
    kept["chain"] = chain
    return StoredEvent(stored_id, version, type_name, canonical_json(kept)), digest


def stored_content(stream: str, version: int, type: str, envelope: Envelope) -> bytes:
    """The bytes a stored fact's hash covers: its content exactly as stored, with its place in
    the chain (what the e-archive keeps beside each archived fact)."""
    chain = {"position": envelope.chain.position, "previous": envelope.chain.previous}
    kept = _kept((getattr(envelope, n) for n in _FIRST), (getattr(envelope, n) for n in _LATER))
    return _content(stream, version, type, kept, chain)


def stored_hash(stream: str, version: int, type: str, envelope: Envelope) -> str:
    """The hash of a fact's content exactly as stored: what is written and what verify checks."""
    return sha256(stored_content(stream, version, type, envelope))


# --- Reading ----------------------------------------------------------------------------------


def read_envelope(stored: StoredEvent) -> Envelope:
    """The stored row's envelope, exactly as stored; raises on bytes that are no envelope."""
    return converter.structure(parse_json(stored.state), Envelope)


def read(stored: StoredEvent, keys: SubjectKeys | None = None, *, strict: bool = False) -> Fact:
    """The stored row as a fact: read back as written, or refused naming what does not fit.

    The fast reading takes the envelope's few fields as stored after one check of their
    kind each and rebuilds the event through `store_reader`, trusting the shapes this
    ledger wrote; a row it cannot read is read again the strict way (`strict=True`
    reads it so at once), through the one converter, whose refusal names the field.
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
            return _read(stored, event_type, keys, strict=False)
        except (CipherKeyRefused, NewerFormat, KeyUnknown):
            raise
        except (KeyError, TypeError, ValueError, AttributeError):
            pass  # read again below, the strict way, to say what does not fit
    try:
        return _read(stored, event_type, keys, strict=True)
    except (CipherKeyRefused, NewerFormat, KeyUnknown):
        raise
    except Exception as error:  # cattrs' ExceptionGroup, a ValueError, a missing key, …
        raise UnreadableFact.of(stored, error) from None


def read_all(rows: Sequence[StoredEvent], keys: SubjectKeys | None) -> list[Fact]:
    """Many rows as facts, the keys of the participants they name read in one query.

    A history names hundreds of children: asked for one at a time, their keys cost a
    query each (80 ms of a history on PostgreSQL, 5 on SQLite). The rows are read with
    the keys this process holds; at the first child whose key it has not read, the keys
    of every child named in the rows still to read come in one query, and reading goes on. Finding
    those names parses each row a second time (a fifth of a history's reading), which a
    process that holds the keys already (a service answering question after question)
    no longer pays. Keeping each row's parsed JSON for that second pass instead was
    slower: a history of 1,100 facts read 20 % slower (p50 23 ms against 19; again on
    2026-12-06, 14.6 ms against 13.3, with the collector off too: a row parsed just
    before it is read is still in the processor's cache).
    """
    if keys is None:
        return [read(row) for row in rows]
    facts: list[Fact] = []
    try:
        with keys.known_only():
            for row in rows:
                facts.append(read(row, keys))
            return facts
    except KeyUnknown:
        rest = rows[len(facts) :]
        keys.prefetch(name for row in rest for name in subjects_named(row, keys))
        return facts + [read(row, keys) for row in rest]


def subjects_named(stored: StoredEvent, keys: SubjectKeys) -> list[str]:
    """The pseudonyms a row names; none where it cannot be read (`read` will say why)."""
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


def _read(
    stored: StoredEvent, event_type: type[Any], keys: SubjectKeys | None, strict: bool
) -> Fact:
    """The row's fact: its envelope's fields, its payload and a participant's fields opened, an
    old shape upcast (`upcasting`), the event rebuilt by `store_reader` (`converter` if `strict`).

    A store reads millions of rows, and structuring the envelope through cattrs costs
    more than the event itself: the fast reading takes each of its few fields as stored
    after one check of its kind (no coercion), and any row that breaks a shape raises,
    so that `read` reads it the strict way, through `Envelope`, to name what does not fit.
    """
    body = parse_json(stored.state)
    if strict:
        envelope: Envelope = converter.structure(body, Envelope)
        place = envelope.chain
        position, previous, hash_ = place.position, place.previous, place.hash
        recorded_at, actor, event = envelope.recorded_at, envelope.actor, envelope.event
        schema, personal, encrypted = (getattr(envelope, name) for name in _LATER)
        recorded = converter.structure(recorded_at, datetime)
    else:
        chain = body["chain"]
        position, previous, hash_ = chain["position"], chain["previous"], chain["hash"]
        recorded_at, actor, event = body["recorded_at"], body["actor"], body["event"]
        schema, personal, encrypted = map(body.get, _LATER)  # None where a fact lacks one
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
        recorded = datetime.fromisoformat(recorded_at)  # as `store_reader` reads a time
    topic, name = stored.topic, str(stored.originator_id)
    if encrypted:
        payload = _payload(stored, event, keys)
        name, actor, event = payload["stream"], payload["actor"], payload["event"]
    if personal:
        if keys is None:
            raise ValueError("a participant's sealed fields need the store's keys to be read")
        event = open_fields(topic, event, keys)
    rebuild = converter.structure if strict else _rebuilder(event_type)
    return Fact(
        name,
        stored.originator_version,
        recorded,
        rebuild(upcast(topic, schema or 1, event), event_type),
        actor,
        position,
        previous,
        hash_,
    )


# Each type's `store_reader` hook, looked up once: cattrs' dispatch on every row cost a
# tenth of rebuilding the events of a history.
_REBUILDERS: dict[type[Any], Callable[[Any, type[Any]], Any]] = {}


def _rebuilder(event_type: type[Any]) -> Callable[[Any, type[Any]], Any]:
    rebuild = _REBUILDERS.get(event_type)
    if rebuild is None:
        rebuild = _REBUILDERS[event_type] = store_reader.get_structure_hook(event_type)
    return rebuild


def _bound(stored_id: str, version: int, type_name: str) -> bytes:
    """What a sealed payload is about: it opens only in its own row."""
    return f"{stored_id}:{version}:{type_name}".encode()


def _payload(stored: StoredEvent, event: dict[str, Any], keys: SubjectKeys | None) -> Any:
    data_key = keys.data_key() if keys is not None else None
    if data_key is None:
        raise CipherKeyRefused("BIV_CIPHER_KEY", "this store is encrypted: set its key to read it")
    bound = _bound(str(stored.originator_id), stored.originator_version, stored.topic)
    try:
        return parse_json(unseal(data_key, event["sealed"], bound))
    except Unsealable:
        raise ValueError("a sealed payload that its store's key does not open") from None
