"""Erasure and retention carried out: the state their deciders need, gathered; their facts
recorded; the participants' keys destroyed in the batch's transaction.

The rules are the model's (`biv_domain.model.protection.erase`, `apply_retention`),
as an agreement's are `agreement.decide`'s. A participant is found by the pseudonym of
their reference; erasing destroys their key in the batch's transaction
(`KeyChanges.erased`) beside a `ParticipantErased` fact. Retention reads the closings of
groups and the enrolments among the store's indexes, and asks the model whom to erase.
"""

from __future__ import annotations

from collections import defaultdict

from biv_domain.ledger.bookkeeping import ParticipantErased, erasure_stream
from biv_domain.ledger.reading import LedgerReads
from biv_domain.ledger.subjects import ERASED_PREFIX
from biv_domain.ledger.unit_of_work import Batch
from biv_domain.model import protection
from biv_domain.model.protection import (
    ApplyRetention,
    EraseParticipant,
    Erasure,
    ParticipantStanding,
)


def erase(ledger: LedgerReads, batch: Batch, command: EraseParticipant) -> None:
    """Erases one participant's data (radering), as `protection.erase` decides."""
    subject = ledger.keys.subject_of(command.participant_ref)
    _record(batch, protection.erase(command, standing(ledger, batch, subject)))


def apply_retention(ledger: LedgerReads, batch: Batch, command: ApplyRetention) -> None:
    """Carries out the retention schedule (gallring), as `protection.apply_retention` decides."""
    closings = [
        (fact.event.ref, fact.event.on)
        for fact in ledger.facts(topics=["MemberClosed"])
        if fact.event.kind == "group"
    ]
    enrolments: dict[str, set[str]] = defaultdict(set)
    for fact in ledger.facts(topics=["ParticipantEnrolled"]):
        enrolment = fact.event
        if not enrolment.participant_ref.startswith(ERASED_PREFIX):
            subject = ledger.keys.subject_of(enrolment.participant_ref)
            enrolments[subject].add(enrolment.group_ref)
    candidates = protection.retention_candidates(command, closings, enrolments)
    standings = [standing(ledger, batch, subject) for subject in candidates]
    _record(batch, protection.apply_retention(command, standings))


def standing(ledger: LedgerReads, batch: Batch, subject: str) -> ParticipantStanding:
    """What the store knows of a participant (by pseudonym): their key, and their erasure
    (recorded, or decided earlier in this batch)."""
    record = ledger.keys.lookup(subject)
    return ParticipantStanding(
        participant=subject,
        keyed=record is not None,
        key_destroyed=record is not None and record.erased,
        erased=batch.exists(erasure_stream(subject)),
    )


def _record(batch: Batch, erasures: list[Erasure]) -> None:
    for erasure in erasures:
        erased = ParticipantErased(erasure.participant, erasure.reason, erasure.decided_on)
        batch.record(erasure_stream(erasure.participant), [erased], lambda _state, event: event)
