"""Tamper evidence: walk the chain of stored facts and say where it first breaks.

Every fact stores its place in the store's chain (`position`), the hash of the
fact before it (`previous`) and its own hash, a SHA-256 over its content as
stored and `previous` (see `chain`). Changing a stored payload, removing a row,
swapping two rows or slipping a forged one in leaves a fact whose position,
previous hash or own hash no longer fits, and the walk names the first one.

A digest ("position:hash") kept outside the system proves more: the history up
to it is unchanged, even by someone who rewrote the chain itself, and
everything after it extends it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from attrs import frozen
from eventsourcing.persistence import Notification

from biv_domain.errors import InvalidValue
from biv_domain.ledger.chain import GENESIS, stored_hash
from biv_domain.ledger.mapper import ChainPlace, Envelope, read_envelope

_DIGEST = re.compile(r"([0-9]+):([0-9a-f]{64})")


@frozen
class Digest:
    """A point of the chain an auditor keeps: the position of a fact and its hash."""

    position: int
    hash: str

    def __str__(self) -> str:
        return f"{self.position}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> Digest:
        match = _DIGEST.fullmatch(text.strip())
        if match is None:
            raise InvalidValue(
                "digest", f"must be POSITION:SHA256 as `biv audit digest` prints it, got {text!r}"
            )
        return cls(int(match[1]), match[2])


@frozen
class Break:
    """The first stored row where the chain does not hold, and why."""

    notification_id: int
    position: int
    stream: str
    version: int
    type: str
    problem: str

    def __str__(self) -> str:
        return (
            f"row {self.notification_id} ({self.type} of {self.stream} v{self.version}, "
            f"chain position {self.position}): {self.problem}"
        )


@frozen
class Verification:
    """What a walk of the chain found."""

    facts: int
    head: Digest | None
    first_break: Break | None
    digest: Digest | None = None

    @property
    def intact(self) -> bool:
        return self.first_break is None

    def document(self) -> VerificationDocument:
        return VerificationDocument(
            intact=self.intact,
            facts=self.facts,
            head=str(self.head) if self.head else None,
            digest=str(self.digest) if self.digest else None,
            first_break=self.first_break,
        )


@frozen
class VerificationDocument:
    """A walk of the chain as `biv audit verify --json` prints it."""

    intact: bool
    facts: int
    head: str | None
    digest: str | None
    first_break: Break | None


def digest_line(head: Digest | None) -> str:
    """What `biv audit digest` prints."""
    return str(head) if head else "the store is empty: nothing to digest"


def verify(rows: Iterable[Notification], digest: Digest | None = None) -> Verification:
    """Walks the stored rows in recorded order and checks every link of the chain."""
    head, count, previous_row = Digest(0, GENESIS), 0, 0
    for row in rows:
        count += 1
        place, problem = _check(row, head, digest, previous_row)
        if problem is not None:
            position = place.position if place else head.position + 1
            found = Break(
                row.id, position, str(row.originator_id), row.originator_version, row.topic, problem
            )
            return Verification(count, _head(head), found, digest)
        assert place is not None
        head, previous_row = Digest(place.position, place.hash), row.id
    if digest is not None and head.position < digest.position:
        problem = (
            f"the history ends at chain position {head.position}, before the digest's "
            f"{digest.position}: facts were removed"
        )
        return Verification(
            count, _head(head), Break(0, head.position + 1, "", 0, "", problem), digest
        )
    return Verification(count, _head(head), None, digest)


def _head(head: Digest) -> Digest | None:
    return head if head.position else None


def _check(
    row: Notification, head: Digest, digest: Digest | None, previous_row: int
) -> tuple[ChainPlace | None, str | None]:
    """The row's place in the chain, and what is wrong with it as the link after `head`.

    Only the stored envelope is read, never the event: the walk checks the bytes as
    stored, whatever shape the code now reads them in (or whether it can read them).
    """
    try:
        envelope = read_envelope(row)
    except Exception as error:  # any damage to the stored bytes can make the row unreadable
        return None, f"cannot be read ({type(error).__name__}): changed after it was stored"
    place = envelope.chain
    expected = head.position + 1
    if place.position > expected:
        gap = (
            str(expected) if place.position == expected + 1 else f"{expected}–{place.position - 1}"
        )
        return place, f"the fact at chain position {gap} is missing"
    if place.position < expected:
        return (
            place,
            f"claims chain position {place.position} after {head.position}: "
            "moved, repeated or slipped in",
        )
    if place.previous != head.hash:
        return place, (
            f"does not follow row {previous_row} before it: one of the two was changed, "
            "moved or slipped in"
        )
    if _stored_hash(row, envelope) != place.hash:
        return place, "its content does not match its hash: changed after it was stored"
    if digest is not None and place.position == digest.position and place.hash != digest.hash:
        return place, "differs from the auditor's digest: the history up to it was rewritten"
    return place, None


def _stored_hash(row: Notification, envelope: Envelope) -> str:
    return stored_hash(str(row.originator_id), row.originator_version, row.topic, envelope)
