"""What keeps `biv serve` safe from other web pages: the Host, the Origin, the headers.

A page the local user visits in a browser can send requests to a loopback service.
Three rules keep it out, before any endpoint runs:

- **Host.** A request's `Host` must be one the service answers for: the loopback
  names (`localhost`, `127.0.0.1`, `[::1]`) on its port, and each `--allowed-host`.
  Anything else is 421, so a DNS-rebinding page (whose name now points at
  127.0.0.1) reads nothing.
- **Origin.** A request that says it comes from another origin (`Origin` not the
  service's own, or `Sec-Fetch-Site: cross-site`/`same-site`) is 403, whatever its
  method, except GET and HEAD of the public assets (the page, its files, `/docs`,
  `/openapi.json`). No CORS header is ever sent, so a browser shows another origin nothing.
- **Writes** accept only a JSON Lines body (`application/x-ndjson` or
  `application/jsonl`: see `JSON_LINES`), which no form and no "simple" request can
  send, so a browser must ask first (a preflight), and is refused.

Every response carries a strict Content-Security-Policy (the auditor's page loads
only its own script and style), `nosniff`, `frame-ancestors 'none'`,
`Referrer-Policy: no-referrer`, and `Cache-Control: no-store` on all but the static files.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

import orjson
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from biv_adapters.http.auth import Limited, RateLimit

JSON_LINES = ("application/x-ndjson", "application/jsonl")
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
PUBLIC_PREFIXES = ("/static/",)
PUBLIC_PATHS = frozenset({"/", "/docs", "/openapi.json"})
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
)


def allowed_hosts(port: int | None, extra: Iterable[str] = ()) -> frozenset[str]:
    """The Host values the service answers for: the loopback names on `port`, and `extra`.

    An entry without a port (`biv.example.org`) allows that name on any port; with
    `port` None the loopback names are allowed on any port (an app in a test).
    """
    names = {f"{name}:{port}" if port else name for name in LOOPBACK_NAMES}
    return frozenset(names | {host.strip().lower() for host in extra if host.strip()})


def host_allowed(host: str, allowed: frozenset[str]) -> bool:
    host = host.strip().lower()
    if not host or any(c in host for c in "/@?#\\ "):
        return False
    if host in allowed:
        return True
    name, _, port = host.rpartition(":") if not host.endswith("]") else (host, "", "")
    return bool(port.isdigit() and name in allowed)


def is_public(method: str, path: str) -> bool:
    """The page, its files and the API's description: what any origin may GET."""
    return method in ("GET", "HEAD") and (path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES))


def cross_origin(headers: Headers) -> bool:
    """Whether a browser says the request comes from a page of another origin."""
    if headers.get("sec-fetch-site", "").lower() in ("cross-site", "same-site"):
        return True
    origin = headers.get("origin")
    if origin is None:
        return False
    parts = urlsplit(origin.strip().lower())
    return parts.scheme not in ("http", "https") or parts.netloc != headers.get("host", "").lower()


def refusal(status: int, field: str, reason: str) -> tuple[int, bytes]:
    return status, orjson.dumps({"field": field, "reason": reason})


class Guard:
    """ASGI middleware: the Host and Origin rules, and the security headers on every response."""

    def __init__(self, app: ASGIApp, hosts: frozenset[str], limit: RateLimit | None = None) -> None:
        self.app = app
        self.hosts = hosts
        self.limit = limit  # a refused request counts against its address's rate limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        method, path = scope["method"], scope["path"]
        refused: tuple[int, bytes] | None = None
        if not host_allowed(headers.get("host", ""), self.hosts):
            refused = refusal(
                421, "host", "this service does not answer for that name: see --allowed-host"
            )
        elif cross_origin(headers) and not is_public(method, path):
            refused = refusal(403, "origin", "a request from another web page is refused")
        static = path.startswith(PUBLIC_PREFIXES)

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in (b"cache-control", b"access-control-allow-origin")
                ]
                kept += SECURITY_HEADERS
                kept.append((b"cache-control", b"no-cache" if static else b"no-store"))
                message = {**message, "headers": kept}
            await send(message)

        if refused is None:
            await self.app(scope, receive, secured)
            return
        status, body = refused
        extra: list[tuple[bytes, bytes]] = []
        try:  # refusals cost the sender too, so that probing them is rate-limited
            if self.limit is not None:
                client = scope.get("client")
                self.limit.take(f"address:{client[0] if client else '?'}")
        except Limited as limited:
            status, body = refusal(429, "authorization", "too many requests: try again later")
            extra.append((b"retry-after", str(limited.seconds).encode()))
        await secured(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    *extra,
                ],
            }
        )
        await secured({"type": "http.response.body", "body": body})


def media_type(content_type: str | None) -> str:
    """The media type of a Content-Type header, without its parameters, in lower case."""
    return (content_type or "").split(";", 1)[0].strip().lower()
