"""The Starlette application: the endpoints, the error documents, the pages.

Every answer is JSON but the two pages: a document as `--json` prints it, or an
error `{"field", "reason"}` with the status that means what the CLI's exit code
means (422 refused, 404 unknown, 400 a usage error; 401, 403, 413 and 429 for
access and limits; 503 when the store cannot be used). Nothing else ever
reaches a client: any other failure is a 500 with a generic reason, and one
line on standard error.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable
from importlib.resources import files
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from biv_adapters.arguments import UsageError
from biv_adapters.http.auth import Access, Caller, Forbidden, Limited, RateLimit, Unauthenticated
from biv_adapters.http.endpoints import ENDPOINTS, Call, Endpoint
from biv_adapters.http.errors import error, log
from biv_adapters.http.feed import FACTS, stream_route
from biv_adapters.http.guard import JSON_LINES, Guard, allowed_hosts, media_type
from biv_adapters.http.health import Metrics, health_routes
from biv_adapters.http.log import log_routes
from biv_adapters.http.openapi import docs_page, openapi
from biv_adapters.http.params import BadParameter
from biv_adapters.stores.registry import store_failures
from biv_domain.converter import json_text
from biv_domain.errors import NotFound, Refused
from biv_domain.ledger import Ledger, LineRefused, WriteConflict

MAX_BODY = 20 * 1024 * 1024  # 20 MiB: an exchange file of some 20,000 lines
RATE_PER_MINUTE = 600
BODY_SECONDS = 30.0  # a body must have arrived whole by then (408)
RETRY_SECONDS = 1  # what a 409 of a write that kept colliding asks a client to wait
HERE = files("biv_adapters.http")


class TooLarge(Exception):
    """A request body over the limit (413)."""


class TooSlow(Exception):
    """A request body that did not arrive within BODY_SECONDS (408)."""


class WrongMediaType(Exception):
    """A write whose body is not of a type it accepts (415): JSON Lines, by default, which no
    browser form or simple request can send."""

    def __init__(self, accepts: tuple[str, ...]) -> None:
        super().__init__(accepts)
        self.accepts = accepts


def _usage_field(message: str) -> str:
    """The parameter a usage error of the documents names (`--to: …` is `to`)."""
    match = re.search(r"--([a-z][a-z-]*)", message)
    if not match:
        return "query"
    name = match[1].replace("-", "_")
    return {"until": "as_known_at", "follow_up": "follow_up_ref"}.get(name, name)


def _http_names(message: str) -> str:
    """A usage error's text with the URL's parameter names for the CLI's options."""
    return re.sub(r"--([a-z][a-z-]*)", lambda m: _usage_field(m[0]), message)


async def _body(
    request: Request,
    limit: int,
    seconds: float = BODY_SECONDS,
    accepts: tuple[str, ...] = JSON_LINES,
) -> bytes:
    if media_type(request.headers.get("content-type")) not in accepts:
        raise WrongMediaType(accepts)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge
    chunks, size = [], 0
    try:
        async with asyncio.timeout(seconds):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise TooLarge
                chunks.append(chunk)
    except TimeoutError:
        raise TooSlow from None
    return b"".join(chunks)


class Service:
    """The ledger behind the endpoints; writes take turns, reads run side by side."""

    def __init__(
        self,
        ledger: Ledger,
        access: Access,
        limit: RateLimit,
        max_body: int = MAX_BODY,
        body_seconds: float = BODY_SECONDS,
    ) -> None:
        self.ledger = ledger
        self.access = access
        self.limit = limit
        self.max_body = max_body
        self.body_seconds = body_seconds
        self.write_lock = threading.Lock()
        self.failures = store_failures()
        # Each write runs through this (the metrics count what it stored or why it was refused).
        self.on_write: Callable[[Callable[[], Any]], Any] = lambda write: write()

    def route(self, endpoint: Endpoint) -> Route:
        async def answer(request: Request) -> Response:
            return await self.answer(endpoint, request)

        return Route(endpoint.path, answer, methods=[endpoint.method], name=endpoint.name)

    def caller(self, request: Request) -> Caller:
        try:
            caller = self.access.caller(request.headers.get("authorization"))
        except Unauthenticated:
            # A request without a valid token counts too: against its address.
            self.limit.take(f"address:{request.client.host if request.client else '?'}")
            raise
        self.limit.take(caller.key)
        return caller

    async def answer(self, endpoint: Endpoint, request: Request) -> Response:
        try:
            caller = self.caller(request)
            if not caller.roles & endpoint.roles:
                roles = " or ".join(sorted(endpoint.roles))
                raise Forbidden(f"this needs the role {roles}")
            query = {k: request.query_params.getlist(k) for k in request.query_params}
            args = endpoint.read(query, request.path_params)
            body = (
                await _body(request, self.max_body, self.body_seconds, endpoint.accepts)
                if endpoint.method == "POST"
                else b""
            )
            call = Call(self.ledger, args, caller, body)
            document = await run_in_threadpool(self._run, endpoint, call)
            answer_type = endpoint.returns.media_type if endpoint.returns else "application/json"
            if answer_type != "application/json":  # a text of its own type (`responses.text`)
                return Response(document, media_type=answer_type)
            text = json_text(document, indent=not endpoint.compact)
            return Response(text, media_type="application/json")
        except Unauthenticated as refused:
            response = error(401, "authorization", str(refused))
            response.headers["WWW-Authenticate"] = "Bearer"
            return response
        except Forbidden as refused:
            return error(403, "authorization", str(refused))
        except Limited as limited:
            response = error(429, "authorization", "too many requests: try again later")
            response.headers["Retry-After"] = str(limited.seconds)
            return response
        except TooLarge:
            return error(413, "body", f"is larger than {self.max_body} bytes: split the file")
        except TooSlow:
            return error(408, "body", f"did not arrive within {self.body_seconds:g} seconds")
        except WrongMediaType as wrong:
            return error(415, "content-type", f"must be {' or '.join(wrong.accepts)}")
        except BadParameter as bad:
            return error(400, bad.field, bad.reason)
        except UsageError as usage:
            return error(400, _usage_field(str(usage)), _http_names(str(usage)))
        except LineRefused as refused:
            inner = refused.refusal
            return error(422, inner.field, inner.reason, line=refused.number)
        except NotFound as unknown:
            return error(404, unknown.field, unknown.reason)
        except Refused as refused:
            return error(422, refused.field, refused.reason)
        except WriteConflict as conflict:
            response = error(409, "chain", str(conflict))
            response.headers["Retry-After"] = str(RETRY_SECONDS)
            return response
        except Exception as failure:
            log(request, failure)
            if isinstance(failure, self.failures):
                return error(503, "store", "the store cannot be used just now")
            return error(500, None, "the service failed; its log says why")

    def _run(self, endpoint: Endpoint, call: Call) -> Any:
        # A participant erased by another process (`biv erase`) is never served from a cache.
        self.ledger.refresh()
        if endpoint.method == "POST":
            with self.write_lock:
                return self.on_write(lambda: endpoint.run(call))
        return endpoint.run(call)


def _one_route_a_path(routes: list[BaseRoute]) -> list[BaseRoute]:
    """Routes of one path but of other methods made one route that picks by method.

    Starlette answers a method a route does not take from the first route of its path
    (405, with that route's methods in `Allow`): one route a path lists them all
    (`GET` and `POST /log/cosignatures`).
    """
    by_path: dict[str, list[Route]] = {}
    for route in routes:
        if isinstance(route, Route):
            by_path.setdefault(route.path, []).append(route)
    merged: list[BaseRoute] = []
    for route in routes:
        if not isinstance(route, Route) or len(by_path[route.path]) == 1:
            merged.append(route)
        elif route is by_path[route.path][0]:
            handlers = {m: r.endpoint for r in by_path[route.path] for m in r.methods or ()}

            async def pick(request: Request, handlers: Any = handlers) -> Response:
                answer: Response = await handlers[request.method](request)
                return answer

            name = "+".join(str(r.name) for r in by_path[route.path])
            merged.append(Route(route.path, pick, methods=sorted(handlers), name=name))
    return merged


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    reason = {404: "no such endpoint: see /docs", 405: "this endpoint takes another method"}
    response = error(status, "path", reason.get(status, "cannot be answered"))
    if isinstance(exc, HTTPException) and exc.headers:
        response.headers.update(exc.headers)  # a 405's Allow
    return response


async def _server_error(request: Request, exc: Exception) -> Response:
    log(request, exc)
    return error(500, None, "the service failed; its log says why")


def create_app(
    ledger: Ledger,
    access: Access,
    *,
    rate_per_minute: int = RATE_PER_MINUTE,
    max_body: int = MAX_BODY,
    hosts: frozenset[str] | None = None,
    body_seconds: float = BODY_SECONDS,
) -> Starlette:
    """The service; `hosts` are the Host values it answers for (default: loopback, any port)."""
    service = Service(ledger, access, RateLimit(rate_per_minute), max_body, body_seconds)
    schema = openapi(max_body=max_body, rate_per_minute=rate_per_minute)
    docs = docs_page(schema)
    page = (HERE / "templates" / "index.html").read_text("utf-8")

    async def openapi_json(request: Request) -> Response:
        return Response(json_text(schema), media_type="application/json")

    async def docs_html(request: Request) -> Response:
        return HTMLResponse(docs)

    async def index(request: Request) -> Response:
        return HTMLResponse(page)

    statement = (HERE / "templates" / "tillganglighet.html").read_text("utf-8")

    async def accessibility(request: Request) -> Response:
        """The page's tillgänglighetsredogörelse (accessibility statement), as DIGG asks."""
        return HTMLResponse(statement)

    routes: list[BaseRoute] = [service.route(endpoint) for endpoint in ENDPOINTS]
    routes += log_routes(service)  # the log's checkpoint, proofs and cosignatures (issue 21)
    routes += [
        Route("/", index, methods=["GET"]),
        Route("/openapi.json", openapi_json, methods=["GET"]),
        Route("/docs", docs_html, methods=["GET"]),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
        Route("/tillganglighet", accessibility, methods=["GET"]),
    ]
    # The change feed, health and metrics (issue 25).
    metrics = Metrics(ledger)
    service.on_write = metrics.count_write
    routes += [service.route(FACTS), stream_route(service), *health_routes(ledger, metrics)]
    app = Starlette(
        routes=_one_route_a_path(routes),
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
        middleware=[
            Middleware(
                Guard,
                hosts=hosts if hosts is not None else allowed_hosts(None),
                limit=service.limit,
            )
        ],
    )
    app.add_middleware(metrics.middleware)
    return app
