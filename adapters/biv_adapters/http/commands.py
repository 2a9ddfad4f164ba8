"""`biv serve` and `biv token`: the HTTP service over the store, and its access tokens.

This module loads no web framework until `biv serve` runs, so the command line's
grammar stays whole without the extra `biv-domain[serve]`.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from biv_adapters.arguments import UsageError

if TYPE_CHECKING:  # the ledger and the tokens load when a command runs, not for --help
    from biv_domain.ledger import Ledger

# `tokens.Role`'s values, spelled out so that the grammar loads no store (a test compares).
ROLE_NAMES = ("reader", "writer", "auditor")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, got {text[:20]!r}")
    return int(text)


def _per_minute(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 1_000_000:
        raise argparse.ArgumentTypeError(f"expected a whole number of requests, got {text[:20]!r}")
    return int(text)


def add_http_commands(commands: Any, store: argparse.ArgumentParser) -> None:
    serve = commands.add_parser(
        "serve",
        parents=[store],
        help="the ledger over HTTP: every query's document, imports, the auditor's page",
        description="Serves the store over HTTP (needs biv-domain[serve]). Bound to loopback "
        "by default; any other host requires tokens (biv token add). TLS is the job of a "
        "reverse proxy in front.",
    )
    serve.add_argument("--host", default=DEFAULT_HOST, help="default 127.0.0.1 (loopback)")
    serve.add_argument("--port", type=_port, default=DEFAULT_PORT, help="default 8080")
    serve.add_argument(
        "--require-tokens",
        action="store_true",
        help="on loopback too, refuse a request without a token",
    )
    serve.add_argument(
        "--rate-limit",
        type=_per_minute,
        default=600,
        metavar="N",
        help="requests a minute per caller (default 600; 0: no limit)",
    )
    serve.add_argument(
        "--actor",
        metavar="NAME",
        help="the local user's name on imports without a token (default: the login name)",
    )
    serve.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME[:PORT]",
        help="a Host the service answers for besides the loopback names and --host (the "
        "name a reverse proxy forwards; repeatable); any other Host is refused (421)",
    )
    serve.set_defaults(run=_serve)

    token = commands.add_parser("token", help="the HTTP service's access tokens")
    verbs = token.add_subparsers(dest="token_command", required=True, metavar="TOKEN_COMMAND")
    add = verbs.add_parser(
        "add", parents=[store], help="a new token, printed once and stored only hashed"
    )
    add.add_argument("name", metavar="NAME", help="whose token: imports record token:NAME")
    add.add_argument("--role", choices=ROLE_NAMES, required=True)
    add.add_argument("--json", action="store_true")
    listing = verbs.add_parser("list", parents=[store], help="every token's name and role")
    listing.add_argument("--json", action="store_true")
    remove = verbs.add_parser("remove", parents=[store], help="revoke a token at once")
    remove.add_argument("name", metavar="NAME")
    token.set_defaults(run=_token)


def _serve(args: argparse.Namespace, ledger: Ledger) -> int:
    from biv_adapters.stores.registry import store_url

    return run_serve(args, ledger, store_url(getattr(args, "store", None)))


def _token(args: argparse.Namespace, ledger: Ledger) -> int:
    from biv_adapters.stores.registry import store_url

    return run_token(args, ledger, store_url(getattr(args, "store", None)))


def run_token(args: argparse.Namespace, ledger: Ledger, url: str) -> int:
    from biv_adapters.cli.render import table
    from biv_adapters.http.tokens import Role, tokens_of
    from biv_domain.converter import json_text

    tokens = tokens_of(ledger)
    if args.token_command == "add":
        token = tokens.add(args.name, Role(args.role))
        if args.json:
            print(json_text({"name": args.name, "role": args.role, "token": token}, indent=False))
        else:
            print(token)
            print(
                f"the token of {args.name!r} ({args.role}); it is shown only now",
                file=sys.stderr,
            )
        return 0
    if args.token_command == "list":
        holders = [
            {"name": h.name, "role": h.role.value, "created_at": h.created_at}
            for h in tokens.holders()
        ]
        if args.json:
            print(json_text({"tokens": holders}))
        else:
            print(table(["name", "role", "created"], [list(h.values()) for h in holders]))
        return 0
    tokens.remove(args.name)
    print(f"the token of {args.name!r} is removed")
    return 0


def run_serve(args: argparse.Namespace, ledger: Ledger, url: str) -> int:
    try:
        import uvicorn

        from biv_adapters.http.app import create_app
    except ImportError as missing:
        raise UsageError(
            f"biv serve needs {missing.name or 'a package'}: pip install 'biv-domain[serve]'"
        ) from None
    import getpass  # here, not with the grammar that every command loads

    from biv_adapters.http.auth import Access, is_loopback
    from biv_adapters.http.guard import allowed_hosts
    from biv_adapters.http.tokens import tokens_of

    tokens = tokens_of(ledger)
    require_tokens = args.require_tokens or not is_loopback(args.host)
    if require_tokens and not tokens.holders():
        raise UsageError(
            f"--host {args.host} is not loopback, so every request needs a token, and the store "
            "has none: biv token add NAME --role reader|writer|auditor"
            if not is_loopback(args.host)
            else "--require-tokens, and the store has no token: biv token add NAME --role …"
        )
    local = args.actor or getpass.getuser()
    access = Access(tokens, require_tokens=require_tokens, local_user=local)
    bound = f"[{args.host}]" if ":" in args.host else args.host
    wildcard = args.host in ("0.0.0.0", "::")
    extra = [*args.allowed_host, *([] if wildcard else [f"{bound}:{args.port}"])]
    hosts = allowed_hosts(args.port, extra)
    app = create_app(ledger, access, rate_per_minute=args.rate_limit, hosts=hosts)
    print(
        f"biv serve: http://{args.host}:{args.port}/ (docs at /docs); "
        + ("tokens required" if require_tokens else f"without a token you are {local!r}"),
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", server_header=False)
    return 0
