"""One storage declaration per type of fact, every table derived from it (issue 20).

docs/architecture.md's "How to add" says where a command and an event version go; these
tests hold the code to it: each table the ledger reads is the declarations', nothing is
written by hand, a command finds its decider and events in one look-up, and the steps for
an event version are followed once for real, on every store.
"""

from __future__ import annotations

import re
import typing
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from biv_domain.converter import converter
from biv_domain.ledger import Ledger, personal, upcasting
from biv_domain.ledger.bookkeeping import RECORDABLE_TYPES, STORED
from biv_domain.ledger.store_info import FactCount, store_info
from biv_domain.ledger.upcasting import upcast, version_of
from biv_domain.model import commands as commands_module
from biv_domain.model import events
from biv_domain.model.commands import (
    COMMANDS,
    CancelGroup,
    Command,
    ConcludeAgreement,
    PlanGroup,
)
from biv_domain.model.events import (
    EVENT_TYPES,
    EVENTS,
    GroupCancelled,
    SessionHeld,
    session_minutes_v1_v2,
)
from biv_domain.model.fact import Fact
from biv_domain.model.handling import HANDLED
from biv_domain.model.protection import ApplyRetention, EraseParticipant
from biv_domain.model.stored import Stored, StoredTypes
from biv_domain.model.vocabulary import GroupKind
from biv_domain.projections.fiscal_year import TOPICS
from tests.strategies import EVENT_STRATEGIES, StepClock, agreement_histories

DOC = Path(__file__).parents[2] / "docs" / "architecture.md"


# --- Every table is derived ------------------------------------------------------------------


def test_each_table_the_ledger_reads_is_the_declarations_own() -> None:
    # Given the declarations of every stored type (the events' and the ledger's records)
    # Then each table by its old name is the one derived from them, not a copy kept by hand
    assert EVENT_TYPES is EVENTS.types
    assert RECORDABLE_TYPES is STORED.types
    assert upcasting.VERSIONS is STORED.versions
    assert upcasting.UPCASTERS is STORED.upcasters
    assert personal.SEALED is STORED.sealed
    assert personal.LISTS is STORED.lists
    # And each holds what the declarations say, and nothing else
    for declared in STORED:
        assert RECORDABLE_TYPES[declared.topic] is declared.cls
        assert version_of(declared.topic) == declared.version == len(declared.upcasters) + 1
        assert personal.SEALED.get(declared.topic, ()) == declared.sealed
        assert personal.LISTS.get(declared.topic, ()) == declared.lists
    assert set(RECORDABLE_TYPES) == set(EVENT_TYPES) | {
        "LineApplied",
        "MemberJoined",
        "MemberClosed",
        "BatchSealed",
        "SettingsChanged",
        "FormatRecorded",
        "ParticipantErased",
    }
    assert set(upcasting.UPCASTERS) == {
        (d.topic, version) for d in STORED for version in range(1, d.version)
    }
    assert set(TOPICS) == {"AgreementConcluded", "FundingChanged"} <= set(EVENT_TYPES)


def test_the_worked_versions_are_declared_where_the_doc_says() -> None:
    # Given SessionHeld, whose version 2 added the session's length
    declared = EVENTS.of(SessionHeld)
    # Then its declaration holds the upcaster, and so its version and the ledger's tables
    assert declared.upcasters == (session_minutes_v1_v2,)
    assert (declared.version, version_of("SessionHeld")) == (2, 2)
    assert upcasting.UPCASTERS[("SessionHeld", 1)] is session_minutes_v1_v2
    assert declared.lists == ("attendees",)


def test_a_participant_s_fields_are_declared_with_the_reference_first() -> None:
    # Given the events that name one participant
    sealed = {d.topic: d.sealed for d in EVENTS if d.sealed}
    # Then those are the participant's events, each sealing the reference and no date
    assert set(sealed) == {"ParticipantEnrolled", "ParticipantWithdrew", "ParticipantCorrected"}
    assert all(fields[0] == "participant_ref" for fields in sealed.values())
    assert not any(f.endswith("_on") or f == "group_ref" for fs in sealed.values() for f in fs)


# --- The effective date -----------------------------------------------------------------------


def test_every_event_declares_a_date_field_as_its_effective_date() -> None:
    for declared in EVENTS:
        assert declared.effective is not None, declared.topic
        assert typing.get_type_hints(declared.cls)[declared.effective] is date


@given(st.sampled_from(sorted(EVENT_STRATEGIES)).flatmap(lambda name: EVENT_STRATEGIES[name]))
def test_a_fact_s_effective_date_is_its_event_s_declared_field(event: Any) -> None:
    # Given any event, recorded as a fact
    fact = Fact("stream", 1, datetime(2024, 1, 1, tzinfo=UTC), event)
    # Then its effective date is the field its declaration names
    declared = EVENTS.of(type(event)).effective
    assert declared is not None
    assert fact.effective_on == getattr(event, declared)
    assert not fact.is_bookkeeping


# --- A declaration refuses what cannot be stored ------------------------------------------------


@attrs.frozen
class Noted:
    participant_ref: str
    names: tuple[str, ...]
    on: date


@pytest.mark.parametrize(
    ("declaration", "reason"),
    [
        (lambda: Stored(Noted, "when"), re.escape("Noted declares ['when'] but has no such field")),
        (lambda: Stored(Noted, lists=("attendees",)), "has no such field"),
        (lambda: Stored(Noted, sealed=("on", "participant_ref")), "start with 'participant_ref'"),
        (lambda: StoredTypes(Stored(Noted), Stored(Noted)), "Noted is declared twice"),
    ],
)
def test_a_declaration_naming_what_its_type_lacks_is_refused(declaration: Any, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        declaration()


# --- A command, in one look-up -----------------------------------------------------------------


def test_every_command_finds_its_decider_and_events_and_every_event_a_command() -> None:
    # Given the commands of the exchange format; erasure and retention decide in the model
    # (`protection`), but the fact they record is the ledger's own (`ParticipantErased`)
    partnership = set(COMMANDS.values()) - {EraseParticipant, ApplyRetention}
    # Then each names its decider and its events, and every declared event is one's
    assert set(HANDLED) == partnership
    assert {e for h in HANDLED.values() for e in h.events} == set(EVENT_TYPES.values())
    for command, handled in HANDLED.items():
        # A decider imports its commands' types for type checking only (a query loads no
        # command), so its annotation's names are resolved as the commands module has them.
        decides = typing.get_type_hints(handled.decider, localns=vars(commands_module))["command"]
        assert command in typing.get_args(decides), (command, handled.decider)
        assert handled.stored == tuple(EVENTS.of(event) for event in handled.events)


@settings(max_examples=40, deadline=None)
@given(agreement_histories(min_steps=5, max_steps=25))
def test_each_command_records_only_the_events_its_handling_names(commands: list[Command]) -> None:
    # Given a valid history; when each command is executed
    ledger = Ledger(clock=StepClock())
    for command in commands:
        receipt = ledger.execute(command)
        # Then the partnership's events it records are of the types HANDLED names for it
        recorded = {type(f.event) for f in receipt.facts if not f.is_bookkeeping}
        assert recorded, command
        assert recorded <= set(HANDLED[type(command)].events), command


# --- The doc's steps for an event version, followed once -----------------------------------------


def reason_kept_v1_v2(data: dict[str, Any]) -> dict[str, Any]:
    """GroupCancelled 1 → 2 (this test's own version): the reason says it was recorded in 1."""
    return {**data, "reason": f"{data['reason']} (version 1)"}


def _group(ledger: Ledger, group_ref: str) -> None:
    ledger.execute(PlanGroup(group_ref, "Dnr T-1", GroupKind.CHILDREN, "Ryd", date(2024, 2, 1)))


def test_the_doc_s_steps_for_an_event_version_hold_on_every_store(ledger: Ledger) -> None:
    # Given the doc's steps for an event version, whose example is the real declaration
    steps = DOC.read_text("utf-8").split("- **An event version.**")[1].split("- **A projection")[0]
    example = re.search(r"`(Stored\(SessionHeld, .*?\))`", steps.replace("\n", " "))
    assert example is not None
    names = {"Stored": Stored, "SessionHeld": SessionHeld, **vars(events)}
    assert eval(example[1], names) == EVENTS.of(SessionHeld)
    assert "`ledger.upcasting.FORMAT`" in steps
    assert upcasting.FORMAT >= 3
    # And a group cancelled while GroupCancelled is of version 1
    assert version_of("GroupCancelled") == 1
    start, end, decided = date(2024, 1, 1), date(2025, 12, 31), date(2023, 12, 1)
    ledger.execute(ConcludeAgreement("Dnr T-1", "T", "L", "P", start, end, 3, decided))
    _group(ledger, "G-OLD")
    ledger.execute(CancelGroup("G-OLD", date(2024, 3, 1), "too few children"))
    was = EVENTS.of(GroupCancelled)
    # When its declaration gains an upcaster (step 2), as events.py would declare it
    newer = Stored(GroupCancelled, "on", (reason_kept_v1_v2,))
    with EVENTS.declared(newer):
        # Then it is of version 2 in every table the ledger reads
        assert (version_of("GroupCancelled"), EVENTS.of(GroupCancelled).version) == (2, 2)
        assert upcasting.UPCASTERS[("GroupCancelled", 1)] is reason_kept_v1_v2
        # And the old fact reads upcast, its stored bytes unchanged
        old = ledger.group("G-OLD").cancelled
        assert old is not None
        assert old.reason == "too few children (version 1)"
        # And a new fact is stored in version 2 and reads as it was recorded
        _group(ledger, "G-NEW")
        ledger.execute(CancelGroup("G-NEW", date(2024, 3, 2), "the leader moved"))
        new = ledger.group("G-NEW").cancelled
        assert new is not None
        assert new.reason == "the leader moved"
        counted = {(c.type, c.version): c for c in store_info(ledger).by_type}
        assert counted[("GroupCancelled", 1)] == FactCount("GroupCancelled", 1, 1, 2)
        assert counted[("GroupCancelled", 2)] == FactCount("GroupCancelled", 2, 1, 2)
        assert upcast("GroupCancelled", 2, converter.unstructure(new)) == converter.unstructure(new)
    # And afterwards every table is as it was
    assert EVENTS.of(GroupCancelled) is was
    assert STORED.of(GroupCancelled) is was
    assert version_of("GroupCancelled") == 1
    assert ("GroupCancelled", 1) not in upcasting.UPCASTERS
