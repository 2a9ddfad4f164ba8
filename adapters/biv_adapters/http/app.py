"""The Starlette application: the endpoints, the error documents, the pages.

Every answer is JSON but the two pages: a document as `--json` prints it, or an
error `{"field", "reason"}` with the status that means what the CLI's exit code
means (422 refused, 404 unknown, 400 a usage error; 401, 403, 413 and 429 for
access and limits; 503 when the store cannot be used). Nothing else ever
reaches a client: any other failure is a 500 with a generic reason, and one
line on standard error.
"""

from __future__ import annotations

import re
import sys
import threading
from importlib.resources import files
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from biv_adapters.arguments import UsageError
from biv_adapters.http.auth import Access, Caller, Forbidden, Limited, RateLimit, Unauthenticated
from biv_adapters.http.endpoints import ENDPOINTS, Call, Endpoint
from biv_adapters.http.openapi import docs_page, openapi
from biv_adapters.http.params import BadParameter
from biv_adapters.stores import redact, store_failures
from biv_domain.converter import json_text
from biv_domain.errors import NotFound, Refused
from biv_domain.ledger import Ledger, LineRefused, WriteConflict

MAX_BODY = 20 * 1024 * 1024  # 20 MiB: an exchange file of some 20,000 lines
RATE_PER_MINUTE = 600
HERE = files("biv_adapters.http")


class TooLarge(Exception):
    """A request body over the limit (413)."""


def error(status: int, field: str | None, reason: str, **more: Any) -> Response:
    return JSONResponse({"field": field, "reason": reason, **more}, status_code=status)


def log(request: Request, failure: BaseException) -> None:
    """One line on standard error: the request and what failed, without a password."""
    text = redact(" ".join(str(failure).split()))[:500]
    print(
        f"biv serve: {request.method} {request.url.path}: {type(failure).__name__}: {text}",
        file=sys.stderr,
        flush=True,
    )


def _usage_field(message: str) -> str:
    """The parameter a usage error of the documents names (`--to: …` is `to`)."""
    match = re.search(r"--([a-z][a-z-]*)", message)
    if not match:
        return "query"
    name = match[1].replace("-", "_")
    return {"until": "as_known_at", "follow_up": "follow_up_ref"}.get(name, name)


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


class Service:
    """The ledger behind the endpoints; writes take turns, reads run side by side."""

    def __init__(
        self, ledger: Ledger, access: Access, limit: RateLimit, max_body: int = MAX_BODY
    ) -> None:
        self.ledger = ledger
        self.access = access
        self.limit = limit
        self.max_body = max_body
        self.write_lock = threading.Lock()
        self.failures = store_failures()

    def route(self, endpoint: Endpoint) -> Route:
        async def answer(request: Request) -> Response:
            return await self.answer(endpoint, request)

        return Route(endpoint.path, answer, methods=[endpoint.method], name=endpoint.name)

    def caller(self, request: Request) -> Caller:
        caller = self.access.caller(request.headers.get("authorization"))
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
            body = await _body(request, self.max_body) if endpoint.method == "POST" else b""
            call = Call(self.ledger, args, caller, body)
            document = await run_in_threadpool(self._run, endpoint, call)
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
        except BadParameter as bad:
            return error(400, bad.field, bad.reason)
        except UsageError as usage:
            return error(400, _usage_field(str(usage)), str(usage))
        except LineRefused as refused:
            inner = refused.refusal
            return error(422, inner.field, inner.reason, line=refused.number)
        except NotFound as unknown:
            return error(404, unknown.field, unknown.reason)
        except Refused as refused:
            return error(422, refused.field, refused.reason)
        except WriteConflict as conflict:
            return error(422, "store", str(conflict))
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
                return endpoint.run(call)
        return endpoint.run(call)


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    reason = {404: "no such endpoint: see /docs", 405: "this endpoint takes another method"}
    return error(status, "path", reason.get(status, "cannot be answered"))


async def _server_error(request: Request, exc: Exception) -> Response:
    log(request, exc)
    return error(500, None, "the service failed; its log says why")


def create_app(
    ledger: Ledger,
    access: Access,
    *,
    rate_per_minute: int = RATE_PER_MINUTE,
    max_body: int = MAX_BODY,
) -> Starlette:
    service = Service(ledger, access, RateLimit(rate_per_minute), max_body)
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
    routes += [
        Route("/", index, methods=["GET"]),
        Route("/openapi.json", openapi_json, methods=["GET"]),
        Route("/docs", docs_html, methods=["GET"]),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
        Route("/tillganglighet", accessibility, methods=["GET"]),
    ]
    return Starlette(
        routes=routes,
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
    )
