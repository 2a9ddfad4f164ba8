"""`biv audit …`: the auditor's commands (kommunrevision).

- `biv audit verify [--digest D]` walks the chain of stored facts and names the
  first row that does not fit; with a digest it also proves the history up to
  it unchanged. Exit 0 when the chain holds, 1 when it breaks.
- `biv audit digest` prints the chain's head, "position:hash", to keep outside.
- `biv audit replay CASE [--until T]` shows the agreement, its groups and
  follow-ups as the ledger knew them at T; with `--since T1 --diff` it lists
  the values that changed between T1 and T and the facts that changed them.
- `biv audit export CASE --out DIR` writes the auditor's pack (see `biv_adapters.pack.export`).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import TYPE_CHECKING, Any

from biv_adapters.arguments import UsageError, parse_day, parse_moment
from biv_adapters.cli.log_grammar import add_log_commands

if TYPE_CHECKING:  # the ledger and its documents load when a command runs, not for --help
    from biv_domain.ledger import Ledger
    from biv_domain.ledger.log_verification import LogVerification
    from biv_domain.ledger.verification import Digest


def add_audit_commands(
    commands: Any, store: argparse.ArgumentParser, query: argparse.ArgumentParser
) -> None:
    audit = commands.add_parser("audit", help="verify, replay and export the history for an audit")
    verbs = audit.add_subparsers(dest="audit_command", required=True, metavar="AUDIT_COMMAND")

    verify = verbs.add_parser(
        "verify",
        parents=[store],
        help="check that no stored fact was changed, removed or added",
        description="Walks the chain and the store's other checks. With --key VKEY (the log's "
        "verifier key) it also checks the store against every signed checkpoint: those it kept "
        "when each batch was signed, those kept outside (--checkpoint) and the receipts "
        "(--receipt); a shortened, forked or rewritten history fails, naming the first "
        "position that differs (or the batch it is in, and its facts).",
    )
    verify.add_argument("--digest", type=_digest, help="POSITION:SHA256 from `biv audit digest`")
    verify.add_argument("--json", action="store_true")
    verify.add_argument(
        "--checkpoint",
        action="append",
        metavar="FILE",
        help="a signed checkpoint kept outside (`biv audit checkpoint`): prove the store still "
        "extends it; repeat for more",
    )
    verify.add_argument(
        "--receipt",
        action="append",
        metavar="FILE",
        help="an import's receipt (`biv import --receipt`): its facts' leaves name the exact "
        "position of a change; repeat for more",
    )
    verify.add_argument(
        "--key",
        metavar="VKEY",
        help="the log's verifier key: check the store's own signed checkpoints, and needed "
        "by --checkpoint and --receipt",
    )
    verify.set_defaults(run=_verify)

    digest = verbs.add_parser("digest", parents=[store], help="the chain's head, to keep outside")
    digest.add_argument("--json", action="store_true")
    digest.set_defaults(run=_digest_run)
    _add_replay(verbs, store)
    _add_export(verbs, store)
    add_log_commands(verbs, store)


def _add_replay(verbs: Any, store: argparse.ArgumentParser) -> None:

    replay_parser = verbs.add_parser(
        "replay",
        parents=[store],
        help="the agreement, its groups and follow-ups as the ledger knew them at a moment",
        description="Without --diff: the ledger's knowledge at --until (default: everything "
        "recorded). With --since T1 --diff: what changed between T1 and --until, and which "
        "facts recorded in between changed it.",
    )
    replay_parser.add_argument("case_number", metavar="CASE_NUMBER")
    replay_parser.add_argument(
        "--until", type=parse_moment, metavar="TIMESTAMP", help="count facts recorded by then"
    )
    replay_parser.add_argument(
        "--since", type=parse_moment, metavar="TIMESTAMP", help="with --diff: the earlier moment"
    )
    replay_parser.add_argument(
        "--diff", action="store_true", help="list what changed between --since and --until"
    )
    replay_parser.add_argument(
        "--on",
        type=parse_day,
        metavar="DATE",
        help="the day statuses are judged on, the same for both moments "
        "(default: the day of --until, else today)",
    )
    replay_parser.add_argument("--json", action="store_true")
    replay_parser.set_defaults(check=_check_replay, run=_replay)


def _add_export(verbs: Any, store: argparse.ArgumentParser) -> None:

    export = verbs.add_parser(
        "export",
        parents=[store],
        help="write the auditor's pack: history, budget, payments, follow-ups, workbook, charts",
        description="Writes the auditor's pack (revisionsunderlag) into DIR, labelled in Swedish "
        "by default (sheets, column names, chart titles, axes and legends); --lang en for "
        "English. Illustrative (invented) data is marked as such in every file it touches.",
    )
    export.add_argument("case_number", metavar="CASE_NUMBER")
    export.add_argument("--out", required=True, metavar="DIR", help="the folder to write into")
    export.add_argument(
        "--on",
        type=parse_day,
        metavar="DATE",
        help="the budget's date and the day follow-ups are judged on (default: today)",
    )
    export.add_argument(
        "--lang",
        choices=["sv", "en"],
        default="sv",
        help="the language of the pack's labels: sv, Swedish (the default), or en, English",
    )
    export.add_argument(
        "--csv-dialect",
        choices=["excel-sv", "rfc4180"],
        default="excel-sv",
        help="excel-sv (the default): UTF-8 with BOM, ';' between fields, decimal comma, as "
        "Swedish Excel opens it; rfc4180: UTF-8, ',' and a decimal point, for programs",
    )
    export.add_argument("--json", action="store_true", help="print the pack's manifest as JSON")
    export.set_defaults(run=_export)


def _digest(text: str) -> Digest:
    from biv_domain.ledger.verification import Digest

    try:
        return Digest.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _digest_run(args: argparse.Namespace, ledger: Ledger) -> int:
    from biv_adapters.documents import digest_document
    from biv_domain.converter import json_text
    from biv_domain.ledger.verification import digest_line

    if args.json:
        print(json_text(digest_document(ledger), indent=False))
    else:
        print(digest_line(ledger.digest()))
    return 0


def _verify(args: argparse.Namespace, ledger: Ledger) -> int:
    from biv_adapters.documents import verification_document
    from biv_domain.converter import json_text

    if args.key is None and (args.checkpoint or args.receipt):
        raise UsageError("--checkpoint and --receipt need --key VKEY, the log's verifier key")
    result = ledger.verify_chain(args.digest)
    # The signed checkpoints are checked even where the chain broke: they name the first
    # position that differs from what the log once signed, which a broken chain cannot.
    log = _verify_log(args, ledger) if args.key is not None else None
    if args.json:
        body = verification_document(result)
        if log is not None:
            body["log"] = _log_document(log)
        print(json_text(body))
    elif result.first_break is None:
        print(f"the chain of {result.facts} facts holds; its head is {result.head}")
        if result.digest:
            extends = result.head.position - result.digest.position if result.head else 0
            print(
                f"the history up to {result.digest.position} is unchanged, "
                f"and the {extends} facts since extend it"
            )
        if len(result.checked) > 1 and not result.problems:
            print(f"checked too: {', '.join(result.checked[1:])}; all hold")
    if result.first_break is not None:
        print(f"biv: the chain breaks at {result.first_break}", file=sys.stderr)
    for problem in result.problems:
        print(f"biv: {problem}", file=sys.stderr)
    if not args.json:
        for note in result.notes:
            print(f"not checked: {note}")
    if log is None:
        return 0 if result.intact else 1
    _print_log(args, log)
    return 0 if result.intact and log.holds else 1


def _verify_log(args: argparse.Namespace, ledger: Ledger) -> LogVerification:
    """`--key VKEY [--checkpoint FILE]… [--receipt FILE]…`: the store against every signed
    checkpoint (`log_verification.verify_log`); a file that does not verify is refused."""
    from pathlib import Path

    from biv_domain.converter import parse_json
    from biv_domain.errors import Refused
    from biv_domain.ledger.log_verification import verify_log
    from biv_domain.ledger.note import Verifier
    from biv_domain.ledger.receipts import read_receipt

    def text(path: str) -> str:
        try:
            return Path(path).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or error
            raise UsageError(f"cannot read {path}: {reason}") from None

    key = Verifier.parse(args.key, "key")
    checkpoints = [(path, text(path)) for path in args.checkpoint or ()]
    receipts = []
    for path in args.receipt or ():
        try:
            receipts.append((path, read_receipt(parse_json(text(path)))))
        except ValueError as error:
            if isinstance(error, Refused):
                raise Refused(f"receipt {path}", error.reason) from None
            raise UsageError(f"{path} is not JSON") from None
    return verify_log(ledger, key, checkpoints, receipts)


def _log_document(log: LogVerification) -> dict[str, Any]:
    """The signed checkpoints' part of `verify --key --json`."""
    return {
        "holds": log.holds,
        "checked": [
            {"size": e.checkpoint.size, "source": e.source, "root": e.checkpoint.root.hex()}
            for e in log.checked
        ],
        "extends": log.extends.checkpoint.size if log.extends else None,
        "problems": list(log.problems),
    }


def _print_log(args: argparse.Namespace, log: LogVerification) -> None:
    """Each finding one line on standard error; what holds on standard output."""
    for problem in log.problems:
        print(f"biv: {problem}", file=sys.stderr)
    if args.json:
        return
    outside = [e for e in log.checked if e.source != "kept in the store"]
    for evidence in outside if log.holds else ():
        size, name = evidence.checkpoint.size, evidence.checkpoint.origin
        print(
            f"the store extends the checkpoint of {size} facts {evidence.source}, signed by "
            f"{name}: its first {size} facts make its root"
        )
    kept = len(log.checked) - len(outside)
    if log.holds and kept:
        print(f"the store's {kept} signed checkpoints verify and its facts make each root")
    elif not log.checked:
        print("not checked: no signed checkpoint (the store keeps none, and none was given)")


def _check_replay(args: argparse.Namespace) -> None:
    """`--since` and `--until` as a diff takes them (`documents.diff_window`, which the HTTP
    service's diff checks too), before the store is opened."""
    from biv_adapters.documents import diff_window

    if args.since is not None and not args.diff:
        raise UsageError("--since goes with --diff: give --diff, or leave out --since")
    if args.diff:
        diff_window(args.since, args.until)


def _replay(args: argparse.Namespace, ledger: Ledger) -> int:
    from biv_adapters.documents import diff_document, replay_document

    if args.diff:
        changes = diff_document(ledger, args.case_number, args.since, args.until, args.on)
        return _print(args, changes, diff_text)
    body = replay_document(ledger, args.case_number, args.until, args.on)
    return _print(args, body, replay_text)


def _export(args: argparse.Namespace, ledger: Ledger) -> int:
    # openpyxl and matplotlib load only for a pack
    from biv_adapters.cli.render import table
    from biv_adapters.pack.export import export, manifest_what
    from biv_domain.converter import json_text

    on: date = args.on or ledger.clock().date()
    try:
        manifest = export(ledger, args.case_number, args.out, on, args.lang, args.csv_dialect)
    except ImportError as missing:  # the workbook and charts come with the extra `pack`
        raise UsageError(
            f"the auditor's pack needs {missing.name or 'its packages'}: "
            "pip install 'biv-domain[pack]'"
        ) from None
    except OSError as error:
        reason = error.strerror or error
        raise UsageError(f"cannot write the pack to {args.out}: {reason}") from None
    if args.json:
        print(json_text(manifest))
    else:
        files = [[f["name"], f["what"]] for f in manifest["files"]]
        files.append(["manifest.json", manifest_what(args.lang)])
        head = ["fil", "innehåll"] if args.lang == "sv" else ["file", "what"]
        if args.lang == "sv":
            print(f"revisionsunderlaget för {args.case_number} är skrivet till {args.out}:")
        else:
            print(f"wrote the auditor's pack of {args.case_number} to {args.out}:")
        print(table(head, files))
    return 0


def _print(args: argparse.Namespace, body: dict[str, Any], text: Any) -> int:
    from biv_adapters.demo_stages import demo_line
    from biv_domain.converter import json_text

    print(json_text(body) if args.json else demo_line(body) + text(body))
    return 0


def _when(moment: str | None) -> str:
    return moment or "now (everything recorded)"


def _decisions(a: dict[str, Any]) -> list[list[object]]:
    """Every decision behind the replay's agreement: one row each, who decided and its reference."""
    t = a["terms"]
    rows: list[tuple[str, object, dict[str, Any]]] = [
        ("concluded", f"{t['start']} – {t['end']}", t),
        *(("extension", f"{e['previous_end']} → {e['end']}", e) for e in a["extensions"]),
        *(
            (f"funding {f['party']}", f"{f['source']} {f['start']} – {f['end']}: {f['amount']}", f)
            for f in a["funding"]
        ),
        *((f"target {g['target']}", g["value"], g) for g in a["targets"]),
    ]
    return [[k, w, x["decided_on"], x["decided_by"], x["decision_ref"]] for k, w, x in rows]


def _group_row(g: dict[str, Any]) -> list[object]:
    plan, closed = g["plan"], f" {g['closed_on']}" if g["closed_on"] else ""
    return [
        plan["group_ref"],
        plan["kind"],
        plan["area"],
        plan["starts_on"],
        g["participants"],
        g["withdrawn"],
        g["sessions"],
        g["status"] + closed,
    ]


def _follow_up_row(f: dict[str, Any]) -> list[object]:
    s = f["schedule"]
    window = f"{s['start']} – {s['end']}"
    return [s["follow_up_ref"], window, s["due_on"], f["status"], f["submitted_on"], f["closed_on"]]


def replay_text(d: dict[str, Any]) -> str:
    """The replay as a person reads it, drawn from its JSON."""
    from biv_adapters.cli.render import table

    a, t = d["agreement"], d["agreement"]["terms"]
    notice = a["notice"]
    paid = ", ".join(f"{p['amount']} on {p['paid_on']}" for p in a["disbursements"])
    retracted = "".join(
        f"; retracted {r['amount']} of {r['paid_on']} ({r['reason']})" for r in a["retractions"]
    )
    return "\n".join(
        [
            f"{d['case_number']} as the ledger knew it at {_when(d['as_known_at'])}: "
            f"{d['facts']} facts; statuses on {d['on']}",
            f"{t['title']}: {t['municipality']} with {t['partner']}",
            f"runs {t['start']} – {a['ends_on']} (concluded to {t['end']}, end as decided "
            f"{a['end_as_decided']}); its status on {d['on']}: {a['status'].replace('_', ' ')}",
            f"notice {t['notice_months']} months, last day to give it {a['last_notice_day']}; "
            + (
                f"notice given by the {notice['party']} on {notice['given_on']}"
                if notice
                else "no notice given"
            ),
            "",
            "Decisions:",
            table(["decision", "what", "decided on", "by", "reference"], _decisions(a)),
            "",
            f"Paid out {a['disbursed']}: {paid or 'nothing'}{retracted}",
            "",
            "Groups:",
            table(
                ["group", "kind", "area", "starts", "enrolled", "withdrawn", "sessions", "status"],
                [_group_row(g) for g in d["groups"]],
            ),
            "",
            "Follow-ups:",
            table(
                ["follow-up", "window", "due", "status", "submitted", "closed"],
                [_follow_up_row(f) for f in d["follow_ups"]],
            ),
        ]
    )


def _short(value: object) -> str:
    from biv_domain.converter import json_text

    text = value if isinstance(value, str) else json_text(value, indent=False)
    return text if len(text) <= 60 else text[:59] + "…"


def _facts(facts: list[dict[str, Any]], shown: int = 3) -> str:
    named = ", ".join(f"#{f['chain_position']} {f['type']}" for f in facts[:shown])
    return named + (f" and {len(facts) - shown} more" if len(facts) > shown else "")


def diff_text(d: dict[str, Any]) -> str:
    """The diff as a person reads it: each changed value, and the facts recorded in between."""
    from biv_adapters.cli.render import table

    changes = [
        [
            c["value"],
            _short(c["before"]),
            _short(c["after"]),
            _facts(c["changed_by"]),
        ]
        for c in d["changes"]
    ]
    facts = [
        [
            f"#{f['chain_position']}",
            f["recorded_at"][:19],
            f["effective_on"] or (f["decision"] or {}).get("decided_on"),
            f["actor"] or "-",
            _erasure(f) or f["type"],
            f["aggregate"],
        ]
        for f in d["facts"]
    ]
    return "\n".join(
        [
            f"{d['case_number']}: what changed between {d['since']} and {_when(d['until'])} "
            f"(statuses on {d['on']}): {len(d['facts'])} facts recorded, "
            f"{len(d['changes'])} values changed",
            table(["value", "before", "after", "changed by"], changes),
            "",
            "Facts recorded in between:",
            table(["fact", "recorded", "effective", "actor", "type", "aggregate"], facts),
        ]
    )


def _erasure(f: dict[str, Any]) -> str | None:
    """An erasure or retention as the diff lists it: the type with its reason."""
    if f["type"] != "ParticipantErased":
        return None
    return f"ParticipantErased ({f['data']['reason']})"
