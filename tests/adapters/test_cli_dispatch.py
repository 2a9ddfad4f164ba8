"""Every `biv` command names what runs it beside its parser (`set_defaults`), and a command's
usage is checked once, before any store is opened.

`biv_adapters.cli.main` reads `offline` (a command that needs no store), else `check` (before
the store is opened) and `run` (on the ledger) from the parsed arguments; no table of command
names stands between the grammar and the code that runs it.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import pytest

from biv_adapters.cli import main
from biv_adapters.cli.commands import check_budget, check_report, no_check
from biv_adapters.cli.parser import build_parser


class Command:
    """A command's parser, and its group's (`token` for `token add`): a default set on the
    group holds for its verbs, as argparse reads them."""

    def __init__(self, parsers: tuple[argparse.ArgumentParser, ...]) -> None:
        self.parsers = parsers

    def get_default(self, name: str) -> object:
        for parser in reversed(self.parsers):
            if name in parser._defaults:
                return parser._defaults[name]
        return None


def commands(
    parser: argparse.ArgumentParser,
    path: tuple[str, ...] = (),
    parsers: tuple[argparse.ArgumentParser, ...] = (),
) -> Iterator[tuple[str, Command]]:
    """Every command a user can run (`audit verify`, `budget`, …) and its parsers."""
    verbs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not verbs and path:
        yield " ".join(path), Command((*parsers, parser))
    for action in verbs:
        for name, sub in action.choices.items():
            yield from commands(sub, (*path, name), (*parsers, parser) if path else ())


GRAMMAR = dict(commands(build_parser()))


def test_the_grammar_has_the_commands_a_user_knows() -> None:
    assert {"budget", "report", "import", "keygen", "audit verify", "audit keygen", "witness"} <= (
        set(GRAMMAR)
    )
    assert "audit" not in GRAMMAR  # a group of verbs, not a command


@pytest.mark.parametrize("name", sorted(GRAMMAR))
def test_every_command_names_exactly_one_way_to_run_it(name: str) -> None:
    # Given a command's parser
    parser = GRAMMAR[name]
    # Then it names either what runs it on a store, or what runs it without one
    run, offline = parser.get_default("run"), parser.get_default("offline")
    assert (run is None) != (offline is None), (run, offline)
    assert callable(run or offline)


def parsed(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(list(argv))


def test_a_command_without_a_check_of_its_own_gets_none() -> None:
    args = parsed("history", "Dnr 2016-292")
    assert args.check is no_check
    assert args.offline is None
    assert args.creates_store is False


def test_budget_and_report_are_checked_by_their_own_checks() -> None:
    assert parsed("budget", "--fiscal-year", "2023").check is check_budget
    assert parsed("report", "Dnr 2016-292").check is check_report


@pytest.mark.parametrize("command", ["import", "demo", "configure"])
def test_only_the_writes_that_may_start_a_store_say_so(command: str) -> None:
    assert GRAMMAR[command].get_default("creates_store") is True
    others = {n for n, p in GRAMMAR.items() if p.get_default("creates_store")}
    assert others == {"import", "demo", "configure"}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["budget", "Dnr 2016-292"], "biv: give CASE_NUMBER and --on DATE, or --fiscal-year YEAR"),
        (
            ["budget", "Dnr 2016-292", "--fiscal-year", "2023"],
            "biv: --fiscal-year answers for every agreement; leave out CASE_NUMBER and --on",
        ),
        (
            ["report", "Dnr 2016-292", "--follow-up", "H1", "--public"],
            "biv: --follow-up gives the follow-up's window and its submitted figures: "
            "leave out --from, --to and --public",
        ),
        (
            ["audit", "replay", "Dnr 2016-292", "--since", "2022-01-01"],
            "biv: --since goes with --diff: give --diff, or leave out --since",
        ),
        (
            ["audit", "replay", "Dnr 2016-292", "--diff"],
            "biv: --diff compares two moments: give --since TIMESTAMP (and --until)",
        ),
    ],
)
def test_a_usage_error_is_one_before_any_store_is_opened(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    # Given a store that does not exist
    missing = tmp_path / "none.sqlite3"
    # When a command is given options that do not go together
    code = main([*argv, "--store", f"sqlite://{missing}"])
    # Then it is a usage error, in one line, and no store was made or asked for
    out, err = capsys.readouterr()
    assert (code, out, err) == (2, "", message + "\n")
    assert not missing.exists()


def test_a_command_that_needs_no_store_opens_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a store in force that does not exist
    missing = tmp_path / "none.sqlite3"
    monkeypatch.setenv("BIV_STORE", f"sqlite://{missing}")
    # When a store key is made
    code = main(["keygen"])
    # Then the key is printed and no store was made or asked for
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    assert len(out.strip()) > 20
    assert not missing.exists()


def test_a_defect_of_biv_is_one_line_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a command whose run fails in a way no input should cause (a defect of biv)
    def broken(_args: argparse.Namespace) -> int:
        raise RuntimeError("a defect\nover two lines")

    monkeypatch.setattr("biv_adapters.cli.commands.run_keygen", broken)
    # When it is run
    code = main(["keygen"])
    # Then the user gets one line naming what failed, and exit 1, never a traceback
    err = capsys.readouterr().err
    assert code == 1
    assert err == (
        "biv: failed (a defect of biv, please report it): RuntimeError: a defect over two lines\n"
    )
