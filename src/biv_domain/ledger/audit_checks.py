"""What `biv audit verify` checks beside the chain: every byte that can change an answer.

The chain proves the facts as stored. An answer also depends on bytes the chain
does not cover, and on whether this code can read the facts at all:

- the participants' keys (`biv_subject_keys`): a key gone without an erasure or
  retention fact (`ParticipantErased`) is an erasure nobody decided;
- the read models (the funding view): folded again from the facts here, and the
  first row that differs is named;
- every fact must be readable by this code: a chained fact it cannot read is named.

Every problem names a real row: its chain position, type, stream and version.
A store encrypted under BIV_CIPHER_KEY is checked this way only with its key.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from attrs import evolve, frozen
from eventsourcing.persistence import Notification

from biv_domain.converter import document
from biv_domain.ledger.bookkeeping import ParticipantErased
from biv_domain.ledger.envelope import read, subjects_named
from biv_domain.ledger.subjects import CipherKeyRefused, erased_reference
from biv_domain.ledger.unreadable import UnreadableFact, row_name
from biv_domain.ledger.upcasting import NewerFormat
from biv_domain.ledger.verification import Verification
from biv_domain.model.fact import Fact
from biv_domain.projections.fiscal_year import TOPICS, FundingFold

if TYPE_CHECKING:
    from biv_domain.ledger.reading import LedgerReads

CHECKS = ("chain", "batch seals", "facts readable", "participants' keys", "funding view")
NO_KEY = (
    "this store is encrypted: its facts, keys and read models are checked only with "
    "BIV_CIPHER_KEY set; the chain and its seals were checked without it"
)
SHOWN = 1000  # problems of a kind named one by one (every one, short of a flood), then counted


@frozen
class _Walk:
    """What one pass over the stored rows gathers for the checks."""

    unreadable: list[str]
    newer: list[str]  # facts of a newer format than this code reads: not a fault of the store
    named: dict[str, str]  # pseudonym → the first row that names the participant
    erased: dict[str, str]  # pseudonym → the row of its ParticipantErased fact
    funding: FundingFold
    last_about: dict[str, Fact]  # case number → the last funding fact about it


def check_store(ledger: LedgerReads, chain: Verification) -> Verification:
    """The chain's walk with the store's other checks added (its `problems`, `checked`)."""
    try:
        ledger.keys.data_key()
    except CipherKeyRefused:  # an encrypted store, without its key: only the chain is walked
        return evolve(chain, checked=CHECKS[:2], notes=(NO_KEY,))
    for _attempt in range(3):  # another process may store a batch meanwhile: check again
        head = ledger.recorder.max_notification_id()
        ledger.keys.forget()  # the key table as stored now, not as this process remembers it
        walk = _walk(ledger)
        keys = _key_problems(ledger, walk)
        view = [] if walk.newer else _view_problems(ledger, walk)
        if ledger.recorder.max_notification_id() == head:
            break
    else:
        note = "the store kept taking new facts during the check: run it again when it is quiet"
        problems = _named(walk.unreadable, "facts this biv-domain cannot read")
        return evolve(chain, problems=tuple(problems), checked=CHECKS[:3], notes=(note,))
    problems = [
        *_named(walk.unreadable, "facts this biv-domain cannot read"),
        *_named(keys, "participants"),
        *view,
    ]
    if walk.newer:  # the view cannot be folded without them: upgrade to check it
        note = (
            f"{len(walk.newer)} facts are of a newer format than this biv-domain reads (the "
            f"first: {walk.newer[0]}): upgrade biv-domain to check them and the funding view"
        )
        checked = tuple(c for c in CHECKS if c not in ("facts readable", "funding view"))
        return evolve(chain, problems=tuple(problems), checked=checked, notes=(note,))
    return evolve(chain, problems=tuple(problems), checked=CHECKS)


def _named(problems: list[str], what: str) -> list[str]:
    if len(problems) <= SHOWN:
        return problems
    return [*problems[:SHOWN], f"and {len(problems) - SHOWN} more {what} like these"]


def _walk(ledger: LedgerReads) -> _Walk:
    walk = _Walk([], [], {}, {}, FundingFold(), {})
    for row, named in _rows(ledger):
        for subject in named:
            if subject not in walk.named:
                walk.named[subject] = row_name(row)
        try:
            fact = read(row, ledger.keys)
        except NewerFormat:
            walk.newer.append(row_name(row))
            continue
        except UnreadableFact as unreadable:
            walk.unreadable.append(
                f"{row_name(row)}: this biv-domain cannot read it: {unreadable.cause}"
            )
            continue
        except Exception as error:  # an envelope too damaged to read (the chain names it too)
            walk.unreadable.append(f"{row_name(row)}: cannot be read ({type(error).__name__})")
            continue
        event = fact.event
        if isinstance(event, ParticipantErased):
            walk.erased.setdefault(event.participant, row_name(row))
        elif fact.type in TOPICS:
            walk.funding.apply(event)
            walk.last_about[str(event.case_number)] = fact
    return walk


def _rows(ledger: LedgerReads) -> Iterator[tuple[Notification, list[str]]]:
    """Every stored row and the participants it names, their keys read a page at a time."""
    for page in ledger._pages():
        named = [subjects_named(row, ledger.keys) for row in page]
        ledger.keys.prefetch(subject for subjects in named for subject in subjects)
        yield from zip(page, named, strict=True)


def _key_problems(ledger: LedgerReads, walk: _Walk) -> list[str]:
    """Every participant whose key is gone without an erasure fact, or kept despite one."""
    subjects = sorted(walk.named.keys() | walk.erased.keys())
    ledger.keys.prefetch(subjects)
    problems = []
    for subject in subjects:
        who = f"the participant shown as {erased_reference(subject)}"
        record = ledger.keys.lookup(subject)
        erased = walk.erased.get(subject)
        if erased is None and record is None:
            problems.append(
                f"{who} (first named in {walk.named[subject]}) has no key and no erasure or "
                "retention fact (ParticipantErased): their key was removed outside the ledger"
            )
        elif erased is None and record is not None and record.erased:
            problems.append(
                f"{who} (first named in {walk.named[subject]}) has their key destroyed "
                "without an erasure or retention fact (ParticipantErased)"
            )
        elif erased is not None and record is not None and not record.erased:
            problems.append(
                f"{who} is erased by {erased}, but their key is still there: "
                "the erasure was not carried out"
            )
    return problems


def _view_problems(ledger: LedgerReads, walk: _Walk) -> list[str]:
    """The first row of the funding view that differs from the view folded from the facts."""
    kept, folded = ledger.funding_view.current_rows(), walk.funding.rows()
    for key in sorted(kept.agreements.keys() | folded.agreements.keys()):
        found = _differs(kept.agreements.get(key), folded.agreements.get(key))
        if found:
            return [_view_problem(f"agreement row of {key}:", found, walk, key)]
    for line in sorted(kept.lines.keys() | folded.lines.keys(), key=str):
        found = _differs(kept.lines.get(line), folded.lines.get(line))
        if found:
            named = f"funding line ({_line_name(line)}):"
            return [_view_problem(named, found, walk, line[0])]
    return []


def _line_name(line: tuple[str, Any]) -> str:
    case_number, key = line
    return ", ".join(str(part) for part in (case_number, *document(key).values()))


def _differs(kept: object, folded: object) -> str | None:
    """The first field of a view's row that differs from the row folded from the facts."""
    if kept == folded:
        return None
    if kept is None or folded is None:
        return "is missing from the view" if kept is None else "is in the view but in no fact"
    kept_fields, folded_fields = _flat(document(kept)), _flat(document(folded))
    for name in sorted(kept_fields.keys() | folded_fields.keys()):
        if kept_fields.get(name) != folded_fields.get(name):
            return (
                f"its {name} is {kept_fields.get(name)!r} in the view, "
                f"{folded_fields.get(name)!r} folded from the facts"
            )
    return "differs from the row folded from the facts"


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(value, dict):
        return {prefix: value}
    flat: dict[str, Any] = {}
    for key, inner in value.items():
        flat.update(_flat(inner, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def _view_problem(row: str, found: str, walk: _Walk, case_number: str) -> str:
    last = walk.last_about.get(case_number)
    source = (
        f"; the last fact about {case_number} is at chain position {last.position}: "
        f"{last.type} of {last.stream} v{last.originator_version}"
        if last is not None
        else ""
    )
    return (
        f"the funding view (biv_view_funding_lines, biv_view_agreements) differs from the "
        f"facts: the {row} {found}{source}; `biv rebuild` folds the view again from the facts"
    )
