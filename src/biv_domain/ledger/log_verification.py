"""`biv audit verify --key VKEY [--checkpoint FILE]… [--receipt FILE]…`: the store still makes
every checkpoint the log signed, and where it does not, the first position that differs
(issue 21).

Trusted evidence is what verifies under the auditor's verifier key (the log's signer key is in
the municipality's vault, not with whoever runs the database):

- the checkpoints kept outside (`--checkpoint`, any number);
- the receipts (`--receipt`): their checkpoint, and the leaf data of each fact they name, proven
  against it (a leaf is the fact's chain hash, so the exact position of a change is known);
- the checkpoints the store kept when it signed each batch (`log_storage.checkpoint_at_size`,
  read at each batch's seal), and the witnesses' cosignatures kept with them. A kept note or
  cosignature that does not verify is itself a finding, named by its size.

One pass over the facts in chain order recomputes the tree's root from the facts' own chain
hashes (never trusting the stored tree) at each trusted size, and compares each receipt's leaf
with the fact's hash. A root made means positions 1 to that size hold; a leaf that matches means
positions 1 to it hold too, as each chain hash covers the one before it (the chain's own walk,
`verify_chain`, checks that link). The largest such position S_ok and the first size S_bad whose
evidence the facts do not make bound the first difference; the stored tree then narrows it by
bisection, with inclusion proofs from the stored tree checked against the signed root of
S_bad: a proof that verifies gives the leaf the log signed there (the tree may lie; a proof
that does not verify is not used). A store holding fewer facts than a checkpoint was shortened:
its first missing position is named.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from attrs import field, frozen
from eventsourcing.persistence import Notification

from biv_domain.converter import parse_json
from biv_domain.errors import InvalidValue, Refused
from biv_domain.ledger.merkle import fold, leaf_hash, node_hash, verify_inclusion
from biv_domain.ledger.note import Checkpoint, Note, Verifier, cosignatures
from biv_domain.ledger.receipts import check_receipt, signed_checkpoint

if TYPE_CHECKING:
    from biv_domain.ledger.application import Ledger
    from biv_domain.model.log_proofs import ImportReceipt

SHOWN = 5
"""The facts an interval's finding names before "and N more"."""


@frozen
class Evidence:
    """A checkpoint whose signature verifies under the auditor's key, and where it came from."""

    checkpoint: Checkpoint
    source: str
    """How a finding names it: "kept in the store", "in FILE", "of the receipt FILE"."""

    def __str__(self) -> str:
        return f"the signed checkpoint of {self.checkpoint.size} {self.source}"


@frozen
class _Leaf:
    """A receipt's leaf: the data the log signed at a position, proven against its checkpoint."""

    position: int
    data: bytes
    line: int
    source: str

    def __str__(self) -> str:
        return f"the receipt of line {self.line} {self.source}"


@frozen
class LogVerification:
    """What the store's facts make of the trusted evidence: each checkpoint checked, the
    largest one the store extends, and the findings (one line each)."""

    checked: tuple[Evidence, ...]
    problems: tuple[str, ...]
    extends: Evidence | None = None
    holds: bool = field(init=False)

    @holds.default
    def _holds(self) -> bool:
        return not self.problems


@frozen
class CheckpointVerification:
    checkpoint: Checkpoint
    holds: bool
    problem: str | None = None


class _Tree:
    """The root of a growing list of leaves, kept as its frontier (O(log n) memory)."""

    def __init__(self) -> None:
        self.stack: list[tuple[int, bytes]] = []
        self.size = 0

    def add(self, data: bytes) -> None:
        level, digest = 0, leaf_hash(data)
        while self.stack and self.stack[-1][0] == level:
            digest = node_hash(self.stack.pop()[1], digest)
            level += 1
        self.stack.append((level, digest))
        self.size += 1

    def root(self) -> bytes:
        return fold([digest for _level, digest in self.stack])


def _row(row: Notification) -> str:
    kind = row.topic.rsplit(":", 1)[-1].rsplit(".", 1)[-1]
    return f"{kind}, stream {row.originator_id} v{row.originator_version}"


def _kept(ledger: Ledger, size: int, key: Verifier) -> tuple[Evidence | None, list[str]]:
    """The store's signed checkpoint of this size, if kept and verifying, and the findings of
    its note or cosignatures that do not verify."""
    kept, cosigned = ledger.log_storage.checkpoint_at_size(size)
    if kept is None:
        return None, []
    where = f"the store's signed checkpoint of {size}"
    try:
        checkpoint = signed_checkpoint(kept, key, where)
        if checkpoint.size != size:
            raise InvalidValue(where, f"is a checkpoint of {checkpoint.size} facts")
    except InvalidValue as refused:
        return None, [f"{where} does not verify under the key {key.name}: {refused.reason}"]
    found = []
    text = Note.parse(kept, where).text if cosigned else ""
    for witness_key, line in sorted(cosigned.items()):
        try:
            witness = Verifier.parse(witness_key, "witness")
            if not cosignatures(Note.parse(f"{text}\n{line}\n", "cosignature"), [witness]):
                raise InvalidValue("cosignature", "is not the witness's")
        except InvalidValue:
            name = witness_key.split("+", 1)[0]
            found.append(f"the cosignature of {name} kept with {where} does not verify")
    return Evidence(checkpoint, "kept in the store"), found


def _keeps(ledger: Ledger, key: Verifier) -> tuple[bool, list[str]]:
    """Whether the store may keep checkpoints signed with `key` (it keeps the log's verifier
    key from the first one it signed); a store keeping another key is a finding of its own."""
    try:
        verifier = ledger.log_verifier()
    except InvalidValue as refused:
        return False, [f"the store's log key cannot be read: {refused.reason}"]
    if verifier is None:
        return False, []  # the store never signed a checkpoint
    if str(verifier) != str(key):
        return False, [
            f"the store keeps the log key {verifier}, not {key}: its signed checkpoints "
            "cannot be checked with the key given"
        ]
    return True, []


class _Walk:
    """The pass's state: the last position known to hold, the first known to differ, and the
    rows in between (those since the last that held, until one differs)."""

    def __init__(self) -> None:
        self.held: tuple[int, str] = (0, "")
        self.differs: tuple[int, str, Evidence | _Leaf] | None = None
        self.window: list[Notification] = []  # the rows at positions held+1, held+2, ...
        self.extends: Evidence | None = None

    def hold(self, position: int, why: str) -> None:
        if self.differs is None and position >= self.held[0]:
            self.held = (position, why)
            self.window.clear()

    def differ(self, position: int, evidence: Evidence | _Leaf) -> None:
        if self.differs is None:
            self.differs = (position, str(evidence), evidence)


def verify_log(
    ledger: Ledger,
    key: Verifier,
    checkpoints: Sequence[tuple[str, str]] = (),
    receipts: Sequence[tuple[str, ImportReceipt]] = (),
    *,
    kept: bool = True,
    until: int | None = None,
) -> LogVerification:
    """Checks the store's facts against every trusted checkpoint and receipt (one pass).

    `checkpoints` and `receipts` are (where, what) pairs: "where" names the file in
    findings. A checkpoint or receipt that does not verify under `key` is refused
    (InvalidValue naming it). With `kept`, the store's own signed checkpoints (at each
    seal, up to `until` or the end) are evidence too.
    """
    outside: dict[int, list[Evidence]] = {}
    leaves: dict[int, list[_Leaf]] = {}
    for where, text in checkpoints:
        checkpoint = signed_checkpoint(text, key, f"checkpoint {where}")
        outside.setdefault(checkpoint.size, []).append(Evidence(checkpoint, f"in {where}"))
    for where, receipt in receipts:
        try:
            checkpoint = check_receipt(receipt, key)
        except InvalidValue as refused:
            raise InvalidValue(f"receipt {where}: {refused.field}", refused.reason) from None
        outside.setdefault(checkpoint.size, []).append(
            Evidence(checkpoint, f"of the receipt {where}")
        )
        for line in receipt.lines:
            for fact in line.facts:
                data = bytes.fromhex(fact.proof.leaf)
                leaves.setdefault(fact.position, []).append(
                    _Leaf(fact.position, data, line.line, f"in {where}")
                )
    problems: list[str] = []
    # The store's own checkpoints count only if it keeps this very key.
    use_kept, problems = _keeps(ledger, key) if kept else (False, [])
    end = until
    if end is None and not use_kept:  # outside evidence only: the facts it covers
        end = max([*outside, *leaves, 0])
        if not end:
            return LogVerification((), tuple(problems))
    tree, walk = _Tree(), _Walk()
    trusted: list[Evidence] = []
    missing = False
    window = walk.window
    for row in ledger.rows():
        if end is not None and tree.size >= end:
            break
        chain = parse_json(row.state)["chain"]
        position = tree.size + 1
        if chain["position"] != position:
            problems.append(
                f"position {position} is missing: row {row.id} ({_row(row)}) holds "
                f"position {chain['position']}"
            )
            missing = True
            break
        data = bytes.fromhex(chain["hash"])
        tree.add(data)
        if walk.differs is None:
            window.append(row)
        if position in leaves:
            for leaf in leaves[position]:
                if leaf.data == data:
                    walk.hold(position, str(leaf))
                else:
                    walk.differ(position, leaf)
        if position not in outside and not (use_kept and row.topic.endswith("BatchSealed")):
            continue
        evidence = list(outside.get(position, ()))
        if use_kept and row.topic.endswith("BatchSealed"):
            found, findings = _kept(ledger, position, key)
            problems.extend(findings)
            if found is not None:
                evidence.append(found)
        if evidence:
            root = tree.root()
            for e in evidence:
                trusted.append(e)
                if e.checkpoint.root == root:
                    walk.hold(position, str(e))
                    if walk.differs is None:
                        walk.extends = e
                else:
                    walk.differ(position, e)
    if walk.differs is not None:
        problems.append(_first_difference(ledger, walk, trusted))
    beyond = [e for size, es in outside.items() if size > tree.size for e in es]
    if beyond and not missing:
        last = max(beyond, key=lambda e: e.checkpoint.size)
        problems.append(
            f"the store holds {tree.size} facts, {last} holds {last.checkpoint.size}: the "
            f"history was shortened, position {tree.size + 1} is the first that differs"
        )
    return LogVerification(tuple(trusted), tuple(problems), walk.extends)


def _signed_leaf(ledger: Ledger, position: int, evidence: Evidence) -> bytes | None:
    """The leaf the log signed at `position`, from the stored tree's inclusion proof checked
    against the signed root; None where the stored tree cannot prove one (it was rewritten)."""
    checkpoint = evidence.checkpoint
    try:
        proof = ledger.inclusion_proof(position, checkpoint.size)
        leaf = bytes.fromhex(proof.leaf)
        path = [bytes.fromhex(h) for h in proof.hashes]
    except (Refused, KeyError, IndexError, ValueError):  # a tree missing nodes, or refusing
        return None  # the size, proves nothing
    if verify_inclusion(position - 1, checkpoint.size, leaf_hash(leaf), path, checkpoint.root):
        return leaf
    return None


def _first_difference(ledger: Ledger, walk: _Walk, trusted: list[Evidence]) -> str:
    """The finding of the first difference: its exact position where evidence or the stored
    tree's proofs show it, else the interval between the last position that holds and the
    first size whose signed root the facts do not make, naming the facts there."""
    assert walk.differs is not None
    held, why_held = walk.held
    differs, why_differs, evidence = walk.differs
    first = held

    def data(position: int) -> bytes:
        return bytes.fromhex(parse_json(walk.window[position - first - 1].state)["chain"]["hash"])

    def name(position: int) -> str:
        return _row(walk.window[position - first - 1])

    proving = (
        evidence
        if isinstance(evidence, Evidence)
        else min(
            (e for e in trusted if e.checkpoint.size >= differs),
            key=lambda e: e.checkpoint.size,
            default=None,
        )
    )
    while proving is not None and differs - held > 1:
        middle = (held + differs) // 2
        leaf = _signed_leaf(ledger, middle, proving)
        if leaf is None:
            break
        if leaf == data(middle):
            held, why_held = middle, f"the log's leaf {middle}, proven in {proving}"
        else:
            differs, why_differs = middle, f"the log's leaf {middle}, proven in {proving}"
            evidence = proving
    holding = f"positions 1-{held} hold ({why_held})" if held else "no position before it holds"
    if differs - held == 1:
        if isinstance(evidence, _Leaf) and evidence.position == differs:
            return (
                f"position {differs} differs from {evidence}: {name(differs)} is not the fact "
                f"the receipt proves there; {holding}"
            )
        return (
            f"position {differs} differs from {why_differs}: {name(differs)} is not the fact "
            f"the log signed there (forked or rewritten); {holding}"
        )
    between = range(held + 1, differs + 1)
    named = "; ".join(f"position {p} ({name(p)})" for p in between[:SHOWN])
    more = f"; and {len(between) - SHOWN} more" if len(between) > SHOWN else ""
    return (
        f"{holding}; the history differs at a position from {held + 1} to {differs} "
        f"({why_differs}): {named}{more}"
    )


def verify_checkpoint(ledger: Ledger, text: str, key: Verifier) -> CheckpointVerification:
    """Whether the store's first SIZE facts make the signed checkpoint's root, with the store's
    own signed checkpoints up to SIZE (one pass); the first finding as its problem."""
    checkpoint = signed_checkpoint(text, key)
    result = verify_log(ledger, key, [("checkpoint", text)], until=checkpoint.size)
    return CheckpointVerification(
        checkpoint, result.holds, result.problems[0] if result.problems else None
    )
