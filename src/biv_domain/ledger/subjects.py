"""Children's keys: one per data subject, kept beside the facts, never inside one.

Every participant (a child, or a parent in a parents' group) is named in the
store by a pseudonym, a keyed hash of the partner's reference, and each one's
personal fields are sealed under a key of that participant's own. Erasure
destroys the key (crypto-shredding): the facts stay where they are in the
chain, their hashes hold, and what they sealed can never be read again.

This module holds the behaviour and the in-memory storage; a store plugin
supplies its own (`biv_adapters.stores.keys`), which writes the key changes in the
same transaction as the batch's facts.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from attrs import field, frozen

from biv_domain.errors import Refused
from biv_domain.ledger.crypto import Unsealable, new_key, pseudonym, seal, unseal

PEPPER_SUBJECT = ""  # the row that holds the store's pepper (the HMAC key of pseudonyms)
DATA_KEY_SUBJECT = "*"  # the row of an encrypted store's data key, wrapped by BIV_CIPHER_KEY
ERASED_PREFIX = "erased-"
PSEUDONYMS_KEPT = 100_000  # references whose pseudonym a process keeps (~25 MB at most)


@frozen
class SubjectKey:
    """One participant's key and their reference sealed under it; `key` None once erased."""

    key: bytes | None
    sealed_ref: str | None = None
    erased_on: str | None = None

    @property
    def erased(self) -> bool:
        return self.key is None


@frozen
class KeyChanges:
    """What a batch does to the keys: new participants' keys, and the keys it destroys."""

    added: dict[str, SubjectKey] = field(factory=dict)
    erased: dict[str, str] = field(factory=dict)  # pseudonym → the day of the decision

    def __bool__(self) -> bool:
        return bool(self.added or self.erased)


class KeyUnknown(Exception):
    """A participant's key this process has not read, asked for under `known_only`."""


class CipherKeyRefused(Refused):
    """The store's key (BIV_CIPHER_KEY) is missing, wrong, or given for a plain store."""


class SubjectKeys(ABC):
    """The keys of one store's participants, read through a cache.

    With a store key (`BIV_CIPHER_KEY`, the key-encryption key) every key in the
    table is wrapped under it: the pepper, each participant's key, and the data
    key that seals every fact's payload. Rotating the store key re-wraps them;
    no fact changes.
    """

    def __init__(self) -> None:
        self._cache: dict[str, SubjectKey] = {}
        self._references: dict[str, str] = {}
        # Pseudonyms by reference: a batch names each child several times (the enrolment,
        # every session's attendees), and an HMAC each time was most of a fact's cost.
        self._subjects: dict[str, str] = {}
        self._absent: set[str] = set()  # found absent since the last batch was stored
        self._pepper: bytes | None = None
        self._kek: bytes | None = None
        self._data_key: bytes | None = None
        self._checked = False
        self._local = threading.local()  # `known_only`, for this thread alone

    def use_store_key(self, kek: bytes | None) -> None:
        """The key-encryption key given to this process (None: the store must be plain)."""
        self._kek, self._checked = kek, False

    @abstractmethod
    def _write_row(self, subject: str, record: SubjectKey) -> None:
        """Stores a row if the subject has none (the pepper, the data key: made once)."""

    @abstractmethod
    def _rows(self) -> list[tuple[str, SubjectKey]]:
        """Every row, for re-wrapping under a new store key."""

    @abstractmethod
    def _rewrap(self, rows: list[tuple[str, SubjectKey]]) -> None:
        """Replaces every row's key at once (one transaction)."""

    # --- The store key -----------------------------------------------------------------------

    @property
    def encrypted(self) -> bool:
        return self._read(DATA_KEY_SUBJECT) is not None

    def data_key(self) -> bytes | None:
        """The key that seals every fact's payload, None for a plain store."""
        self._check()
        return self._data_key

    def make_encrypted(self) -> None:
        """Makes an empty store encrypted under the store key given (on its first write)."""
        if self._kek is not None and not self.encrypted:
            self._write_row(DATA_KEY_SUBJECT, self._wrap(DATA_KEY_SUBJECT, new_key()))
            self._checked = False

    def _check(self) -> None:
        if self._checked:
            return
        stored = self._read(DATA_KEY_SUBJECT)
        if stored is None:
            self._data_key = None
        else:
            if self._kek is None:
                raise CipherKeyRefused(
                    "BIV_CIPHER_KEY", "this store is encrypted: set its key to read or write it"
                )
            self._data_key = self._unwrap(DATA_KEY_SUBJECT, stored)
        self._checked = True

    def _wrap(self, subject: str, key: bytes) -> SubjectKey:
        if self._kek is None:
            return SubjectKey(key)
        return SubjectKey(seal(self._kek, key, subject.encode()).encode())

    def _unwrap(self, subject: str, record: SubjectKey) -> bytes:
        assert record.key is not None
        if self._kek is None:
            return record.key
        try:
            return unseal(self._kek, record.key.decode(), subject.encode())
        except (Unsealable, UnicodeDecodeError):
            raise CipherKeyRefused(
                "BIV_CIPHER_KEY", "is not this store's key (the store's keys do not open with it)"
            ) from None

    def rekey(self, new_kek: bytes) -> int:
        """Re-wraps every key under a new store key, in one transaction; how many keys.

        A store written unencrypted is refused: its keys re-wrapped under a store key it
        will not take would leave every child's data unreadable.
        """
        if not self.encrypted:
            raise CipherKeyRefused(
                "BIV_NEW_CIPHER_KEY",
                "this store was written unencrypted, so it has no store key to rotate",
            )
        self._check()
        rewrapped = []
        for subject, record in self._rows():
            if record.key is None:
                rewrapped.append((subject, record))
                continue
            key = self._unwrap(subject, record)
            wrapped = seal(new_kek, key, subject.encode()).encode()
            rewrapped.append((subject, SubjectKey(wrapped, record.sealed_ref, record.erased_on)))
        self._rewrap(rewrapped)
        self._kek, self._checked = new_kek, False
        self.forget()
        return sum(1 for _, r in rewrapped if r.key is not None)

    @abstractmethod
    def _read(self, subject: str) -> SubjectKey | None:
        """The subject's row as stored, None when the store never had the subject."""

    def pepper(self) -> bytes:
        if self._pepper is None:
            self._check()
            stored = self._read(PEPPER_SUBJECT)
            if stored is None:
                self._write_row(PEPPER_SUBJECT, self._wrap(PEPPER_SUBJECT, new_key()))
                stored = self._read(PEPPER_SUBJECT)
            assert stored is not None
            self._pepper = self._unwrap(PEPPER_SUBJECT, stored)
        return self._pepper

    def subject_of(self, reference: str) -> str:
        subject = self._subjects.get(reference)
        if subject is None:
            subject = pseudonym(self.pepper(), reference)
            if len(self._subjects) >= PSEUDONYMS_KEPT:
                self._subjects.clear()  # a bound on memory; they are computed again when asked
            self._subjects[reference] = subject
        return subject

    def lookup(self, subject: str) -> SubjectKey | None:
        """The participant's key (unwrapped), a tombstone once erased, None if never seen."""
        if self._cache.get(subject) is None and subject not in self._absent:
            if getattr(self._local, "known_only", False):
                raise KeyUnknown(subject)
            # Unknown here: another process may have added it since.
            self._remember(subject, self._read(subject))
        return self._cache.get(subject)

    @contextmanager
    def known_only(self) -> Iterator[None]:
        """Within it, asking this thread for a key not read yet raises `KeyUnknown` instead
        of reading it: a reader of many rows then reads all their keys at once."""
        self._local.known_only = True
        try:
            yield
        finally:
            self._local.known_only = False

    def prefetch(self, subjects: Iterable[str]) -> None:
        """Reads the keys of many participants at once (a batch's), not one query each.

        Those the store does not have are remembered as absent until the batch is stored.
        """
        # Those found absent earlier in this batch are not asked again (as in `lookup`): the
        # batch asks for its enrolled children while deciding, and for everyone it names
        # when it seals.
        # (The cache never holds None: an absent subject is in `_absent` instead.)
        wanted = list(set(subjects).difference(self._cache, self._absent))
        if not wanted:
            return  # every one known: no transaction opened
        found = self._read_many(wanted)
        for subject in wanted:
            self._remember(subject, found.get(subject))

    def _remember(self, subject: str, stored: SubjectKey | None) -> None:
        if stored is None:
            self._absent.add(subject)
            return
        if stored.key is not None:
            stored = SubjectKey(self._unwrap(subject, stored), stored.sealed_ref)
        self._cache[subject] = stored
        self._absent.discard(subject)

    def _read_many(self, subjects: list[str]) -> dict[str, SubjectKey]:
        """The stored rows of these subjects; a store may answer in one query."""
        rows = {subject: self._read(subject) for subject in subjects}
        return {subject: row for subject, row in rows.items() if row is not None}

    def stored_form(self, changes: KeyChanges) -> KeyChanges:
        """The batch's key changes as written: new keys wrapped under the store key."""
        if self._kek is None:
            return changes
        added = {
            subject: SubjectKey(self._wrap(subject, r.key).key, r.sealed_ref)
            for subject, r in changes.added.items()
            if r.key is not None
        }
        return KeyChanges(added=added, erased=changes.erased)

    def committed(self, changes: KeyChanges) -> None:
        """Called once the batch's transaction has committed: the cache follows the store."""
        self._absent.clear()
        for subject, key in changes.added.items():
            self._cache[subject] = key
        for subject, on in changes.erased.items():
            self._cache[subject] = SubjectKey(None, None, on)
            self._references.pop(subject, None)
        if changes.erased:
            # An erased child's reference is not kept in memory beside their pseudonym.
            self._subjects = {
                ref: subject
                for ref, subject in self._subjects.items()
                if subject not in changes.erased
            }

    def forget(self) -> None:
        """Drops the cache (after another process may have erased keys)."""
        self._cache.clear()
        self._references.clear()
        self._subjects.clear()
        self._absent.clear()

    def references(self, subjects: list[str]) -> list[str]:
        """The partner's references of these pseudonyms (`reference` of each): an attendee
        list's, read from those already opened where every one is."""
        known = self._references
        try:
            return [known[subject] for subject in subjects]
        except KeyError:  # one not opened yet, or erased (never kept): each the long way
            return [self.reference(subject) for subject in subjects]

    def reference(self, subject: str) -> str:
        """The partner's reference of a pseudonym, or a stand-in once the child is erased."""
        known = self._references.get(subject)
        if known is not None:
            return known
        record = self.lookup(subject)
        if record is None or record.key is None or record.sealed_ref is None:
            return erased_reference(subject)
        reference = unseal(record.key, record.sealed_ref, subject.encode()).decode()
        self._references[subject] = reference  # opened once: attendee lists repeat it
        return reference


def stream_id(data_key: bytes | None, name: str) -> str:
    """A stream's id as stored: its name, or in an encrypted store a keyed hash of it.

    The store's own streams (`chain`, `format`, `settings`) keep their names, so that
    an auditor without the key can walk the chain and an older version can read the format.
    """
    if data_key is None or ":" not in name:
        return name
    return "s:" + pseudonym(data_key, name)


def erased_reference(subject: str) -> str:
    """What stands for an erased participant: stable per child, so counts stay the same."""
    return f"{ERASED_PREFIX}{subject[:12]}"


def key_for(reference: str, subject: str) -> SubjectKey:
    """A new participant's key, with the reference sealed under it."""
    key = new_key()
    return SubjectKey(key, seal(key, reference.encode(), subject.encode()))


class MemorySubjectKeys(SubjectKeys):
    """The keys of a `memory:` store, which live as long as the process."""

    def __init__(self) -> None:
        super().__init__()
        self._table: dict[str, SubjectKey] = {}

    def _read(self, subject: str) -> SubjectKey | None:
        return self._table.get(subject)

    def _write_row(self, subject: str, record: SubjectKey) -> None:
        self._table.setdefault(subject, record)

    def _rows(self) -> list[tuple[str, SubjectKey]]:
        return list(self._table.items())

    def _rewrap(self, rows: list[tuple[str, SubjectKey]]) -> None:
        self._table.update(rows)

    def committed(self, changes: KeyChanges) -> None:
        self._table.update(self.stored_form(changes).added)
        for subject, on in changes.erased.items():
            self._table[subject] = SubjectKey(None, None, on)
        super().committed(changes)


SubjectKeysFactory = Callable[..., SubjectKeys]
