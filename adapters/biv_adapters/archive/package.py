"""`biv archive export`: one agreement as an E-ARK SIP 2.1.0 (CSIP 2.1.0) package, FGS 2.0.

The package (a folder, or a zip holding one folder) is:

    METS.xml                               the package's map: agents, metadata, files, structure
    metadata/descriptive/dc.xml            the agreement for an archivist (Simple Dublin Core)
    metadata/preservation/premis.xml       PREMIS 3: fixity, events, agents, rights
    representations/rep1/data/             the history (JSON Lines), the stored facts and the
                                           log's evidence, budget, payments, reports and
                                           follow-ups (CSV, RFC 4180), the pack's PDF report
                                           where the pack makes one
    schemas/                               the XSDs the XML uses
    documentation/                         how to read and check it, and a checker in Python

It is written in a temporary folder beside the destination and moved there only when
complete, so a failure (a full disk, a refused case) leaves nothing behind. The bytes
are the same for the same store and day, apart from the creation time and the package's
id.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
import uuid
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

from biv_adapters.archive import xml
from biv_adapters.archive.describing import (
    DATA,
    REPRESENTATION,
    RIGHTS,
    agents,
    description,
    events,
    software_version,
)
from biv_adapters.archive.evidence import Chain, LogEvidence, log_evidence, read_chain
from biv_adapters.archive.records import Archived, gather, history_record
from biv_adapters.pack.files import write_csv
from biv_domain.converter import document, json_text
from biv_domain.errors import InvalidValue
from biv_domain.ledger import Ledger
from biv_domain.ledger.verification import Verification

HERE = Path(__file__).parent
PACK_PDF = "revisionsrapport.pdf"  # the auditor's pack's PDF report, where the pack makes one
# The ledger's verification algorithm (issue 21's docs/verification.md), where this source
# tree has it: copied into documentation/ beside the package's own texts.
# docs/verification.md, linked into the package's data so that an installed wheel has it too
VERIFICATION_MD = HERE / "documentation" / "verification.md"
FROZEN_VECTORS = "## 8. Worked vectors from the frozen stores"
# Each kind of file: its MIME type (IANA) and the format's name in PREMIS.
FORMATS = {
    ".jsonl": ("text/plain", "JSON Lines (UTF-8)"),
    ".json": ("application/json", "JSON (RFC 8259)"),
    ".csv": ("text/csv", "CSV (RFC 4180, UTF-8)"),
    ".txt": ("text/plain", "Plain text (UTF-8)"),
    ".md": ("text/markdown", "Markdown (UTF-8)"),
    ".py": ("text/plain", "Python 3 source (UTF-8)"),
    ".xsd": ("application/xml", "XML Schema 1.0"),
    ".xml": ("application/xml", "XML 1.0"),
    ".pdf": ("application/pdf", "PDF"),
}


class ArchiveRefused(InvalidValue):
    """The package cannot be written where asked (the field names the option)."""


def export(
    ledger: Ledger,
    case_number: str,
    out: str | Path,
    on: date,
    *,
    created: datetime | None = None,
    objid: str | None = None,
) -> dict[str, Any]:
    """Writes the package for `case_number` as of `on` to `out` (a `.zip` or a folder).

    Refuses an `out` that exists and is not an empty folder; raises `NotFound` for
    an unknown case before anything is written. Returns a summary of what it wrote.
    """
    destination = Path(out)
    zipped = destination.suffix.lower() == ".zip"
    _check_destination(destination, zipped)
    archived = gather(ledger, case_number, on)
    if not archived.facts:
        concluded = archived.state.terms.decided_on.isoformat()
        raise ArchiveRefused(
            "--on", f"nothing of {case_number} had happened by {on}: it was concluded {concluded}"
        )
    created = created or ledger.clock()
    objid = objid or f"urn:uuid:{uuid.uuid4()}"
    positions = [f.position for f in archived.facts]
    chain, verification = read_chain(ledger, set(positions))
    if not verification.intact:
        raise ArchiveRefused(
            "store",
            f"the chain breaks at {verification.first_break}: an archive of it could not be "
            "verified; see `biv audit verify`",
        )
    archived_set = set(positions)
    before = [p - 1 for p in positions if p > 1 and p - 1 not in archived_set]
    evidence = log_evidence(ledger, chain, [*positions, *before])
    name = destination.stem if zipped else destination.name
    with _staging(destination) as staging:
        root = staging / (name or "package")
        files = _write(
            root,
            archived,
            ledger,
            chain_lines(chain, positions),
            evidence,
            verification,
            created,
            objid,
        )
        if zipped:
            written = staging / "package.zip"
            _zip(root, written, created)
            os.replace(written, destination)
        else:
            if destination.exists():
                destination.rmdir()  # empty, as checked
            os.replace(root, destination)
    return {
        "case_number": case_number,
        "on": on.isoformat(),
        "out": str(destination),
        "objid": objid,
        "created": created.isoformat(),
        "facts": len(positions),
        "tree_size": evidence.size,
        "checkpoint_signed_by": evidence.signed_by,
        "chain_intact": verification.intact,
        "files": files,
    }


def _check_destination(destination: Path, zipped: bool) -> None:
    if zipped and destination.exists():
        raise ArchiveRefused("--out", f"{destination} exists: name a new .zip file")
    if destination.exists() and not destination.is_dir():
        raise ArchiveRefused("--out", f"{destination} exists and is not a folder")
    if destination.is_dir() and any(destination.iterdir()):
        raise ArchiveRefused("--out", f"{destination} exists and is not empty")
    if not destination.parent.is_dir():
        raise ArchiveRefused("--out", f"{destination.parent} is not a folder")


@contextmanager
def _staging(destination: Path) -> Iterator[Path]:
    """A temporary folder beside the destination (so the last move is a rename), removed after."""
    staging = Path(tempfile.mkdtemp(prefix=".biv-archive-", dir=destination.parent))
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def chain_lines(chain: Chain, positions: list[int]) -> list[dict[str, Any]]:
    """Each archived fact as stored: position, hash and the exact content its hash is over."""
    return [
        {
            "chain_position": p,
            "hash": chain.facts[p].hash,
            "content": chain.facts[p].content.decode("utf-8"),
        }
        for p in positions
    ]


def _write(
    root: Path,
    archived: Archived,
    ledger: Ledger,
    stored: list[dict[str, Any]],
    evidence: LogEvidence,
    verification: Verification,
    created: datetime,
    objid: str,
) -> list[dict[str, Any]]:
    data = root / DATA
    data.mkdir(parents=True)
    keys = ledger.keys
    _jsonl(data / "history.jsonl", (history_record(f, keys) for f in archived.facts))
    _jsonl(data / "chain.jsonl", stored)
    (data / "checkpoint.txt").write_text(evidence.note, encoding="utf-8")
    _jsonl(
        data / "inclusion_proofs.jsonl",
        (evidence.proofs[p].document() for p in sorted(evidence.proofs)),
    )
    walk = document(verification.document())
    (data / "verification.json").write_text(json_text(walk) + "\n", encoding="utf-8")
    for table in archived.tables:
        write_csv(data / table.file, table, "en", "rfc4180")
    (data / PACK_PDF).write_bytes(pack_pdf(ledger, archived, created))
    schemas = root / "schemas"
    schemas.mkdir()
    for xsd in sorted(xml.SCHEMAS.glob("*.xsd")):
        shutil.copyfile(xsd, schemas / xsd.name)
    docs = root / "documentation"
    docs.mkdir()
    for text in sorted((HERE / "documentation").glob("*.md")):
        if text.name != VERIFICATION_MD.name:
            shutil.copyfile(text, docs / text.name)
    if VERIFICATION_MD.is_file():
        algorithm = archived_algorithm(VERIFICATION_MD.read_text("utf-8"))
        (docs / VERIFICATION_MD.name).write_text(algorithm, "utf-8")
    shutil.copyfile(HERE / "standalone.py", docs / "verify_package.py")

    content = [_entry(root, path) for path in _files(root)]
    descriptive = root / "metadata" / "descriptive" / "dc.xml"
    descriptive.parent.mkdir(parents=True)
    descriptive.write_bytes(xml.dublin_core(description(archived)))
    described = [*content, _entry(root, descriptive)]  # PREMIS: every file but itself, METS
    story = events(archived, evidence, verification, created, content)
    preservation = root / "metadata" / "preservation" / "premis.xml"
    preservation.parent.mkdir(parents=True)
    preservation.write_bytes(xml.premis(described, story, agents(archived, evidence), RIGHTS))
    state = archived.state
    header = xml.MetsHeader(
        objid=objid,
        label=f"{state.terms.case_number} {state.terms.title}",
        created=created,
        municipality=state.terms.municipality,
        municipality_code=state.terms.municipality,
        software_version=software_version(),
    )
    (root / "METS.xml").write_bytes(
        xml.mets(header, _entry(root, descriptive), _entry(root, preservation), content)
    )
    return [
        {"path": f.path, "size": f.size, "sha256": f.sha256}
        for f in [_entry(root, p) for p in _files(root)]
    ]


def _files(root: Path) -> list[Path]:
    return sorted(
        (p for p in root.rglob("*") if p.is_file()), key=lambda p: p.relative_to(root).as_posix()
    )


def _entry(root: Path, path: Path) -> xml.PackageFile:
    relative = path.relative_to(root).as_posix()
    mime, name = FORMATS[path.suffix]
    body = path.read_bytes()
    if path.suffix == ".pdf":
        name = pdf_format(body)
    if relative.startswith("schemas/"):
        use = "Schemas"
    elif relative.startswith("documentation/"):
        use = "Documentation"
    elif relative.startswith("metadata/"):
        use = "Metadata"  # pointed at from dmdSec and amdSec, not from a file group
    else:
        use = REPRESENTATION
    return xml.PackageFile(relative, len(body), mime, hashlib.sha256(body).hexdigest(), use, name)


def _jsonl(path: Path, rows: Any) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for row in rows:
            handle.write(json_text(row, indent=False) + "\n")


def _zip(root: Path, target: Path, created: datetime) -> None:
    """The folder in a zip, its name the zip's root folder; entries in order, one timestamp."""
    stamp = created.timetuple()[:6]
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in [root, *sorted(root.rglob("*"))]:
            name = path.relative_to(root.parent).as_posix() + ("/" if path.is_dir() else "")
            info = zipfile.ZipInfo(name, date_time=stamp)
            if path.is_dir():
                info.external_attr = 0o40755 << 16
                archive.writestr(info, b"")
            else:
                info.external_attr = 0o644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())


_PDFA_PART = re.compile(rb"pdfaid:part(?:>|=\"|=')\s*([1-4])")
_PDFA_CONFORMANCE = re.compile(rb"pdfaid:conformance(?:>|=\"|=')\s*([ABUabu])")


_METADATA = re.compile(rb"<<[^>]*/Type\s*/Metadata[^>]*>>\s*stream\r?\n(.*?)endstream", re.S)


def _xmp(body: bytes) -> bytes:
    """The PDF's XMP metadata packets, inflated where a writer compressed them (WeasyPrint
    does), and the raw bytes for a writer that left them plain."""
    found = [body]
    for match in _METADATA.finditer(body):
        with contextlib.suppress(zlib.error):
            found.append(zlib.decompress(match[1]))
    return b"\n".join(found)


def pdf_format(body: bytes) -> str:
    """The PDF's format as PREMIS names it: PDF/A-NX where its XMP metadata claims it, else
    "PDF (not PDF/A)", so that an archivist sees at once what to convert."""
    body = _xmp(body)
    part = _PDFA_PART.search(body)
    if part is None:
        return "PDF (not PDF/A)"
    conformance = _PDFA_CONFORMANCE.search(body)
    level = conformance[1].decode().lower() if conformance else ""
    return f"PDF/A-{part[1].decode()}{level}"


def archived_algorithm(text: str) -> str:
    """docs/verification.md as the package keeps it: the whole algorithm, without the worked
    vectors quoted from biv-domain's frozen test stores, whose rows name the demo's invented
    children by reference (a package holds no reference in any byte)."""
    start = text.find(FROZEN_VECTORS)
    if start < 0:
        return text
    end = text.find("\n## ", start + len(FROZEN_VECTORS))
    kept = (
        f"{FROZEN_VECTORS}\n\nLeft out of this package: they quote rows of biv-domain's test "
        "stores, which name test data by reference. They are in docs/verification.md of "
        "biv-domain's source; the worked vectors of the log (section 10) are kept.\n"
    )
    return text[:start] + kept + (text[end:] if end >= 0 else "")


def pack_pdf(ledger: Ledger, archived: Archived, created: datetime) -> bytes:
    """The auditor's PDF report of the agreement on the package's day (`pack.pdf`, PDF/A-3b, in
    Swedish): figures, decisions and erasures by count and date only, never a child's reference."""
    from biv_adapters.pack.pdf import audit_report_pdf

    return audit_report_pdf(ledger, archived.case_number, archived.on, "sv", at=created)
