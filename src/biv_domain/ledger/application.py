"""The ledger's write side and its service: record commands, then bring the read models along.

It loads the states a command needs (the unit of work), asks the pure deciders
of `biv_domain.model` for the events, and stores them as facts, all of a batch
in one transaction, sealed into the chain. Where facts are stored is the store
plugin's business (`biv_domain.ledger.store`), configured by URL in
`biv_adapters.stores`. The questions are asked of `LedgerReads`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from attrs import evolve, frozen
from eventsourcing.persistence import IntegrityError, Notification, StoredEvent

from biv_domain.errors import Refused
from biv_domain.ledger.bookkeeping import (
    CHAIN_STREAM,
    FORMAT_STREAM,
    SETTINGS_STREAM,
    BatchSealed,
    FormatRecorded,
    LineApplied,
    ParticipantErased,
    SettingsChanged,
    line_stream,
)
from biv_domain.ledger.feed import DEFAULT_LIMIT
from biv_domain.ledger.log import AppliedLine, LogReads, Span, applied_lines
from biv_domain.ledger.reading import StoredFacts, utc_now
from biv_domain.ledger.store import MEMORY, BatchRows, Store
from biv_domain.ledger.subjects import KeyChanges, SubjectKeys
from biv_domain.ledger.unit_of_work import LARGE_BATCH, Batch, Kept, collector_paused
from biv_domain.ledger.upcasting import FORMAT
from biv_domain.model.agreement import AgreementState
from biv_domain.model.dates import Period
from biv_domain.model.fact import Fact
from biv_domain.model.follow_up import FollowUpState
from biv_domain.model.group import GroupState
from biv_domain.projections.budget import Split

if TYPE_CHECKING:  # a query loads none of these: the write side's own modules load when it writes
    from biv_domain.ledger.log_storage import LogStorage
    from biv_domain.ledger.note import Cosignature, Note, Signer, Verifier
    from biv_domain.ledger.read_models import FundingView
    from biv_domain.ledger.store_info import FactCounts
    from biv_domain.ledger.verification import Digest, Verification
    from biv_domain.model.commands import Command
    from biv_domain.model.figures import ReportFigures
    from biv_domain.model.log_proofs import ConsistencyProof, InclusionProof
    from biv_domain.projections.fiscal_year import FiscalYear, FundingRows
    from biv_domain.projections.replay import Replay, ReplayDiff
    from biv_domain.projections.report import SubmittedComparison


@frozen
class Line:
    """One command to apply, with where it came from (an exchange file's line number) and its id."""

    number: int
    command: Command
    line_id: str | None = None


@frozen
class LineRefused(Exception):
    """A line of a batch was refused; nothing of the batch was stored."""

    number: int
    refusal: Refused

    def __str__(self) -> str:
        return f"line {self.number}: {self.refusal}"


class WriteConflict(Exception):
    """Other writers kept changing the same streams; the batch was not stored."""


@frozen
class Receipt:
    """What a batch did: the facts it stored and how many lines it applied and skipped."""

    facts: tuple[Fact, ...]
    applied: int
    skipped: int
    lines: tuple[AppliedLine, ...] = ()  # each applied line's facts (a receipt's, issue 21)

    @property
    def erased(self) -> int:
        """How many participants' data the batch erased (one ParticipantErased fact each)."""
        return sum(isinstance(fact.event, ParticipantErased) for fact in self.facts)


@frozen
class Sealed:
    """A batch made into its rows: the rows to store, its facts as placed in the chain, the
    events decided (the seal's aside), the participants' key changes, and the chain's
    position before it."""

    rows: Sequence[StoredEvent]
    placed: tuple[Fact, ...]
    events: tuple[Any, ...]
    changes: KeyChanges
    after: int

    @property
    def position(self) -> int:
        """The chain's position once the batch is stored."""
        return self.placed[-1].position if self.placed else self.after


class Ledger:
    """The ledger of idea-based public partnerships (IOP), their groups and follow-ups.

    It loads the states a command needs, asks the pure deciders for the
    events, stores them as facts (all of a batch in one transaction, sealed
    into the chain), and brings the read models up to date. Its questions are
    asked of its reads (`reads`, a `LogReads`); the facts are held by an
    `eventsourcing` application (`app`), whose recorder, mapper and factory are
    the library's, not the ledger's own surface.
    """

    retries_on_conflict = 10
    fact_counts: FactCounts | None = None  # kept in each batch's transaction: see store_info

    def __init__(
        self,
        store: Store = MEMORY,
        *,
        clock: Callable[[], datetime] = utc_now,
        actor: str | None = None,
        cipher_key: bytes | None = None,
        log_key: Signer | None = None,
    ) -> None:
        self.clock = clock  # the recorded time of each batch (UTC)
        self.actor = actor  # who records, unless a batch names someone
        self.reads = LogReads(store, cipher_key=cipher_key, log_key=log_key)
        self.app: StoredFacts = self.reads.app
        # What this process's batches keep for its next ones (a long import, a server):
        # states, member indexes, and up to where they are the store's truth.
        self._kept = Kept()
        # A store's format mark, once there, stays: read when the ledger opened, not again.
        self._kept.format_marked = self.reads._format_at_open >= FORMAT
        self._spans: list[Span] = []  # the lines of the batch last decided (for a receipt)

    @property
    def store(self) -> Store:
        """The store plugin this ledger was opened on (its settings, views and keys)."""
        return self.reads.store

    @property
    def keys(self) -> SubjectKeys:
        """The participants' keys and pseudonyms, and the store key."""
        return self.reads.keys

    @property
    def funding_view(self) -> FundingView:
        """The funding read model (every agreement's funding lines, as of now)."""
        return self.reads.funding_view

    @property
    def log_key(self) -> Signer | None:
        """The log's signer key, when given (BIV_LOG_KEY)."""
        return self.reads.log_key

    @property
    def log_storage(self) -> LogStorage:
        """Where the log over the chain is kept."""
        return self.reads.log_storage

    # --- Questions (asked of `reads`) ---------------------------------------------------------

    def agreement(self, case_number: str, as_known_at: datetime | None = None) -> AgreementState:
        """The agreement (överenskommelsen) as recorded, or as known at `as_known_at`;
        NotFound for a case number the store does not know (then).

        >>> ledger.agreement("Dnr 2016-292").ends_on()
        datetime.date(2024, 3, 31)
        >>> before_2022_extension = datetime(2022, 10, 31, tzinfo=UTC)
        >>> ledger.agreement("Dnr 2016-292", as_known_at=before_2022_extension).ends_on()
        datetime.date(2023, 3, 31)
        >>> ledger.agreement("Dnr 2016-292", as_known_at=datetime(2017, 1, 1, tzinfo=UTC))
        Traceback (most recent call last):
        biv_domain.errors.NotFound: case_number: agreement 'Dnr 2016-292' was not yet recorded ...
        """
        return self.reads.agreement(case_number, as_known_at)

    def group(self, group_ref: str, as_known_at: datetime | None = None) -> GroupState:
        """One group (stödgrupp): its plan, participants and sessions; NotFound if unknown.

        >>> ledger.group("ILL-2023-RYD-1").plan.starts_on
        datetime.date(2023, 4, 12)
        """
        return self.reads.group(group_ref, as_known_at)

    def follow_up(self, follow_up_ref: str, as_known_at: datetime | None = None) -> FollowUpState:
        """One follow-up (uppföljning): its window, due date, report and closing.

        >>> ledger.follow_up("ILL-2023-H1").schedule.due_on
        datetime.date(2023, 10, 31)
        """
        return self.reads.follow_up(follow_up_ref, as_known_at)

    def groups(
        self,
        case_number: str,
        as_known_at: datetime | None = None,
        overlapping: Period | None = None,
    ) -> list[GroupState]:
        """The agreement's groups in the order they were planned.

        With `overlapping`, only those that can have met in that period (a
        report's window), which spares reading years of other groups.

        >>> [g.group_ref for g in ledger.groups("Dnr 2016-292")][:2]
        ['ILL-2023-RYD-1', 'ILL-2023-SKG-1']
        """
        return self.reads.groups(case_number, as_known_at, overlapping)

    def follow_ups(
        self, case_number: str, as_known_at: datetime | None = None
    ) -> list[FollowUpState]:
        """The agreement's follow-ups in the order they were scheduled.

        >>> [f.follow_up_ref for f in ledger.follow_ups("Dnr 2016-292")]
        ['ILL-2023-H1', 'ILL-2023-H2']
        """
        return self.reads.follow_ups(case_number, as_known_at)

    def history(
        self,
        case_number: str,
        as_known_at: datetime | None = None,
        *,
        after: int = 0,
        limit: int | None = None,
    ) -> list[Fact]:
        """Every fact about the agreement, its groups and follow-ups, and the erasures of its
        participants (`erasure_trail`), in recorded order.

        The index of members names the streams; they are read together and merged
        by their place in the store's chain, which is the order they were recorded in.
        A page: the facts after chain position `after`, at most `limit` of them; the
        next page is after the last one's `position`.

        >>> [(f.position, f.type) for f in ledger.history("Dnr 2016-292", after=0, limit=2)]
        [(1, 'AgreementConcluded'), (3, 'FundingChanged')]
        """
        return self.reads.history(case_number, as_known_at, after=after, limit=limit)

    def report(
        self, case_number: str, window: Period, as_known_at: datetime | None = None
    ) -> ReportFigures:
        """The agreement's report figures for a window, as known at `as_known_at`.

        >>> year = Period(date(2023, 4, 1), date(2024, 3, 31))
        >>> ledger.report("Dnr 2016-292", year).groups
        6
        """
        return self.reads.report(case_number, window, as_known_at)

    def follow_up_report(
        self, case_number: str, follow_up_ref: str, as_known_at: datetime | None = None
    ) -> tuple[ReportFigures, SubmittedComparison]:
        """The follow-up's window as known now, beside the figures frozen when it was submitted."""
        return self.reads.follow_up_report(case_number, follow_up_ref, as_known_at)

    def fiscal_year(
        self,
        year: int,
        split: Split = Split.MONTHS,
        municipality: str | None = None,
        as_known_at: datetime | None = None,
    ) -> FiscalYear:
        """Every agreement's funding in a fiscal year: from the funding view, or folded as known.

        >>> str(ledger.fiscal_year(2023).total.municipality)
        '225375.00'
        """
        return self.reads.fiscal_year(year, split, municipality, as_known_at)

    def funding_rows(self, as_known_at: datetime | None = None) -> FundingRows:
        """Every agreement and its funding lines: from the funding view (which knows only the
        present), or folded from the view's two topics as recorded by `as_known_at`."""
        return self.reads.funding_rows(as_known_at)

    def replay(self, case_number: str, until: datetime | None, on: date) -> Replay:
        """The agreement, its groups and follow-ups as known at `until`, statuses judged on `on`.

        >>> ledger.replay("Dnr 2016-292", None, date(2023, 10, 1)).facts
        178
        """
        return self.reads.replay(case_number, until, on)

    def diff(
        self, case_number: str, since: datetime, until: datetime | None, on: date
    ) -> ReplayDiff:
        """What the facts recorded after `since` and by `until` changed, and which facts did it."""
        return self.reads.diff(case_number, since, until, on)

    def facts(
        self, as_known_at: datetime | None = None, topics: Sequence[str] = ()
    ) -> Iterator[Fact]:
        """Every fact in the store (or of these types) in recorded order, as far as recorded
        by `as_known_at`; the store picks out the types, so no other row is read.

        >>> next(ledger.facts(topics=["TargetSet"])).event.value
        40
        """
        return self.reads.facts(as_known_at, topics)

    def verify_chain(self, digest: Digest | None = None) -> Verification:
        """Walks the chain, then the store's other checks (`audit_checks`); names what fails.

        >>> ledger.verify_chain().intact
        True
        """
        return self.reads.verify_chain(digest)

    def digest(self) -> Digest | None:
        """The chain's head as a digest for an auditor to keep outside the system.

        >>> ledger.digest().position
        391
        """
        return self.reads.digest()

    def chain_head(self) -> Fact:
        """The last seal of the chain, or a stand-in before the first batch.

        Read from its envelope only (its place in the chain), so that the head is
        known without the store's key: an auditor's digest needs none.
        """
        return self.reads.chain_head()

    def stream(
        self, stream: str, as_known_at: datetime | None = None, *, after: int = 0
    ) -> Iterator[Fact]:
        """The facts of one stream in order (those after its version `after`), as far as
        recorded by `as_known_at`: read as `streams` reads many, the keys of the children
        they name in one query."""
        return self.reads.stream(stream, as_known_at, after=after)

    def streams(
        self, streams: Sequence[str], as_known_at: datetime | None = None
    ) -> dict[str, list[Fact]]:
        """The facts of several streams, each in order, as far as recorded by `as_known_at`:
        in one query where the recorder can (`select_streams`), else one a stream."""
        return self.reads.streams(streams, as_known_at)

    def last_fact(self, stream: str) -> Fact | None:
        """The stream's last fact, reading only that one row."""
        return self.reads.last_fact(stream)

    def existing_streams(self, streams: Sequence[str]) -> set[str]:
        """Which of these streams hold at least one fact: in one query where the store's
        recorder can (`existing_streams`, as SQLite's and PostgreSQL's do), else one a stream."""
        return self.reads.existing_streams(streams)

    def rows(self, page: int = 1000) -> Iterator[Notification]:
        """Every stored row in recorded order, as the store holds it (for audits)."""
        return self.reads.rows(page)

    def recorded_format(self) -> tuple[int, int]:
        """The store's format as recorded (1 when never recorded), and its stream's version.

        Read from the stored envelope, not decoded, so that a newer format's
        marker is understood by any version of the code.
        """
        return self.reads.recorded_format()

    def refresh(self) -> None:
        """For a long-lived process (a server): forget the keys read before another process
        wrote, so that an erasure made elsewhere is honoured at once. One indexed read."""
        self.reads.refresh()

    def close(self) -> None:
        """Closes the store's connections."""
        self.reads.close()

    def facts_after(self, position: int = 0, limit: int = DEFAULT_LIMIT) -> list[Fact]:
        """The partnership's facts after chain position `position`, in chain order, at most
        `limit`: each with its `position` and `hash` in the chain, its two times, actor and
        event. Erasures (`ParticipantErased`) are in it; the ledger's other bookkeeping is not.
        The next page is after the last fact's `position`.

        >>> page = ledger.facts_after(0, limit=100)
        >>> [(f.position, f.type) for f in page][:2]
        [(1, 'AgreementConcluded'), (3, 'FundingChanged')]
        >>> page[0].hash == ledger.facts_after(0, limit=1)[0].hash
        True
        """
        return self.reads.facts_after(position, limit)

    def follow(
        self,
        after: int = 0,
        *,
        poll: float = 0.5,
        limit: int = DEFAULT_LIMIT,
        stop: Callable[[], bool] = lambda: False,
    ) -> Iterator[Fact]:
        """Every fact after chain position `after`, then each new one as it is stored, for
        ever (or until `stop()` is true): blocks, looking again every `poll` seconds.

        >>> checkpoint, seen = 0, []
        >>> for fact in ledger.follow(after=checkpoint, poll=0.5):
        ...     seen.append(fact.type)  # a tool handles the fact here,
        ...     checkpoint = fact.position  # then keeps its position: a restart resumes after it
        ...     if len(seen) == 2:
        ...         break
        >>> seen, checkpoint
        (['AgreementConcluded', 'FundingChanged'], 3)
        """
        return self.reads.follow(after, poll=poll, limit=limit, stop=stop)

    def log_size(self) -> int:
        """The tree's size: the chain head's position (its tree made first, if it has none)."""
        return self.reads.log_size()

    def log_root(self, size: int | None = None) -> bytes:
        """MTH of the first `size` leaves (default: the whole tree)."""
        return self.reads.log_root(size)

    def inclusion_proof(self, position: int, size: int | None = None) -> InclusionProof:
        """RFC 9162 §2.1.3's proof that the fact at `position` is in the tree of `size`."""
        return self.reads.inclusion_proof(position, size)

    def inclusion_proofs(
        self, positions: Sequence[int], size: int | None = None
    ) -> list[InclusionProof]:
        """The proofs of several positions in the tree of `size`, in one read of the nodes."""
        return self.reads.inclusion_proofs(positions, size)

    def consistency_proof(self, old: int, new: int | None = None) -> ConsistencyProof:
        """RFC 9162 §2.1.4's proof that the tree of `old` is a prefix of the tree of `new`."""
        return self.reads.consistency_proof(old, new)

    def leaf_data(self, position: int) -> bytes:
        """The leaf data of the fact at `position`: its chain hash, as the log holds it."""
        return self.reads.leaf_data(position)

    def checkpoint(self, signer: Signer | None = None) -> Note:
        """The signed checkpoint of the current size, with the witnesses' cosignatures kept.

        Signed with `signer` (default: the ledger's `log_key`); without one, the
        checkpoint the store kept when it signed the last batch, if it is of this size.
        """
        return self.reads.checkpoint(signer)

    def checkpoint_of(self, size: int) -> Note:
        """The signed checkpoint of an earlier size: the one kept, else signed with the log's
        key (a receipt's, when another batch came since)."""
        return self.reads.checkpoint_of(size)

    def cosigners(self) -> list[tuple[Verifier, Cosignature]]:
        """Who co-signed the current checkpoint and when (their cosignatures verified)."""
        return self.reads.cosigners()

    def add_cosignature(self, cosigned: str, witness_key: str) -> Cosignature:
        """Keeps a witness's cosignature of a checkpoint of this log (`POST /log/cosignatures`).

        The note must carry the log's signature and the witness's cosignature, both
        verifying, and be a checkpoint of this log (its root the tree's at its size).
        """
        return self.reads.add_cosignature(cosigned, witness_key)

    def log_verifier(self) -> Verifier | None:
        """The log's verifier key the store keeps (from the first checkpoint it signed)."""
        return self.reads.log_verifier()

    def require_log_key(self) -> Signer:
        """The log's signer key, checked to be the store's; refused naming BIV_LOG_KEY."""
        return self.reads.require_log_key()

    # --- Writing ------------------------------------------------------------------------------

    def execute(
        self, command: Command, *, line_id: str | None = None, actor: str | None = None
    ) -> Receipt:
        """Records one command, or refuses it with the field and the reason."""
        try:
            return self.execute_all([Line(1, command, line_id)], actor=actor)
        except LineRefused as refused:
            raise refused.refusal from None

    def execute_all(self, lines: Sequence[Line], *, actor: str | None = None) -> Receipt:
        """Records every line or none: one refused line stores nothing (raises LineRefused).

        `actor` names who records (a person or a system); a store configured to
        require it refuses a batch without one. A line whose id the store has
        already applied is skipped. When another writer changed the same streams
        meanwhile, the whole batch is decided again on the new state, a few
        times, before giving up with WriteConflict.
        """
        actor = self._checked_actor(actor)
        with collector_paused(len(lines) >= LARGE_BATCH):
            receipt = self._write(lambda b: self._decide_lines(b, lines), actor, len(lines))
        # Each applied line's facts, for a receipt (issue 21): the spans of the last decision.
        return evolve(receipt, lines=applied_lines(self._spans, receipt.facts))

    def _checked_actor(self, actor: str | None) -> str | None:
        actor = actor or self.actor
        if actor is not None and not actor.strip():
            raise Refused("actor", "must not be empty when given")
        return actor

    def _refuse_without_actor(self, actor: str | None) -> None:
        """A store that records who recorded each fact refuses a batch that names no one."""
        if actor is not None:
            return
        if self._kept.actor_required is None:  # read again whenever another writer stored
            self._kept.actor_required = self.requires_actor()
        if self._kept.actor_required:
            raise Refused(
                "actor", "this store records who recorded each fact: give --actor NAME or BIV_ACTOR"
            )

    def configure(self, *, require_actor: bool, actor: str | None = None) -> Receipt:
        """Sets whether every batch must name its actor; the setting is a fact like any other."""
        actor = self._checked_actor(actor)

        def decide_setting(batch: Batch) -> int:
            batch.exists(SETTINGS_STREAM)
            setting = SettingsChanged(require_actor=require_actor)
            batch.record(SETTINGS_STREAM, [setting], lambda _state, event: event)
            return 0

        try:
            return self._write(decide_setting, actor, 1)
        finally:
            self._kept.actor_required = None  # read again from the store by the next batch

    def _write(self, decide: Callable[[Batch], int], actor: str | None, lines: int) -> Receipt:
        """Decides a batch and stores it; decides again when another writer stored first.

        The handler: the chain's head (read once), the states as the lines ask for them
        (load), the deciders' events (decide), the batch's rows (seal), one transaction
        (store), the read models (views).

        The chain's head is read before deciding, and the batch is sealed right
        after it: a batch stored by anyone in between takes that place, this
        seal collides with it, and this batch is decided again on what is now
        known. So every batch is decided on the store as it was when stored,
        across agreements, groups and follow-ups alike.
        """
        for attempt in range(self.retries_on_conflict):
            if attempt:
                # Writers that collided wait a random while, so they do not collide again.
                time.sleep(random.uniform(0, 0.002 * 2 ** min(attempt, 6)))
            head = self.reads.chain_head()
            exact = self._as_stored(head)
            self._refuse_without_actor(actor)
            batch = Batch(self.reads, self._kept)
            skipped = decide(batch)
            sealed = self._seal(batch, head, actor)
            try:
                last_id, followed = self._insert(sealed, exact)
            except IntegrityError:
                continue
            self._kept.stored(batch, sealed.placed, sealed.position)
            self._follow_views(sealed, last_id, followed, exact)
            return Receipt(facts=sealed.placed, applied=lines - skipped, skipped=skipped)
        raise WriteConflict(
            "chain: other writers kept extending the store's chain of facts at the same time; "
            f"tried {self.retries_on_conflict} times and stored nothing: try again"
        )

    def _as_stored(self, head: Fact) -> bool:
        """Whether nobody else stored since this process's last batch (what it keeps is then
        the store's truth); if somebody did, the keys are read again too (it may have erased
        a child)."""
        exact = self._kept.as_stored(head.position)
        if not exact:
            self.keys.forget()
        return exact

    def _follow_views(
        self, sealed: Sealed, last_id: int | None, followed: bool, exact: bool
    ) -> None:
        """The read models follow the stored facts (a lagging view still answers right: see
        FundingView.current_rows). When nobody else stored since this process's previous
        batch, they follow this batch's own facts, in its transaction where they could."""
        if followed and last_id is not None:  # (followed: the store gave the batch's ids)
            self.funding_view.moved_to(last_id)  # it followed in the batch's transaction
        else:
            self._catch_up_views(sealed.placed if exact else None, last_id)

    def _catch_up_views(self, stored: Sequence[Fact] | None, last_id: int | None) -> None:
        """Brings the read models along; a failure leaves them behind, never the write undone.

        `stored` is the batch's facts when nobody else stored since this process's
        previous batch (None otherwise), `last_id` the notification id of its last.

        The facts are stored by now. A view that cannot follow (a store that went
        away, a row it cannot hold) lags: reads fold the facts since its position
        (FundingView.current_rows), and the next write or `biv rebuild` catches up.
        """
        try:
            if stored is None or (stored and last_id is None):
                self.funding_view.catch_up()  # others stored too, or the store named no ids
            elif not self.funding_view.follow([fact.event for fact in stored], last_id):
                self.funding_view.catch_up()  # the view is not where this process left it
        except Exception as error:
            import logging  # only to warn: a query (and most writes) never loads it

            logging.getLogger(__name__).warning(
                "the funding view lags behind the stored facts (%s: %s); "
                "the next write or `biv rebuild` catches it up",
                type(error).__name__,
                str(error).splitlines()[0] if str(error) else "",
            )

    def requires_actor(self) -> bool:
        """Whether the store records who recorded each fact (`configure(require_actor=...)`)."""
        last = None
        for fact in self.reads.stream(SETTINGS_STREAM):
            last = fact.event
        return isinstance(last, SettingsChanged) and last.require_actor

    def _decide_lines(self, batch: Batch, lines: Sequence[Line]) -> int:
        """Decides every line into the batch; returns how many were skipped as applied before."""
        from biv_domain.ledger.deciding import decide, streams_of  # the write side, when it writes
        from biv_domain.model.commands import EnrollParticipant

        skipped = 0
        self._spans = spans = list[Span]()  # each applied line's number, id and pending facts
        seen_ids: dict[str, int] = {}
        # Which line ids were applied before: one question for the batch, not one a line.
        batch.prefetch([line_stream(line.line_id) for line in lines if line.line_id is not None])
        # Which of the streams the lines name are new (a group planned, an agreement
        # concluded): one question, not one read of each empty stream.
        batch.prefetch([stream for line in lines for stream in streams_of(line.command)])
        # The keys of the children enrolled, for `_refuse_erased`: one query, not one a child.
        enrolled = (line.command for line in lines if isinstance(line.command, EnrollParticipant))
        self.keys.prefetch(self.keys.subject_of(command.participant_ref) for command in enrolled)
        for line in lines:
            if line.line_id is not None:
                if line.line_id in seen_ids:
                    raise LineRefused(
                        line.number,
                        Refused(
                            "id",
                            f"{line.line_id!r} was already used on line {seen_ids[line.line_id]}",
                        ),
                    )
                seen_ids[line.line_id] = line.number
                if batch.exists(line_stream(line.line_id)):
                    skipped += 1
                    continue
            start = len(batch.pending)
            try:
                decide(self.reads, batch, line.command)
            except Refused as refusal:
                raise LineRefused(line.number, refusal) from None
            if line.line_id is not None:
                applied = LineApplied(line_id=line.line_id, command=line.command.name)
                batch.record(line_stream(line.line_id), [applied], lambda _s, e: e)
            spans.append((line.number, line.line_id, start, len(batch.pending)))
        return skipped

    def _seal(self, batch: Batch, head: Fact, actor: str | None) -> Sealed:
        """The batch's facts made into the rows to store, sealed into the chain after `head`
        with one recorded time (the ledger's clock) and the actor; participants' fields
        sealed under their keys, new keys made and erased ones to be destroyed."""
        from biv_domain.ledger.sealing import sealed_rows

        if not batch.pending:
            return Sealed((), (), (), KeyChanges(), head.position)
        now = self.clock()
        if now.tzinfo is None:
            raise ValueError("the ledger's clock must give UTC times")
        pending = [*batch.pending, *self._format_mark()]
        seal = (CHAIN_STREAM, head.originator_version + 1, BatchSealed(len(pending)))
        changes = KeyChanges(
            erased={
                e.participant: e.decided_on.isoformat()
                for _stream, _version, e in batch.pending
                if isinstance(e, ParticipantErased)
            }
        )
        if head.position == 0:
            self.keys.make_encrypted()  # BIV_CIPHER_KEY given to a new store: encrypt it
        rows, placed = sealed_rows(
            [*pending, seal], now.astimezone(UTC), actor, self.keys, changes, head.position,
            head.hash,
        )  # fmt: skip
        events = tuple(event for _stream, _version, event in pending)
        return Sealed(rows, placed, events, changes, head.position)

    def _insert(self, sealed: Sealed, exact: bool) -> tuple[int | None, bool]:
        """Stores the sealed rows in one transaction, with their keys, the log's tree, the
        funding view's rows (when it is where this process left it and nobody else stored
        since) and the counts; returns the notification id of the last row (None if unknown
        or nothing was stored) and whether the funding view followed in that transaction.

        Raises IntegrityError when another writer stored first (a stream's
        version, or the chain's, is taken): the caller decides again.
        """
        from biv_domain.ledger.store_info import counted_in_batch

        if not sealed.rows:
            return None, False
        follow = self.funding_view.in_batch(list(sealed.events)) if exact else None
        counts = counted_in_batch(self.fact_counts, sealed.after, sealed.position, sealed.rows)
        # The log's tree, in the same transaction.
        with self.reads.appending(sealed.placed, sealed.after) as log:
            extra = BatchRows(self.keys.stored_form(sealed.changes), log, follow, counts)
            ids = self.app.recorder.insert_events(sealed.rows, batch=extra)
            self.keys.committed(sealed.changes)
        return ids[-1] if ids else None, follow is not None and follow.moved

    def _format_mark(self) -> list[tuple[str, int, FormatRecorded]]:
        """The fact that marks the store as of this code's format, if it is not marked yet."""
        if self._kept.format_marked:
            return []  # a mark, once stored, stays: read when the ledger opened or since
        recorded, version = self.reads.recorded_format()
        self._kept.format_marked = recorded >= FORMAT
        if recorded < FORMAT:
            # The first batch of a newer code marks the store, so older code refuses it.
            return [(FORMAT_STREAM, version + 1, FormatRecorded(FORMAT))]
        return []

    def rekey(self, new_cipher_key: bytes) -> int:
        """Re-wraps every key of the store under a new store key; returns how many.

        The facts are sealed under the store's data key, which is itself wrapped
        by the store key, so rotation touches only the key table: no fact changes.
        """
        return self.keys.rekey(new_cipher_key)

    def rebuild(self, progress: Callable[[int], object] | None = None) -> int:
        """Rebuilds every read model from every stored fact; returns how many facts it passed."""
        return self.funding_view.rebuild(progress)
