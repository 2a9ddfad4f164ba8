"""Building a municipality-scale store for the benchmark, through the real API.

N agreements over Y years, generated from a seed: extensions, funding lines from
several sources and their corrections, targets, quarterly payments, children's and
parents' groups with weekly sessions, follow-ups with their reports. Each agreement's
half-year is one batch with its recorded time; the batches of every agreement come
out merged in recorded order, and `populate` stores them with `Ledger.execute_all`,
moving the ledger's clock (`tests.builders.Clock`, the tests' own) to each batch's time.
"""

from __future__ import annotations

import heapq
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from biv_domain.model.commands import (
    CancelGroup,
    CloseFollowUp,
    Command,
    CompleteGroup,
    ConcludeAgreement,
    EnrollParticipant,
    ExtendAgreement,
    GiveNotice,
    HoldSession,
    Information,
    PlanGroup,
    RecordDisbursement,
    ScheduleFollowUp,
    SetFunding,
    SetTarget,
    SubmitReport,
    WithdrawParticipant,
)
from biv_domain.model.dates import add_months
from biv_domain.model.money import Money
from biv_domain.model.vocabulary import (
    Gender,
    GroupKind,
    Party,
    ResidenceStatus,
    TargetKind,
    Track,
)

FIRST_START = date(2017, 1, 1)
MUNICIPALITIES = (
    "Linköpings kommun",
    "Norrköpings kommun",
    "Motala kommun",
    "Mjölby kommun",
    "Finspångs kommun",
    "Jönköpings kommun",
    "Örebro kommun",
    "Västerås stad",
    "Uppsala kommun",
    "Gävle kommun",
)
PARTNERS = (
    "Linköpings domkyrkopastorat",
    "Rädda Barnen lokalförening",
    "Svenska kyrkan, församling",
    "Röda Korset, krets",
    "Individuell Människohjälp",
    "Islamiska kulturföreningen",
)
AREAS = ("Ryd", "Berga", "Skäggetorp", "Lambohov", "Johannelund", "Centrum")
LANGUAGES = ("arabic", "dari", "somali", "tigrinya", "ukrainian", None)


@dataclass(frozen=True)
class Batch:
    """The commands of one agreement's half-year, recorded together at one time."""

    recorded_at: datetime
    agreement: int
    bucket: int
    commands: tuple[Command, ...]


@dataclass
class AgreementPlan:
    """What the queries need to know of a generated agreement."""

    case_number: str
    start: date
    end: date
    first_recorded: datetime | None = None


@dataclass
class Generated:
    plans: list[AgreementPlan] = field(default_factory=list)
    commands: Counter[str] = field(default_factory=Counter)
    late_batches: int = 0
    last_recorded: datetime | None = None


def _bucket(start: date, day: date) -> int:
    """The agreement's half-year a date falls in; -1 before the agreement starts."""
    if day < start:
        return -1
    months = (day.year - start.year) * 12 + day.month - start.month
    return months // 6


def _money(rng: random.Random, low: int, high: int) -> Money:
    kronor = rng.randrange(low, high, 500)
    ore = rng.choice((0, 0, 0, 50, rng.randrange(1, 100)))
    return Money(kronor * 100 + ore)


def agreement_batches(
    index: int, plan: AgreementPlan, years: int, rng: random.Random, generated: Generated
) -> Iterator[Batch]:
    """One agreement's commands, year by year, bucketed by half-year and timed.

    A command lands in the half-year of its effective date (a session in the half it
    was held, a report in the half it was submitted), and a half-year's batch is
    recorded 1-20 days after the half ends, or 60-150 days after for one in ten.
    Batches come out in recorded order, so the merge of all agreements is too.
    """
    start, case = plan.start, plan.case_number
    buckets: dict[int, list[Command]] = {}
    emitted = -2

    def add(day: date, command: Command) -> None:
        buckets.setdefault(max(_bucket(start, day), emitted + 1), []).append(command)
        generated.commands[command.name] += 1

    def batches_up_to(last: int) -> Iterator[Batch]:
        nonlocal emitted
        for bucket in range(emitted + 1, last + 1):
            emitted = bucket
            commands = buckets.pop(bucket, None)
            if not commands:
                continue
            late = rng.random() < 0.1
            generated.late_batches += late
            lag = timedelta(
                days=rng.randint(60, 150) if late else rng.randint(1, 20),
                seconds=rng.randint(7 * 3600, 17 * 3600),
            )
            half_end = add_months(start, 6 * (bucket + 1))
            recorded_at = datetime.combine(half_end, datetime.min.time(), UTC) + lag
            if plan.first_recorded is None:
                plan.first_recorded = recorded_at
            yield Batch(recorded_at, index, bucket, tuple(commands))

    add(
        start - timedelta(days=30),
        ConcludeAgreement(
            case_number=case,
            title="Barn i väntan / Barn i start",
            municipality=MUNICIPALITIES[index % len(MUNICIPALITIES)],
            partner=PARTNERS[index % len(PARTNERS)],
            start=start,
            end=add_months(start, 24) - timedelta(days=1),
            notice_months=6,
            decided_on=start - timedelta(days=30),
        ),
    )
    for target, value in ((TargetKind.CHILDREN_PER_YEAR, 40), (TargetKind.GROUPS_PER_YEAR, 6)):
        add(
            start - timedelta(days=30),
            SetTarget(case, target, value, decided_on=start - timedelta(days=30)),
        )

    previous_committee: SetFunding | None = None
    committee: SetFunding | None = None
    for year in range(years):
        ys = add_months(start, 12 * year)
        ye = add_months(start, 12 * (year + 1)) - timedelta(days=1)
        if year >= 1:
            decided = ys + timedelta(days=rng.randint(30, 100))
            add(
                decided,
                ExtendAgreement(
                    case,
                    end=add_months(start, 12 * (year + 2)) - timedelta(days=1),
                    decided_on=decided,
                    note=f"förlängning {year}",
                ),
            )
            plan.end = add_months(start, 12 * (year + 2)) - timedelta(days=1)
        else:
            plan.end = add_months(start, 24) - timedelta(days=1)

        # Funding lines for the year, decided before it starts; municipal sources are paid
        # out quarterly.
        decided = ys - timedelta(days=rng.randint(10, 60))
        sources: list[tuple[Party, str]] = [(Party.MUNICIPALITY, "committee_budget")]
        if rng.random() < 0.7:
            sources.append((Party.MUNICIPALITY, "state_grant_parenting"))
        if rng.random() < 0.3:
            sources.append((Party.MUNICIPALITY, "integration_fund"))
        sources.append((Party.PARTNER, "own_funds"))
        if rng.random() < 0.4:
            sources.append((Party.PARTNER, "church_fund"))
        for party, source in sources:
            funding = SetFunding(
                case, party, source, ys, ye, _money(rng, 50_000, 300_000), decided_on=decided
            )
            add(decided, funding)
            if source == "committee_budget":
                committee = funding
            if party is Party.MUNICIPALITY:
                for quarter in range(4):
                    paid_on = add_months(ys, 3 * quarter) + timedelta(days=rng.randint(0, 20))
                    amount = Money(funding.amount.ore // 4)
                    add(paid_on, RecordDisbursement(case, amount, paid_on, source=source))
        # A correction of last year's committee money, decided later: a new fact.
        if previous_committee is not None and rng.random() < 0.25:
            corrected_on = ys + timedelta(days=rng.randint(0, 90))
            add(
                corrected_on,
                SetFunding(
                    case,
                    previous_committee.party,
                    previous_committee.source,
                    previous_committee.start,
                    previous_committee.end,
                    _money(rng, 50_000, 300_000),
                    decided_on=corrected_on,
                    note="rättelse",
                ),
            )
        previous_committee = committee
        if year >= 1 and rng.random() < 0.2:
            add(
                ys - timedelta(days=5),
                SetTarget(
                    case,
                    TargetKind.GROUPS_PER_YEAR,
                    rng.choice((5, 6, 7, 8)),
                    decided_on=ys - timedelta(days=5),
                ),
            )

        # Groups: 4-5 children's groups and 2 parents' groups, ~6 each, 14 weekly sessions.
        kinds = [GroupKind.CHILDREN] * rng.choice((4, 5)) + [GroupKind.PARENTS] * 2
        for number, kind in enumerate(kinds):
            _group(add, rng, index, year, number, kind, case, ys)

        # Two half-year follow-ups with submitted reports, most of them closed.
        for half in range(2):
            window_start = add_months(ys, 6 * half)
            window_end = add_months(ys, 6 * (half + 1)) - timedelta(days=1)
            ref = f"FU-{index:04d}-{year}-{half + 1}"
            add(
                window_start,
                ScheduleFollowUp(
                    ref, case, window_start, window_end, due_on=window_end + timedelta(days=30)
                ),
            )
            submitted = window_end + timedelta(days=rng.randint(5, 40))
            add(
                submitted,
                SubmitReport(
                    ref,
                    submitted,
                    experience="Deltagarna beskriver gruppen som en trygg plats.",
                    information=Information(municipality=True, partner=rng.random() < 0.9),
                ),
            )
            if rng.random() < 0.9:
                closed = submitted + timedelta(days=rng.randint(5, 30))
                add(closed, CloseFollowUp(ref, closed, assessment="Samverkan fungerar väl."))

        # Every half-year before next year's first possible command is complete.
        yield from batches_up_to(2 * year)

    if rng.random() < 0.05:
        given = add_months(plan.end, -7)
        add(given, GiveNotice(case, Party.MUNICIPALITY, given))
    yield from batches_up_to(max(buckets, default=emitted))


def _group(
    add: Callable[[date, Command], None],
    rng: random.Random,
    index: int,
    year: int,
    number: int,
    kind: GroupKind,
    case: str,
    year_start: date,
) -> None:
    ref = f"G-{index:04d}-{year}-{number}"
    starts_on = year_start + timedelta(days=rng.randint(0, 250))
    enrolments = []
    for k in range(rng.randint(5, 7)):
        enrolled_on = starts_on - timedelta(days=rng.randint(0, 10))
        if kind is GroupKind.CHILDREN:
            enrolments.append(
                EnrollParticipant(
                    ref,
                    f"P-{index:04d}-{year}-{number}-{k}",
                    enrolled_on,
                    gender=rng.choice((Gender.GIRL, Gender.BOY, Gender.GIRL, Gender.BOY)),
                    age=rng.randint(7, 20),
                    status=rng.choice(tuple(ResidenceStatus)),
                )
            )
        else:
            enrolments.append(
                EnrollParticipant(
                    ref,
                    f"P-{index:04d}-{year}-{number}-{k}",
                    enrolled_on,
                    gender=rng.choice((Gender.WOMAN, Gender.MAN)),
                    age=rng.choice((None, rng.randint(25, 55))),
                )
            )
    add(
        min(e.enrolled_on for e in enrolments),
        PlanGroup(
            ref,
            case,
            kind,
            rng.choice(AREAS),
            starts_on,
            track=rng.choice(tuple(Track)) if kind is GroupKind.CHILDREN else None,
            planned_sessions=14,
            language=rng.choice(LANGUAGES),
        ),
    )
    for enrolment in enrolments:
        add(enrolment.enrolled_on, enrolment)
    present = [e.participant_ref for e in enrolments]
    withdraw_after = 6 if rng.random() < 0.15 else None
    cancel_after = 5 if rng.random() < 0.03 else None
    held_on = starts_on
    for session in range(14):
        attendees = tuple(p for p in present if rng.random() < 0.85) or (present[0],)
        add(held_on, HoldSession(ref, held_on, attendees))
        if session == cancel_after:
            on = held_on + timedelta(days=1)
            add(on, CancelGroup(ref, on, reason="för få deltagare"))
            return
        if session == withdraw_after:
            leaving = present.pop()
            on = held_on + timedelta(days=1)
            add(on, WithdrawParticipant(ref, leaving, on))
        held_on += timedelta(days=7)
    completed_on = held_on - timedelta(days=6)  # the day after the last session
    add(completed_on, CompleteGroup(ref, completed_on))


def all_batches(agreements: int, years: int, seed: int, generated: Generated) -> Iterator[Batch]:
    """Every agreement's batches, merged in recorded order (so the clock only moves on)."""
    streams = []
    for index in range(agreements):
        rng = random.Random(f"{seed}/{index}")
        start = add_months(FIRST_START, rng.randint(0, 5))
        plan = AgreementPlan(f"Dnr {start.year}-{index + 1:04d}", start, start)
        generated.plans.append(plan)
        streams.append(agreement_batches(index, plan, years, rng, generated))
    return heapq.merge(*streams, key=lambda b: (b.recorded_at, b.agreement, b.bucket))
