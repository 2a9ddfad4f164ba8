"""A state machine drives the ledger with commands, valid and not, against a simple model.

The model (`tests.strategies`' rules' model, the one the generator of valid histories
keeps too) is written from the rules in ../shared/domain.md and the deciders'
docstrings, not from the deciders: it says whether a command should be accepted. After
every command: a refused one changed nothing in the store, an accepted one added
exactly the facts its receipt returned, and the ledger's states are a fold of
its stored facts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from biv_domain.errors import Refused
from biv_domain.ledger import Ledger
from biv_domain.model.commands import (
    CancelGroup,
    CloseFollowUp,
    Command,
    CompleteGroup,
    ConcludeAgreement,
    CorrectAttendance,
    EnrollParticipant,
    ExtendAgreement,
    GiveNotice,
    HoldSession,
    PlanGroup,
    RecordDisbursement,
    RetractSession,
    ScheduleFollowUp,
    SetFunding,
    SetTarget,
    SubmitReport,
    WithdrawParticipant,
)
from biv_domain.model.fact import Fact
from biv_domain.model.money import Money
from biv_domain.model.vocabulary import Gender, GroupKind, Party, TargetKind
from tests.strategies import (
    DOMAIN_STREAMS,
    AgreementModel,
    FollowUpModel,
    GroupModel,
    MemberModel,
    StepClock,
    evolve_fact,
    fold_facts,
    ledger_states,
    money,
)

CASES = ("2016-292", "2023-17")
GROUPS = ("g1", "g2", "g3")
PARTICIPANTS = ("p1", "p2", "p3", "p4")
FOLLOW_UPS = ("f1", "f2")
FIRST, LAST = date(2019, 6, 1), date(2023, 6, 30)
WAYS = st.integers(0, 5)  # 0-1: near a known day, 2: any day, 3-5: inside the span given
SHIFTS = st.sampled_from([-1, 0, 0, 1, 7])
ANY_DAY = st.integers(0, (LAST - FIRST).days)
CHILD = frozenset({Gender.GIRL, Gender.BOY, Gender.OTHER, Gender.UNKNOWN})
ADULT = frozenset({Gender.WOMAN, Gender.MAN, Gender.OTHER, Gender.UNKNOWN})


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.ledger = Ledger(clock=StepClock())
        self.stored: list[Fact] = []
        self.folded: dict[str, Any] = {}  # the stored facts folded, a receipt at a time
        self.agreements: dict[str, AgreementModel] = {}
        self.groups: dict[str, GroupModel] = {}
        self.follow_ups: dict[str, FollowUpModel] = {}
        self.accepted = 0
        self.refused = 0

    # --- Drawing values near the ones that matter ---------------------------------------------

    def _days(self) -> list[date]:
        days = [FIRST, LAST]
        for a in self.agreements.values():
            days += [a.start, a.end, a.last_day]
        for g in self.groups.values():
            days += [g.starts_on, *g.sessions]
            for m in g.members.values():
                days += [m.enrolled_on, *m.attended]
        for f in self.follow_ups.values():
            days += [f.start, f.end]
        return days

    def day(self, data: st.DataObject, label: str, within: tuple[date, date] | None = None) -> date:
        """A day near one the model knows, or inside the span given, or any at all.

        Drawn as whole numbers from strategies hypothesis keeps in its cache: building
        a new strategy at every step would cost more than the ledger does.
        """
        way = data.draw(WAYS, label=f"{label}: how")
        if way < 2:
            days = self._days()
            day = days[data.draw(st.integers(0, len(days) - 1), label=f"{label}: near")]
            return day + timedelta(days=data.draw(SHIFTS, label=f"{label}: shift"))
        if way == 2 or within is None or within[1] < within[0]:
            return FIRST + timedelta(days=data.draw(ANY_DAY, label=label))
        offset = data.draw(st.integers(0, (within[1] - within[0]).days), label=label)
        return within[0] + timedelta(days=offset)

    def span(self, case: str) -> tuple[date, date] | None:
        a = self.agreements.get(case)
        return (a.start, a.last_day) if a else None

    def case(self, data: st.DataObject) -> str:
        return self.pick(data, CASES, sorted(self.agreements), "case_number")

    @staticmethod
    def pick(data: st.DataObject, pool: tuple[str, ...], likely: list[str], label: str) -> str:
        """A name from the pool, more often one the model says a valid command would use."""
        use_likely: bool = data.draw(st.booleans(), label=f"{label}: likely")
        names: Sequence[str] = likely if likely and use_likely else pool
        return names[data.draw(st.integers(0, len(names) - 1), label=label)]

    # --- Running a command --------------------------------------------------------------------

    def run(self, command: Command, expected: bool) -> bool:
        """Executes the command; checks the store against the receipt or the refusal."""
        before = self.stored  # the store as the last step left it (checked there)
        try:
            receipt = self.ledger.execute(command)
        except Refused as refusal:
            refused: Refused | None = refusal
        else:
            refused = None
        if refused is not None:
            assert list(self.ledger.facts()) == before, "a refused command changed the store"
            assert not expected, f"refused, but the model accepts it: {command!r}: {refused}"
            self.refused += 1
            return False
        assert expected, f"accepted, but the model refuses it: {command!r}"
        assert receipt.facts, "an accepted command recorded nothing"
        assert (receipt.applied, receipt.skipped) == (1, 0)
        after = list(self.ledger.facts())
        assert after == before + list(receipt.facts), "the store has other facts than the receipt"
        self.stored = after
        for fact in receipt.facts:
            evolve_fact(self.folded, fact)
        self.accepted += 1
        return True

    # --- The agreement ------------------------------------------------------------------------

    @initialize(data=st.data())
    def set_up(self, data: st.DataObject) -> None:
        """An agreement with a children's and a parents' group of two each, to start from."""
        self.conclude(CASES[0], data)
        a = self.agreements[CASES[0]]
        for ref, kind in (("g1", GroupKind.CHILDREN), ("g2", GroupKind.PARENTS)):
            starts_on = data.draw(st.dates(a.start, a.last_day), label="starts_on")
            self._plan(ref, CASES[0], kind, starts_on)
            children = kind is GroupKind.CHILDREN
            for participant in PARTICIPANTS[:2]:
                gender = data.draw(st.sampled_from(sorted(CHILD if children else ADULT)))
                age = data.draw(st.integers(a.min_age, a.max_age)) if children else None
                enrolled_on = starts_on + timedelta(days=data.draw(st.integers(0, 30)))
                self._enroll(ref, participant, gender, age, enrolled_on)
        first = data.draw(st.dates(a.start, a.last_day), label="follow-up start")
        self._schedule("f1", CASES[0], first, min(a.last_day, first + timedelta(days=180)), first)

    @rule(case=st.sampled_from(CASES), data=st.data())
    def conclude(self, case: str, data: st.DataObject) -> None:
        start = data.draw(st.dates(date(2020, 1, 1), date(2020, 12, 31)), label="start")
        end = start + timedelta(days=data.draw(st.integers(0, 800), label="days"))
        notice_months = data.draw(st.integers(0, 12), label="notice_months")
        min_age = data.draw(st.integers(0, 9), label="min_age")
        max_age = data.draw(st.integers(min_age, 20), label="max_age")
        command = ConcludeAgreement(
            case_number=case,
            title="Barn i väntan",
            municipality="Linköpings kommun",
            partner="Linköpings domkyrkopastorat",
            start=start,
            end=end,
            notice_months=notice_months,
            decided_on=start - timedelta(days=30),
            min_age=min_age,
            max_age=max_age,
        )
        if self.run(command, case not in self.agreements):
            self.agreements[case] = AgreementModel(start, end, notice_months, min_age, max_age)

    @rule(data=st.data())
    def extend(self, data: st.DataObject) -> None:
        case = self.case(data)
        end, decided_on = self.day(data, "end"), self.day(data, "decided_on", self.span(case))
        a = self.agreements.get(case)
        ok = (
            a is not None
            and a.notice_ends is None
            and a.start <= decided_on <= a.end
            and end > a.end
        )
        if self.run(ExtendAgreement(case, end, decided_on), ok):
            assert a is not None
            a.end = end

    @rule(data=st.data())
    def give_notice(self, data: st.DataObject) -> None:
        case = self.case(data)
        given_on = self.day(data, "given_on", self.span(case))
        party = data.draw(st.sampled_from(Party), label="party")
        a = self.agreements.get(case)
        ok = a is not None and a.notice_ends is None and a.start <= given_on <= a.end
        if self.run(GiveNotice(case, party, given_on), ok):
            assert a is not None
            a.give_notice(given_on)

    @rule(data=st.data())
    def set_funding(self, data: st.DataObject) -> None:
        case = self.case(data)
        span = self.span(case)
        first, last = sorted((self.day(data, "start", span), self.day(data, "end", span)))
        party = data.draw(st.sampled_from(Party), label="party")
        source = data.draw(st.sampled_from(["committee_budget", "own_funds"]), label="source")
        amount = data.draw(st.one_of(st.just(Money.zero()), money(10**9)), label="amount")
        a = self.agreements.get(case)
        ok = a is not None and a.covers(first, last)
        command = SetFunding(case, party, source, first, last, amount, first)
        self.run(command, ok)

    @rule(kind=st.sampled_from(TargetKind), value=st.integers(0, 50), data=st.data())
    def set_target(self, kind: TargetKind, value: int, data: st.DataObject) -> None:
        case = self.case(data)
        self.run(SetTarget(case, kind, value, date(2020, 1, 1)), case in self.agreements)

    @rule(amount=money(10**8).filter(bool), data=st.data())
    def record_disbursement(self, amount: Money, data: st.DataObject) -> None:
        case = self.case(data)
        command = RecordDisbursement(case, amount, self.day(data, "paid_on"))
        self.run(command, case in self.agreements)

    # --- Groups -------------------------------------------------------------------------------

    @rule(ref=st.sampled_from(GROUPS), kind=st.sampled_from(GroupKind), data=st.data())
    def plan_group(self, ref: str, kind: GroupKind, data: st.DataObject) -> None:
        case = self.case(data)
        self._plan(ref, case, kind, self.day(data, "starts_on", self.span(case)))

    def _plan(self, ref: str, case: str, kind: GroupKind, starts_on: date) -> None:
        a = self.agreements.get(case)
        ok = ref not in self.groups and a is not None and a.covers(starts_on, starts_on)
        if self.run(PlanGroup(ref, case, kind, "Skäggetorp", starts_on), ok):
            self.groups[ref] = GroupModel(case, kind, starts_on)

    def _open(self, ref: str) -> GroupModel | None:
        g = self.groups.get(ref)
        return g if g is not None and not g.closed else None

    def _open_refs(self) -> list[str]:
        return [ref for ref, g in self.groups.items() if not g.closed]

    @rule(data=st.data())
    def enroll(self, data: st.DataObject) -> None:
        ref = self.pick(data, GROUPS, self._open_refs(), "group_ref")
        g = self._open(ref)
        new = [p for p in PARTICIPANTS if g is not None and p not in g.members]
        participant = self.pick(data, PARTICIPANTS, new, "participant_ref")
        likely = sorted(CHILD if g is not None and g.kind is GroupKind.CHILDREN else ADULT)
        gender = data.draw(st.one_of(st.sampled_from(likely), st.sampled_from(Gender)), "gender")
        age = data.draw(st.one_of(st.integers(6, 21), st.none(), st.integers(-1, 40)), "age")
        enrolled_on = self.day(data, "enrolled_on", (g.starts_on, LAST) if g else None)
        self._enroll(ref, participant, gender, age, enrolled_on)

    def _enroll(
        self, ref: str, participant: str, gender: Gender, age: int | None, enrolled_on: date
    ) -> None:
        g = self._open(ref)
        ok = g is not None and participant not in g.members
        if g is not None and g.kind is GroupKind.CHILDREN:
            a = self.agreements[g.case_number]
            ok = ok and gender in CHILD and age is not None and a.min_age <= age <= a.max_age
        else:
            ok = ok and gender in ADULT and (age is None or age >= 0)
        if self.run(EnrollParticipant(ref, participant, enrolled_on, gender, age), ok):
            assert g is not None
            g.members[participant] = MemberModel(enrolled_on)

    @rule(data=st.data())
    def withdraw(self, data: st.DataObject) -> None:
        ref = self.pick(data, GROUPS, self._open_refs(), "group_ref")
        g = self._open(ref)
        participant = self.pick(data, PARTICIPANTS, sorted(g.members) if g else [], "participant")
        on = self.day(data, "on")
        m = g.members.get(participant) if g is not None else None
        ok = m is not None and m.withdrawn_on is None and on >= m.leaves_from
        if self.run(WithdrawParticipant(ref, participant, on), ok):
            assert m is not None
            m.withdrawn_on = on

    @rule(data=st.data())
    def hold_session(self, data: st.DataObject) -> None:
        ref = self.pick(data, GROUPS, self._open_refs(), "group_ref")
        g = self._open(ref)
        held_on = self.day(data, "held_on", (g.starts_on, LAST) if g else None)
        present = g.present_on(held_on) if g else []
        anyone = st.lists(st.sampled_from(PARTICIPANTS), min_size=1, max_size=4, unique=True)
        likely = st.lists(st.sampled_from(present), min_size=1, unique=True) if present else anyone
        attendees = data.draw(st.one_of(likely, likely, anyone), label="attendees")
        ok = (
            g is not None
            and held_on >= g.starts_on
            and held_on not in g.sessions
            and all(a in g.members and g.members[a].present(held_on) for a in attendees)
        )
        if self.run(HoldSession(ref, held_on, tuple(attendees)), ok):
            assert g is not None
            g.hold(held_on, attendees)

    # Corrections: allowed whatever became of the group since, completed or cancelled.

    def _a_session(self, data: st.DataObject) -> tuple[str, GroupModel | None, date]:
        met = sorted(ref for ref, g in self.groups.items() if g.sessions)
        ref = self.pick(data, GROUPS, met, "group_ref")
        g = self.groups.get(ref)
        held = sorted(g.sessions) if g and g.sessions else None
        held_on = (
            data.draw(st.sampled_from(held), label="held_on") if held else self.day(data, "held_on")
        )
        return ref, g, held_on

    @precondition(lambda self: any(g.sessions for g in self.groups.values()))
    @rule(data=st.data())
    def retract_session(self, data: st.DataObject) -> None:
        ref, g, held_on = self._a_session(data)
        ok = g is not None and held_on in g.sessions
        if self.run(RetractSession(ref, held_on, "entered by mistake"), ok):
            assert g is not None
            g.sessions.remove(held_on)
            for member in g.members.values():
                if held_on in member.attended:
                    member.attended.remove(held_on)

    @precondition(lambda self: any(g.sessions for g in self.groups.values()))
    @rule(data=st.data())
    def correct_attendance(self, data: st.DataObject) -> None:
        ref, g, held_on = self._a_session(data)
        present = g.present_on(held_on) if g else []
        anyone = st.lists(st.sampled_from(PARTICIPANTS), min_size=1, max_size=4, unique=True)
        likely = st.lists(st.sampled_from(present), min_size=1, unique=True) if present else anyone
        attendees = data.draw(st.one_of(likely, anyone), label="attendees")
        before = {p for p, m in g.members.items() if held_on in m.attended} if g else set()
        ok = (
            g is not None
            and held_on in g.sessions
            and set(attendees) != before
            and all(a in g.members and g.members[a].present(held_on) for a in attendees)
        )
        if self.run(CorrectAttendance(ref, held_on, tuple(attendees), "list mixed up"), ok):
            assert g is not None
            for p in before:
                g.members[p].attended.remove(held_on)
            for a in attendees:
                g.members[a].attended.append(held_on)

    # Closing a group ends its story; wait until some group has met, so that groups live.
    @precondition(lambda self: any(g.sessions for g in self.groups.values()))
    @rule(data=st.data())
    def complete_group(self, data: st.DataObject) -> None:
        ref = self.pick(data, GROUPS, self._open_refs(), "group_ref")
        on = self.day(data, "on")
        g = self._open(ref)
        ok = g is not None and on >= g.completes_from
        if self.run(CompleteGroup(ref, on), ok):
            assert g is not None
            g.closed = True

    # Closing a group ends its story; wait until some group has met, so that groups live.
    @precondition(lambda self: any(g.sessions for g in self.groups.values()))
    @rule(data=st.data())
    def cancel_group(self, data: st.DataObject) -> None:
        ref = self.pick(data, GROUPS, self._open_refs(), "group_ref")
        on = self.day(data, "on")
        g = self._open(ref)
        # A group is not cancelled before a session it has held.
        ok = g is not None and all(on >= held for held in g.sessions)
        if self.run(CancelGroup(ref, on, "för få anmälda"), ok):
            assert g is not None
            g.closed = True

    # --- Follow-ups ---------------------------------------------------------------------------

    @rule(ref=st.sampled_from(FOLLOW_UPS), data=st.data())
    def schedule_follow_up(self, ref: str, data: st.DataObject) -> None:
        case = self.case(data)
        first = self.day(data, "start", self.span(case))
        last = first + timedelta(days=data.draw(st.integers(0, 200), label="days"))
        due_on = last + timedelta(days=data.draw(st.integers(0, 60), label="due after"))
        self._schedule(ref, case, first, last, due_on)

    def _schedule(self, ref: str, case: str, first: date, last: date, due_on: date) -> None:
        a = self.agreements.get(case)
        ok = ref not in self.follow_ups and a is not None and a.covers(first, last)
        if self.run(ScheduleFollowUp(ref, case, first, last, due_on), ok):
            self.follow_ups[ref] = FollowUpModel(first, last, due_on)

    @rule(data=st.data())
    def submit_report(self, data: st.DataObject) -> None:
        likely = [r for r, f in self.follow_ups.items() if f.submitted_on is None]
        ref = self.pick(data, FOLLOW_UPS, likely, "follow_up_ref")
        submitted_on = self.day(data, "submitted_on")
        f = self.follow_ups.get(ref)
        ok = f is not None and not f.closed and f.submitted_on is None and submitted_on >= f.start
        if self.run(SubmitReport(ref, submitted_on, "bra"), ok):
            assert f is not None
            f.submitted_on = submitted_on

    @rule(data=st.data())
    def close_follow_up(self, data: st.DataObject) -> None:
        likely = [r for r, f in self.follow_ups.items() if f.submitted_on and not f.closed]
        ref = self.pick(data, FOLLOW_UPS, likely, "follow_up_ref")
        on = self.day(data, "on")
        f = self.follow_ups.get(ref)
        ok = f is not None and not f.closed and f.submitted_on is not None and on >= f.submitted_on
        if self.run(CloseFollowUp(ref, on, "avstämd"), ok):
            assert f is not None
            f.closed = True

    # --- Invariants ---------------------------------------------------------------------------

    @invariant()
    def states_are_a_fold_of_the_stored_facts(self) -> None:
        folded = self.folded
        assert folded == ledger_states(self.ledger, folded)
        domain: dict[str, Any] = {s: v for s, v in folded.items() if s.startswith(DOMAIN_STREAMS)}
        assert set(domain) == (
            {f"agreement:{c}" for c in self.agreements}
            | {f"group:{g}" for g in self.groups}
            | {f"follow-up:{f}" for f in self.follow_ups}
        )

    @invariant()
    def the_ledger_agrees_with_the_model(self) -> None:
        for case, a in self.agreements.items():
            state = self.ledger.agreement(case)
            assert state.ends_on() == a.last_day
            assert (state.notice() is None) == (a.notice_ends is None)
        for ref, g in self.groups.items():
            group = self.ledger.group(ref)
            assert (group.closed_on is not None) == g.closed
            assert sorted(s.held_on for s in group.sessions) == sorted(g.sessions)
            assert {p.ref: p.withdrawn_on for p in group.participants} == {
                p: m.withdrawn_on for p, m in g.members.items()
            }
        for ref, f in self.follow_ups.items():
            follow_up = self.ledger.follow_up(ref)
            submitted = follow_up.report.submitted_on if follow_up.report else None
            assert (submitted, follow_up.closed is not None) == (f.submitted_on, f.closed)

    @precondition(lambda self: bool(self.stored))
    @invariant()
    def facts_are_in_recorded_order(self) -> None:
        times = [fact.recorded_at for fact in self.stored]
        assert times == sorted(times)

    def teardown(self) -> None:
        # The fold a receipt at a time is the fold of the store from scratch.
        assert fold_facts(self.ledger.facts()) == self.folded


LedgerMachine.TestCase.settings = settings(
    max_examples=35,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestLedgerMachine = LedgerMachine.TestCase
