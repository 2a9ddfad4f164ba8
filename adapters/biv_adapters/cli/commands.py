"""The top-level commands' checks and runs: `parser` gives each command's parser its
`check` (options that do not go together, refused before a store is opened) and its
`run` with `set_defaults`, and `biv_adapters.cli.main` calls them.

Each run imports what it runs on, so that `--help` and `--version` load the grammar alone
and a query on SQLite no driver, server or pack library (tests/adapters/test_fast_start.py).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from biv_adapters.arguments import UsageError

if TYPE_CHECKING:  # the ledger loads when a command runs, not for --help
    from biv_domain.ledger import Ledger

Document = dict[str, Any]


def no_check(args: argparse.Namespace) -> None:
    """A command whose options all go together."""


def check_budget(args: argparse.Namespace) -> None:
    """`biv budget`: one agreement on a day, or every agreement in a fiscal year."""
    if args.fiscal_year is None and (args.case_number is None or args.on is None):
        raise UsageError("give CASE_NUMBER and --on DATE, or --fiscal-year YEAR")
    if args.fiscal_year is not None and (args.case_number or args.on):
        raise UsageError(
            "--fiscal-year answers for every agreement; leave out CASE_NUMBER and --on"
        )


def check_report(args: argparse.Namespace) -> None:
    """`biv report`: a window (`--from`, `--to`), or a follow-up's, not both. The window is
    built here, once, and kept on `args` for `run_report`."""
    from biv_adapters import documents

    args.window = None
    if not args.follow_up:
        args.window = documents.report_window(args.start, args.end)
    elif args.start or args.end or args.public:
        raise UsageError(
            "--follow-up gives the follow-up's window and its submitted figures: "
            "leave out --from, --to and --public"
        )


def run_keygen(args: argparse.Namespace) -> int:
    """`biv keygen`: a new store key needs no store."""
    from biv_adapters.stores.registry import new_cipher_key

    print(new_cipher_key())
    return 0


def run_demo(args: argparse.Namespace, ledger: Ledger) -> int:
    from biv_adapters.demo import run_demo as demo

    return demo(ledger, as_json=args.json)


def run_history(args: argparse.Namespace, ledger: Ledger) -> int:
    from biv_adapters import documents
    from biv_adapters.cli.feed import run_history_page

    page = run_history_page(args, ledger)
    if page is not None:
        return _emit(args, page, _history_page_table)
    body = documents.history_document(ledger, args.case_number, args.as_known_at)
    return _emit(args, body, _history_table)


def run_budget(args: argparse.Namespace, ledger: Ledger) -> int:
    from biv_adapters import documents
    from biv_adapters.cli import render
    from biv_domain.projections.budget import Split

    if args.fiscal_year is not None:
        year = documents.fiscal_year_document(
            ledger, args.fiscal_year, Split(args.split), args.municipality, args.as_known_at
        )
        return _emit(args, year, render.fiscal_year_table)
    body = documents.budget_document(
        ledger, args.case_number, args.on, Split(args.split), args.as_known_at
    )
    return _emit(args, body, render.budget_table)


def run_report(args: argparse.Namespace, ledger: Ledger) -> int:
    from biv_adapters import documents
    from biv_adapters.cli import render

    if args.follow_up:
        body = documents.follow_up_report_document(
            ledger, args.case_number, args.follow_up, args.as_known_at
        )
    else:
        body = documents.report_document(
            ledger,
            args.case_number,
            args.window,
            args.as_known_at,
            public=args.public,
            threshold=args.threshold,
        )
    return _emit(args, body, render.report_table)


def run_follow_ups(args: argparse.Namespace, ledger: Ledger) -> int:
    from biv_adapters import documents
    from biv_adapters.cli import render

    on = args.on or date.today()
    body = documents.follow_ups_document(ledger, args.case_number, on, args.as_known_at)
    return _emit(args, body, render.follow_ups_table)


def run_rebuild(args: argparse.Namespace, ledger: Ledger) -> int:
    from tqdm import tqdm

    from biv_domain.converter import json_text

    total = ledger.app.recorder.max_notification_id() or 0
    with tqdm(total=total, unit="facts", desc="funding view", file=sys.stderr) as bar:
        read = ledger.rebuild(progress=bar.update)
    if args.json:
        print(json_text({"rebuilt": "funding", "facts": read}, indent=False))
    else:
        print(f"rebuilt the funding view from {read} facts")
    return 0


def run_configure(args: argparse.Namespace, ledger: Ledger) -> int:
    from biv_domain.converter import json_text

    ledger.configure(require_actor=args.require_actor == "yes")
    if args.json:
        print(json_text({"require_actor": args.require_actor == "yes"}, indent=False))
    else:
        verb = "requires" if args.require_actor == "yes" else "does not require"
        print(f"the store now {verb} an actor on every write")
    return 0


def run_rekey(args: argparse.Namespace, ledger: Ledger) -> int:
    from biv_adapters.stores.registry import parse_cipher_key

    new = parse_cipher_key(os.environ.get("BIV_NEW_CIPHER_KEY"))
    if new is None:
        raise UsageError("set BIV_NEW_CIPHER_KEY to the new key (`biv keygen` prints one)")
    rewrapped = ledger.rekey(new)
    print(f"re-wrapped {rewrapped} keys under the new store key; set BIV_CIPHER_KEY to it")
    return 0


def run_erase(args: argparse.Namespace, ledger: Ledger) -> int:
    from biv_domain.converter import json_text
    from biv_domain.model.protection import EraseParticipant

    command = EraseParticipant(
        args.participant_ref, args.reason, args.decided_on or ledger.clock().date()
    )
    receipt = ledger.execute(command)
    if args.json:
        print(json_text({"erased": receipt.erased}, indent=False))
    else:
        print(f"erased the personal data of {receipt.erased} participant in every group")
    return 0


def run_import(args: argparse.Namespace, ledger: Ledger) -> int:
    from biv_adapters import documents
    from biv_domain.converter import json_text

    if args.file == "-":
        stdin = getattr(sys.stdin, "buffer", None)  # a text stream when embedded or tested
        data = stdin.read() if stdin is not None else sys.stdin.read().encode()
    else:
        try:
            with open(args.file, "rb") as handle:
                data = handle.read()
        except OSError as error:
            raise UsageError(f"cannot read {args.file}: {error.strerror}") from None
    if args.receipt is not None:  # the batch's receipt, written before anything is printed
        from biv_adapters.cli.log import write_receipt

        return write_receipt(args, ledger, data)
    receipt = documents.import_document(ledger, data)
    if args.json:
        print(json_text(receipt, indent=False))
    else:
        erased = receipt.get("erased", 0)
        also = f"; erased the data of {erased} participants" if erased else ""
        print(
            f"applied {receipt['applied']} lines, skipped {receipt['skipped']} already applied"
            + also
        )
    return 0


def _history_table(body: Document) -> str:
    """History for a terminal: each fact on one line, its data cut to the terminal's width.

    The width is $COLUMNS, else the terminal's; piped elsewhere, nothing is cut.
    `--json` always gives every fact's data whole.
    """
    from biv_adapters.cli import render

    text = render.history_table(body)
    width = _terminal_width()
    if width is None:
        return text
    lines = text.split("\n")
    fitted = [line if len(line) <= width else line[: max(width - 1, 1)] + "…" for line in lines]
    if fitted != lines:
        fitted.append("(data cut to fit the line; --json gives it whole)")
    return "\n".join(fitted)


def _history_page_table(body: Document) -> str:
    more = f"\nnext page: --after {body['next']}" if body["next"] is not None else ""
    return _history_table(body) + more


def _terminal_width() -> int | None:
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


def _emit(args: argparse.Namespace, body: Document, table: Callable[[Document], str]) -> int:
    from biv_adapters.demo_stages import demo_line
    from biv_domain.converter import json_text

    print(json_text(body) if args.json else demo_line(body) + table(body))
    return 0
