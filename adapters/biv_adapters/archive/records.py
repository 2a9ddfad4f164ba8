"""The archived data of one agreement: its history, stored facts and tables, children pseudonymous.

The history is every fact about the agreement (as `biv history` reads it) that had
happened by the export's day, each with both times, its actor, its decision, its
chain position and hash. A participant is named by their pseudonym (or, once
erased, the stand-in `erased-…`), never by the partner's reference, and their age,
gender, status and a correction's reason are left out: they are sealed in the store
and stay so in the archive's copy of the stored facts (`chain.jsonl`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from attrs import frozen

from biv_adapters.pack.export import (
    budget_tables,
    disbursements_table,
    follow_up_tables,
    report_by_year,
)
from biv_adapters.pack.files import Table
from biv_domain.converter import document
from biv_domain.ledger import Ledger
from biv_domain.ledger.personal import LISTS, SEALED
from biv_domain.ledger.subjects import ERASED_PREFIX, SubjectKeys
from biv_domain.model.agreement import AgreementState
from biv_domain.model.fact import Fact
from biv_domain.projections.budget import budget
from biv_domain.projections.history import FactRecord


@frozen
class Archived:
    """What the package holds of one agreement on a day."""

    case_number: str
    on: date
    state: AgreementState
    facts: tuple[Fact, ...]
    tables: tuple[Table, ...]


def gather(ledger: Ledger, case_number: str, on: date) -> Archived:
    """The agreement's facts that had happened by `on`, and its tables as of `on`.

    A fact counts when its effective date is on or before `on` (a fact with no
    effective date, when it was recorded by the end of that day, UTC).
    """
    state = ledger.agreement(case_number)  # NotFound before anything is written
    facts = tuple(f for f in ledger.history(case_number) if happened_by(f, on))
    groups, follow_ups = ledger.groups(case_number), ledger.follow_ups(case_number)
    tables = (
        *budget_tables(budget(state, on)),
        disbursements_table(state, on),
        _until(report_by_year(state, groups), on),
        *follow_up_tables(state, groups, [f for f in follow_ups if f.window.start <= on], on),
    )
    return Archived(case_number, on, state, facts, tables)


def happened_by(fact: Fact, on: date) -> bool:
    effective = fact.effective_on
    if effective is not None:
        return effective <= on
    return fact.recorded_at.date() <= on


def _until(table: Table, on: date) -> Table:
    """The report's years that had begun by `on`."""
    rows = tuple(row for row in table.rows if _as_date(row["from"]) <= on)
    return Table(table.file, rows, table.columns)


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def history_record(fact: Fact, keys: SubjectKeys) -> dict[str, Any]:
    """One fact as the archive's history line: `biv history`'s record, children pseudonymous,
    and the fact's chain hash and the hash before it."""
    record: dict[str, Any] = document(FactRecord.of(fact))
    record["data"] = pseudonymous(fact.type, record["data"], keys)
    record["hash"] = fact.hash
    record["previous"] = fact.previous
    return record


def pseudonymous(type_name: str, data: dict[str, Any], keys: SubjectKeys) -> dict[str, Any]:
    """The fact's fields with each participant named by pseudonym, their own fields left out."""
    out = dict(data)
    if type_name in SEALED:
        for name in SEALED[type_name]:
            out.pop(name, None)
        out["participant"] = _pseudonym(data["participant_ref"], keys)
    for name in LISTS.get(type_name, ()):
        out[name] = [_pseudonym(ref, keys) for ref in data[name]]
    return out


def _pseudonym(reference: str, keys: SubjectKeys) -> str:
    if reference.startswith(ERASED_PREFIX):
        return reference  # erased: the stand-in, already derived from the pseudonym
    return keys.subject_of(reference)
