"""Every example of the README and of every `--help` runs as written on the demo store.

In a fresh folder, `biv demo` records the Linköping history (in its stages); then each
`sh` line of the README, in order, and each command's `--help` example is run by bash
with this installation's `biv` first on the PATH, and must exit 0; where a comment
says what it shows, the output shows it. Lines that start a server or need one (`biv
serve`, `curl`), follow the ledger for ever (`biv facts --follow`), install the project
or run the tests are not run here: the HTTP, feed and CI tests run those. The README's
Python example runs too and prints what it says.
`biv import decisions.jsonl` reads a file of the user's: the folder holds one.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from biv_adapters.cli.parser import EXAMPLES

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text("utf-8")
# Not run: installing, serving (`biv serve`, `curl`), and following the ledger for ever
# (`biv facts --follow`, which tests/ledger/test_feed.py runs in a process of its own).
NOT_RUN = re.compile(
    r"^(python3 -m venv|\.venv/|export \"\$\(scripts/|scripts/|curl |biv serve"
    r"|biv facts .*--follow)"
)
DECISIONS = (
    '{"id": "readme/1", "command": "set_target", "case_number": "Dnr 2016-292", '
    '"target": "children_per_year", "value": 40, "decided_on": "2023-03-01"}\n'
)
# What a README line's comment says it shows, checked in its output (the line as written).
SHOWS = {
    'biv budget "Dnr 2016-292" --on 2023-01-01 --as-known-at 2022-10-31': "ends 2023-03-31",
    'biv budget "Dnr 2016-292" --on 2023-01-01': "ends 2024-03-31",
    'biv audit replay "Dnr 2016-292" --until 2022-10-31': "runs 2017-04-01 – 2023-03-31",
    "biv audit verify": "the chain of 391 facts holds",
}


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def command(line: str) -> str:
    """The line without its trailing comment (two spaces or more, then #)."""
    return re.split(r"\s{2,}#\s", line, maxsplit=1)[0].strip()


def readme_lines() -> list[str]:
    lines = [command(line) for block in blocks("sh") for line in block.splitlines()]
    return [line for line in lines if line and not NOT_RUN.match(line)]


def help_lines() -> list[str]:
    lines = [line.strip() for text in EXAMPLES.values() for line in text.split("\n")]
    return [command(line) for line in lines if not NOT_RUN.match(line)]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "decisions.jsonl").write_text(DECISIONS, "utf-8")
    return tmp_path


def run(folder: Path, line: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for name in ("BIV_STORE", "BIV_CIPHER_KEY", "BIV_NEW_CIPHER_KEY", "BIV_ACTOR"):
        env.pop(name, None)
    return subprocess.run(
        ["bash", "-c", line], cwd=folder, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_readme_has_examples_to_run() -> None:
    assert len(readme_lines()) >= 10
    every = [t for v in EXAMPLES.values() for t in v.split("\n")]
    assert len(help_lines()) == len(every) - 2  # but `biv serve` and `biv facts --follow`


def test_every_readme_example_runs_as_written_on_the_demo(folder: Path) -> None:
    assert run(folder, "biv demo").returncode == 0
    for line in readme_lines():
        done = run(folder, line)
        assert done.returncode == 0, f"{line}\n{done.stderr}"
        if line in SHOWS:
            assert SHOWS[line] in done.stdout, f"{line}: {SHOWS[line]!r} not in\n{done.stdout}"


def test_every_help_example_runs_as_written_on_the_demo(folder: Path) -> None:
    # One after another, in the order of the top level's --help, in one folder
    assert run(folder, "biv demo").returncode == 0
    for line in help_lines():
        done = run(folder, line)
        if line.endswith("biv rekey --actor IT"):
            # The demo's store is not encrypted: there is no store key to rotate, and rekey
            # must refuse rather than wrap the children's keys under a key the store refuses.
            assert done.returncode == 1, done.stderr
            assert "written unencrypted" in done.stderr
            continue
        assert done.returncode == 0, f"{line}\n{done.stderr}"


def test_the_follow_ups_on_a_past_day_show_nothing_dated_later(folder: Path) -> None:
    assert run(folder, "biv demo").returncode == 0
    done = run(folder, 'biv follow-ups "Dnr 2016-292" --on 2023-11-01 --json')
    assert done.returncode == 0
    days = re.findall(r"\d{4}-\d{2}-\d{2}", done.stdout)
    windows = {"2023-04-01", "2023-09-30", "2023-10-31", "2023-10-01", "2024-03-31", "2024-04-30"}
    assert [d for d in days if d > "2023-11-01" and d not in windows] == []
    assert "2023-11-08" not in done.stdout
    assert "2024-04-22" not in done.stdout


def test_the_readme_python_example_prints_what_it_says(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (code,) = blocks("python")
    monkeypatch.chdir(folder)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    said = [line.removeprefix("# ") for line in code.splitlines() if line.startswith("# {")]
    assert said
    assert said[0] in out.getvalue()
    assert "2018-09-30" in out.getvalue()
