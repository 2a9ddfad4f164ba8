"""The read side of the ledger: every question, as the store stands or as it stood.

States are folded from their streams with the pure `evolve` functions of
`biv_domain.model`; `as_known_at` leaves out the facts recorded later. The
agreement's index of members (`bookkeeping.MemberJoined`) finds its groups and
follow-ups without reading other agreements' facts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import evolve
from eventsourcing.application import Application
from eventsourcing.persistence import Mapper, Notification
from eventsourcing.utils import Environment

from biv_domain.errors import NotFound
from biv_domain.ledger import erasure_trail
from biv_domain.ledger.bookkeeping import (
    CHAIN_STREAM,
    FORMAT_STREAM,
    BatchSealed,
    agreement_stream,
    follow_up_stream,
    group_stream,
    members_stream,
)
from biv_domain.ledger.chain import GENESIS
from biv_domain.ledger.decoding import facts_of
from biv_domain.ledger.envelope import read_envelope
from biv_domain.ledger.feed import FeedReads, history_page
from biv_domain.ledger.mapper import FactMapper
from biv_domain.ledger.members import KeptIndexes, member_days, overlapping
from biv_domain.ledger.read_models import FundingView, MemoryFundingView
from biv_domain.ledger.store import MEMORY, Store
from biv_domain.ledger.subjects import CipherKeyRefused, SubjectKeys, stream_id
from biv_domain.ledger.upcasting import refuse_newer_store
from biv_domain.model import agreement, follow_up, group
from biv_domain.model.agreement import AgreementState
from biv_domain.model.dates import Period
from biv_domain.model.fact import Fact, known_at
from biv_domain.model.figures import ReportFigures
from biv_domain.model.follow_up import FollowUpState
from biv_domain.model.group import GroupState
from biv_domain.projections.budget import Split
from biv_domain.projections.fiscal_year import TOPICS, FiscalYear, FundingRows, fiscal_year
from biv_domain.projections.fiscal_year import fold as fold_funding

if TYPE_CHECKING:  # a question loads these when it is asked: a budget needs none of them
    from biv_domain.ledger.verification import Digest, Verification
    from biv_domain.projections.replay import Replay, ReplayDiff
    from biv_domain.projections.report import SubmittedComparison

S = TypeVar("S")


def utc_now() -> datetime:
    return datetime.now(UTC)


class StoredFacts(Application[str]):
    """The `eventsourcing` application that holds the facts: its recorder, its mapper (how a
    fact is stored, `mapper.FactMapper`) and its factory (the store's datastore).

    The ledger has one (`Ledger.app`) and never shows the library's surface as its own.
    """

    name = "biv"  # the library names a PostgreSQL store's tables after it: biv_events

    def construct_env(self, name: str, env: Mapping[str, str] | None = None) -> Environment:
        # Only the settings given count: a stray PERSISTENCE_MODULE in the
        # shell must never send the ledger to another store.
        return Environment(name, dict(env or {}))

    def construct_mapper(self) -> Mapper[str]:
        return FactMapper(transcoder=self.construct_transcoder())


CONCLUDED_KEPT = 100_000  # agreements whose first recorded time a reader keeps (a few MB)


class LedgerReads(FeedReads):
    """The ledger's questions: states, histories and the chain, for any recorded moment.

    Every question takes `as_known_at`: only the facts recorded by then count. It has
    the `eventsourcing` application that holds the facts (`app`); the `Ledger` asks it.
    """

    def __init__(self, store: Store = MEMORY, *, cipher_key: bytes | None = None) -> None:
        self.store = store
        with store.schema_lock():
            self.app = StoredFacts(env={**store.settings, "ORIGINATOR_ID_TYPE": "text"})
        self.recorder = self.app.recorder
        # The store's format, read once: a newer one is refused; the first batch marks an older.
        self._format_at_open = self.recorded_format()[0]
        refuse_newer_store(self._format_at_open)
        # After the lock: a view that makes its tables takes the store's lock its own way.
        self.keys: SubjectKeys = store.subject_keys(self.app)
        mapper = self.app.mapper
        assert isinstance(mapper, FactMapper)
        mapper.keys = self.keys
        self.keys.use_store_key(cipher_key)
        self._refreshed_at = 0  # the chain head at the last `refresh`
        self._indexes = KeptIndexes()  # the agreements' indexes of members read so far
        self._concluded: dict[str, datetime] = {}  # an agreement's first fact's recorded time
        if cipher_key is not None and not self.keys.encrypted and self.digest() is not None:
            raise CipherKeyRefused(
                "BIV_CIPHER_KEY",
                "is set, but this store was written unencrypted: unset it "
                "(an append-only store cannot be encrypted afterwards)",
            )
        # An encrypted store keeps no read model in the clear: its funding view is folded in
        # memory from the two topics it reads (2 % of the facts), each process anew.
        factory = MemoryFundingView if cipher_key is not None else store.funding_view
        self.funding_view: FundingView = factory(self.app)

    def close(self) -> None:
        """Closes the store's connections."""
        self.app.close()

    def recorded_format(self) -> tuple[int, int]:
        """The store's format as recorded (1 when never recorded), and its stream's version.

        Read from the stored envelope, not decoded, so that a newer format's
        marker is understood by any version of the code.
        """
        for stored in self.recorder.select_events(FORMAT_STREAM, desc=True, limit=1):
            return int(read_envelope(stored).event["format"]), stored.originator_version
        return 1, 0

    def chain_head(self) -> Fact:
        """The last seal of the chain, or a stand-in before the first batch.

        Read from its envelope only (its place in the chain), so that the head is
        known without the store's key: an auditor's digest needs none.
        """
        last = datetime.min.replace(tzinfo=UTC)
        for stored in self.recorder.select_events(CHAIN_STREAM, desc=True, limit=1):
            chain = read_envelope(stored).chain
            seal = Fact(CHAIN_STREAM, stored.originator_version, last, BatchSealed(0))
            return evolve(seal, position=chain.position, previous=chain.previous, hash=chain.hash)
        return Fact(CHAIN_STREAM, 0, last, BatchSealed(0), hash=GENESIS)

    def refresh(self) -> None:
        """For a long-lived process (a server): forget the keys read before another process
        wrote, so that an erasure made elsewhere is honoured at once. One indexed read."""
        head = self.chain_head().position
        if head != self._refreshed_at:
            self.keys.forget()
        self._refreshed_at = head

    def _sid(self, stream: str) -> str:
        """The stream's id as stored (a keyed hash of its name in an encrypted store)."""
        return stream_id(self.keys.data_key(), stream)

    def stream(
        self, stream: str, as_known_at: datetime | None = None, *, after: int = 0
    ) -> Iterator[Fact]:
        """The facts of one stream in order (those after its version `after`), as far as
        recorded by `as_known_at`: read as `streams` reads many, the keys of the children
        they name in one query."""
        rows = self.recorder.select_events(self._sid(stream), gt=after or None)
        return iter(facts_of(rows, self.keys, as_known_at))

    def last_fact(self, stream: str) -> Fact | None:
        """The stream's last fact, reading only that one row."""
        rows = self.recorder.select_events(self._sid(stream), desc=True, limit=1)
        return next(iter(facts_of(rows, self.keys)), None)

    def existing_streams(self, streams: Sequence[str]) -> set[str]:
        """Which of these streams hold at least one fact: in one query where the store's
        recorder can (`existing_streams`, as SQLite's and PostgreSQL's do), else one a stream."""
        ids = {self._sid(name): name for name in streams}  # hashed names in an encrypted store
        own = getattr(self.recorder, "existing_streams", None)
        if own is None:  # another store: one stream at a time
            return {name for i, name in ids.items() if self.recorder.select_events(i, limit=1)}
        return {ids[i] for i in own(list(ids))}

    def rows(self, page: int = 1000) -> Iterator[Notification]:
        """Every stored row in recorded order, as the store holds it (for audits)."""
        return (row for rows in self._pages(page) for row in rows)

    def _pages(
        self, page: int = 1000, topics: Sequence[str] = ()
    ) -> Iterator[Sequence[Notification]]:
        after = 0
        while rows := self.recorder.select_notifications(
            after, page, topics=topics, inclusive_of_start=False
        ):
            yield rows
            after = rows[-1].id

    def facts(
        self, as_known_at: datetime | None = None, topics: Sequence[str] = ()
    ) -> Iterator[Fact]:
        """Every fact in the store (or of these types) in recorded order, as far as recorded
        by `as_known_at`; the store picks out the types, so no other row is read.
        """
        for page in self._pages(topics=topics):
            yield from facts_of(page, self.keys, as_known_at)

    def verify_chain(self, digest: Digest | None = None) -> Verification:
        """Walks the chain, then the store's other checks (`audit_checks`); names what fails."""
        from biv_domain.ledger import audit_checks
        from biv_domain.ledger.verification import verify

        return audit_checks.check_store(self, verify(self.rows(), digest))

    def digest(self) -> Digest | None:
        """The chain's head as a digest for an auditor to keep outside the system."""
        from biv_domain.ledger.verification import Digest

        head = self.chain_head()
        return Digest(head.position, head.hash) if head.position else None

    def agreement(self, case_number: str, as_known_at: datetime | None = None) -> AgreementState:
        """The agreement (överenskommelsen) as recorded, or as known at `as_known_at`;
        NotFound for a case number the store does not know (then).
        """
        state = _fold(self.stream(agreement_stream(case_number), as_known_at), agreement.evolve)
        if state is None:
            raise self._unknown_agreement(case_number, as_known_at)
        return state

    def group(self, group_ref: str, as_known_at: datetime | None = None) -> GroupState:
        """One group (stödgrupp): its plan, participants and sessions; NotFound if unknown."""
        state = _fold(self.stream(group_stream(group_ref), as_known_at), group.evolve)
        if state is None:
            raise NotFound("group_ref", f"no group with reference {group_ref!r}")
        return state

    def follow_up(self, follow_up_ref: str, as_known_at: datetime | None = None) -> FollowUpState:
        """One follow-up (uppföljning): its window, due date, report and closing."""
        state = _fold(self.stream(follow_up_stream(follow_up_ref), as_known_at), follow_up.evolve)
        if state is None:
            raise NotFound("follow_up_ref", f"no follow-up with reference {follow_up_ref!r}")
        return state

    def groups(
        self,
        case_number: str,
        as_known_at: datetime | None = None,
        overlapping: Period | None = None,
    ) -> list[GroupState]:
        """The agreement's groups in the order they were planned.

        With `overlapping`, only those that can have met in that period (a
        report's window), which spares reading years of other groups.
        """
        self._refuse_unknown(case_number, as_known_at)
        refs = self._members(case_number, "group", as_known_at, overlapping)
        return self._states([group_stream(ref) for ref in refs], group.evolve, as_known_at)

    def follow_ups(
        self, case_number: str, as_known_at: datetime | None = None
    ) -> list[FollowUpState]:
        """The agreement's follow-ups in the order they were scheduled."""
        self._refuse_unknown(case_number, as_known_at)
        refs = self._members(case_number, "follow_up", as_known_at)
        return self._states([follow_up_stream(r) for r in refs], follow_up.evolve, as_known_at)

    def _states(
        self,
        streams: Sequence[str],
        evolve: Callable[[S | None, Any], S],
        as_known_at: datetime | None,
    ) -> list[S]:
        """The states of the members the index names, their streams read together.

        A member is recorded with its index entry: an empty stream is a damaged store.
        """
        found = self.streams(streams, as_known_at)
        states = [_fold(iter(found[name]), evolve) for name in streams]
        for name, state in zip(streams, states, strict=True):
            if state is None:
                raise NotFound("stream", f"the index of members names {name!r}; it holds no facts")
        return [state for state in states if state is not None]

    def streams(
        self, streams: Sequence[str], as_known_at: datetime | None = None
    ) -> dict[str, list[Fact]]:
        """The facts of several streams, each in order, as far as recorded by `as_known_at`:
        in one query where the recorder can (`select_streams`), else one a stream."""
        ids = [self._sid(name) for name in streams]
        own = getattr(self.recorder, "select_streams", None)
        rows = own(ids) if own else [r for i in ids for r in self.recorder.select_events(i)]
        found: dict[str, list[Fact]] = {name: [] for name in streams}
        for fact in facts_of(rows, self.keys, as_known_at):
            found[fact.stream].append(fact)
        return found

    def _refuse_unknown(self, case_number: str, as_known_at: datetime | None) -> None:
        """NotFound unless the agreement was concluded as known then. Its first fact is read
        once a process (a stored fact never changes); every question compares its time."""
        concluded = self._concluded.get(case_number)
        if concluded is None:
            first = self.recorder.select_events(self._sid(agreement_stream(case_number)), limit=1)
            facts = facts_of(first, self.keys)
            if not facts:
                raise self._unknown_agreement(case_number, as_known_at)
            if len(self._concluded) >= CONCLUDED_KEPT:
                self._concluded.clear()
            self._concluded[case_number] = concluded = facts[0].recorded_at
        if as_known_at is not None and concluded > as_known_at:  # as `known_at` counts
            raise self._unknown_agreement(case_number, as_known_at)

    def _unknown_agreement(self, case_number: str, as_known_at: datetime | None) -> NotFound:
        """Why a case number finds nothing: not recorded yet then, or written another way."""
        first = self.recorder.select_events(self._sid(agreement_stream(case_number)), limit=1)
        for recorded in facts_of(first, self.keys):
            return NotFound(
                "case_number",
                f"agreement {case_number!r} was not yet recorded at {_moment(as_known_at)}; "
                f"it was first recorded at {recorded.recorded_at.isoformat()}",
            )
        from biv_domain.ledger.case_numbers import closest_case_number

        reason = f"no agreement with case number {case_number!r}"
        near = closest_case_number(case_number, self.funding_rows().agreements)
        return NotFound("case_number", reason + (f"; did you mean {near!r}?" if near else ""))

    def _members(
        self,
        case_number: str,
        kind: str,
        as_known_at: datetime | None,
        overlapping_period: Period | None = None,
    ) -> list[str]:
        """The refs of the agreement's groups or follow-ups, from its index of members.

        With `overlapping`, only the groups whose days (first day to closing day)
        meet that period: the others held no session in it.
        """
        days = member_days(self._index(case_number, as_known_at), kind)
        return overlapping(days, overlapping_period)

    def _index(self, case_number: str, as_known_at: datetime | None) -> list[Fact]:
        """The agreement's index of members, as recorded by `as_known_at`: kept between
        questions (`members.KeptIndexes`), only the rows after those kept read."""
        index = self._indexes.facts(
            members_stream(case_number), lambda stream, version: self.stream(stream, after=version)
        )
        return known_at(index, as_known_at)

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
        next page is after the last one's `position`. The whole history and its pages are
        read alike (`feed.history_page`), the erasures' streams among the others, so that
        pages add up to the whole.
        """
        members = self._index(case_number, as_known_at)
        groups = [group_stream(ref) for ref in member_days(members, "group")]
        streams = [
            agreement_stream(case_number),
            *groups,
            *(follow_up_stream(ref) for ref in member_days(members, "follow_up")),
        ]
        paged = getattr(self.recorder, "select_streams_after", None)
        if paged is None:  # a store that reads no page of many streams (memory): whole, then cut
            found = self.streams(streams, as_known_at)
            if not found[streams[0]]:
                raise self._unknown_agreement(case_number, as_known_at)
            facts = [f for facts in found.values() for f in facts]
            facts += erasure_trail.erasures_of(self, facts, as_known_at)
            facts = sorted((f for f in facts if f.position > after), key=lambda f: f.position)
            return facts if limit is None else facts[:limit]
        # The whole history and a page of it: the same pages of rows, the erasures among them.
        self._refuse_unknown(case_number, as_known_at)
        erasures = erasure_trail.erasure_streams(self, groups)
        ids = [self._sid(name) for name in [*streams, *erasures]]
        return history_page(paged, ids, self, after, limit, as_known_at)

    # --- The service's questions, asked alike by the CLI, the demo, the pack and HTTP -----------

    def report(
        self, case_number: str, window: Period, as_known_at: datetime | None = None
    ) -> ReportFigures:
        """The agreement's report figures for a window, as known at `as_known_at`."""
        from biv_domain.projections.report import report

        state = self.agreement(case_number, as_known_at)  # NotFound unless known then
        refs = self._members(case_number, "group", as_known_at, window)
        groups = self._states([group_stream(ref) for ref in refs], group.evolve, as_known_at)
        return report(state, groups, window)

    def follow_up_report(
        self, case_number: str, follow_up_ref: str, as_known_at: datetime | None = None
    ) -> tuple[ReportFigures, SubmittedComparison]:
        """The follow-up's window as known now, beside the figures frozen when it was submitted."""
        from biv_domain.projections.report import compare_with_submitted

        follow_up = self.follow_up(follow_up_ref, as_known_at)
        if follow_up.case_number != case_number:
            raise NotFound(
                "follow_up_ref",
                f"follow-up {follow_up_ref!r} belongs to {follow_up.case_number}, "
                f"not {case_number}",
            )
        figures = self.report(case_number, follow_up.window, as_known_at)
        return figures, compare_with_submitted(follow_up, figures)

    def fiscal_year(
        self,
        year: int,
        split: Split = Split.MONTHS,
        municipality: str | None = None,
        as_known_at: datetime | None = None,
    ) -> FiscalYear:
        """Every agreement's funding in a fiscal year: from the funding view, or folded as known."""
        return fiscal_year(self.funding_rows(as_known_at), year, split, municipality)

    def funding_rows(self, as_known_at: datetime | None = None) -> FundingRows:
        """Every agreement and its funding lines: from the funding view (which knows only the
        present), or folded from the view's two topics as recorded by `as_known_at`."""
        if as_known_at is None:
            return self.funding_view.current_rows()
        return fold_funding(f.event for f in self.facts(as_known_at, TOPICS))

    def replay(self, case_number: str, until: datetime | None, on: date) -> Replay:
        """The agreement, its groups and follow-ups as known at `until`, statuses judged on `on`."""
        from biv_domain.projections.replay import replay

        return replay(case_number, self.history(case_number, until), until, on)

    def diff(
        self, case_number: str, since: datetime, until: datetime | None, on: date
    ) -> ReplayDiff:
        """What the facts recorded after `since` and by `until` changed, and which facts did it."""
        from biv_domain.projections.replay import diff

        return diff(case_number, self.history(case_number, until), since, until, on)


def _fold(facts: Iterator[Fact], evolve: Callable[[S | None, Any], S]) -> S | None:
    state: S | None = None
    for fact in facts:
        state = evolve(state, fact.event)
    return state


def _moment(moment: datetime | None) -> str:
    return moment.isoformat() if moment else "now"
