"""The rules of erasure and retention (radering, gallring), decided in the model like any
other command's: the ledger only gathers each participant's standing (their key, their
erasure) and the groups' closings and enrolments."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from biv_domain.errors import NotFound, RuleBroken
from biv_domain.model.protection import (
    ApplyRetention,
    EraseParticipant,
    Erasure,
    ParticipantStanding,
    apply_retention,
    erase,
    retention_candidates,
)

ERASE = EraseParticipant("C-1", "the guardian asked", date(2024, 2, 1))
RETAIN = ApplyRetention(date(2024, 1, 1), "gallringsbeslut SN 2024-01", date(2024, 1, 15))


def standing(
    keyed: bool = True, destroyed: bool = False, erased: bool = False
) -> ParticipantStanding:
    return ParticipantStanding("pseudonym-1", keyed, destroyed, erased)


def test_given_a_participant_with_a_key_when_erased_then_one_erasure_names_their_pseudonym() -> (
    None
):
    assert erase(ERASE, standing()) == [
        Erasure("pseudonym-1", "the guardian asked", date(2024, 2, 1))
    ]


def test_given_no_key_of_theirs_when_erased_then_not_found_names_the_reference() -> None:
    with pytest.raises(NotFound) as refused:
        erase(ERASE, standing(keyed=False))
    assert refused.value.field == "participant_ref"
    assert "'C-1'" in refused.value.reason
    assert "format 3" in refused.value.reason


def test_given_an_erasure_already_recorded_when_erased_again_then_refused() -> None:
    with pytest.raises(RuleBroken) as refused:
        erase(ERASE, standing(erased=True))
    assert refused.value.field == "participant_ref"
    assert "already erased" in refused.value.reason


def test_given_groups_closed_before_the_day_then_only_their_participants_are_candidates() -> None:
    closings = [("G-old", date(2023, 6, 30)), ("G-on-the-day", date(2024, 1, 1))]
    enrolments = {
        "only-old": {"G-old"},
        "old-and-open": {"G-old", "G-open"},
        "closed-on-the-day": {"G-on-the-day"},
    }
    assert retention_candidates(RETAIN, closings, enrolments) == ["only-old"]


def test_given_candidates_then_retention_erases_those_with_a_live_key_not_yet_erased() -> None:
    standings = [
        ParticipantStanding("a", keyed=True, key_destroyed=False, erased=False),
        ParticipantStanding("b", keyed=False, key_destroyed=False, erased=False),
        ParticipantStanding("c", keyed=True, key_destroyed=True, erased=True),
        ParticipantStanding("d", keyed=True, key_destroyed=False, erased=True),
    ]
    assert apply_retention(RETAIN, standings) == [
        Erasure("a", "retention: gallringsbeslut SN 2024-01", date(2024, 1, 15))
    ]


days = st.dates(date(2020, 1, 1), date(2026, 12, 31))
groups = st.sampled_from([f"G-{n}" for n in range(6)])


@given(
    st.lists(st.tuples(groups, days), max_size=8),
    st.dictionaries(st.text("abc", min_size=1, max_size=3), st.sets(groups, min_size=1)),
    days,
)
def test_a_candidate_is_exactly_a_participant_whose_every_group_closed_before_the_day(
    closings: list[tuple[str, date]], enrolments: dict[str, set[str]], ended_before: date
) -> None:
    command = ApplyRetention(ended_before, "schedule", ended_before)
    candidates = retention_candidates(command, closings, enrolments)
    assert candidates == sorted(candidates)
    for subject, in_groups in enrolments.items():
        closed_in_time = all(
            any(g == group and on < ended_before for g, on in closings) for group in in_groups
        )
        assert (subject in candidates) == closed_in_time
