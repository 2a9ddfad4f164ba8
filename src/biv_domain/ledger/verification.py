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
from biv_domain.ledger.chain import GENESIS, content, sha256
from biv_domain.ledger.mapper import decode, read_envelope
from biv_domain.model.fact import Fact

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
        fact, problem = _check(row, head, digest, previous_row)
        if problem is not None:
            position = fact.position if fact else head.position + 1
            found = Break(
                row.id, position, str(row.originator_id), row.originator_version, row.topic, problem
            )
            return Verification(count, _head(head), found, digest)
        assert fact is not None
        head, previous_row = Digest(fact.position, fact.hash), row.id
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
) -> tuple[Fact | None, str | None]:
    """The row's fact, and what is wrong with it as the link after `head` (None if nothing)."""
    try:
        fact = decode(row)
    except Exception as error:  # any damage to the stored bytes can make the row unreadable
        return None, f"cannot be read ({type(error).__name__}): changed after it was stored"
    expected = head.position + 1
    if fact.position > expected:
        gap = str(expected) if fact.position == expected + 1 else f"{expected}–{fact.position - 1}"
        return fact, f"the fact at chain position {gap} is missing"
    if fact.position < expected:
        return (
            fact,
            f"claims chain position {fact.position} after {head.position}: "
            "moved, repeated or slipped in",
        )
    if fact.previous != head.hash:
        return fact, (
            f"does not follow row {previous_row} before it: one of the two was changed, "
            "moved or slipped in"
        )
    if _stored_hash(row, fact) != fact.hash:
        return fact, "its content does not match its hash: changed after it was stored"
    if digest is not None and fact.position == digest.position and fact.hash != digest.hash:
        return fact, "differs from the auditor's digest: the history up to it was rewritten"
    return fact, None


def _stored_hash(row: Notification, fact: Fact) -> str:
    """The hash of the row's content exactly as stored, whatever shape the code reads it in."""
    envelope = read_envelope(row)
    return sha256(
        content(
            stream=str(row.originator_id),
            version=row.originator_version,
            type=row.topic,
            recorded_at=envelope.recorded_at,
            actor=envelope.actor,
            event=envelope.event,
            position=fact.position,
            previous=fact.previous,
        )
    )
