"""`biv archive export CASE --out PATH [--on DATE] [--json]`: delivery to an e-archive.

Writes one E-ARK SIP 2.1.0 (CSIP 2.1.0) package, FGS Paketstruktur 2.0, for the
agreement (see `biv_adapters.archive.package`): a folder, or a zip when PATH ends in
`.zip`. An unknown case, an `--out` that exists and is not an empty folder, or a
failed write (a full disk) is refused in one line and leaves nothing behind; without
the extra `archive` (lxml) it says which package to install.
"""

from __future__ import annotations

import argparse
from datetime import date
from typing import TYPE_CHECKING, Any

from biv_adapters.arguments import UsageError, parse_day

if TYPE_CHECKING:  # the ledger loads when the command runs, not for --help
    from biv_domain.ledger import Ledger


def add_archive_commands(commands: Any, store: argparse.ArgumentParser) -> None:
    archive = commands.add_parser(
        "archive", help="deliver an agreement to an e-archive (E-ARK SIP / FGS package)"
    )
    verbs = archive.add_subparsers(dest="archive_command", required=True, metavar="ARCHIVE_COMMAND")
    export = verbs.add_parser(
        "export",
        parents=[store],
        help="write the agreement as an E-ARK SIP 2.1.0 (CSIP 2.1.0) package, FGS 2.0",
        description="Writes one information package for the agreement: METS.xml, Dublin Core, "
        "PREMIS 3, the history (JSON Lines) with each fact's stored content, the log's "
        "checkpoint and each fact's inclusion proof, the tables (CSV, RFC 4180), the XSDs and "
        "how to check it all without biv-domain. Children are named by pseudonym only.",
    )
    export.add_argument("case_number", metavar="CASE_NUMBER")
    export.add_argument(
        "--out",
        required=True,
        metavar="PATH",
        help="a new (or empty) folder, or a file ending in .zip",
    )
    export.add_argument(
        "--on",
        type=parse_day,
        metavar="DATE",
        help="export what had happened by this day (default: today)",
    )
    export.add_argument("--json", action="store_true", help="print what was written as JSON")
    export.set_defaults(run=run_archive)


def run_archive(args: argparse.Namespace, ledger: Ledger) -> int:
    from biv_adapters.cli.render import table
    from biv_domain.converter import json_text

    try:  # lxml comes with the extra `archive`, the pack's packages with `pack`
        from biv_adapters.archive.package import ArchiveRefused, export
    except ImportError as missing:
        raise _missing(missing) from None
    on: date = args.on or ledger.clock().date()
    try:
        summary = export(ledger, args.case_number, args.out, on)
    except ImportError as missing:
        raise _missing(missing) from None
    except OSError as error:
        reason = error.strerror or str(error)
        raise ArchiveRefused(
            "--out", f"cannot write the package to {args.out}: {reason}; nothing was left there"
        ) from None
    if args.json:
        print(json_text(summary))
        return 0
    print(
        f"wrote the archive package of {args.case_number} ({summary['facts']} facts by "
        f"{summary['on']}, log of {summary['tree_size']}) to {args.out}:"
    )
    print(
        table(
            ["file", "bytes", "sha256"],
            [[f["path"], f["size"], f["sha256"]] for f in summary["files"]],
        )
    )
    return 0


def _missing(missing: ImportError) -> UsageError:
    return UsageError(
        f"the archive package needs {missing.name or 'its packages'}: "
        "pip install 'biv-domain[archive]'"
    )
