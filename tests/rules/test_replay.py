"""Replaying the facts gives the states the ledger decided on; an import is all or nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from biv_domain.ledger import Ledger, Line, LineRefused
from biv_domain.model.agreement import AgreementState
from biv_domain.model.commands import (
    CloseFollowUp,
    Command,
    ConcludeAgreement,
    EnrollParticipant,
    ExtendAgreement,
    HoldSession,
    PlanGroup,
    ScheduleFollowUp,
    SetFunding,
    SetTarget,
    SubmitReport,
)
from biv_domain.model.events import FollowUpScheduled, FundingChanged, GroupPlanned
from biv_domain.model.fact import Fact
from biv_domain.model.follow_up import FollowUpState
from biv_domain.model.group import GroupState
from biv_domain.model.money import Money
from biv_domain.model.vocabulary import CHILD_GENDERS, Gender, GroupKind, Party, TargetKind
from biv_domain.projections.budget import budget
from tests.strategies import (
    DOMAIN_STREAMS,
    GHOST_CASE,
    GHOST_FOLLOW_UP,
    GHOST_GROUP,
    GHOST_PARTICIPANT,
    StepClock,
    agreement_histories,
    case_number_of,
    evolve_fact,
    fold_facts,
    ledger_states,
)

EXAMPLES = settings(max_examples=40, deadline=None)


def _record_one_by_one(ledger: Ledger, commands: list[Command]) -> list[Fact]:
    recorded: list[Fact] = []
    for command in commands:
        recorded += ledger.execute(command).facts
    return recorded


def _domain(states: dict[str, Any]) -> dict[str, Any]:
    return {s: v for s, v in states.items() if s.startswith(DOMAIN_STREAMS)}


@EXAMPLES
@given(agreement_histories())
def test_replaying_the_stored_facts_twice_gives_the_same_state(commands: list[Command]) -> None:
    ledger = Ledger(clock=StepClock())
    _record_one_by_one(ledger, commands)
    first, second = fold_facts(ledger.facts()), fold_facts(ledger.facts())
    assert first == second
    assert first == ledger_states(ledger, first)
    case_number = case_number_of(commands)
    assert isinstance(first[f"agreement:{case_number}"], AgreementState)
    assert [g.group_ref for g in ledger.groups(case_number)] == [
        c.group_ref for c in commands if isinstance(c, PlanGroup)
    ]
    assert [f.follow_up_ref for f in ledger.follow_ups(case_number)] == [
        c.follow_up_ref for c in commands if isinstance(c, ScheduleFollowUp)
    ]


@EXAMPLES
@given(agreement_histories())
def test_the_state_as_known_at_a_time_is_the_fold_of_the_facts_recorded_by_then(
    commands: list[Command],
) -> None:
    ledger = Ledger(clock=StepClock())
    recorded = _record_one_by_one(ledger, commands)
    case_number = case_number_of(commands)
    for moment in sorted({fact.recorded_at for fact in recorded}):
        known = [fact for fact in recorded if fact.recorded_at <= moment]
        folded = _domain(fold_facts(known))
        for stream, state in folded.items():
            kind, _, ref = stream.partition(":")
            asked = {"agreement": ledger.agreement, "group": ledger.group}.get(
                kind, ledger.follow_up
            )(ref, moment)
            assert asked == state, (stream, moment)
        assert [g.group_ref for g in ledger.groups(case_number, moment)] == [
            f.event.group_ref for f in known if isinstance(f.event, GroupPlanned)
        ]
        assert [f.follow_up_ref for f in ledger.follow_ups(case_number, moment)] == [
            f.event.follow_up_ref for f in known if isinstance(f.event, FollowUpScheduled)
        ]


@EXAMPLES
@given(agreement_histories())
def test_the_same_commands_and_clock_on_a_fresh_store_give_the_same_facts(
    commands: list[Command],
) -> None:
    first, second = Ledger(clock=StepClock()), Ledger(clock=StepClock())
    recorded = _record_one_by_one(first, commands)
    # The same facts, in the same places of the chain. Their hashes differ from store to
    # store since format 3: a participant's fields are sealed under a key of the store's
    # own, with a fresh nonce, and the chain is over what is stored.
    assert _unhashed(_record_one_by_one(second, commands)) == _unhashed(recorded)
    assert _unhashed(second.facts()) == _unhashed(first.facts()) == _unhashed(recorded)
    assert first.verify_chain().intact
    assert second.verify_chain().intact


def _unhashed(facts: Iterable[Fact]) -> list[Fact]:
    return [attrs.evolve(f, hash="", previous="") for f in facts]


@EXAMPLES
@given(agreement_histories())
def test_the_state_built_while_deciding_is_the_state_folded_from_the_store(
    commands: list[Command],
) -> None:
    ledger = Ledger(clock=StepClock())
    built: dict[str, Any] = {}
    for command in commands:
        receipt = ledger.execute(command)
        assert receipt.facts, f"{command!r} recorded nothing"
        for fact in receipt.facts:
            evolve_fact(built, fact)
        # After every command, not only at the end.
        assert _domain(built) == _domain(fold_facts(ledger.facts()))
    assert built == ledger_states(ledger, built)
    assert all(
        isinstance(state, AgreementState | GroupState | FollowUpState)
        for state in _domain(built).values()
    )


@EXAMPLES
@given(agreement_histories())
def test_one_import_and_one_command_at_a_time_record_the_same_events(
    commands: list[Command],
) -> None:
    one_by_one, at_once = Ledger(clock=StepClock()), Ledger(clock=StepClock())
    _record_one_by_one(one_by_one, commands)
    receipt = at_once.execute_all([Line(n, c) for n, c in enumerate(commands, start=1)])
    assert receipt.applied == len(commands)
    assert len({fact.recorded_at for fact in receipt.facts}) == 1  # one transaction, one time

    def events(ledger: Ledger) -> dict[str, list[Any]]:
        streams: dict[str, list[Any]] = {}
        for fact in ledger.facts():
            if fact.stream.startswith(DOMAIN_STREAMS):  # bookkeeping is kept per batch
                streams.setdefault(fact.stream, []).append(fact.event)
        return streams

    assert events(at_once) == events(one_by_one)
    assert _domain(fold_facts(at_once.facts())) == _domain(fold_facts(one_by_one.facts()))


# --- A bad line anywhere ----------------------------------------------------------------------

Damage = Callable[[Ledger, str], Command | None]


def _open_groups(ledger: Ledger, case_number: str) -> list[GroupState]:
    return [g for g in ledger.groups(case_number) if g.completed is None and g.cancelled is None]


def _unknown_group(ledger: Ledger, case_number: str) -> Command:
    return HoldSession(GHOST_GROUP, date(2020, 1, 1), (GHOST_PARTICIPANT,))


def _unknown_agreement(ledger: Ledger, case_number: str) -> Command:
    return SetTarget(GHOST_CASE, TargetKind.GROUPS_PER_YEAR, 6, date(2022, 10, 19))


def _unknown_follow_up(ledger: Ledger, case_number: str) -> Command:
    return SubmitReport(GHOST_FOLLOW_UP, date(2023, 10, 1))


def _unknown_agreement_for_a_group(ledger: Ledger, case_number: str) -> Command:
    return PlanGroup("new#group", GHOST_CASE, GroupKind.CHILDREN, "Ryd", date(2023, 4, 1))


def _age_out_of_range(ledger: Ledger, case_number: str) -> Command | None:
    children = [g for g in _open_groups(ledger, case_number) if g.plan.kind is GroupKind.CHILDREN]
    if not children:
        return None
    terms = ledger.agreement(case_number).terms
    too_old, too_young = terms.max_age + 1, terms.min_age - 1
    age = too_old if too_young < 0 or terms.max_age % 2 else too_young
    g = children[0]
    return EnrollParticipant(g.group_ref, GHOST_PARTICIPANT, g.plan.starts_on, Gender.GIRL, age)


def _no_age_for_a_child(ledger: Ledger, case_number: str) -> Command | None:
    children = [g for g in _open_groups(ledger, case_number) if g.plan.kind is GroupKind.CHILDREN]
    if not children:
        return None
    g = children[-1]
    gender = sorted(CHILD_GENDERS)[0]
    return EnrollParticipant(g.group_ref, GHOST_PARTICIPANT, g.plan.starts_on, gender, None)


def _not_enrolled(ledger: Ledger, case_number: str) -> Command | None:
    groups = _open_groups(ledger, case_number)
    if not groups:
        return None
    g = groups[0]
    day = max([g.plan.starts_on, *(s.held_on for s in g.sessions)]) + timedelta(days=1)
    enrolled = [p.ref for p in g.participants if p.enrolled_on_day(day)]
    return HoldSession(g.group_ref, day, (*enrolled, GHOST_PARTICIPANT))


def _closed_group(ledger: Ledger, case_number: str) -> Command | None:
    closed = [
        g for g in ledger.groups(case_number) if g.completed is not None or g.cancelled is not None
    ]
    if not closed:
        return None
    g = closed[0]
    return EnrollParticipant(g.group_ref, GHOST_PARTICIPANT, g.plan.starts_on, Gender.BOY, 10)


def _conclude_again(ledger: Ledger, case_number: str) -> Command:
    terms = ledger.agreement(case_number).terms
    return ConcludeAgreement(
        case_number=case_number,
        title="again",
        municipality="kommunen",
        partner="partnern",
        start=terms.start,
        end=terms.end,
        notice_months=6,
        decided_on=terms.decided_on,
    )


def _extend_backwards(ledger: Ledger, case_number: str) -> Command | None:
    state = ledger.agreement(case_number)
    if state.notice() is not None:
        return None
    return ExtendAgreement(case_number, state.end_as_decided(), state.terms.start)


def _funding_outside(ledger: Ledger, case_number: str) -> Command:
    state = ledger.agreement(case_number)
    start = state.terms.start - timedelta(days=1)
    return SetFunding(
        case_number, Party.PARTNER, "own_funds", start, state.ends_on(), Money.kronor(1), start
    )


def _close_without_report(ledger: Ledger, case_number: str) -> Command | None:
    waiting = [f for f in ledger.follow_ups(case_number) if f.report is None]
    if not waiting:
        return None
    return CloseFollowUp(waiting[0].follow_up_ref, waiting[0].schedule.end)


ALWAYS: dict[str, Damage] = {
    "unknown group": _unknown_group,
    "unknown agreement": _unknown_agreement,
    "unknown follow-up": _unknown_follow_up,
    "unknown agreement for a group": _unknown_agreement_for_a_group,
}
ONCE_CONCLUDED: dict[str, Damage] = {
    "age out of range": _age_out_of_range,
    "no age for a child": _no_age_for_a_child,
    "participant not enrolled": _not_enrolled,
    "group closed": _closed_group,
    "concluded again": _conclude_again,
    "extended backwards": _extend_backwards,
    "funding outside the period": _funding_outside,
    "closed without a report": _close_without_report,
}


def _numbers(draw: st.DataObject, count: int) -> list[int]:
    """Line numbers of an exchange file: increasing, with gaps where blank lines were."""
    gaps = draw.draw(st.lists(st.integers(1, 3), min_size=count, max_size=count))
    numbers, number = [], 0
    for gap in gaps:
        number += gap
        numbers.append(number)
    return numbers


@EXAMPLES
@given(agreement_histories(min_steps=1), st.data())
def test_one_bad_line_anywhere_refuses_the_import_naming_it_and_stores_nothing(
    commands: list[Command], data: st.DataObject
) -> None:
    case_number = case_number_of(commands)
    numbers = _numbers(data, len(commands))
    with_ids = data.draw(st.lists(st.booleans(), min_size=len(commands), max_size=len(commands)))
    lines = [
        Line(number, command, f"id {number}" if with_id else None)
        for number, command, with_id in zip(numbers, commands, with_ids, strict=True)
    ]
    # Some lines may already be in the store from an earlier import.
    stored = data.draw(st.integers(0, len(lines) - 1), label="lines stored before")
    ledger = Ledger(clock=StepClock())
    if stored:
        ledger.execute_all(lines[:stored])
    before = list(ledger.facts())

    # The bad line replaces one line of the import, chosen by hypothesis.
    position = data.draw(st.integers(stored, len(lines) - 1), label="bad line")
    scratch = Ledger(clock=StepClock())
    scratch.execute_all(lines[:position])
    damages = dict(ALWAYS)
    if position > 0:
        damages.update(ONCE_CONCLUDED)
    made = {kind: damage(scratch, case_number) for kind, damage in damages.items()}
    kind = data.draw(st.sampled_from(sorted(k for k, c in made.items() if c is not None)))
    bad = made[kind]
    assert bad is not None
    damaged = [
        *lines[:position],
        attrs.evolve(lines[position], command=bad),
        *lines[position + 1 :],
    ]

    with pytest.raises(LineRefused) as refused:
        ledger.execute_all(damaged[stored:])
    assert refused.value.number == lines[position].number, (kind, str(refused.value))
    assert refused.value.refusal.field, kind
    assert str(refused.value).startswith(f"line {lines[position].number}: ")
    assert list(ledger.facts()) == before


@EXAMPLES
@given(agreement_histories(min_steps=1), st.data())
def test_a_line_id_used_twice_in_one_import_refuses_the_second_line(
    commands: list[Command], data: st.DataObject
) -> None:
    numbers = _numbers(data, len(commands))
    lines = [Line(n, c, f"id {n}") for n, c in zip(numbers, commands, strict=True)]
    first = data.draw(st.integers(0, len(lines) - 2)) if len(lines) > 1 else 0
    second = data.draw(st.integers(first + 1, len(lines) - 1)) if len(lines) > 1 else 0
    if first == second:
        lines.append(Line(numbers[-1] + 1, commands[-1], lines[first].line_id))
        second = len(lines) - 1
    else:
        lines[second] = attrs.evolve(lines[second], line_id=lines[first].line_id)
    ledger = Ledger(clock=StepClock())
    with pytest.raises(LineRefused) as refused:
        ledger.execute_all(lines)
    assert refused.value.number == lines[second].number
    assert refused.value.refusal.field == "id"
    assert list(ledger.facts()) == []


# --- Lines with ids ---------------------------------------------------------------------------


@EXAMPLES
@given(agreement_histories(), st.data())
def test_reapplying_lines_with_ids_skips_them_all(
    commands: list[Command], data: st.DataObject
) -> None:
    lines = [Line(n, c, f"import-1:{n}") for n, c in enumerate(commands, start=1)]
    ledger = Ledger(clock=StepClock())
    first = ledger.execute_all(lines)
    assert (first.applied, first.skipped) == (len(lines), 0)
    after_first = list(ledger.facts())
    states = fold_facts(after_first)

    again = ledger.execute_all(lines)
    assert (again.applied, again.skipped, again.facts) == (0, len(lines), ())
    assert list(ledger.facts()) == after_first

    # Re-applied in any order, a line at a time, still nothing happens.
    for line in data.draw(st.permutations(lines)):
        receipt = ledger.execute_all([line])
        assert (receipt.applied, receipt.skipped, receipt.facts) == (0, 1, ())
    assert list(ledger.facts()) == after_first
    assert fold_facts(ledger.facts()) == states


@EXAMPLES
@given(agreement_histories(), st.data())
def test_an_interrupted_import_run_again_applies_only_the_rest(
    commands: list[Command], data: st.DataObject
) -> None:
    lines = [Line(n, c, f"import-1:{n}") for n, c in enumerate(commands, start=1)]
    done = data.draw(st.integers(0, len(lines)), label="lines applied before")
    resumed, whole = Ledger(clock=StepClock()), Ledger(clock=StepClock())
    resumed.execute_all(lines[:done])
    receipt = resumed.execute_all(lines)
    assert (receipt.applied, receipt.skipped) == (len(lines) - done, done)
    whole.execute_all(lines)
    assert _domain(fold_facts(resumed.facts())) == _domain(fold_facts(whole.facts()))


# --- Decisions entered late -------------------------------------------------------------------


def test_a_funding_change_records_as_previous_the_amount_the_budget_showed() -> None:
    ledger = Ledger(clock=StepClock())
    ledger.execute(
        ConcludeAgreement(
            case_number="2016-292",
            title="Barn i väntan / Barn i start",
            municipality="Linköpings kommun",
            partner="Linköpings domkyrkopastorat",
            start=date(2023, 4, 1),
            end=date(2024, 3, 31),
            notice_months=6,
            decided_on=date(2022, 10, 19),
        )
    )

    def set_line(amount: str, decided_on: date) -> FundingChanged:
        receipt = ledger.execute(
            SetFunding(
                case_number="2016-292",
                party=Party.MUNICIPALITY,
                source="committee_budget",
                start=date(2023, 4, 1),
                end=date(2024, 3, 31),
                amount=Money.parse(amount),
                decided_on=decided_on,
            )
        )
        (changed,) = [f.event for f in receipt.facts if isinstance(f.event, FundingChanged)]
        return changed

    set_line("300500", date(2023, 3, 1))
    set_line("250000", date(2022, 12, 1))  # an earlier decision, entered late
    shown = budget(ledger.agreement("2016-292"), date(2023, 5, 31)).funding
    assert [str(line.amount) for line in shown] == ["300500.00"]  # the later decision stands

    withdrawn = set_line("0", date(2023, 6, 1))
    assert withdrawn.previous_amount == Money.parse("300500")
