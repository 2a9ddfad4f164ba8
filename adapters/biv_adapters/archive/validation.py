"""Checks the package's XML against its schemas with lxml, without the web.

The few web addresses the schemas import one another by are resolved to the
package's local copies (`xml.IMPORTED`); any other is looked up by its file name in
the schema folder, else left unresolved (and the schema refused).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lxml import etree

from biv_adapters.archive.xml import IMPORTED, SCHEMA_FILES, SCHEMAS, XSI


class _LocalSchemas(etree.Resolver):
    """Resolves a schema's import by its web address to the package's local copy."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder

    def resolve(  # type: ignore[override]  # lxml-stubs leave out `context`
        self, url: str, public_id: str | None, context: Any
    ) -> Any:
        local = IMPORTED.get(url)
        if local is None:
            name = Path(url).name
            local = name if (self.folder / name).is_file() else None
        if local is None:
            return None
        return self.resolve_filename(str(self.folder / local), context)  # type: ignore[attr-defined]


def schema(namespaces: Sequence[str], folder: Path = SCHEMAS, root: str | None = None) -> Any:
    """One XML schema importing each namespace's local schema (or `root`, a no-namespace one)."""
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(_LocalSchemas(folder))
    xs = "http://www.w3.org/2001/XMLSchema"
    if root is not None:
        return etree.XMLSchema(etree.parse(str(folder / root), parser))
    driver = etree.Element(f"{{{xs}}}schema", nsmap={"xs": xs})
    for ns in namespaces:
        etree.SubElement(
            driver, f"{{{xs}}}import", namespace=ns, schemaLocation=str(folder / SCHEMA_FILES[ns])
        )
    text = etree.tostring(driver)
    return etree.XMLSchema(etree.fromstring(text, parser, base_url=str(folder) + "/"))


def validate(path: Path, folder: Path = SCHEMAS) -> list[str]:
    """The schema errors of one of the package's XML files (none: valid), against `folder`."""
    parser = etree.XMLParser(no_network=True)
    doc = etree.parse(str(path), parser)
    root = doc.getroot()
    if root.tag == "simpledc":
        checker = schema((), folder, root="simpledc.xsd")
    else:
        used = {
            etree.QName(e).namespace
            for e in root.iter()
            if isinstance(e.tag, str) and etree.QName(e).namespace
        }
        used |= {
            etree.QName(a).namespace
            for e in root.iter()
            if isinstance(e.tag, str)
            for a in e.attrib
            if etree.QName(a).namespace
        }
        checker = schema([ns for ns in SCHEMA_FILES if ns in used and ns != XSI], folder)
    if checker.validate(doc):
        return []
    return [f"{path.name}:{e.line}: {e.message}" for e in checker.error_log]
