"""Commands of data protection: erasing a child's data, and the retention schedule (gallring).

They are not decisions of the partnership but of the municipality as the
controller of personal data. The ledger carries them out by destroying the
participants' keys; the facts and the figures stay.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import ClassVar

from attrs import field, frozen

from biv_domain.errors import NotFound, RuleBroken
from biv_domain.model import validators as check


@frozen
class EraseParticipant:
    """Erase a participant's personal data (radering), in every group of the store.

    Their key is destroyed: their reference, age, gender and status can never be
    read again, while the reports go on counting them (as `unknown`).
    """

    name: ClassVar[str] = "erase_participant"
    participant_ref: str = field(validator=check.name)
    reason: str = field(validator=check.reason)
    decided_on: date


@frozen
class ApplyRetention:
    """Carry out the retention schedule (gallring): erase the participants of every group
    completed or cancelled before `ended_before`, who are in no group still running then."""

    name: ClassVar[str] = "apply_retention"
    ended_before: date
    reason: str = field(validator=check.reason)
    decided_on: date


ProtectionCommand = EraseParticipant | ApplyRetention


@frozen
class Erasure:
    """What an erase command decides: one participant's data is erased (radering).

    The participant is named only by pseudonym. The ledger records it as its
    `ParticipantErased` fact and destroys the participant's key in the same transaction.
    """

    participant: str  # the pseudonym
    reason: str
    decided_on: date


@frozen
class ParticipantStanding:
    """What the store knows of one participant, as an erasure needs it (the ledger gathers it).

    `keyed`: their data is sealed under a key of their own (participants recorded before
    format 3 are held in the clear and have none); `key_destroyed`: that key is gone;
    `erased`: an erasure of theirs is recorded (or decided earlier in the same batch).
    """

    participant: str  # the pseudonym
    keyed: bool
    key_destroyed: bool
    erased: bool


def erase(command: EraseParticipant, standing: ParticipantStanding) -> list[Erasure]:
    """The erasure of one participant, refused if the store holds no key of theirs or their
    data was already erased."""
    if not standing.keyed:
        raise NotFound(
            "participant_ref",
            f"no participant with reference {command.participant_ref!r} in this store "
            "(participants recorded before format 3 are held in the clear: see README)",
        )
    if standing.erased:
        raise RuleBroken("participant_ref", "this participant's data was already erased")
    return [Erasure(standing.participant, command.reason, command.decided_on)]


def retention_candidates(
    command: ApplyRetention,
    closings: Iterable[tuple[str, date]],
    enrolments: Mapping[str, set[str]],
) -> list[str]:
    """The participants (pseudonyms, sorted) whose every group closed before `ended_before`.

    `closings` are the groups' completions and cancellations (group, day), `enrolments`
    each participant's groups. A participant in a group still open then is kept.
    """
    closed = {group for group, on in closings if on < command.ended_before}
    return sorted(subject for subject, groups in enrolments.items() if groups <= closed)


def apply_retention(
    command: ApplyRetention, standings: Sequence[ParticipantStanding]
) -> list[Erasure]:
    """The erasures the retention schedule (gallring) decides among its candidates: each one
    with a live key, not erased yet; the reason says it was retention."""
    reason = f"retention: {command.reason}"
    return [
        Erasure(standing.participant, reason, command.decided_on)
        for standing in standings
        if standing.keyed and not standing.key_destroyed and not standing.erased
    ]
