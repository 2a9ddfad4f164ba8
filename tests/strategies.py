"""Hypothesis strategies for the property-based tests, and the helpers they share.

- values: money, dates, periods, texts and references;
- events and facts of every type, with values the deciders could have produced;
- the rules' model, the tests' one oracle of what the rules allow (`AgreementModel`,
  `GroupModel`, `MemberModel`, `FollowUpModel`): the state machine checks the
  ledger against it;
- `agreement_histories()`: a valid sequence of commands for one agreement with
  its groups and follow-ups, valid by construction (it keeps the rules' model of
  the agreement's period, each group's participants and sessions, and each
  follow-up's progress, and draws only commands that model allows);
- `fold_facts` and `ledger_states`: the states a list of facts folds to, and
  the same states as the ledger answers them, for comparing the two.
"""

from __future__ import annotations

import calendar
import types
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

import attrs
from hypothesis import strategies as st

from biv_domain.ledger import Ledger
from biv_domain.ledger.bookkeeping import (
    RECORDABLE_TYPES,
    LineApplied,
    Recordable,
    agreement_stream,
    follow_up_stream,
    group_stream,
    line_stream,
)
from biv_domain.model import agreement, follow_up, group
from biv_domain.model.commands import (
    COMMANDS,
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
from biv_domain.model.dates import Period, add_months, is_month_end
from biv_domain.model.events import (
    EVENT_TYPES,
    AgreementConcluded,
    AgreementExtended,
    DisbursementRecorded,
    Event,
    FollowUpScheduled,
    FundingChanged,
    NoticeGiven,
    SessionHeld,
)
from biv_domain.model.fact import Fact
from biv_domain.model.money import Money
from biv_domain.model.vocabulary import (
    ADULT_GENDERS,
    CHILD_GENDERS,
    GroupKind,
    Party,
    ResidenceStatus,
    TargetKind,
    Track,
)
from tests.builders import Clock

# --- Values -----------------------------------------------------------------------------------

FIRST_DAY = date(1990, 1, 1)
LAST_DAY = date(2100, 12, 31)


def money(max_ore: int = 10**12) -> st.SearchStrategy[Money]:
    """An amount the ledger can hold: kronor and öre, never negative."""
    return st.builds(Money, st.integers(0, max_ore))


def signed_money(bound: int = 10**12) -> st.SearchStrategy[Money]:
    """Any amount, negative too (a difference of two amounts can be)."""
    return st.builds(Money, st.integers(-bound, bound))


def dates(low: date = FIRST_DAY, high: date = LAST_DAY) -> st.SearchStrategy[date]:
    return st.dates(min_value=low, max_value=high)


def month_ends(low: date = FIRST_DAY, high: date = LAST_DAY) -> st.SearchStrategy[date]:
    return dates(low, high).map(_month_end)


def _month_end(day: date) -> date:
    next_month = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return next_month - timedelta(days=1)


@st.composite
def periods(draw: st.DrawFn, max_days: int = 6 * 366) -> Period:
    start = draw(dates(FIRST_DAY, LAST_DAY - timedelta(days=max_days)))
    return Period(start, start + timedelta(days=draw(st.integers(0, max_days))))


@st.composite
def whole_month_periods(draw: st.DrawFn, max_months: int = 72) -> Period:
    """A period of whole calendar months, as the partnership's funding periods are."""
    start = draw(dates(FIRST_DAY, date(2090, 12, 31))).replace(day=1)
    months = draw(st.integers(1, max_months))
    return Period(start, _month_end(add_months(start, months - 1)))


# Letters of the languages in play, digits, punctuation, and a few characters a
# store must take care with (quotes, backslash, an emoji). No control character:
# a name or reference refuses every one (a free text's line breaks are `any_texts`'s).
_TEXT_ALPHABET = st.sampled_from(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZåäöÅÄÖéüØ"
    "0123456789 -_/.,:;()'\"\\اردودری日本🙂"
)


def texts(max_size: int = 20) -> st.SearchStrategy[str]:
    """A non-blank text: a name, a title, a reason."""
    return st.text(_TEXT_ALPHABET, min_size=1, max_size=max_size).filter(lambda t: bool(t.strip()))


def any_texts(max_size: int = 20) -> st.SearchStrategy[str]:
    """Any text at all: the converter and the stores must keep every one."""
    return st.text(max_size=max_size)


def labels() -> st.SearchStrategy[str]:
    """The readable start of a generated reference; never contains '#'."""
    return st.text(st.sampled_from("abcxyzåäöABC 019-_/:"), min_size=1, max_size=6).filter(
        lambda t: bool(t.strip())
    )


def case_numbers() -> st.SearchStrategy[str]:
    return st.one_of(
        st.just("2016-292"),
        st.builds(lambda n, year: f"Dnr {year}-{n}", st.integers(1, 999), st.integers(2000, 2040)),
        st.builds(lambda label: f"{label}#case", labels()),
    )


def sources() -> st.SearchStrategy[str]:
    return st.sampled_from(
        ["committee_budget", "state_grant_parenting_support", "own_funds", "kollekt", "gåva"]
    )


# The facts the ledger records for itself, beside the domain's events.
BOOKKEEPING_TYPES: dict[str, type[Any]] = {
    name: cls for name, cls in RECORDABLE_TYPES.items() if name not in EVENT_TYPES
}

# Every generated reference contains '#'; these never do, so they name nothing.
GHOST_CASE = "ghost-case"
GHOST_GROUP = "ghost-group"
GHOST_PARTICIPANT = "ghost-participant"
GHOST_FOLLOW_UP = "ghost-follow-up"


# --- Events and facts -------------------------------------------------------------------------

_BASE: dict[object, st.SearchStrategy[Any]] = {
    str: texts(),
    int: st.integers(0, 10_000),
    bool: st.booleans(),
    date: dates(),
    Money: money(),
    type(None): st.none(),
}


def for_type(hint: Any) -> st.SearchStrategy[Any]:
    """A strategy for a type hint of the domain (attrs classes, unions, tuples, dicts).

    The domain's modules use `from __future__ import annotations`, so hypothesis
    cannot read their attrs fields' types itself; this resolves them.
    """
    if hint in _BASE:
        return _BASE[hint]
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        return st.one_of(*(for_type(arg) for arg in get_args(hint)))
    if origin is tuple:
        args = get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return st.lists(for_type(args[0]), max_size=4).map(tuple)
        return st.tuples(*(for_type(arg) for arg in args))
    if origin is dict:
        key, value = get_args(hint)
        return st.dictionaries(for_type(key), for_type(value), max_size=4)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return st.sampled_from(hint)
    if isinstance(hint, type) and attrs.has(hint):
        return build(hint)
    return st.from_type(hint)


def build(cls: type[Any], **overrides: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Builds an attrs class, every field from its type unless overridden."""
    hints = get_type_hints(cls)
    fields = {
        field.name: overrides.get(field.name, for_type(hints[field.name]))
        for field in attrs.fields(cls)
        if field.init
    }
    return st.builds(cls, **fields)


def _ordered(first: str, second: str) -> Callable[[Any], Any]:
    """Puts two fields of an event in order (a period's start before its end)."""

    def fix(event: Any) -> Any:
        low, high = sorted((getattr(event, first), getattr(event, second)))
        return attrs.evolve(event, **{first: low, second: high})

    return fix


def _extended(event: AgreementExtended) -> AgreementExtended:
    if event.end > event.previous_end:
        return event
    return attrs.evolve(event, end=event.previous_end + timedelta(days=1))


def _scheduled(event: FollowUpScheduled) -> FollowUpScheduled:
    fixed: FollowUpScheduled = _ordered("start", "end")(event)
    return attrs.evolve(fixed, due_on=max(fixed.due_on, fixed.end))


_ages = st.one_of(st.none(), st.integers(0, 90))
_refs = st.builds(lambda label, n: f"{label}#{n}", labels(), st.integers(0, 99))

# Field values the deciders could have produced, where the type alone allows more.
_EVENT_OVERRIDES: dict[type[Any], dict[str, st.SearchStrategy[Any]]] = {
    AgreementConcluded: {
        "notice_months": st.integers(0, 24),
        "min_age": st.integers(0, 12),
        "max_age": st.integers(12, 25),
        "follow_up_months": st.integers(1, 12),
    },
    FundingChanged: {"source": sources()},
    DisbursementRecorded: {
        "amount": money().filter(bool),
        "source": st.one_of(st.none(), sources()),
    },
    SessionHeld: {
        "attendees": st.lists(_refs, min_size=1, max_size=8, unique=True).map(tuple),
    },
}
_EVENT_FIXES: dict[type[Any], Callable[[Any], Any]] = {
    AgreementConcluded: _ordered("start", "end"),
    AgreementExtended: _extended,
    FundingChanged: _ordered("start", "end"),
    NoticeGiven: _ordered("given_on", "ends_on"),
    FollowUpScheduled: _scheduled,
}
for _type in EVENT_TYPES.values():
    _EVENT_OVERRIDES.setdefault(_type, {})
    hints = get_type_hints(_type)
    for _name in ("group_ref", "participant_ref", "follow_up_ref"):
        if _name in hints:
            _EVENT_OVERRIDES[_type].setdefault(_name, _refs)
    if "age" in hints:
        _EVENT_OVERRIDES[_type].setdefault("age", _ages)
    if "planned_sessions" in hints:
        _EVENT_OVERRIDES[_type].setdefault("planned_sessions", st.integers(1, 30))


def event_of(cls: type[Any]) -> st.SearchStrategy[Any]:
    """Events of one type, with values the ledger could have recorded."""
    strategy = build(cls, **_EVENT_OVERRIDES.get(cls, {}))
    fix = _EVENT_FIXES.get(cls)
    return strategy.map(fix) if fix else strategy


EVENT_STRATEGIES: dict[str, st.SearchStrategy[Any]] = {
    name: event_of(cls) for name, cls in EVENT_TYPES.items()
}


def events() -> st.SearchStrategy[Event]:
    return st.one_of(*EVENT_STRATEGIES.values())


def bookkeeping() -> st.SearchStrategy[Recordable]:
    """The ledger's own facts (an applied line, an agreement's index, ...), any there are."""
    line = st.builds(LineApplied, any_texts().filter(bool), st.sampled_from(sorted(COMMANDS)))
    others = [build(cls) for cls in BOOKKEEPING_TYPES.values() if cls is not LineApplied]
    return st.one_of(line, *others)


def recorded_times() -> st.SearchStrategy[datetime]:
    return st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    )


def stream_of(event: Recordable) -> str:
    """The stream the ledger keeps an event in (a bookkeeping fact: a plausible one)."""
    if isinstance(event, LineApplied):
        return line_stream(event.line_id)
    if type(event).__name__ not in EVENT_TYPES:
        return f"{type(event).__name__.lower()}:2016-292"
    makers: tuple[tuple[str, Callable[[str], str]], ...] = (
        ("group_ref", group_stream),
        ("follow_up_ref", follow_up_stream),
        ("case_number", agreement_stream),
    )
    for attribute, make in makers:
        ref = getattr(event, attribute, None)
        if isinstance(ref, str):
            return make(ref)
    raise AssertionError(f"no stream for {event!r}")  # pragma: no cover


@st.composite
def facts(draw: st.DrawFn, of: st.SearchStrategy[Any] | None = None) -> Fact:
    """A fact as a store holds it: an event (of any type, or drawn from `of`) and its record.

    Every field of `Fact` is drawn, whatever fields it has (actor, chain position, hashes).
    """
    event: Recordable = draw(of if of is not None else st.one_of(events(), bookkeeping()))
    hints = get_type_hints(Fact)
    values: dict[str, Any] = {
        "originator_id": stream_of(event),
        "originator_version": draw(st.integers(1, 10**6)),
        "recorded_at": draw(recorded_times()),
        "event": event,
    }
    for field in attrs.fields(Fact):
        if field.init and field.name not in values:
            values[field.name] = draw(for_type(hints[field.name]))
    return Fact(**values)


# --- Valid command sequences ------------------------------------------------------------------


# --- The rules' model: the one oracle -----------------------------------------------------------
# Written from the rules in ../shared/domain.md and the deciders' docstrings, not from the
# deciders: the generator below draws only what it allows, and the state machine
# (tests/rules/test_stateful.py) checks that the ledger accepts exactly what it allows.


def months_later(day: date, months: int) -> date:
    """The model's own month arithmetic: a month-end stays a month-end."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    last = calendar.monthrange(year, month + 1)[1]
    month_end = day.day == calendar.monthrange(day.year, day.month)[1]
    return date(year, month + 1, last if month_end else min(day.day, last))


@attrs.define
class AgreementModel:
    """An agreement (avtal): its period, its notice, the ages its children's groups take."""

    start: date
    end: date
    notice_months: int
    min_age: int
    max_age: int
    notice_ends: date | None = None

    @property
    def last_day(self) -> date:
        """The period's last day: its end, or the end of the notice (uppsägning) if sooner."""
        return self.end if self.notice_ends is None else min(self.end, self.notice_ends)

    def covers(self, first: date, last: date) -> bool:
        return self.start <= first and last <= self.last_day

    def give_notice(self, given_on: date) -> None:
        self.notice_ends = min(months_later(given_on, self.notice_months), self.end)


@attrs.define
class MemberModel:
    """A participant of a group: enrolled, perhaps withdrawn, and the sessions attended."""

    enrolled_on: date
    withdrawn_on: date | None = None
    attended: list[date] = attrs.Factory(list)

    def present(self, day: date) -> bool:
        return self.enrolled_on <= day and (self.withdrawn_on is None or day < self.withdrawn_on)

    @property
    def leaves_from(self) -> date:
        """The first day the participant may leave: once enrolled, after the last session."""
        return max([self.enrolled_on, *(held + timedelta(days=1) for held in self.attended)])


@attrs.define
class GroupModel:
    """A group of an agreement: its members, the days it met, and whether it is closed."""

    case_number: str
    kind: GroupKind
    starts_on: date
    members: dict[str, MemberModel] = attrs.Factory(dict)
    sessions: list[date] = attrs.Factory(list)
    closed: bool = False

    def present_on(self, day: date) -> list[str]:
        return sorted(ref for ref, member in self.members.items() if member.present(day))

    @property
    def completes_from(self) -> date:
        """The first day the group may be completed: once started, on or after its last session."""
        return max([self.starts_on, *self.sessions])

    def hold(self, held_on: date, attendees: Iterable[str]) -> None:
        self.sessions.append(held_on)
        for ref in attendees:
            self.members[ref].attended.append(held_on)


@attrs.define
class FollowUpModel:
    """A follow-up (uppföljning): the half-year it covers, the report, the closing."""

    start: date
    end: date
    due_on: date
    submitted_on: date | None = None
    closed: bool = False


@attrs.define
class _History(AgreementModel):
    """What the generator knows of the agreement so far, to draw only valid commands."""

    case_number: str = attrs.field(kw_only=True)
    groups: dict[str, GroupModel] = attrs.Factory(dict)
    follow_ups: dict[str, FollowUpModel] = attrs.Factory(dict)
    funding: list[tuple[Party, str, date, date]] = attrs.Factory(list)
    counter: int = 0

    def fresh(self, label: str) -> str:
        self.counter += 1
        return f"{label}#{self.counter}"

    def open_groups(self) -> list[str]:
        # Conservative: a group takes enrolments and sessions inside the agreement's period.
        return [
            ref for ref, g in self.groups.items() if not g.closed and g.starts_on <= self.last_day
        ]

    def session_candidates(self) -> list[tuple[str, str, date, date]]:
        """(group, participant, first day, last day) a session with that participant could be."""
        result = []
        for ref in self.open_groups():
            g = self.groups[ref]
            for participant_ref, p in g.members.items():
                low = max(g.starts_on, p.enrolled_on)
                high = self.last_day
                if p.withdrawn_on is not None:
                    high = min(high, p.withdrawn_on - timedelta(days=1))
                if low <= high:
                    result.append((ref, participant_ref, low, high))
        return result


# Generating a history draws a few hundred values: from strategies built once, or
# from whole numbers (hypothesis caches those), never from a strategy built anew
# for each value, which would cost more than the ledger does.
T = TypeVar("T")
_LABELS = labels()
_TEXTS = texts()
_MAYBE_TEXT = st.one_of(st.none(), _TEXTS)
_SOURCES = sources()
_MAYBE_SOURCE = st.one_of(st.none(), _SOURCES)
_AMOUNTS = st.one_of(st.just(Money.zero()), money(10**10))
_PAYMENTS = money(10**9).filter(bool)
_MAYBE_TRACK = st.one_of(st.none(), st.sampled_from(Track))
_MAYBE_LANGUAGE = st.one_of(st.none(), st.sampled_from(["arabiska", "dari", "somaliska"]))
_MAYBE_STATUS = st.one_of(st.none(), st.sampled_from(ResidenceStatus))
_MAYBE_INFORMATION = st.one_of(st.none(), st.builds(Information, st.booleans(), st.booleans()))
_CHILD_GENDERS = sorted(CHILD_GENDERS)
_ADULT_GENDERS = sorted(ADULT_GENDERS)


def _one(draw: st.DrawFn, items: Sequence[T]) -> T:
    return items[draw(st.integers(0, len(items) - 1))]


def _between(draw: st.DrawFn, low: date, high: date) -> date:
    return low + timedelta(days=draw(st.integers(0, max(0, (high - low).days))))


def _around(draw: st.DrawFn, day: date, before: int = 120, after: int = 120) -> date:
    return day + timedelta(days=draw(st.integers(-before, after)))


@st.composite
def conclusions(draw: st.DrawFn, case_number: str | None = None) -> ConcludeAgreement:
    start = draw(dates(date(2010, 1, 1), date(2035, 12, 31)))
    if draw(st.booleans()):
        start = start.replace(day=1)
    end = start + timedelta(days=draw(st.integers(0, 3 * 366)))
    if draw(st.booleans()):
        end = _month_end(end)
    min_age = draw(st.integers(0, 10))
    return ConcludeAgreement(
        case_number=case_number or draw(case_numbers()),
        title=draw(texts()),
        municipality=draw(texts()),
        partner=draw(texts()),
        start=start,
        end=end,
        notice_months=draw(st.integers(0, 12)),
        decided_on=start - timedelta(days=draw(st.integers(0, 200))),
        min_age=min_age,
        max_age=min_age + draw(st.integers(0, 15)),
        follow_up_months=draw(st.integers(1, 12)),
        note=draw(st.one_of(st.just(""), texts())),
    )


def _options(h: _History) -> list[str]:
    options = ["funding", "target", "disbursement", "plan", "schedule"]
    if h.notice_ends is None:
        options += ["extend", "notice"]
    open_groups = h.open_groups()
    if open_groups:
        options += ["enroll", "cancel", "complete"]
    if any(p.withdrawn_on is None for ref in open_groups for p in h.groups[ref].members.values()):
        options.append("withdraw")
    if h.session_candidates():
        options += ["session", "session"]
    if any(f.submitted_on is None and not f.closed for f in h.follow_ups.values()):
        options.append("submit")
    if any(f.submitted_on is not None and not f.closed for f in h.follow_ups.values()):
        options.append("close")
    return options


def _step(draw: st.DrawFn, h: _History, option: str) -> Command | None:
    case = h.case_number
    if option == "extend":
        decided_on = _between(draw, h.start, h.end)
        new_end = h.end + timedelta(days=draw(st.integers(1, 500)))
        h.end = new_end
        return ExtendAgreement(case, new_end, decided_on, note=_one(draw, ["", "ok"]))
    if option == "notice":
        given_on = _between(draw, h.start, h.end)
        h.give_notice(given_on)
        return GiveNotice(case, _one(draw, list(Party)), given_on)
    if option == "funding":
        reuse: bool = draw(st.booleans())
        if h.funding and reuse:
            party, source, start, end = _one(draw, h.funding)
            if not h.covers(start, end):
                return None
        else:
            party, source = _one(draw, list(Party)), draw(_SOURCES)
            start = _between(draw, h.start, h.last_day)
            if draw(st.booleans()):
                start = max(start.replace(day=1), h.start)
            end = _between(draw, start, h.last_day)
            if draw(st.booleans()) and _month_end(end) <= h.last_day:
                end = _month_end(end)
            h.funding.append((party, source, start, end))
        amount = draw(_AMOUNTS)
        decided_on = _around(draw, start, 200, 30)
        return SetFunding(case, party, source, start, end, amount, decided_on)
    if option == "target":
        return SetTarget(
            case,
            _one(draw, list(TargetKind)),
            draw(st.integers(0, 60)),
            _around(draw, h.start, 100, 300),
        )
    if option == "disbursement":
        return RecordDisbursement(
            case,
            draw(_PAYMENTS),
            _between(draw, h.start, h.last_day),
            draw(_MAYBE_SOURCE),
        )
    if option == "plan":
        ref = h.fresh(draw(_LABELS))
        kind = _one(draw, list(GroupKind))
        starts_on = _between(draw, h.start, h.last_day)
        h.groups[ref] = GroupModel(case, kind, starts_on)
        return PlanGroup(
            ref,
            case,
            kind,
            _one(draw, ["Ryd", "Berga", "Skäggetorp"]),
            starts_on,
            track=draw(_MAYBE_TRACK),
            planned_sessions=draw(st.integers(1, 20)),
            language=draw(_MAYBE_LANGUAGE),
        )
    if option == "enroll":
        ref = _one(draw, h.open_groups())
        g = h.groups[ref]
        participant = h.fresh(draw(_LABELS))
        enrolled_on = _between(draw, g.starts_on, h.last_day)
        g.members[participant] = MemberModel(enrolled_on)
        if g.kind is GroupKind.CHILDREN:
            gender = _one(draw, _CHILD_GENDERS)
            age: int | None = draw(st.integers(h.min_age, h.max_age))
        else:
            gender = _one(draw, _ADULT_GENDERS)
            age = draw(st.one_of(st.none(), st.integers(18, 90)))
        status = draw(_MAYBE_STATUS)
        return EnrollParticipant(ref, participant, enrolled_on, gender, age, status)
    if option == "withdraw":
        choices = [
            (ref, p_ref)
            for ref in h.open_groups()
            for p_ref, p in h.groups[ref].members.items()
            if p.withdrawn_on is None
        ]
        ref, p_ref = _one(draw, choices)
        p = h.groups[ref].members[p_ref]
        on = _between(draw, p.leaves_from, h.last_day)
        p.withdrawn_on = on
        return WithdrawParticipant(ref, p_ref, on)
    if option == "session":
        ref, p_ref, low, high = _one(draw, h.session_candidates())
        g = h.groups[ref]
        held_on = _between(draw, low, high)
        if held_on in g.sessions:
            return None
        present = g.present_on(held_on)
        others = draw(st.lists(st.sampled_from(present), unique=True, max_size=len(present)))
        attendees = [p_ref, *(r for r in others if r != p_ref)]
        g.hold(held_on, attendees)
        return HoldSession(ref, held_on, tuple(attendees))
    if option == "complete":
        ref = _one(draw, h.open_groups())
        g = h.groups[ref]
        g.closed = True
        return CompleteGroup(ref, _between(draw, g.completes_from, h.last_day))
    if option == "cancel":
        ref = _one(draw, h.open_groups())
        g = h.groups[ref]
        g.closed = True
        return CancelGroup(ref, _between(draw, g.completes_from, h.last_day), draw(_TEXTS))
    if option == "schedule":
        ref = h.fresh(draw(_LABELS))
        start = _between(draw, h.start, h.last_day)
        end = _between(draw, start, h.last_day)
        due_on = end + timedelta(days=draw(st.integers(0, 90)))
        h.follow_ups[ref] = FollowUpModel(start, end, due_on)
        return ScheduleFollowUp(ref, case, start, end, due_on)
    if option == "submit":
        ref = draw(
            st.sampled_from(
                [r for r, f in h.follow_ups.items() if f.submitted_on is None and not f.closed]
            )
        )
        f = h.follow_ups[ref]
        submitted_on = _between(draw, f.end, f.due_on + timedelta(days=60))
        f.submitted_on = submitted_on
        information = draw(_MAYBE_INFORMATION)
        return SubmitReport(ref, submitted_on, draw(_MAYBE_TEXT), information)
    if option == "close":
        ref = draw(
            st.sampled_from(
                [r for r, f in h.follow_ups.items() if f.submitted_on is not None and not f.closed]
            )
        )
        f = h.follow_ups[ref]
        assert f.submitted_on is not None
        f.closed = True
        on = f.submitted_on + timedelta(days=draw(st.integers(0, 60)))
        return CloseFollowUp(ref, on, draw(_MAYBE_TEXT))
    raise AssertionError(option)  # pragma: no cover


@st.composite
def agreement_histories(
    draw: st.DrawFn, min_steps: int = 0, max_steps: int = 25, case_number: str | None = None
) -> list[Command]:
    """A valid sequence of commands: an agreement concluded, then what happens under it."""
    concluded = draw(conclusions(case_number))
    h = _History(
        case_number=concluded.case_number,
        start=concluded.start,
        end=concluded.end,
        notice_months=concluded.notice_months,
        min_age=concluded.min_age,
        max_age=concluded.max_age,
    )
    commands: list[Command] = [concluded]
    for _ in range(draw(st.integers(min_steps, max_steps))):
        command = _step(draw, h, _one(draw, _options(h)))
        if command is not None:
            commands.append(command)
    return commands


def case_number_of(commands: list[Command]) -> str:
    """The case number of the agreement a generated history concludes first."""
    first = commands[0]
    assert isinstance(first, ConcludeAgreement)
    return first.case_number


# --- Folding facts ----------------------------------------------------------------------------

_EVOLVE: dict[str, Callable[[Any, Any], Any]] = {
    "agreement:": agreement.evolve,
    "group:": group.evolve,
    "follow-up:": follow_up.evolve,
}
DOMAIN_STREAMS = tuple(_EVOLVE)


def evolve_fact(states: dict[str, Any], fact: Fact) -> None:
    """Folds one fact into the state of its stream, in place.

    The ledger's bookkeeping streams (applied lines, indexes) fold to the tuple
    of their events.
    """
    for prefix, evolve in _EVOLVE.items():
        if fact.stream.startswith(prefix):
            states[fact.stream] = evolve(states.get(fact.stream), fact.event)
            return
    states[fact.stream] = (*states.get(fact.stream, ()), fact.event)


def fold_facts(facts: Iterable[Fact]) -> dict[str, Any]:
    """Every stream's state after its facts, folded with the deciders' `evolve`."""
    states: dict[str, Any] = {}
    for fact in facts:
        evolve_fact(states, fact)
    return states


def ledger_states(ledger: Ledger, streams: Iterable[str]) -> dict[str, Any]:
    """The same streams' states as the ledger's own queries answer them.

    A bookkeeping stream's state is the tuple of its events, as `fold_facts` has it.
    """
    result: dict[str, Any] = {}
    for stream in streams:
        if stream.startswith("agreement:"):
            result[stream] = ledger.agreement(stream.removeprefix("agreement:"))
        elif stream.startswith("group:"):
            result[stream] = ledger.group(stream.removeprefix("group:"))
        elif stream.startswith("follow-up:"):
            result[stream] = ledger.follow_up(stream.removeprefix("follow-up:"))
        else:
            result[stream] = tuple(fact.event for fact in ledger.stream(stream))
    return result


# The tests that want a clock running the same way every run import it by this name.
StepClock = Clock


def whole_months(period: Period) -> bool:
    return period.start.day == 1 and is_month_end(period.end)
