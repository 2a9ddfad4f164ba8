"""The ledger's own records beside the partnership's events, and the names of its streams.

Bookkeeping facts are stored and chained like every other fact, but they say
nothing about the partnership: that an exchange line was applied, which groups
and follow-ups belong to an agreement, where a batch ends, the store's settings.
"""

from __future__ import annotations

from datetime import date

from attrs import frozen

from biv_domain.model.events import EVENTS, Event
from biv_domain.model.stored import Stored, StoredTypes


@frozen
class LineApplied:
    """An exchange line with an `id` was applied; a second line with that id is skipped."""

    line_id: str
    command: str


@frozen
class MemberJoined:
    """A group or follow-up was added to an agreement: the agreement's index of its members.

    Recorded in the same transaction as the GroupPlanned or FollowUpScheduled
    fact, so that an agreement's groups are found without reading every fact.
    """

    kind: str  # "group" or "follow_up"
    ref: str
    starts_on: date | None = None  # a group's first day: no session of it comes before


@frozen
class MemberClosed:
    """A group was completed or cancelled: no session of it comes after `on`.

    With `MemberJoined.starts_on` it lets a report read only the groups that
    can have met in its window.
    """

    kind: str
    ref: str
    on: date


@frozen
class BatchSealed:
    """The last fact of every batch, in the one stream `chain`.

    Two writers that read the same chain head both try to add the same version
    of this stream; the store lets one through, and the other decides again on
    the new head, so no two facts ever claim one place in the chain.
    """

    facts: int


@frozen
class SettingsChanged:
    """The store's settings: whether every fact must name who recorded it."""

    require_actor: bool


@frozen
class FormatRecorded:
    """The store holds facts of this format from here on (`upcasting.FORMAT`).

    Written with the first batch that a newer biv-domain stores, so that an
    older biv-domain opening the store later refuses it instead of misreading it.
    A store without one is of format 1.
    """

    format: int


@frozen
class ParticipantErased:
    """A participant's key was destroyed, in the same transaction as this fact.

    It names the participant only by pseudonym: what erasure leaves is that a
    child was erased, when, and why, never who.
    """

    participant: str  # the pseudonym
    reason: str
    decided_on: date


Bookkeeping = (
    LineApplied
    | MemberJoined
    | MemberClosed
    | BatchSealed
    | SettingsChanged
    | FormatRecorded
    | ParticipantErased
)
Recordable = Event | Bookkeeping
STORED = StoredTypes(
    Stored(LineApplied),
    Stored(MemberJoined),
    Stored(MemberClosed),
    Stored(BatchSealed),
    Stored(SettingsChanged),
    Stored(FormatRecorded),
    Stored(ParticipantErased),
    following=EVENTS,
)
"""Every type of fact the ledger stores, one declaration each: the partnership's events
(`biv_domain.model.events.EVENTS`) and the ledger's own records. Each table the ledger
reads to store a fact (`RECORDABLE_TYPES`, `upcasting.VERSIONS` and `UPCASTERS`,
`personal.SEALED` and `LISTS`) is derived from it."""
RECORDABLE_TYPES: dict[str, type[Recordable]] = STORED.types
"""Each stored type by its topic (derived from `STORED`)."""
CHAIN_STREAM = "chain"
SETTINGS_STREAM = "settings"
FORMAT_STREAM = "format"


def agreement_stream(case_number: str) -> str:
    return f"agreement:{case_number}"


def group_stream(group_ref: str) -> str:
    return f"group:{group_ref}"


def follow_up_stream(follow_up_ref: str) -> str:
    return f"follow-up:{follow_up_ref}"


def line_stream(line_id: str) -> str:
    return f"line:{line_id}"


def erasure_stream(subject: str) -> str:
    return f"erasure:{subject}"


def members_stream(case_number: str) -> str:
    return f"members:{case_number}"
