"""Tamper evidence: walk the chain of stored facts and say where it first breaks.

Every fact stores its place in the store's chain (`position`), the hash of the
fact before it (`previous`) and its own hash, a SHA-256 over its content as
stored and `previous` (see `chain`). Changing a stored payload, removing a row,
swapping two rows or slipping a forged one in leaves a fact whose position,
previous hash or own hash no longer fits, and the walk names the first one.

Every batch ends with its seal (`BatchSealed`, in the stream `chain`), which
counts the facts of the batch before it: a store whose last row is no seal, or
a seal whose count does not match, has lost the end of a batch.

A digest ("position:hash") kept outside the system proves more: the history up
to it is unchanged, even by someone who rewrote the chain itself, and
everything after it extends it.

`docs/verification.md` writes the whole rule down, for an auditor's own verifier.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from attrs import frozen
from eventsourcing.persistence import Notification

from biv_domain.errors import InvalidValue
from biv_domain.ledger.chain import GENESIS
from biv_domain.ledger.envelope import ChainPlace, Envelope, read_envelope, stored_hash

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
        if not self.notification_id:  # an empty store: there is no row to name
            return self.problem
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
    # What the store's other checks found (`audit_checks`): a participant's key gone
    # without an erasure fact, a read model that differs from the facts, a fact this code
    # cannot read. Each names a real row.
    problems: tuple[str, ...] = ()
    # Which checks ran (a chain walk only, or the store's other checks too), and why any did not.
    checked: tuple[str, ...] = ("chain",)
    notes: tuple[str, ...] = ()

    @property
    def intact(self) -> bool:
        return self.first_break is None and not self.problems

    def document(self) -> VerificationDocument:
        return VerificationDocument(
            intact=self.intact,
            facts=self.facts,
            head=str(self.head) if self.head else None,
            digest=str(self.digest) if self.digest else None,
            first_break=self.first_break,
            problems=list(self.problems),
            checked=list(self.checked),
            notes=list(self.notes),
        )


@frozen
class VerificationDocument:
    """A walk of the chain as `biv audit verify --json` prints it."""

    intact: bool
    facts: int
    head: str | None
    digest: str | None
    first_break: Break | None
    problems: list[str]
    checked: list[str]
    notes: list[str]


def digest_line(head: Digest | None) -> str:
    """What `biv audit digest` prints."""
    return str(head) if head else "the store is empty: nothing to digest"


def verify(rows: Iterable[Notification], digest: Digest | None = None) -> Verification:
    """Walks the stored rows in recorded order and checks every link of the chain.

    Also that every batch ends with its seal, counting the facts before it: the last
    row of a store that lost the end of its last batch is no seal.
    """
    head, count, previous_row = Digest(0, GENESIS), 0, 0
    last: Notification | None = None
    in_batch = 0  # facts since the last seal
    for row in rows:
        count += 1
        place, problem = _check(row, head, digest, previous_row)
        if problem is None and place is not None and row.topic == "BatchSealed":
            problem = _seal_problem(row, in_batch)
        if problem is not None:
            position = place.position if place else head.position + 1
            found = _break(row, position, problem)
            return Verification(count, _head(head), found, digest)
        assert place is not None
        head, previous_row, last = Digest(place.position, place.hash), row.id, row
        in_batch = 0 if row.topic == "BatchSealed" else in_batch + 1
    if last is not None and in_batch:
        problem = (
            f"the store ends inside a batch: this last row is not its batch's seal "
            f"(BatchSealed), and the {in_batch} facts since the last seal are not sealed: "
            "the end of the history was removed"
        )
        return Verification(count, _head(head), _break(last, head.position, problem), digest)
    if digest is not None and head.position < digest.position:
        problem = (
            f"the history ends at chain position {head.position}, before the digest's "
            f"{digest.position}: facts were removed"
        )
        found = (
            _break(last, head.position, problem)
            if last is not None
            else Break(0, 0, "", 0, "", "the store holds no facts: " + problem)
        )
        return Verification(count, _head(head), found, digest)
    return Verification(count, _head(head), None, digest)


def _break(row: Notification, position: int, problem: str) -> Break:
    stream, version = str(row.originator_id), row.originator_version
    return Break(row.id, position, stream, version, row.topic, problem)


def _seal_problem(row: Notification, in_batch: int) -> str | None:
    """What is wrong with a seal whose chain link holds: the count of its batch's facts."""
    sealed = read_envelope(row).event.get("facts")
    if sealed != in_batch:
        return (
            f"seals a batch of {sealed} facts, but {in_batch} facts precede it since the "
            "seal before: facts of the batch were removed or slipped in"
        )
    return None


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
