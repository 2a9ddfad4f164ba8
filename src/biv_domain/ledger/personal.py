"""Which fields of which facts are a participant's, and how they are sealed and opened.

On the way into the store, a participant's reference becomes their pseudonym
and their personal fields are sealed under their own key; attendee lists hold
pseudonyms only. On the way out the fields are opened again, or, once the key
is destroyed, read as erased: a stable stand-in for the reference (so distinct
children are still counted), gender `unknown`, no age, no status.
"""

from __future__ import annotations

from typing import Any

from biv_domain.converter import canonical_json, parse_json
from biv_domain.ledger.bookkeeping import STORED
from biv_domain.ledger.crypto import Unsealable, seal, unseal
from biv_domain.ledger.subjects import KeyChanges, SubjectKeys, erased_reference, key_for
from biv_domain.model.stored import REFERENCE

Data = dict[str, Any]

# The personal fields sealed under the participant's key, by type of fact, and the lists of
# participants stored as pseudonyms: derived from each type's declaration (`bookkeeping.STORED`).
SEALED: dict[str, tuple[str, ...]] = STORED.sealed
LISTS: dict[str, tuple[str, ...]] = STORED.lists
ERASED_FIELDS: Data = {"gender": "unknown", "age": None, "status": None}


def is_personal(type_name: str) -> bool:
    return type_name in SEALED or type_name in LISTS


def references(type_name: str, data: Data) -> list[str]:
    """The participants' references a fact of this type names (none for most types)."""
    found = [data[REFERENCE]] if type_name in SEALED else []
    for name in LISTS.get(type_name, ()):
        found += data[name]
    return found


def subjects(type_name: str, stored: Data) -> list[str]:
    """The pseudonyms a stored fact of this type names (its fields as sealed)."""
    found = [stored["participant"]] if type_name in SEALED else []
    for name in LISTS.get(type_name, ()):
        found += stored[name]
    return found


def seal_fields(type_name: str, data: Data, keys: SubjectKeys, changes: KeyChanges) -> Data:
    """The fact's fields as stored: pseudonyms for references, personal fields sealed.

    A participant seen for the first time gets a key, added to `changes` to be
    stored in the batch's transaction.
    """
    stored = dict(data)
    if type_name in SEALED:
        subject = _subject(data[REFERENCE], keys, changes)
        key = _key(subject, keys, changes)
        personal = {name: stored.pop(name) for name in SEALED[type_name] if name in stored}
        stored["participant"] = subject
        stored["sealed"] = seal(key, canonical_json(personal), _bound(type_name, subject))
    for name in LISTS.get(type_name, ()):
        stored[name] = [_subject(ref, keys, changes) for ref in data[name]]
    return stored


def open_fields(type_name: str, stored: Data, keys: SubjectKeys) -> Data:
    """The fact's fields as the domain reads them, or as erased where the key is gone."""
    data = dict(stored)
    if type_name in SEALED:
        subject = data.pop("participant")
        sealed = data.pop("sealed")
        record = keys.lookup(subject)
        try:
            if record is None or record.key is None:
                raise Unsealable("erased")
            personal = parse_json(unseal(record.key, sealed, _bound(type_name, subject)))
        except Unsealable:
            personal = {
                REFERENCE: erased_reference(subject),
                **{k: v for k, v in ERASED_FIELDS.items() if k in SEALED[type_name]},
            }
            if "reason" in SEALED[type_name]:
                personal["reason"] = "(erased)"
        data.update(personal)
    for name in LISTS.get(type_name, ()):
        data[name] = keys.references(stored[name])
    return data


def _subject(reference: str, keys: SubjectKeys, changes: KeyChanges) -> str:
    subject = keys.subject_of(reference)
    if subject not in changes.added and keys.lookup(subject) is None:
        changes.added[subject] = key_for(reference, subject)
    return subject


def _key(subject: str, keys: SubjectKeys, changes: KeyChanges) -> bytes:
    record = changes.added.get(subject) or keys.lookup(subject)
    if record is None or record.key is None:
        # The ledger refuses to record an erased participant before it gets here.
        raise ValueError("a participant whose key was destroyed cannot be recorded again")
    return record.key


def _bound(type_name: str, subject: str) -> bytes:
    """What a sealed value is about: it opens only in its own type of fact, for its subject."""
    return f"{type_name}:{subject}".encode()
