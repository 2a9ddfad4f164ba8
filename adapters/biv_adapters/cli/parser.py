"""The `biv` command line's grammar: every command, its options and an example for its --help.

`cli` runs what this parses; the parser checks only what argparse can (types,
presence), and every rule of the partnership is left to the domain.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from typing import Any

from biv_adapters.arguments import parse_count, parse_day, parse_moment, parse_year
from biv_adapters.cli import commands as run
from biv_adapters.cli.log_grammar import EXAMPLES as LOG_EXAMPLES
from biv_adapters.cli.log_grammar import add_receipt_option, add_witness_command

# `projections.budget.Split`'s values, spelled out so that the grammar loads no domain
# (tests/adapters/test_fast_start.py compares them).
SPLITS = ("months", "days")


class Parents:
    """The options commands share: the store's, a writer's (the actor) and a query's."""

    def __init__(
        self,
        store: argparse.ArgumentParser,
        writer: argparse.ArgumentParser,
        query: argparse.ArgumentParser,
    ) -> None:
        self.store, self.writer, self.query = store, writer, query


def _parents() -> Parents:
    store = argparse.ArgumentParser(add_help=False)
    store.add_argument(
        "--store",
        default=argparse.SUPPRESS,
        metavar="URL",
        help="memory:, sqlite:///path/file.sqlite3 or postgresql://user:pw@host:port/db "
        "(default: $BIV_STORE, else ./biv.sqlite3)",
    )
    writer = argparse.ArgumentParser(add_help=False, parents=[store])
    writer.add_argument(
        "--actor",
        default=os.environ.get("BIV_ACTOR"),
        metavar="NAME",
        help="who records, kept with every fact (default: $BIV_ACTOR)",
    )
    query = argparse.ArgumentParser(add_help=False, parents=[store])
    query.add_argument("--json", action="store_true", help="one JSON object on standard output")
    query.add_argument(
        "--as-known-at",
        type=parse_moment,
        metavar="TIMESTAMP",
        help="count only what the store had recorded by then (ISO 8601, UTC if no zone)",
    )
    return Parents(store, writer, query)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The grammar of every command; given the arguments, of the command they name alone.

    argparse makes a command's parser in ~0.15 ms (most of it gettext looking for translations
    of argparse's own words), ~6 ms for them all: a run that names its command gets that
    command's grammar only, and `--help`, `--version` or an unknown command everyone's.
    """
    named = _named_command(argv)
    parents = _parents()
    parser = argparse.ArgumentParser(
        prog="biv", description="The ledger of an idea-based public partnership (IOP)."
    )
    parser.add_argument("--store", metavar="URL", help=argparse.SUPPRESS)
    # What `main` calls (see `biv_adapters.cli`); each command sets its own below.
    parser.set_defaults(offline=None, check=run.no_check, creates_store=False)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for names, add in GRAMMAR:
        if named is None or named in names:
            add(commands, parents)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    _add_examples(parser)
    return parser


def _named_command(argv: Sequence[str] | None) -> str | None:
    """The command the arguments name, if they name one of GRAMMAR's before any other option
    than --store (`biv --store URL budget …` names budget; `biv --help` none)."""
    if argv is None:
        return None
    rest = iter(argv)
    for word in rest:
        if word == "--store":
            next(rest, None)
        elif not word.startswith("--store="):
            return word if word in COMMAND_NAMES else None
    return None


def _demo(commands: Any, p: Parents) -> None:
    demo = commands.add_parser(
        "demo", parents=[p.writer], help="record the Linköping history and show what it says"
    )
    demo.add_argument("--json", action="store_true", help="print the summary as JSON")
    demo.set_defaults(run=run.run_demo, creates_store=True)


def _import(commands: Any, p: Parents) -> None:
    imp = commands.add_parser(
        "import", parents=[p.writer], help="apply an exchange file, all or nothing"
    )
    imp.add_argument("file", metavar="FILE", help="JSON Lines of commands, - for standard input")
    imp.add_argument("--json", action="store_true")
    add_receipt_option(imp)
    imp.set_defaults(run=run.run_import, creates_store=True)


def _history(commands: Any, p: Parents) -> None:
    from biv_adapters.cli.feed import add_history_paging  # the feed's module: a budget's needs none

    history = commands.add_parser(
        "history", parents=[p.query], help="every recorded fact about an agreement"
    )
    history.add_argument("case_number", metavar="CASE_NUMBER")
    add_history_paging(history)
    history.set_defaults(run=run.run_history)


def _budget(commands: Any, p: Parents) -> None:
    bud = commands.add_parser(
        "budget",
        parents=[p.query],
        help="an agreement's money on a date, or every agreement's in a fiscal year",
    )
    bud.add_argument("case_number", metavar="CASE_NUMBER", nargs="?")
    bud.add_argument("--on", type=parse_day, metavar="DATE")
    bud.add_argument(
        "--fiscal-year",
        type=parse_year,
        metavar="YEAR",
        help="every agreement's funding in that calendar year, by party and source",
    )
    bud.add_argument("--municipality", help="with --fiscal-year: only that municipality's")
    bud.add_argument(
        "--split",
        choices=SPLITS,
        default=SPLITS[0],
        help="divide lines across fiscal years by months (default) or by days",
    )
    bud.set_defaults(check=run.check_budget, run=run.run_budget)


def _report(commands: Any, p: Parents) -> None:
    rep = commands.add_parser("report", parents=[p.query], help="report figures for a window")
    rep.add_argument("case_number", metavar="CASE_NUMBER")
    rep.add_argument("--from", dest="start", type=parse_day, metavar="DATE")
    rep.add_argument("--to", dest="end", type=parse_day, metavar="DATE")
    rep.add_argument(
        "--follow-up",
        metavar="REF",
        help="the follow-up's window, and its submitted figures beside today's",
    )
    rep.add_argument(
        "--public",
        action="store_true",
        help="for publication outside the two parties: withhold small counts of people",
    )
    rep.add_argument(
        "--threshold",
        type=parse_count,
        metavar="N",
        # The default is `projections.report.PUBLIC_THRESHOLD`, which the grammar does not
        # load (tests/rules/test_publication.py's help test compares them).
        help="with --public: the smallest count of people shown (default 5)",
    )
    rep.set_defaults(check=run.check_report, run=run.run_report)


def _rebuild(commands: Any, p: Parents) -> None:
    rebuild = commands.add_parser(
        "rebuild", parents=[p.store], help="rebuild the read models from every recorded fact"
    )
    rebuild.add_argument("--json", action="store_true", help="print how many facts as JSON")
    rebuild.set_defaults(run=run.run_rebuild)


def _follow_ups(commands: Any, p: Parents) -> None:
    fol = commands.add_parser(
        "follow-ups", parents=[p.query], help="the agreement's follow-ups and where they stand"
    )
    fol.add_argument("case_number", metavar="CASE_NUMBER")
    fol.add_argument(
        "--on", type=parse_day, metavar="DATE", help="the day they are judged on (default: today)"
    )
    fol.set_defaults(run=run.run_follow_ups)


def _configure(commands: Any, p: Parents) -> None:
    configure = commands.add_parser(
        "configure", parents=[p.writer], help="the store's settings (a fact like any other)"
    )
    configure.add_argument(
        "--require-actor",
        choices=["yes", "no"],
        required=True,
        help="refuse every write that does not name its actor",
    )
    configure.add_argument("--json", action="store_true", help="print the setting as JSON")
    configure.set_defaults(run=run.run_configure, creates_store=True)


def _erase(commands: Any, p: Parents) -> None:
    erase = commands.add_parser(
        "erase",
        parents=[p.writer],
        help="erase a participant's personal data in every group (destroys their key)",
    )
    erase.add_argument("participant_ref", metavar="PARTICIPANT_REF")
    erase.add_argument("--reason", required=True, help="why, kept with the fact (never the name)")
    erase.add_argument(
        "--decided-on", type=parse_day, metavar="DATE", help="the decision's day (default: today)"
    )
    erase.add_argument("--json", action="store_true", help="print what was erased as JSON")
    erase.set_defaults(run=run.run_erase)


def _keygen(commands: Any, p: Parents) -> None:
    keygen = commands.add_parser(
        "keygen", help="print a new store key for BIV_CIPHER_KEY (encryption at rest)"
    )
    keygen.set_defaults(offline=run.run_keygen)


def _rekey(commands: Any, p: Parents) -> None:
    rekey = commands.add_parser(
        "rekey",
        parents=[p.writer],
        help="re-wrap the store's keys under BIV_NEW_CIPHER_KEY (BIV_CIPHER_KEY: the old one)",
    )
    rekey.set_defaults(run=run.run_rekey)


# The modules of the commands below load with their grammar: a query loads none of them.


def _audit(commands: Any, p: Parents) -> None:
    from biv_adapters.cli.audit import add_audit_commands

    add_audit_commands(commands, p.store, p.query)


def _store(commands: Any, p: Parents) -> None:
    from biv_adapters.cli.store import add_store_commands

    add_store_commands(commands, p.store)


def _http(commands: Any, p: Parents) -> None:
    from biv_adapters.http.commands import add_http_commands

    add_http_commands(commands, p.store)


def _facts(commands: Any, p: Parents) -> None:
    from biv_adapters.cli.feed import add_feed_commands

    add_feed_commands(commands, p.query)


def _archive(commands: Any, p: Parents) -> None:
    from biv_adapters.cli.archive import add_archive_commands

    add_archive_commands(commands, p.store)


# Each top-level command's grammar, in the order --help lists them: the names a function
# adds (`serve` and `token` come together), and the function. What runs a command is not
# here but beside its grammar (`set_defaults`).
GRAMMAR: tuple[tuple[tuple[str, ...], Callable[[Any, Parents], None]], ...] = (
    (("demo",), _demo),
    (("import",), _import),
    (("history",), _history),
    (("budget",), _budget),
    (("report",), _report),
    (("rebuild",), _rebuild),
    (("follow-ups",), _follow_ups),
    (("configure",), _configure),
    (("erase",), _erase),
    (("keygen",), _keygen),
    (("rekey",), _rekey),
    (("audit",), _audit),
    (("store",), _store),
    (("serve", "token"), _http),
    (("witness",), lambda commands, p: add_witness_command(commands)),
    (("facts",), _facts),
    (("archive",), _archive),
)
COMMAND_NAMES = frozenset(name for names, _add in GRAMMAR for name in names)


# An example for each command's --help; one a line, as a user would type it.
EXAMPLES: dict[str, str] = {
    "demo": "biv demo --store sqlite:demo.sqlite3",
    "import": "biv import decisions.jsonl --actor 'Eva, handläggare'",
    "history": "biv history 'Dnr 2016-292' --as-known-at 2023-10-31",
    "budget": "biv budget 'Dnr 2016-292' --on 2018-01-01\n  biv budget --fiscal-year 2023",
    "report": "biv report 'Dnr 2016-292' --from 2017-04-01 --to 2018-03-31 --public",
    "rebuild": "biv rebuild --store sqlite:biv.sqlite3",
    "follow-ups": "biv follow-ups 'Dnr 2016-292' --on 2018-06-30",
    "configure": "biv configure --require-actor yes --actor IT",
    "keygen": "export BIV_CIPHER_KEY=$(biv keygen)   # keep it in the municipality's key vault",
    "rekey": "BIV_NEW_CIPHER_KEY=$(biv keygen) biv rekey --actor IT",
    "erase": 'biv erase ILL-C001 --reason "the guardian asked (GDPR art. 17)" --actor Eva',
    "audit": 'biv audit verify --digest "$(biv audit digest)"',
    "audit digest": "biv audit digest > digest-2024-01-31.txt",
    "audit verify": 'biv audit verify --digest "$(cat digest-2024-01-31.txt)"',
    "audit replay": "biv audit replay 'Dnr 2016-292' --since 2023-01-01 --until 2023-12-31 --diff",
    "audit export": "biv audit export 'Dnr 2016-292' --out pack/",
    "serve": "biv serve --port 8080 --store sqlite:iop.sqlite3",
    "token": "biv token add kommunrevisionen --role auditor",
    "token add": "biv token add diariet --role writer",
    **LOG_EXAMPLES,
    "facts": "biv facts --after 1200 --limit 100 --json\n  biv facts --after 1200 --follow --json",
    "archive": "biv archive export 'Dnr 2016-292' --out dnr-2016-292.zip",
    "archive export": "biv archive export 'Dnr 2016-292' --out leverans/ --on 2024-03-31",
}


def _add_examples(parser: argparse.ArgumentParser, path: str = "") -> None:
    """Gives every command's --help an example, and the top level's the list of them."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        for name, sub in action.choices.items():
            command = f"{path} {name}".strip()
            if command in EXAMPLES:
                sub.epilog = "example:\n  " + EXAMPLES[command]
                sub.formatter_class = argparse.RawDescriptionHelpFormatter
            _add_examples(sub, command)
    if not path:
        parser.epilog = "examples:\n" + "\n".join(
            f"  {line.strip()}" for text in EXAMPLES.values() for line in text.split("\n")
        )
        parser.formatter_class = argparse.RawDescriptionHelpFormatter


def _version() -> str:
    from biv_domain._version import __version__  # the one source, not the installed metadata

    return __version__
