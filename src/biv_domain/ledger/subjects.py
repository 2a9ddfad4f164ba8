"""Children's keys: one per data subject, kept beside the facts, never inside one.

Every participant (a child, or a parent in a parents' group) is named in the
store by a pseudonym, a keyed hash of the partner's reference, and each one's
personal fields are sealed under a key of that participant's own. Erasure
destroys the key (crypto-shredding): the facts stay where they are in the
chain, their hashes hold, and what they sealed can never be read again.

This module holds the behaviour and the in-memory storage; a store plugin
supplies its own (`biv_adapters.sql_keys`), which writes the key changes in the
same transaction as the batch's facts.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

from attrs import field, frozen

from biv_domain.ledger.crypto import new_key, pseudonym, seal, unseal

PEPPER_SUBJECT = ""  # the row that holds the store's pepper (the HMAC key of pseudonyms)
ERASED_PREFIX = "erased-"


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


class SubjectKeys(ABC):
    """The keys of one store's participants, read through a cache."""

    def __init__(self) -> None:
        self._cache: dict[str, SubjectKey | None] = {}
        self._pepper: bytes | None = None

    @abstractmethod
    def _read_pepper(self) -> bytes:
        """The store's pepper, made on first use."""

    @abstractmethod
    def _read(self, subject: str) -> SubjectKey | None:
        """The subject's row as stored, None when the store never had the subject."""

    def pepper(self) -> bytes:
        if self._pepper is None:
            self._pepper = self._read_pepper()
        return self._pepper

    def subject_of(self, reference: str) -> str:
        return pseudonym(self.pepper(), reference)

    def lookup(self, subject: str) -> SubjectKey | None:
        if self._cache.get(subject) is None:  # unknown here: another process may have added it
            self._cache[subject] = self._read(subject)
        return self._cache[subject]

    def committed(self, changes: KeyChanges) -> None:
        """Called once the batch's transaction has committed: the cache follows the store."""
        for subject, key in changes.added.items():
            self._cache[subject] = key
        for subject, on in changes.erased.items():
            self._cache[subject] = SubjectKey(None, None, on)

    def forget(self) -> None:
        """Drops the cache (after another process may have erased keys)."""
        self._cache.clear()

    def reference(self, subject: str) -> str:
        """The partner's reference of a pseudonym, or a stand-in once the child is erased."""
        record = self.lookup(subject)
        if record is None or record.key is None or record.sealed_ref is None:
            return erased_reference(subject)
        return unseal(record.key, record.sealed_ref, subject.encode()).decode()


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
        self._rows: dict[str, SubjectKey] = {}
        self._memory_pepper = new_key()

    def _read_pepper(self) -> bytes:
        return self._memory_pepper

    def _read(self, subject: str) -> SubjectKey | None:
        return self._rows.get(subject)

    def committed(self, changes: KeyChanges) -> None:
        self._rows.update(changes.added)
        for subject, on in changes.erased.items():
            self._rows[subject] = SubjectKey(None, None, on)
        super().committed(changes)


SubjectKeysFactory = Callable[..., SubjectKeys]
