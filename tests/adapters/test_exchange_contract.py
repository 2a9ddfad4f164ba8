"""The exchange format is a contract: every command and field of ../shared/interface.md is read.

`biv_adapters.exchange.read_line` turns one JSON line into a ledger line. Each
command of the contract is read here with every field, optional ones too; the
defaults are applied when optional fields are left out; and each field is
refused, by name, when its value has the wrong type.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import attrs
import pytest

from biv_adapters.exchange import read_line, read_lines
from biv_domain.ledger import Line, LineRefused
from biv_domain.model.commands import (
    COMMANDS,
    CancelGroup,
    CloseFollowUp,
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
from biv_domain.model.money import Money
from biv_domain.model.vocabulary import (
    Gender,
    GroupKind,
    Party,
    ResidenceStatus,
    TargetKind,
    Track,
)

CASE = "Dnr 2016-292"

# The contract's table: command -> (required fields, optional fields).
CONTRACT: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "conclude_agreement": (
        (
            "case_number",
            "title",
            "municipality",
            "partner",
            "start",
            "end",
            "notice_months",
            "decided_on",
        ),
        ("min_age", "max_age", "follow_up_months"),
    ),
    "extend_agreement": (("case_number", "end", "decided_on"), ()),
    "set_funding": (
        ("case_number", "party", "source", "start", "end", "amount", "decided_on"),
        (),
    ),
    "set_target": (("case_number", "target", "value", "decided_on"), ()),
    "give_notice": (("case_number", "party", "given_on"), ()),
    "record_disbursement": (("case_number", "amount", "paid_on"), ("source",)),
    "plan_group": (
        ("group_ref", "case_number", "kind", "area", "starts_on"),
        ("track", "planned_sessions", "language"),
    ),
    "enroll_participant": (
        ("group_ref", "participant_ref", "enrolled_on", "gender"),
        ("age", "status"),
    ),
    "withdraw_participant": (("group_ref", "participant_ref", "on"), ()),
    "hold_session": (("group_ref", "held_on", "attendees"), ()),
    "complete_group": (("group_ref", "on"), ()),
    "cancel_group": (("group_ref", "on", "reason"), ()),
    "schedule_follow_up": (("follow_up_ref", "case_number", "start", "end", "due_on"), ()),
    "submit_report": (("follow_up_ref", "submitted_on"), ("experience", "information")),
    "close_follow_up": (("follow_up_ref", "on"), ("assessment",)),
}

# One valid line of each command with every field of the contract, optional ones included.
FULL: dict[str, dict[str, Any]] = {
    "conclude_agreement": {
        "case_number": CASE,
        "title": "Barn i väntan / Barn i start",
        "municipality": "Linköpings kommun, Omsorgsnämnden",
        "partner": "Linköpings domkyrkopastorat",
        "start": "2017-04-01",
        "end": "2019-03-31",
        "notice_months": 6,
        "decided_on": "2017-03-15",
        "min_age": 6,
        "max_age": 19,
        "follow_up_months": 3,
    },
    "extend_agreement": {"case_number": CASE, "end": "2024-03-31", "decided_on": "2022-10-19"},
    "set_funding": {
        "case_number": CASE,
        "party": "municipality",
        "source": "state_grant_parenting_support",
        "start": "2023-04-01",
        "end": "2024-03-31",
        "amount": "200500",
        "decided_on": "2022-10-19",
    },
    "set_target": {
        "case_number": CASE,
        "target": "groups_per_year",
        "value": 6,
        "decided_on": "2022-10-19",
    },
    "give_notice": {"case_number": CASE, "party": "partner", "given_on": "2023-09-30"},
    "record_disbursement": {
        "case_number": CASE,
        "amount": "1234.50",
        "paid_on": "2023-04-20",
        "source": "committee_budget",
    },
    "plan_group": {
        "group_ref": "G-RYD-1",
        "case_number": CASE,
        "kind": "children",
        "area": "Ryd",
        "starts_on": "2023-04-12",
        "track": "waiting",
        "planned_sessions": 12,
        "language": "somali",
    },
    "enroll_participant": {
        "group_ref": "G-RYD-1",
        "participant_ref": "C-001",
        "enrolled_on": "2023-04-05",
        "gender": "girl",
        "age": 11,
        "status": "asylum_seeker",
    },
    "withdraw_participant": {
        "group_ref": "G-RYD-1",
        "participant_ref": "C-001",
        "on": "2023-05-03",
    },
    "hold_session": {
        "group_ref": "G-RYD-1",
        "held_on": "2023-04-12",
        "attendees": ["C-001", "C-002"],
    },
    "complete_group": {"group_ref": "G-RYD-1", "on": "2023-07-12"},
    "cancel_group": {"group_ref": "G-RYD-1", "on": "2023-04-10", "reason": "too few children"},
    "schedule_follow_up": {
        "follow_up_ref": "F-2023-H1",
        "case_number": CASE,
        "start": "2023-04-01",
        "end": "2023-09-30",
        "due_on": "2023-10-31",
    },
    "submit_report": {
        "follow_up_ref": "F-2023-H1",
        "submitted_on": "2023-10-20",
        "experience": "The children valued the sessions about the future.",
        "information": {"municipality": True, "partner": False},
    },
    "close_follow_up": {
        "follow_up_ref": "F-2023-H1",
        "on": "2023-11-08",
        "assessment": "The cooperation works well.",
    },
}

# What each field holds, to know which wrong values to try (null only where the field is required).
KIND_OF_FIELD: dict[str, str] = {
    "case_number": "text",
    "title": "text",
    "municipality": "text",
    "partner": "text",
    "source": "text",
    "group_ref": "text",
    "participant_ref": "text",
    "area": "text",
    "language": "text",
    "reason": "text",
    "follow_up_ref": "text",
    "experience": "text",
    "assessment": "text",
    "start": "date",
    "end": "date",
    "decided_on": "date",
    "given_on": "date",
    "paid_on": "date",
    "starts_on": "date",
    "enrolled_on": "date",
    "on": "date",
    "held_on": "date",
    "due_on": "date",
    "submitted_on": "date",
    "notice_months": "count",
    "min_age": "count",
    "max_age": "count",
    "follow_up_months": "count",
    "value": "count",
    "planned_sessions": "count",
    "age": "count",
    "amount": "amount",
    "party": "choice",
    "target": "choice",
    "kind": "choice",
    "track": "choice",
    "gender": "choice",
    "status": "choice",
    "attendees": "refs",
    "information": "information",
}

BAD_VALUES: dict[str, tuple[object, ...]] = {
    "text": (5, None, True, ["x"], {"x": 1}),
    "date": ("2023-02-30", "2023/01/01", "20230101", "2023-1-1", 20230101, None),
    "count": ("6", 6.0, 6.5, True, None, [6]),
    "amount": (1234.5, 200500, "12.345", "-5", "12,50", "1e3", "", None),
    "choice": ("bogus", 1, None, ""),
    "refs": ("C-001", [1], [None], None),
    "information": ({"municipality": "yes", "partner": True}, {"municipality": True}),
}


def line_of(command: str, fields: dict[str, Any], **extra: Any) -> str:
    return json.dumps({"command": command, **fields, **extra}, ensure_ascii=False)


def read(command: str, fields: dict[str, Any], **extra: Any) -> Line:
    line = read_line(7, line_of(command, fields, **extra))
    assert line is not None
    assert line.number == 7
    return line


def refusal(text: str, number: int = 7) -> LineRefused:
    with pytest.raises(LineRefused) as caught:
        read_line(number, text)
    assert caught.value.number == number
    return caught.value


def required_only(command: str) -> dict[str, Any]:
    required, _optional = CONTRACT[command]
    return {name: FULL[command][name] for name in required}


# --- The contract's table is what the code knows ---------------------------------------------


# Commands the README documents beside the contract's: the corrections.
ADDITIONS = {
    "retract_disbursement",
    "correct_attendance",
    "retract_session",
    "correct_participant",
    # Data protection (README, "Children's data"):
    "erase_participant",
    "apply_retention",
}


def test_the_code_knows_every_command_of_the_contract_and_only_documented_others() -> None:
    assert set(CONTRACT) <= set(COMMANDS)
    assert set(COMMANDS) - set(CONTRACT) == ADDITIONS
    assert set(FULL) == set(CONTRACT)


@pytest.mark.parametrize("command", sorted(CONTRACT))
def test_every_contract_field_is_a_field_of_the_command(command: str) -> None:
    required, optional = CONTRACT[command]
    names = {a.name for a in attrs.fields(COMMANDS[command])}
    assert set(required) | set(optional) <= names
    assert set(FULL[command]) == set(required) | set(optional)


# --- One test per command, every field given ---------------------------------------------


def test_conclude_agreement_with_every_field() -> None:
    line = read("conclude_agreement", FULL["conclude_agreement"], id="doc/01")
    assert line.line_id == "doc/01"
    assert line.command == ConcludeAgreement(
        case_number=CASE,
        title="Barn i väntan / Barn i start",
        municipality="Linköpings kommun, Omsorgsnämnden",
        partner="Linköpings domkyrkopastorat",
        start=date(2017, 4, 1),
        end=date(2019, 3, 31),
        notice_months=6,
        decided_on=date(2017, 3, 15),
        min_age=6,
        max_age=19,
        follow_up_months=3,
    )


def test_extend_agreement_with_every_field() -> None:
    line = read("extend_agreement", FULL["extend_agreement"])
    assert line.line_id is None
    assert line.command == ExtendAgreement(
        case_number=CASE, end=date(2024, 3, 31), decided_on=date(2022, 10, 19)
    )


def test_set_funding_with_every_field() -> None:
    line = read("set_funding", FULL["set_funding"])
    assert line.command == SetFunding(
        case_number=CASE,
        party=Party.MUNICIPALITY,
        source="state_grant_parenting_support",
        start=date(2023, 4, 1),
        end=date(2024, 3, 31),
        amount=Money(20_050_000),
        decided_on=date(2022, 10, 19),
    )


def test_set_target_with_every_field() -> None:
    line = read("set_target", FULL["set_target"])
    assert line.command == SetTarget(
        case_number=CASE,
        target=TargetKind.GROUPS_PER_YEAR,
        value=6,
        decided_on=date(2022, 10, 19),
    )


def test_give_notice_with_every_field() -> None:
    line = read("give_notice", FULL["give_notice"])
    assert line.command == GiveNotice(
        case_number=CASE, party=Party.PARTNER, given_on=date(2023, 9, 30)
    )


def test_record_disbursement_with_every_field() -> None:
    line = read("record_disbursement", FULL["record_disbursement"])
    assert line.command == RecordDisbursement(
        case_number=CASE,
        amount=Money(123_450),
        paid_on=date(2023, 4, 20),
        source="committee_budget",
    )


def test_plan_group_with_every_field() -> None:
    line = read("plan_group", FULL["plan_group"])
    assert line.command == PlanGroup(
        group_ref="G-RYD-1",
        case_number=CASE,
        kind=GroupKind.CHILDREN,
        area="Ryd",
        starts_on=date(2023, 4, 12),
        track=Track.WAITING,
        planned_sessions=12,
        language="somali",
    )


def test_enroll_participant_with_every_field() -> None:
    line = read("enroll_participant", FULL["enroll_participant"])
    assert line.command == EnrollParticipant(
        group_ref="G-RYD-1",
        participant_ref="C-001",
        enrolled_on=date(2023, 4, 5),
        gender=Gender.GIRL,
        age=11,
        status=ResidenceStatus.ASYLUM_SEEKER,
    )


def test_withdraw_participant_with_every_field() -> None:
    line = read("withdraw_participant", FULL["withdraw_participant"])
    assert line.command == WithdrawParticipant(
        group_ref="G-RYD-1", participant_ref="C-001", on=date(2023, 5, 3)
    )


def test_hold_session_with_every_field() -> None:
    line = read("hold_session", FULL["hold_session"])
    assert line.command == HoldSession(
        group_ref="G-RYD-1", held_on=date(2023, 4, 12), attendees=("C-001", "C-002")
    )


def test_complete_group_with_every_field() -> None:
    line = read("complete_group", FULL["complete_group"])
    assert line.command == CompleteGroup(group_ref="G-RYD-1", on=date(2023, 7, 12))


def test_cancel_group_with_every_field() -> None:
    line = read("cancel_group", FULL["cancel_group"])
    assert line.command == CancelGroup(
        group_ref="G-RYD-1", on=date(2023, 4, 10), reason="too few children"
    )


def test_schedule_follow_up_with_every_field() -> None:
    line = read("schedule_follow_up", FULL["schedule_follow_up"])
    assert line.command == ScheduleFollowUp(
        follow_up_ref="F-2023-H1",
        case_number=CASE,
        start=date(2023, 4, 1),
        end=date(2023, 9, 30),
        due_on=date(2023, 10, 31),
    )


def test_submit_report_with_every_field() -> None:
    line = read("submit_report", FULL["submit_report"])
    assert line.command == SubmitReport(
        follow_up_ref="F-2023-H1",
        submitted_on=date(2023, 10, 20),
        experience="The children valued the sessions about the future.",
        information=Information(municipality=True, partner=False),
    )


def test_close_follow_up_with_every_field() -> None:
    line = read("close_follow_up", FULL["close_follow_up"])
    assert line.command == CloseFollowUp(
        follow_up_ref="F-2023-H1", on=date(2023, 11, 8), assessment="The cooperation works well."
    )


# --- Optional fields left out: the defaults --------------------------------------------------


@pytest.mark.parametrize("command", sorted(CONTRACT))
def test_every_command_is_read_with_only_its_required_fields(command: str) -> None:
    line = read(command, required_only(command))
    assert isinstance(line.command, COMMANDS[command])


def test_conclude_agreement_defaults_ages_7_to_20_and_half_yearly_follow_up() -> None:
    command = read("conclude_agreement", required_only("conclude_agreement")).command
    assert isinstance(command, ConcludeAgreement)
    assert (command.min_age, command.max_age, command.follow_up_months) == (7, 20, 6)


def test_plan_group_defaults_to_14_sessions_and_no_track_or_language() -> None:
    command = read("plan_group", required_only("plan_group")).command
    assert isinstance(command, PlanGroup)
    assert command.planned_sessions == 14
    assert command.track is None
    assert command.language is None


def test_optional_fields_left_out_are_none() -> None:
    disbursement = read("record_disbursement", required_only("record_disbursement")).command
    assert isinstance(disbursement, RecordDisbursement)
    assert disbursement.source is None
    enrolment = read("enroll_participant", required_only("enroll_participant")).command
    assert isinstance(enrolment, EnrollParticipant)
    assert (enrolment.age, enrolment.status) == (None, None)
    report = read("submit_report", required_only("submit_report")).command
    assert isinstance(report, SubmitReport)
    assert (report.experience, report.information) == (None, None)
    closing = read("close_follow_up", required_only("close_follow_up")).command
    assert isinstance(closing, CloseFollowUp)
    assert closing.assessment is None


@pytest.mark.parametrize(
    ("command", "field"),
    [
        ("plan_group", "track"),
        ("plan_group", "language"),
        ("enroll_participant", "age"),
        ("enroll_participant", "status"),
        ("record_disbursement", "source"),
        ("submit_report", "experience"),
        ("submit_report", "information"),
        ("close_follow_up", "assessment"),
    ],
)
def test_an_optional_field_may_be_null(command: str, field: str) -> None:
    line = read(command, {**required_only(command), field: None})
    assert getattr(line.command, field) is None


# --- Every value of the closed vocabularies --------------------------------------------------


@pytest.mark.parametrize(
    ("command", "field", "values"),
    [
        ("set_funding", "party", ("municipality", "partner")),
        ("give_notice", "party", ("municipality", "partner")),
        ("set_target", "target", ("children_per_year", "groups_per_year")),
        ("plan_group", "kind", ("children", "parents")),
        ("plan_group", "track", ("waiting", "starting")),
        (
            "enroll_participant",
            "gender",
            ("girl", "boy", "woman", "man", "other", "unknown"),
        ),
        ("enroll_participant", "status", ("asylum_seeker", "residence_permit")),
    ],
)
def test_every_word_of_a_vocabulary_is_accepted(
    command: str, field: str, values: tuple[str, ...]
) -> None:
    for value in values:
        line = read(command, {**FULL[command], field: value})
        assert getattr(line.command, field) == value


@pytest.mark.parametrize(
    ("text", "ore"),
    [
        ("200500", 20_050_000),
        ("1234.50", 123_450),
        ("1234.5", 123_450),
        ("0.01", 1),
        ("160000.00", 16_000_000),
    ],
)
def test_amounts_are_strings_of_kronor_with_at_most_two_decimals(text: str, ore: int) -> None:
    command = read("set_funding", {**FULL["set_funding"], "amount": text}).command
    assert isinstance(command, SetFunding)
    assert command.amount == Money(ore)


def test_a_funding_amount_of_zero_is_read_because_it_withdraws_the_line() -> None:
    command = read("set_funding", {**FULL["set_funding"], "amount": "0"}).command
    assert isinstance(command, SetFunding)
    assert command.amount == Money(0)


def test_information_takes_both_parties_booleans() -> None:
    for municipality in (True, False):
        for partner in (True, False):
            information = {"municipality": municipality, "partner": partner}
            command = read("submit_report", {**FULL["submit_report"], "information": information})
            assert isinstance(command.command, SubmitReport)
            assert command.command.information == Information(municipality, partner)


# --- The line itself: id, blank lines, JSON -----------------------------------------------


def test_the_id_goes_to_the_line_not_the_command() -> None:
    line = read("set_target", FULL["set_target"], id="linkoping/documents/09")
    assert line.line_id == "linkoping/documents/09"
    assert line.command == read("set_target", FULL["set_target"]).command


def test_a_null_id_is_a_line_without_id() -> None:
    assert read("set_target", FULL["set_target"], id=None).line_id is None


@pytest.mark.parametrize("line_id", [5, "", "   ", True, ["a"]])
def test_an_id_must_be_a_non_empty_string(line_id: object) -> None:
    refused = refusal(line_of("set_target", FULL["set_target"], id=line_id))
    assert refused.refusal.field == "id"


@pytest.mark.parametrize("text", ["", "   ", "\t"])
def test_a_blank_line_is_passed_over(text: str) -> None:
    assert read_line(3, text) is None


@pytest.mark.parametrize("text", ["{bad json", "[1, 2]", '"conclude_agreement"', "42", "null"])
def test_a_line_that_is_not_a_json_object_is_refused(text: str) -> None:
    assert refusal(text).refusal.field == "line"


def test_read_lines_counts_blank_lines_in_the_line_numbers() -> None:
    good = line_of("set_target", FULL["set_target"])
    bad = line_of("set_target", {**FULL["set_target"], "value": "6"})
    with pytest.raises(LineRefused) as caught:
        read_lines([good, "", good, bad, good])
    assert caught.value.number == 4
    assert caught.value.refusal.field == "value"
    assert [line.number for line in read_lines([good, "", good])] == [1, 3]


@pytest.mark.parametrize("name", ["sign_agreement", "", None, 5, "Conclude_Agreement"])
def test_an_unknown_command_is_refused_naming_command(name: object) -> None:
    refused = refusal(json.dumps({**FULL["set_target"], "command": name}))
    assert refused.refusal.field == "command"


def test_a_missing_command_is_refused_naming_command() -> None:
    assert refusal(json.dumps(FULL["set_target"])).refusal.field == "command"


@pytest.mark.parametrize("command", sorted(CONTRACT))
def test_an_unknown_field_is_refused_by_name(command: str) -> None:
    refused = refusal(line_of(command, FULL[command], signed_by="someone"))
    assert refused.refusal.field == "signed_by"
    assert "not a field" in refused.refusal.reason


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (command, field)
        for command, (required, _o) in sorted(CONTRACT.items())
        for field in required
    ],
)
def test_a_missing_required_field_is_refused_by_name(command: str, field: str) -> None:
    fields = {k: v for k, v in FULL[command].items() if k != field}
    refused = refusal(line_of(command, fields))
    assert refused.refusal.field == field
    assert "required" in refused.refusal.reason


# --- Wrong types, field by field ------------------------------------------------------------


def _wrong_type_cases() -> list[Any]:
    cases = []
    for command, fields in sorted(FULL.items()):
        optional = CONTRACT[command][1]
        for field in fields:
            for bad in BAD_VALUES[KIND_OF_FIELD[field]]:
                if bad is None and field in optional:
                    continue
                expected = field
                if field == "information" and isinstance(bad, dict):
                    # The nested field at fault is named with its path.
                    expected = (
                        "information.municipality"
                        if bad.get("municipality") == "yes"
                        else "information.partner"
                    )
                cases.append(
                    pytest.param(command, field, bad, expected, id=f"{command}.{field}={bad!r}")
                )
    return cases


@pytest.mark.parametrize(("command", "field", "bad", "expected"), _wrong_type_cases())
def test_a_wrong_value_is_refused_naming_the_field(
    command: str, field: str, bad: object, expected: str
) -> None:
    refused = refusal(line_of(command, {**FULL[command], field: bad}))
    assert refused.refusal.field == expected
    assert refused.refusal.reason
    assert "\n" not in str(refused)
    assert str(refused).startswith("line 7: ")


def test_a_json_float_amount_is_refused_naming_amount() -> None:
    refused = refusal(
        '{"command": "set_funding", "case_number": "X", "party": "municipality",'
        ' "source": "s", "start": "2023-01-01", "end": "2023-12-31",'
        ' "amount": 200500.0, "decided_on": "2023-01-01"}'
    )
    assert refused.refusal.field == "amount"
    assert "string" in refused.refusal.reason


@pytest.mark.parametrize(
    ("value", "reason"),
    [("2023-02-30", "calendar"), ("2023/01/01", "YYYY-MM-DD"), ("2023-13-01", "calendar")],
)
def test_a_bad_date_says_why(value: str, reason: str) -> None:
    refused = refusal(line_of("extend_agreement", {**FULL["extend_agreement"], "end": value}))
    assert refused.refusal.field == "end"
    assert reason in refused.refusal.reason


@pytest.mark.parametrize(
    ("command", "field", "value"),
    [
        ("conclude_agreement", "title", "   "),
        ("conclude_agreement", "case_number", ""),
        ("set_funding", "source", " "),
        ("plan_group", "area", ""),
        ("cancel_group", "reason", ""),
        ("plan_group", "planned_sessions", 0),
        ("conclude_agreement", "notice_months", -1),
        ("conclude_agreement", "follow_up_months", 0),
        ("conclude_agreement", "max_age", 5),
        ("set_target", "value", -1),
        ("set_funding", "end", "2023-03-31"),
        ("schedule_follow_up", "due_on", "2023-03-31"),
        ("hold_session", "attendees", []),
        ("hold_session", "attendees", ["C-001", "C-001"]),
        ("hold_session", "attendees", ["C-001", " "]),
        ("record_disbursement", "amount", "0"),
        ("record_disbursement", "source", " "),
    ],
)
def test_a_value_of_the_right_type_but_out_of_range_is_refused_by_name(
    command: str, field: str, value: object
) -> None:
    refused = refusal(line_of(command, {**FULL[command], field: value}))
    assert refused.refusal.field == field


def test_an_information_that_is_not_an_object_is_refused_naming_information() -> None:
    refused = refusal(line_of("submit_report", {**FULL["submit_report"], "information": "yes"}))
    assert refused.refusal.field == "information"


def test_an_information_that_is_not_an_object_says_so_in_words() -> None:
    refused = refusal(line_of("submit_report", {**FULL["submit_report"], "information": "yes"}))
    assert "object" in refused.refusal.reason
    assert "attribute" not in refused.refusal.reason


def test_an_unknown_key_inside_information_is_named_with_its_path() -> None:
    information = {"municipality": True, "partner": True, "x": 1}
    refused = refusal(
        line_of("submit_report", {**FULL["submit_report"], "information": information})
    )
    assert refused.refusal.field == "information.x"


@pytest.mark.parametrize("amount", ["２００５００", "٢٠٠٥٠٠"])
def test_an_amount_in_non_ascii_digits_is_refused(amount: str) -> None:
    refused = refusal(line_of("set_funding", {**FULL["set_funding"], "amount": amount}))
    assert refused.refusal.field == "amount"
