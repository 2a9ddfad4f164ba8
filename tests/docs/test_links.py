"""Every relative link and every path the documents name resolves in the repository.

The README, docs/*.md and the READMEs beside the code and the tests are read as a reader
follows them: a Markdown link `[text](path#anchor)` reaches a file or a folder, and its
anchor a heading there (as GitHub makes a heading's anchor); a path in backticks that
starts at a top folder of the repository (`tests/…`, `docs/…`, `src/…`) names what is
there. The CHANGELOG and the frozen stores' READMEs are left out: they tell what was, under
the names of their day, and a frozen store is never edited (tests/stores/format-1/README.md).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TRACKED = subprocess.run(
    ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=False
).stdout.split()
DOCUMENTS = sorted(
    path
    for path in TRACKED
    if path.endswith(".md") and path != "CHANGELOG.md" and not path.startswith("tests/stores/")
) or [  # outside a git checkout (an sdist), the README and docs/ at least
    str(path.relative_to(ROOT)) for path in [ROOT / "README.md", *ROOT.glob("docs/*.md")]
]
TOP_FOLDERS = ("tests", "docs", "src", "adapters", "benchmarks", "scripts", "examples", ".ci")
# Made by a command, never kept in the repository: the API reference, npm's packages.
MADE = ("docs/api", "tests/a11y/node_modules")
# Documents whose paths in backticks are another repository's: where each copied file came from.
FOREIGN_PATHS = {"adapters/biv_adapters/archive/schemas/README.md"}

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.M | re.S)
TOP = "|".join(re.escape(folder) for folder in TOP_FOLDERS)
CODE_PATH = re.compile(rf"`((?:{TOP})/[^`\s]*)`")


def anchors(markdown: str) -> set[str]:
    """The anchors of a document's headings, as GitHub makes them (repeats numbered)."""
    seen: dict[str, int] = {}
    found = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", FENCE.sub("", markdown), re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.replace("`", "").lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def links(document: str) -> list[str]:
    text = FENCE.sub("", (ROOT / document).read_text("utf-8"))
    return [t for t in LINK.findall(text) if not re.match(r"[a-z][a-z0-9+.-]*:", t)]


def broken_link(document: str, target: str) -> str | None:
    """Why `target`, linked from `document`, does not resolve; None when it does."""
    path, _, anchor = target.partition("#")
    file = (ROOT / document).parent / path if path else ROOT / document
    if not file.exists():
        return f"{document}: {target}: no such file"
    if anchor and file.suffix == ".md" and anchor not in anchors(file.read_text("utf-8")):
        return f"{document}: {target}: no heading #{anchor}"
    return None


def test_the_documents_are_found() -> None:
    # Given the repository; then the README and docs/*.md are among the documents read
    assert "README.md" in DOCUMENTS
    assert "docs/architecture.md" in DOCUMENTS


def test_the_anchors_are_those_github_makes() -> None:
    # Given headings with a code span, punctuation and a repeat
    markdown = (
        "# The `biv` tool\n## Speed and scale\n## Speed and scale\n```\n# not a heading\n```\n"
    )
    # Then their anchors are GitHub's
    assert anchors(markdown) == {"the-biv-tool", "speed-and-scale", "speed-and-scale-1"}


def test_a_missing_file_or_heading_is_named() -> None:
    # Given links from the README to a file that is not there and to a heading that is not
    # Then each is named with its reason; and real ones pass
    assert broken_link("README.md", "docs/nowhere.md") == "README.md: docs/nowhere.md: no such file"
    assert broken_link("README.md", "docs/scaling.md#nowhere") == (
        "README.md: docs/scaling.md#nowhere: no heading #nowhere"
    )
    assert broken_link("README.md", "docs/benchmarks.md#http") is None
    assert broken_link("docs/scaling.md", "benchmarks.md") is None


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_relative_link_resolves(document: str) -> None:
    # Given every Markdown link of the document that is not to the web
    # Then each reaches a file or folder of the repository, and its anchor a heading there
    assert [b for t in links(document) if (b := broken_link(document, t))] == []


@pytest.mark.parametrize("document", [d for d in DOCUMENTS if d not in FOREIGN_PATHS])
def test_every_path_named_exists(document: str) -> None:
    # Given every path in backticks that starts at a top folder of the repository
    text = (ROOT / document).read_text("utf-8")
    named = {path.rstrip(".,:;") for path in CODE_PATH.findall(text)}
    # (a placeholder such as `format-N` or a pattern such as `test_*` stands for many)
    named = {p for p in named if not re.search(r"format-N|\*|\{", p)}
    # Then each names a file or a folder there, or one a command makes
    missing = sorted(p for p in named if not (ROOT / p).exists() and not p.startswith(MADE))
    assert missing == []
