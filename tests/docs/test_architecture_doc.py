"""docs/architecture.md names every module, and its two traces name functions that exist.

A newcomer reads the architecture from that page; these tests keep it from drifting: a module
added or moved without a line there fails, and so does a trace step naming a function that
was renamed or removed.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
PACKAGES = {
    "biv_domain": ROOT / "src" / "biv_domain",
    "biv_adapters": ROOT / "adapters" / "biv_adapters",
}


def modules() -> list[str]:
    """Every module and package of ours, by its dotted name."""
    found = []
    for top, folder in PACKAGES.items():
        for path in sorted(folder.rglob("*.py")):
            parts = path.relative_to(folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found.append(".".join((top, *parts)))
    return found


def section(title: str) -> str:
    start = DOC.index(f"## {title}")
    end = DOC.find("\n## ", start + 1)
    return DOC[start : end if end >= 0 else None]


def named(text: str) -> list[str]:
    """The dotted names in backticks that start with one of our packages."""
    return re.findall(r"`((?:biv_domain|biv_adapters)(?:\.\w+)+)`", text)


def resolve(dotted: str) -> object:
    """The module, class, function or method a dotted name means; LookupError if none."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(found, attribute):
                raise LookupError(f"{dotted}: {attribute!r} is not in {found!r}")
            found = getattr(found, attribute)
        return found
    raise LookupError(f"{dotted}: no such module")


@pytest.mark.parametrize("module", modules())
def test_every_module_is_named_in_the_architecture(module: str) -> None:
    # Given a module of ours; then the architecture page names it (in backticks)
    assert f"`{module}`" in section("Every module, package by package"), module


@pytest.mark.parametrize(
    "title", ["A command, from an exchange line to a stored fact", "A query, back to the screen"]
)
def test_every_step_of_a_trace_names_a_function_that_exists(title: str) -> None:
    # Given a trace of the page
    text = section(title)
    steps = re.findall(r"^\d+\. ", text, flags=re.MULTILINE)
    names = named(text)
    # Then it has at most about fifteen steps, and each name in it is found in the code
    assert 0 < len(steps) <= 15
    assert names
    for name in names:
        resolve(name)


def test_a_name_the_code_lacks_is_found() -> None:
    # Given a dotted name that no longer exists; then resolving it fails, naming it
    with pytest.raises(LookupError, match="_renamed_away"):
        resolve("biv_domain.ledger.application.Ledger._renamed_away")
