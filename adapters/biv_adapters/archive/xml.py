"""The package's XML: METS (CSIP 2.1.0 / SIP 2.1.0), PREMIS 3 and Dublin Core, written with lxml.

Every document names its schemas in `xsi:schemaLocation` by the copies under the
package's `schemas/` (see `schemas/README.md` here for where each comes from), and
`validate` checks a document against them without the web: the few addresses the
schemas import one another by are resolved to the same local copies.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from attrs import frozen
from lxml import etree

SCHEMAS = Path(__file__).parent / "schemas"

METS = "http://www.loc.gov/METS/"
CSIP = "https://DILCIS.eu/XML/METS/CSIPExtensionMETS"
SIP = "https://DILCIS.eu/XML/METS/SIPExtensionMETS"
XLINK = "http://www.w3.org/1999/xlink"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
PREMIS = "http://www.loc.gov/premis/v3"
DC = "http://purl.org/dc/elements/1.1/"
XML_NS = "http://www.w3.org/XML/1998/namespace"

# Each namespace and the schema file (under schemas/) that defines it.
SCHEMA_FILES = {
    METS: "mets.xsd",
    XLINK: "xlink.xsd",
    CSIP: "DILCISExtensionMETS.xsd",
    SIP: "DILCISExtensionSIPMETS.xsd",
    PREMIS: "premis-v3-0.xsd",
    DC: "dc.xsd",
    XML_NS: "xml.xsd",
}
# Where the schemas import one another from on the web, and the local copy of each.
IMPORTED = {
    "http://www.loc.gov/standards/xlink/xlink.xsd": "xlink.xsd",
    "http://www.w3.org/1999/xlink.xsd": "xlink.xsd",
    "http://www.w3.org/2001/03/xml.xsd": "xml.xsd",
    "http://www.w3.org/2001/xml.xsd": "xml.xsd",
}
REPRESENTATION_USE = "Representations/rep1"
CSIP_PROFILE = "https://earksip.dilcis.eu/profile/E-ARK-SIP.xml"


@frozen
class PackageFile:
    """A file of the package: its path from the package's root, size, type and SHA-256."""

    path: str
    size: int
    mime: str
    sha256: str
    use: str  # the METS file group: Documentation, Schemas or Representations/rep1
    format_name: str  # as PREMIS names it (formatName)

    @property
    def id(self) -> str:
        """A stable XML ID for the file, from its path."""
        return "ID-" + "".join(c if c.isalnum() or c in "-._" else "_" for c in self.path)


def _q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def _sub(parent: Any, ns: str, name: str, text: str | None = None, **attrs: str) -> Any:
    element = etree.SubElement(parent, _q(ns, name), dict(attrs))
    if text is not None:
        element.text = text
    return element


def _schema_location(*namespaces: str, prefix: str = "../../schemas/") -> str:
    return " ".join(f"{ns} {prefix}{SCHEMA_FILES[ns]}" for ns in namespaces)


def to_bytes(root: Any) -> bytes:
    result: bytes = etree.tostring(
        root, xml_declaration=True, encoding="UTF-8", pretty_print=True, standalone=True
    )
    return result


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


# --- METS -----------------------------------------------------------------------------------


@frozen
class MetsHeader:
    """Who made the package, when, of what."""

    objid: str
    label: str
    created: datetime
    municipality: str
    municipality_code: str
    software_version: str


def mets(
    header: MetsHeader,
    descriptive: PackageFile,
    preservation: PackageFile,
    files: Sequence[PackageFile],
) -> bytes:
    """The root METS.xml: header and agents, pointers to the metadata, the file and structure
    maps. Every file carries its size, MIME type, SHA-256 and creation time."""
    created = _iso(header.created)
    nsmap = {"mets": METS, "csip": CSIP, "sip": SIP, "xlink": XLINK, "xsi": XSI}
    root = etree.Element(
        _q(METS, "mets"),
        {
            "OBJID": header.objid,
            "LABEL": header.label,
            "TYPE": "Datasets",
            _q(CSIP, "CONTENTINFORMATIONTYPE"): "OTHER",
            _q(CSIP, "OTHERCONTENTINFORMATIONTYPE"): "biv-domain IOP ledger",
            "PROFILE": CSIP_PROFILE,
            _q(XSI, "schemaLocation"): _schema_location(METS, XLINK, CSIP, SIP, prefix="schemas/"),
        },
        nsmap=nsmap,
    )
    head = _sub(
        root,
        METS,
        "metsHdr",
        CREATEDATE=created,
        LASTMODDATE=created,
        RECORDSTATUS="NEW",
        **{_q(CSIP, "OAISPACKAGETYPE"): "SIP"},
    )
    software = _sub(head, METS, "agent", ROLE="CREATOR", TYPE="OTHER", OTHERTYPE="SOFTWARE")
    _sub(software, METS, "name", "biv-domain")
    _sub(
        software,
        METS,
        "note",
        header.software_version,
        **{_q(CSIP, "NOTETYPE"): "SOFTWARE VERSION"},
    )
    # The archival creator (SIP9–SIP14): the municipality, whose records these are.
    creator = _sub(head, METS, "agent", ROLE="ARCHIVIST", TYPE="ORGANIZATION")
    _sub(creator, METS, "name", header.municipality)
    _sub(
        creator,
        METS,
        "note",
        header.municipality_code,
        **{_q(CSIP, "NOTETYPE"): "IDENTIFICATIONCODE"},
    )
    dmd = _sub(root, METS, "dmdSec", ID="ID-dmdSec-dc", CREATED=created, STATUS="CURRENT")
    _md_ref(dmd, descriptive, "DC", created)
    amd = _sub(root, METS, "amdSec", ID="ID-amdSec")
    digiprov = _sub(amd, METS, "digiprovMD", ID="ID-digiprovMD-premis", STATUS="CURRENT")
    _md_ref(digiprov, preservation, "PREMIS", created)

    file_sec = _sub(root, METS, "fileSec", ID="ID-fileSec")
    uses = list(dict.fromkeys(f.use for f in files))
    groups = {}
    for use in uses:
        group_id = "ID-fileGrp-" + use.replace("/", "-")
        groups[use] = group_id
        extra = {  # on every group: eark-validator 1.1's CSIP63 asks for it on each
            _q(CSIP, "CONTENTINFORMATIONTYPE"): "OTHER",
            _q(CSIP, "OTHERCONTENTINFORMATIONTYPE"): "biv-domain IOP ledger",
        }
        group = _sub(file_sec, METS, "fileGrp", ID=group_id, USE=use, **extra)
        for f in (f for f in files if f.use == use):
            element = _sub(
                group,
                METS,
                "file",
                ID=f.id,
                MIMETYPE=f.mime,
                SIZE=str(f.size),
                CREATED=created,
                CHECKSUM=f.sha256,
                CHECKSUMTYPE="SHA-256",
            )
            _sub(
                element,
                METS,
                "FLocat",
                LOCTYPE="URL",
                **{_q(XLINK, "type"): "simple", _q(XLINK, "href"): f.path},
            )
    struct = _sub(root, METS, "structMap", ID="ID-structMap", TYPE="PHYSICAL", LABEL="CSIP")
    top = _sub(struct, METS, "div", ID="ID-div-root", LABEL=header.objid)
    _sub(
        top,
        METS,
        "div",
        ID="ID-div-metadata",
        LABEL="Metadata",
        DMDID="ID-dmdSec-dc",
        ADMID="ID-digiprovMD-premis",
    )
    for use in uses:
        # eark-validator 1.1 asks the representations' division (with no METS of their
        # own) to point at their file group itself (CSIP103, CSIP104).
        label = "Representations" if use.startswith("Representations/") else use
        div = _sub(top, METS, "div", ID="ID-div-" + use.replace("/", "-"), LABEL=label)
        _sub(div, METS, "fptr", FILEID=groups[use])
    return to_bytes(root)


def _md_ref(parent: Any, f: PackageFile, mdtype: str, created: str) -> None:
    _sub(
        parent,
        METS,
        "mdRef",
        LOCTYPE="URL",
        MDTYPE=mdtype,
        MIMETYPE=f.mime,
        SIZE=str(f.size),
        CREATED=created,
        CHECKSUM=f.sha256,
        CHECKSUMTYPE="SHA-256",
        **{_q(XLINK, "type"): "simple", _q(XLINK, "href"): f.path},
    )


# --- Dublin Core ----------------------------------------------------------------------------


def dublin_core(elements: Iterable[tuple[str, str, str]]) -> bytes:
    """A Simple DC record (`simpledc` container, DCMI's schema): each (element, value, language)
    in order."""
    nsmap = {"dc": DC, "xsi": XSI}
    root = etree.Element(
        "simpledc",
        {_q(XSI, "noNamespaceSchemaLocation"): "../../schemas/simpledc.xsd"},
        nsmap=nsmap,
    )
    for name, value, lang in elements:
        _sub(root, DC, name, value, **{_q(XML_NS, "lang"): lang})
    return to_bytes(root)


# --- PREMIS ---------------------------------------------------------------------------------


@frozen
class PremisEvent:
    """One preservation event: what was done, when, with what outcome, to which files."""

    id: str
    type: str
    at: datetime
    detail: str
    outcome: str  # success | failure
    outcome_note: str
    objects: tuple[str, ...] = ()  # package paths
    agents: tuple[str, ...] = ()  # agent ids


@frozen
class PremisAgent:
    id: str
    name: str
    type: str
    version: str | None = None
    note: str | None = None


def premis(
    files: Sequence[PackageFile],
    events: Sequence[PremisEvent],
    agents: Sequence[PremisAgent],
    rights: str,
) -> bytes:
    """PREMIS 3: each file's fixity, size and format; the events; the agents; the rights."""
    nsmap = {"premis": PREMIS, "xsi": XSI, "xlink": XLINK}
    root = etree.Element(
        _q(PREMIS, "premis"),
        {"version": "3.0", _q(XSI, "schemaLocation"): _schema_location(PREMIS)},
        nsmap=nsmap,
    )
    for f in files:
        obj = _sub(root, PREMIS, "object", **{_q(XSI, "type"): "premis:file"})
        _identifier(obj, "objectIdentifier", "local", f.path)
        characteristics = _sub(obj, PREMIS, "objectCharacteristics")
        fixity = _sub(characteristics, PREMIS, "fixity")
        _sub(fixity, PREMIS, "messageDigestAlgorithm", "SHA-256")
        _sub(fixity, PREMIS, "messageDigest", f.sha256)
        _sub(characteristics, PREMIS, "size", str(f.size))
        designation = _sub(_sub(characteristics, PREMIS, "format"), PREMIS, "formatDesignation")
        _sub(designation, PREMIS, "formatName", f.format_name)
        storage = _sub(obj, PREMIS, "storage")
        location = _sub(storage, PREMIS, "contentLocation")
        _sub(location, PREMIS, "contentLocationType", "URI")
        _sub(location, PREMIS, "contentLocationValue", f.path)
    for e in events:
        event = _sub(root, PREMIS, "event")
        _identifier(event, "eventIdentifier", "local", e.id)
        _sub(event, PREMIS, "eventType", e.type)
        _sub(event, PREMIS, "eventDateTime", _iso(e.at))
        _sub(_sub(event, PREMIS, "eventDetailInformation"), PREMIS, "eventDetail", e.detail)
        outcome = _sub(event, PREMIS, "eventOutcomeInformation")
        _sub(outcome, PREMIS, "eventOutcome", e.outcome)
        note = _sub(outcome, PREMIS, "eventOutcomeDetail")
        _sub(note, PREMIS, "eventOutcomeDetailNote", e.outcome_note)
        for agent in e.agents:
            _identifier(event, "linkingAgentIdentifier", "local", agent)
        for path in e.objects:
            _identifier(event, "linkingObjectIdentifier", "local", path)
    for a in agents:
        agent = _sub(root, PREMIS, "agent")
        _identifier(agent, "agentIdentifier", "local", a.id)
        _sub(agent, PREMIS, "agentName", a.name)
        _sub(agent, PREMIS, "agentType", a.type)
        if a.version:
            _sub(agent, PREMIS, "agentVersion", a.version)
        if a.note:
            _sub(agent, PREMIS, "agentNote", a.note)
    statement = _sub(_sub(root, PREMIS, "rights"), PREMIS, "rightsStatement")
    _identifier(statement, "rightsStatementIdentifier", "local", "rights-children")
    _sub(statement, PREMIS, "rightsBasis", "Other")
    other = _sub(statement, PREMIS, "otherRightsInformation")
    _sub(other, PREMIS, "otherRightsBasis", "Personal data of children")
    _sub(other, PREMIS, "otherRightsNote", rights)
    for f in files:
        if f.use.startswith("Representations/"):
            _identifier(statement, "linkingObjectIdentifier", "local", f.path)
    return to_bytes(root)


def _identifier(parent: Any, name: str, kind: str, value: str) -> None:
    element = _sub(parent, PREMIS, name)
    _sub(element, PREMIS, f"{name}Type", kind)
    _sub(element, PREMIS, f"{name}Value", value)
