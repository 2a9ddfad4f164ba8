"""What the package says about the agreement: its description (Dublin Core) and its
preservation story (PREMIS events and agents), and the rights over the children's data.
"""

from __future__ import annotations

from datetime import datetime
from importlib.metadata import PackageNotFoundError, version

from biv_adapters.archive import xml
from biv_adapters.archive.evidence import LogEvidence
from biv_adapters.archive.records import Archived
from biv_domain.ledger.verification import Verification

DATA = "representations/rep1/data"
REPRESENTATION = "Representations/rep1"
RIGHTS = (
    "The participants are children. The package names each by a pseudonym (an HMAC of "
    "the partner's reference under the store's pepper) or, once erased, by a stand-in "
    "'erased-…'; no reference, age or gender is in the clear. Their sealed fields stay "
    "sealed in the stored facts (chain.jsonl); erasures and retention (gallring) are "
    "applied as they stood when the package was made."
)


def software_version() -> str:
    try:
        return version("biv-domain")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree
        return "unknown"


def events(
    archived: Archived,
    evidence: LogEvidence,
    verification: Verification,
    created: datetime,
    content: list[xml.PackageFile],
) -> list[xml.PremisEvent]:
    data = [f.path for f in content if f.use == REPRESENTATION]
    walk = verification.document()
    checkpoint = f"{DATA}/checkpoint.txt"
    story = [
        xml.PremisEvent(
            "event-export",
            "creation",
            created,
            f"biv archive export of {archived.case_number} as of {archived.on.isoformat()}: "
            f"{len(archived.facts)} facts",
            "success",
            "E-ARK SIP 2.1.0 (CSIP 2.1.0) package written by biv-domain",
            tuple(data),
            ("agent-software", "agent-municipality"),
        ),
        xml.PremisEvent(
            "event-chain-verification",
            "validation",
            created,
            "biv audit verify: every stored fact's hash over its content and the hash before it",
            "success" if walk.intact else "failure",
            f"the chain of {walk.facts} facts "
            + (f"holds; its head is {walk.head}" if walk.intact else f"breaks: {walk.first_break}"),
            (f"{DATA}/verification.json", f"{DATA}/chain.jsonl"),
            ("agent-software",),
        ),
        xml.PremisEvent(
            "event-checkpoint",
            "message digest calculation",
            created,
            "RFC 9162 Merkle tree over every chain hash of the store (leaf i: the fact at "
            "chain position i+1); checkpoint as a C2SP signed note"
            + (f", signed by {evidence.signed_by}" if evidence.signed_by else ", unsigned"),
            "success",
            f"tree size {evidence.size}, root {evidence.root.hex()}",
            (checkpoint,),
            ("agent-software", *(("agent-log-key",) if evidence.signed_by else ())),
        ),
    ]
    for fact in archived.facts:
        proof = evidence.proofs[fact.position]
        holds = proof.holds(evidence.root)  # checked here, as an archivist will
        story.append(
            xml.PremisEvent(
                f"event-inclusion-{fact.position}",
                "validation",
                created,
                f"inclusion of chain position {fact.position} (leaf index "
                f"{proof.leaf_index}, {fact.type}) in the checkpoint's tree",
                "success" if holds else "failure",
                f"leaf {fact.hash} {'proven' if holds else 'NOT proven'} in the tree of size "
                f"{evidence.size} by {len(proof.hashes)} hashes",
                (f"{DATA}/inclusion_proofs.jsonl", checkpoint),
                ("agent-software",),
            )
        )
    return story


def agents(archived: Archived, evidence: LogEvidence) -> list[xml.PremisAgent]:
    terms = archived.state.terms
    found = [
        xml.PremisAgent("agent-software", "biv-domain", "software", software_version()),
        xml.PremisAgent(
            "agent-municipality", terms.municipality, "organization", note="the submitter"
        ),
        xml.PremisAgent("agent-partner", terms.partner, "organization", note="the partner"),
    ]
    if evidence.signed_by:
        found.append(
            xml.PremisAgent(
                "agent-log-key",
                evidence.signed_by,
                "software",
                note="the key that signed the log's checkpoint",
            )
        )
    return found


def description(archived: Archived) -> list[tuple[str, str, str]]:
    """The agreement for an archivist, as Dublin Core elements in order."""
    state = archived.state
    terms = state.terms
    elements = [
        ("title", f"{terms.title} (idéburet offentligt partnerskap)"),
        ("identifier", terms.case_number),
        ("creator", terms.municipality),
        ("contributor", terms.partner),
        ("subject", "idéburet offentligt partnerskap (IOP)"),
        ("type", "Dataset"),
        ("date", f"{terms.start.isoformat()}/{state.ends_on().isoformat()}"),
        ("coverage", f"{terms.start.isoformat()}/{state.ends_on().isoformat()}"),
        ("language", "sv"),
        ("format", "JSON Lines; CSV (RFC 4180); XML"),
        (
            "description",
            f"Avtalet {terms.case_number} mellan {terms.municipality} och {terms.partner}: "
            f"hela historiken ({len(archived.facts)} händelser) till och med "
            f"{archived.on.isoformat()}, budget, utbetalningar, rapporter och uppföljningar.",
        ),
    ]
    elements += [("description", decision) for decision in decisions(archived)]
    return [(name, value, "sv") for name, value in elements] + [("rights", RIGHTS, "en")]


def decisions(archived: Archived) -> list[str]:
    """Each decision behind the archived facts: kind, date, deciding body and reference."""
    seen: list[str] = []
    for fact in archived.facts:
        decided_on = getattr(fact.event, "decided_on", None)
        if decided_on is None:
            continue
        body = getattr(fact.event, "decided_by", None)
        reference = getattr(fact.event, "decision_ref", None)
        line = f"Beslut: {fact.type} {decided_on.isoformat()}"
        line += f", {body}" if body else ""
        line += f" ({reference})" if reference else ""
        if line not in seen:
            seen.append(line)
    return seen
