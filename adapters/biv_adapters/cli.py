"""The `biv` command line: the contract other programs and auditors use.

Exit 0 on success, 1 when input or a domain rule is refused (one line on standard error,
nothing stored), 2 on a usage error. Every query takes `--json` and `--as-known-at`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from biv_adapters.arguments import UsageError
from biv_adapters.log_grammar import is_offline
from biv_adapters.parser import build_parser

if TYPE_CHECKING:  # loaded by `_load` once the arguments are read
    from biv_adapters import documents, render
    from biv_adapters.audit_commands import run_audit
    from biv_adapters.demo import run_demo
    from biv_adapters.store_commands import run_store
    from biv_adapters.stores import (
        MissingStore,
        StoreError,
        new_cipher_key,
        open_ledger,
        parse_cipher_key,
        redact,
        require_existing,
        store_failures,
        store_url,
        url_password,
    )
    from biv_domain.converter import json_text
    from biv_domain.errors import Refused
    from biv_domain.ledger import Ledger, LineRefused, WriteConflict
    from biv_domain.model.protection import EraseParticipant
    from biv_domain.projections.budget import Split


def _load() -> None:
    """Loads what the commands run on once the arguments are read: `--version` and `--help`
    need the grammar alone, a query on SQLite no driver, server or pack library
    (tests/test_fast_start.py). A name set already (a test's stand-in) is kept."""
    global documents, render, run_audit, run_demo, run_store, MissingStore, StoreError
    global new_cipher_key, open_ledger, parse_cipher_key, redact, require_existing
    global store_failures, store_url, url_password, json_text, Refused, Ledger, LineRefused
    global WriteConflict, EraseParticipant, Split
    if "documents" in globals():
        return
    from biv_adapters import documents, render
    from biv_adapters.audit_commands import run_audit
    from biv_adapters.demo import run_demo
    from biv_adapters.store_commands import run_store
    from biv_adapters.stores import (
        MissingStore,
        StoreError,
        new_cipher_key,
        open_ledger,
        parse_cipher_key,
        redact,
        require_existing,
        store_failures,
        store_url,
        url_password,
    )
    from biv_domain.converter import json_text
    from biv_domain.errors import Refused
    from biv_domain.ledger import Ledger, LineRefused, WriteConflict
    from biv_domain.model.protection import EraseParticipant
    from biv_domain.projections.budget import Split


def __getattr__(name: str) -> Any:
    """A name of `_load` asked for from outside (a test's `cli.open_ledger`) loads them all."""
    if name.startswith("__"):
        raise AttributeError(name)
    _load()
    if name in globals():
        return globals()[name]
    raise AttributeError(f"module 'biv_adapters.cli' has no attribute {name!r}")


CREATES_STORE = frozenset({"import", "demo", "configure"})


def _store_failure(error: BaseException, url: str | None) -> str:
    """One line naming the store and what went wrong, without its password."""
    named = redact(url or os.environ.get("BIV_STORE") or "sqlite:biv.sqlite3")
    text = " ".join(str(error).split()) or type(error).__name__
    password = url_password(url or os.environ.get("BIV_STORE") or "")
    if password:
        text = text.replace(password, "***")
    if isinstance(error, StoreError):  # its message names the store, redacted where made
        return f"biv: {text}"
    return f"biv: the store {named} cannot be used: {redact(text)}"


def _check_usage(args: argparse.Namespace) -> None:
    """The usage errors that need no store: options that do not go together (UsageError)."""
    budget_ = args.command == "budget"
    if budget_ and args.fiscal_year is None and (args.case_number is None or args.on is None):
        raise UsageError("give CASE_NUMBER and --on DATE, or --fiscal-year YEAR")
    if budget_ and args.fiscal_year is not None and (args.case_number or args.on):
        raise UsageError(
            "--fiscal-year answers for every agreement; leave out CASE_NUMBER and --on"
        )
    if args.command == "report" and not args.follow_up:
        documents.report_window(args.start, args.end)
    if args.command == "report" and args.follow_up and (args.start or args.end or args.public):
        raise UsageError(
            "--follow-up gives the follow-up's window and its submitted figures: "
            "leave out --from, --to and --public"
        )


def _unencodable(args: argparse.Namespace) -> str | None:
    """The first argument that is not Unicode text (a lone surrogate from the shell), if any."""
    for name, value in vars(args).items():
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return f"biv: {name.replace('_', '-')}: must be Unicode text, got {value!r}"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:
        # argparse has printed the usage error (2) or the help (0); a caller embedding
        # `main` gets the exit code back rather than an exception.
        return stop.code if isinstance(stop.code, int) else 2
    _load()
    unencodable = _unencodable(args)
    if unencodable:
        print(unencodable, file=sys.stderr)
        return 2
    if args.command == "keygen":  # a new store key needs no store
        print(new_cipher_key())
        return 0
    if is_offline(args):  # the log's keys, receipts and witnesses (issue 21): no store opened
        from biv_adapters.log_commands import run_offline

        return run_offline(args)
    url = getattr(args, "store", None)
    failures = store_failures(store_url(url))
    try:
        _check_usage(args)  # a usage error is one whether or not the store exists
        if args.command not in CREATES_STORE:
            require_existing(url)
    except UsageError as error:
        print(f"biv: {error}", file=sys.stderr)
        return 2
    except MissingStore as missing:  # refused like a case number the store does not know
        print(f"biv: refused: {missing}", file=sys.stderr)
        return 1
    except StoreError as error:
        print(_store_failure(error, url), file=sys.stderr)
        return 2
    try:
        ledger = open_ledger(url, actor=getattr(args, "actor", None))
    except Refused as refusal:  # a store of a newer format than this code reads
        print(f"biv: refused: {refusal}", file=sys.stderr)
        return 1
    except failures as error:
        print(_store_failure(error, url), file=sys.stderr)
        return 2
    try:
        return _run(args, ledger)
    except failures as error:
        print(_store_failure(error, url), file=sys.stderr)
        return 2
    except WriteConflict as conflict:  # retryable: the input is fine, the chain was busy
        print(f"biv: not stored, try again: {conflict}", file=sys.stderr)
        return 1
    except (Refused, LineRefused) as refusal:
        # One line, whatever the input held: a reader parses standard error by lines.
        message = str(refusal).replace("\r", "\\r").replace("\n", "\\n")
        print(f"biv: refused: {message}", file=sys.stderr)
        return 1
    except UsageError as error:
        print(f"biv: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`biv history … | head`); that is not our failure.
        sys.stderr.close()
        return 0
    finally:
        ledger.close()


def _run(args: argparse.Namespace, ledger: Ledger) -> int:
    if args.command == "demo":
        return run_demo(ledger, as_json=args.json)
    if args.command == "import":
        return _import(args, ledger)
    if args.command == "history":
        from biv_adapters.feed_commands import run_history_page

        page = run_history_page(args, ledger)
        if page is not None:
            return _emit(args, page, _history_page_table)
        body = documents.history_document(ledger, args.case_number, args.as_known_at)
        return _emit(args, body, _history_table)
    if args.command == "budget":
        if args.fiscal_year is not None:
            return _emit(args, _fiscal_year(args, ledger), render.fiscal_year_table)
        if args.case_number is None or args.on is None:
            raise UsageError("give CASE_NUMBER and --on DATE, or --fiscal-year YEAR")
        body = documents.budget_document(
            ledger, args.case_number, args.on, Split(args.split), args.as_known_at
        )
        return _emit(args, body, render.budget_table)
    if args.command == "rebuild":
        return _rebuild(ledger, as_json=args.json)
    if args.command == "configure":
        return _configure(args, ledger)
    if args.command == "rekey":
        new = parse_cipher_key(os.environ.get("BIV_NEW_CIPHER_KEY"))
        if new is None:
            raise UsageError("set BIV_NEW_CIPHER_KEY to the new key (`biv keygen` prints one)")
        rewrapped = ledger.rekey(new)
        print(f"re-wrapped {rewrapped} keys under the new store key; set BIV_CIPHER_KEY to it")
        return 0
    if args.command == "erase":
        command = EraseParticipant(
            args.participant_ref, args.reason, args.decided_on or ledger.clock().date()
        )
        receipt = ledger.execute(command)
        if args.json:
            print(json_text({"erased": receipt.erased}, indent=False))
        else:
            print(f"erased the personal data of {receipt.erased} participant in every group")
        return 0
    if args.command == "audit":
        return run_audit(args, ledger)
    if args.command == "store":
        return run_store(args, ledger)
    if args.command == "report":
        return _emit(args, _report(args, ledger), render.report_table)
    if args.command == "follow-ups":
        on = args.on or date.today()
        body = documents.follow_ups_document(ledger, args.case_number, on, args.as_known_at)
        return _emit(args, body, render.follow_ups_table)
    if args.command in ("serve", "token"):
        return _run_http(args, ledger)
    if args.command == "facts":
        from biv_adapters.feed_commands import run_facts

        return run_facts(args, ledger)
    if args.command == "archive":
        from biv_adapters.archive_commands import run_archive

        return run_archive(args, ledger)
    raise UsageError(f"unknown command {args.command!r}")  # pragma: no cover


def _run_http(args: argparse.Namespace, ledger: Ledger) -> int:
    """`biv serve` and `biv token`: loaded only when asked for, with the extra `serve`."""
    try:
        from biv_adapters.http.commands import run_serve, run_token
    except ImportError as missing:
        raise UsageError(
            f"biv {args.command} needs {missing.name or 'a package'}: "
            "pip install 'biv-domain[serve]'"
        ) from None
    url = store_url(getattr(args, "store", None))
    if args.command == "serve":
        return run_serve(args, ledger, url)
    return run_token(args, ledger, url)


def _fiscal_year(args: argparse.Namespace, ledger: Ledger) -> dict[str, Any]:
    if args.case_number or args.on:
        raise UsageError(
            "--fiscal-year answers for every agreement; leave out CASE_NUMBER and --on"
        )
    return documents.fiscal_year_document(
        ledger, args.fiscal_year, Split(args.split), args.municipality, args.as_known_at
    )


def _rebuild(ledger: Ledger, *, as_json: bool = False) -> int:
    from tqdm import tqdm

    total = ledger.app.recorder.max_notification_id() or 0
    with tqdm(total=total, unit="facts", desc="funding view", file=sys.stderr) as bar:
        read = ledger.rebuild(progress=bar.update)
    if as_json:
        print(json_text({"rebuilt": "funding", "facts": read}, indent=False))
    else:
        print(f"rebuilt the funding view from {read} facts")
    return 0


def _configure(args: argparse.Namespace, ledger: Ledger) -> int:
    ledger.configure(require_actor=args.require_actor == "yes")
    if args.json:
        print(json_text({"require_actor": args.require_actor == "yes"}, indent=False))
    else:
        verb = "requires" if args.require_actor == "yes" else "does not require"
        print(f"the store now {verb} an actor on every write")
    return 0


def _history_table(body: dict[str, Any]) -> str:
    """History for a terminal: each fact on one line, its data cut to the terminal's width.

    The width is $COLUMNS, else the terminal's; piped elsewhere, nothing is cut.
    `--json` always gives every fact's data whole.
    """
    text = render.history_table(body)
    width = _terminal_width()
    if width is None:
        return text
    lines = text.split("\n")
    fitted = [line if len(line) <= width else line[: max(width - 1, 1)] + "…" for line in lines]
    if fitted != lines:
        fitted.append("(data cut to fit the line; --json gives it whole)")
    return "\n".join(fitted)


def _history_page_table(body: dict[str, Any]) -> str:
    more = f"\nnext page: --after {body['next']}" if body["next"] is not None else ""
    return _history_table(body) + more


def _terminal_width() -> int | None:
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


def _report(args: argparse.Namespace, ledger: Ledger) -> dict[str, Any]:
    if args.follow_up:
        if args.start or args.end or args.public:
            raise UsageError(
                "--follow-up gives the follow-up's window and its submitted figures: "
                "leave out --from, --to and --public"
            )
        return documents.follow_up_report_document(
            ledger, args.case_number, args.follow_up, args.as_known_at
        )
    window = documents.report_window(args.start, args.end)
    return documents.report_document(
        ledger,
        args.case_number,
        window,
        args.as_known_at,
        public=args.public,
        threshold=args.threshold,
    )


def _import(args: argparse.Namespace, ledger: Ledger) -> int:
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
        from biv_adapters.log_commands import write_receipt

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


def _emit(args: argparse.Namespace, body: dict[str, Any], table: Any) -> int:
    from biv_adapters.demo_stages import demo_line

    print(json_text(body) if args.json else demo_line(body) + table(body))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
