"""Commands of data protection: erasing a child's data, and the retention schedule (gallring).

They are not decisions of the partnership but of the municipality as the
controller of personal data. The ledger carries them out by destroying the
participants' keys; the facts and the figures stay.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from attrs import field, frozen

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
