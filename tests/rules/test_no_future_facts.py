"""An answer for a day shows nothing that happened after it (issue 23).

Given a generated history, every question "on DAY" (the budget and the follow-ups'
standings) gives the same answer whether or not the facts effective after DAY are there,
as known now and as known at any recorded time. A follow-up's schedule is kept whatever
its window's start: a scheduled follow-up is listed ahead of its window on purpose
("scheduled"); what it must not show ahead of time is its report and its closing.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from biv_domain.converter import document
from biv_domain.ledger import Ledger
from biv_domain.model import agreement, follow_up
from biv_domain.model.commands import Command
from biv_domain.model.events import AgreementConcluded, FollowUpScheduled
from biv_domain.model.fact import Fact
from biv_domain.projections.budget import budget
from tests.strategies import StepClock, agreement_histories, case_number_of

ALWAYS_KEPT = (AgreementConcluded, FollowUpScheduled)


def effective(fact: Fact) -> date:
    """The fact's effective date: every fact of an agreement's or a follow-up's stream has one."""
    assert fact.effective_on is not None, fact
    return fact.effective_on


def answers_from(facts: list[Fact], day: date) -> dict[str, Any]:
    """The budget and follow-up standings on `day`, folded from these facts alone."""
    states: dict[str, Any] = {}
    for fact in facts:
        if fact.stream.startswith("agreement:"):
            states[fact.stream] = agreement.evolve(states.get(fact.stream), fact.event)
        elif fact.stream.startswith("follow-up:"):
            states[fact.stream] = follow_up.evolve(states.get(fact.stream), fact.event)
    agreements = [s for k, s in states.items() if k.startswith("agreement:")]
    follow_ups = [s for k, s in states.items() if k.startswith("follow-up:")]
    return {
        "budget": document(budget(agreements[0], day)),
        "follow_ups": sorted(
            (document(f.standing(day)) for f in follow_ups), key=lambda d: d["follow_up_ref"]
        ),
    }


@settings(max_examples=150, deadline=None)
@given(agreement_histories(min_steps=5, max_steps=30), st.data())
def test_an_answer_for_a_day_is_unchanged_by_facts_effective_after_it(
    commands: list[Command], data: st.DataObject
) -> None:
    # Given a history recorded step by step
    ledger = Ledger(clock=StepClock())
    for command in commands:
        ledger.execute(command)
    case = case_number_of(commands)
    facts = [f for f in ledger.history(case) if f.stream.startswith(("agreement:", "follow-up:"))]
    # and a moment it is known at (now, or any recorded time) and a day asked about
    known_at = data.draw(st.sampled_from([None, *sorted({f.recorded_at for f in facts})]))
    visible = [f for f in facts if known_at is None or f.recorded_at <= known_at]
    days = sorted(effective(f) for f in visible)
    day = data.draw(
        st.dates(days[0] - timedelta(days=30), days[-1] + timedelta(days=30)), label="day"
    )
    # When the ledger answers, and the same is folded without the facts effective after DAY
    state = ledger.agreement(case, known_at)
    asked = {
        "budget": document(budget(state, day)),
        "follow_ups": sorted(
            (document(f.standing(day)) for f in ledger.follow_ups(case, known_at)),
            key=lambda d: d["follow_up_ref"],
        ),
    }
    kept = [f for f in visible if isinstance(f.event, ALWAYS_KEPT) or effective(f) <= day]
    # Then the answers are the same: nothing effective after DAY shows in them
    assert asked == answers_from(kept, day)
    assert asked == answers_from(visible, day)
