"""Erasure and retention: which participants' keys a batch destroys, and the fact that says so.

A participant is found by the pseudonym of their reference; erasing destroys
their key in the batch's transaction (`KeyChanges.erased`) beside a
`ParticipantErased` fact. Retention finds the participants of the groups closed
before a day, among the store's indexes, and erases those who are in no group
still open then.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date

from eventsourcing.persistence import Notification

from biv_domain.errors import NotFound, RuleBroken
from biv_domain.ledger.bookkeeping import ParticipantErased, erasure_stream
from biv_domain.ledger.envelope import read
from biv_domain.ledger.reading import LedgerReads
from biv_domain.ledger.subjects import ERASED_PREFIX
from biv_domain.ledger.unit_of_work import Batch
from biv_domain.model.protection import ApplyRetention, EraseParticipant

PAGE = 2000


def erase(ledger: LedgerReads, batch: Batch, command: EraseParticipant) -> None:
    subject = ledger.keys.subject_of(command.participant_ref)
    if ledger.keys.lookup(subject) is None:
        raise NotFound(
            "participant_ref",
            f"no participant with reference {command.participant_ref!r} in this store "
            "(participants recorded before format 3 are held in the clear: see README)",
        )
    _erase(batch, subject, command.reason, command.decided_on)


def apply_retention(ledger: LedgerReads, batch: Batch, command: ApplyRetention) -> int:
    """Erases every participant whose groups all closed before `ended_before`; how many."""
    erased = 0
    for subject in retained(ledger, command.ended_before):
        if not batch.exists(erasure_stream(subject)):
            _erase(batch, subject, f"retention: {command.reason}", command.decided_on)
            erased += 1
    return erased


def _erase(batch: Batch, subject: str, reason: str, decided_on: date) -> None:
    stream = erasure_stream(subject)
    if batch.exists(stream):
        raise RuleBroken("participant_ref", "this participant's data was already erased")
    erased = ParticipantErased(participant=subject, reason=reason, decided_on=decided_on)
    batch.record(stream, [erased], lambda _state, event: event)


def retained(ledger: LedgerReads, ended_before: date) -> list[str]:
    """The participants (pseudonyms with a live key) of groups closed before the day only."""
    closed: set[str] = set()
    for row in _rows(ledger, "MemberClosed"):
        closing = read(row, ledger.keys).event
        if closing.kind == "group" and closing.on < ended_before:
            closed.add(closing.ref)
    groups: dict[str, set[str]] = defaultdict(set)
    for row in _rows(ledger, "ParticipantEnrolled"):
        enrolment = read(row, ledger.keys).event
        if not enrolment.participant_ref.startswith(ERASED_PREFIX):
            subject = ledger.keys.subject_of(enrolment.participant_ref)
            groups[subject].add(enrolment.group_ref)
    result = []
    for subject, in_groups in groups.items():
        # Participants recorded before format 3 have no key: they are held in the clear.
        record = ledger.keys.lookup(subject)
        if in_groups <= closed and record is not None and not record.erased:
            result.append(subject)
    return sorted(result)


def _rows(ledger: LedgerReads, topic: str) -> Iterator[Notification]:
    after = 0
    while rows := ledger.recorder.select_notifications(
        start=after, limit=PAGE, topics=[topic], inclusive_of_start=False
    ):
        yield from rows
        after = rows[-1].id
