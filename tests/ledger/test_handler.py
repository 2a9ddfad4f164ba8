"""The write path as a handler: load → decide → seal → store → views, each one call.

A batch reads the store through one reader (`unit_of_work.StreamReader`); these tests
put a watching reader in its place and check what a command has read: only the
states its rules use. And the recorder is given the batch's extra rows as one typed
`BatchRows`, written after the facts in a fixed order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import pytest

from biv_domain.ledger import Ledger
from biv_domain.ledger.bookkeeping import agreement_stream, group_stream
from biv_domain.ledger.deciding import decide
from biv_domain.ledger.log_storage import LogAppend
from biv_domain.ledger.store import BatchRows
from biv_domain.ledger.unit_of_work import Batch
from biv_domain.model.commands import (
    Command,
    CompleteGroup,
    ConcludeAgreement,
    CorrectParticipant,
    EnrollParticipant,
    HoldSession,
    PlanGroup,
    WithdrawParticipant,
)
from biv_domain.model.fact import Fact
from biv_domain.model.vocabulary import Gender, GroupKind

CASE = "Dnr 2016-292"
GROUP = "ILL-2023-RYD-1"


class WatchedReader:
    """The ledger's reader, noting every stream a batch reads (whole, after a version, its
    last fact, or whether it exists)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.read: list[str] = []

    def stream(self, stream: str, *, after: int = 0) -> Iterable[Fact]:
        self.read.append(stream)
        return self.ledger.stream(stream, after=after)

    def last_fact(self, stream: str) -> Fact | None:
        self.read.append(stream)
        return self.ledger.last_fact(stream)

    def existing_streams(self, streams: Sequence[str]) -> set[str]:
        self.read.extend(streams)
        return self.ledger.existing_streams(streams)


@pytest.fixture
def planned(ledger: Ledger) -> Ledger:
    """An agreement with one group and one child enrolled, on each store."""
    ledger.execute(
        ConcludeAgreement(
            CASE,
            "Barn i väntan",
            "Linköpings kommun",
            "Partner",
            date(2023, 1, 1),
            date(2024, 12, 31),
            6,
            date(2022, 6, 1),
        )
    )
    ledger.execute(PlanGroup(GROUP, CASE, GroupKind.CHILDREN, "Ryd", date(2023, 4, 12)))
    ledger.execute(EnrollParticipant(GROUP, "C-1", date(2023, 4, 12), Gender.GIRL, 9))
    return ledger


def read_for(ledger: Ledger, command: Command) -> list[str]:
    """The streams a fresh batch reads to decide `command` (nothing kept from before)."""
    reader = WatchedReader(ledger)
    batch = Batch(reader)
    decide(ledger.reads, batch, command)
    assert batch.pending  # the command was decided: it has events
    return reader.read


@pytest.mark.parametrize(
    "command",
    [
        HoldSession(GROUP, date(2023, 4, 19), ("C-1",)),
        WithdrawParticipant(GROUP, "C-1", date(2023, 4, 20)),
        CompleteGroup(GROUP, date(2023, 6, 1)),
    ],
    ids=lambda command: command.name,
)
def test_given_a_group_command_whose_rules_ignore_the_agreement_then_it_is_not_read(
    planned: Ledger, command: Command
) -> None:
    read = read_for(planned, command)
    assert group_stream(GROUP) in read
    assert agreement_stream(CASE) not in read


@pytest.mark.parametrize(
    "command",
    [
        EnrollParticipant(GROUP, "C-2", date(2023, 4, 19), Gender.BOY, 8),
        CorrectParticipant(GROUP, "C-1", "a typing error", age=10),
        PlanGroup("ILL-2023-RYD-2", CASE, GroupKind.CHILDREN, "Ryd", date(2023, 8, 1)),
    ],
    ids=lambda command: command.name,
)
def test_given_a_group_command_whose_rules_use_the_agreements_terms_then_it_is_read(
    planned: Ledger, command: Command
) -> None:
    assert agreement_stream(CASE) in read_for(planned, command)


def test_the_recorder_writes_the_log_then_the_view_then_the_counts_after_the_facts() -> None:
    written: list[tuple[str, Any]] = []

    def rows() -> BatchRows:
        return BatchRows(
            log=LogAppend(lambda cursor, _part: written.append(("log", cursor)), (), 0),
            view=lambda cursor, last: written.append(("view", last)),
            counts=lambda cursor, last: written.append(("counts", last)),
        )

    rows().after_insert("cursor", 41)
    assert written == [("log", "cursor"), ("view", 41), ("counts", 41)]
    written.clear()
    rows().after_insert("cursor", None)  # the store named no row ids: only the log follows
    assert written == [("log", "cursor")]
    written.clear()
    sent = rows()
    assert sent.log is not None
    sent.log.written = True  # a recorder that sent the log's part with the facts (PostgreSQL)
    sent.after_insert("cursor", 41)
    assert written == [("view", 41), ("counts", 41)]


# What `dir(ledger)` shows: the partnership's operations and the few objects an embedder
# uses (its store, keys, funding view, log), never the `eventsourcing` library's
# internals, which are behind one named attribute (`app`).
PUBLIC = {
    # recording, and the store's upkeep
    "execute", "execute_all", "configure", "rekey", "rebuild", "refresh", "close",
    "requires_actor", "retries_on_conflict", "actor", "clock", "fact_counts",
    # the partnership's questions
    "agreement", "group", "follow_up", "groups", "follow_ups", "history", "report",
    "follow_up_report", "fiscal_year", "funding_rows", "replay", "diff",
    # the facts, the chain and the feed
    "facts", "facts_after", "follow", "stream", "streams", "last_fact", "existing_streams",
    "rows", "chain_head", "digest", "verify_chain", "recorded_format",
    # the log over the chain
    "log_size", "log_root", "inclusion_proof", "inclusion_proofs", "consistency_proof",
    "leaf_data", "checkpoint", "checkpoint_of", "cosigners", "add_cosignature",
    "log_verifier", "require_log_key",
    # what it has
    "app", "reads", "store", "keys", "funding_view", "log_key", "log_storage",
}  # fmt: skip


def test_the_ledgers_public_names_are_its_operations_not_the_librarys() -> None:
    ledger = Ledger()
    public = {name for name in dir(ledger) if not name.startswith("_")}
    assert public == PUBLIC
    for internal in ("construct_mapper", "snapshots", "mapper", "recorder", "factory", "events"):
        assert not hasattr(ledger, internal)
    assert ledger.app.recorder is ledger.reads.recorder  # the library, behind one attribute
    ledger.close()


def test_each_operation_of_the_ledger_has_a_docstring() -> None:
    for name in PUBLIC:
        member = getattr(Ledger, name, None)
        if callable(member) or isinstance(member, property):
            assert (member.__doc__ or "").strip(), f"Ledger.{name} has no docstring"
