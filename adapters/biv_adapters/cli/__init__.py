"""The `biv` command line: the contract other programs and auditors use.

Exit 0 on success, 1 when input or a domain rule is refused (one line on standard error,
nothing stored), 2 on a usage error. Every query takes `--json` and `--as-known-at`.

`main` reads the arguments with `parser`, whose every command names with `set_defaults`
what `main` calls: `offline(args)` for a command that needs no store (`biv keygen`, the
log's keys and witnesses), else `check(args)` before the store is opened and
`run(args, ledger)` on it (`commands`, `audit`, `log`, `feed`, `store`, `archive`).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from biv_adapters.arguments import UsageError


def _store_failure(error: BaseException, url: str | None) -> str:
    """One line naming the store and what went wrong, without its password."""
    from biv_adapters.stores.registry import StoreError, redact, url_password

    named = redact(url or os.environ.get("BIV_STORE") or "sqlite:biv.sqlite3")
    text = " ".join(str(error).split()) or type(error).__name__
    password = url_password(url or os.environ.get("BIV_STORE") or "")
    if password:
        text = text.replace(password, "***")
    if isinstance(error, StoreError):  # its message names the store, redacted where made
        return f"biv: {text}"
    return f"biv: the store {named} cannot be used: {redact(text)}"


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
    from biv_adapters.cli.parser import build_parser

    parser = build_parser(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:
        # argparse has printed the usage error (2) or the help (0); a caller embedding
        # `main` gets the exit code back rather than an exception.
        return stop.code if isinstance(stop.code, int) else 2
    unencodable = _unencodable(args)
    if unencodable:
        print(unencodable, file=sys.stderr)
        return 2
    try:
        if args.offline is not None:  # no store opened
            code: int = args.offline(args)
            return code
        return _on_store(args)
    except Exception as defect:  # the last resort: a user never sees a traceback
        # Every failure a user can cause is answered above and in the commands; what reaches
        # here is a defect of biv. A batch is stored whole or not at all, so nothing half-done
        # is left behind; the one line names what failed, for a report.
        text = " ".join(str(defect).split())[:300]
        print(
            f"biv: failed (a defect of biv, please report it): {type(defect).__name__}: {text}",
            file=sys.stderr,
        )
        return 1


def run() -> NoReturn:
    """The `biv` process (its installed script, and `python -m biv_adapters.cli`): `main` on
    the process's arguments, then the process's exit with its code.

    The exit frees the whole process at once, so the cyclic collector is told to leave every
    object there is (`gc.freeze`): Python's exit would otherwise walk them all, ~15 ms of a
    ~150 ms query (benchmarks/start_up.py). Files, the store and `atexit`'s work are closed
    and done as before. `main` alone, as a program that embeds the command line calls it,
    leaves the collector as it is.
    """
    code = main()
    gc.freeze()
    sys.exit(code)


def _on_store(args: argparse.Namespace) -> int:
    """The command's check, its store opened (or refused), and its run on the ledger."""
    from biv_adapters.stores import registry
    from biv_domain.errors import Refused
    from biv_domain.ledger import LineRefused, WriteConflict

    url = getattr(args, "store", None)
    failures = registry.store_failures(registry.store_url(url))
    try:
        args.check(args)  # a usage error is one whether or not the store exists
        if not args.creates_store:
            registry.require_existing(url)
    except UsageError as error:
        print(f"biv: {error}", file=sys.stderr)
        return 2
    except registry.MissingStore as missing:  # refused like a case number the store does not know
        print(f"biv: refused: {missing}", file=sys.stderr)
        return 1
    except registry.StoreError as error:
        print(_store_failure(error, url), file=sys.stderr)
        return 2
    try:
        ledger = registry.open_ledger(url, actor=getattr(args, "actor", None))
    except Refused as refusal:  # a store of a newer format than this code reads
        print(f"biv: refused: {refusal}", file=sys.stderr)
        return 1
    except failures as error:
        print(_store_failure(error, url), file=sys.stderr)
        return 2
    try:
        code: int = args.run(args, ledger)
        return code
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
