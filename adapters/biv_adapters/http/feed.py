"""The change feed over HTTP: `GET /facts` (a page and the next cursor) and `GET /facts/stream`.

`/facts/stream` is Server-Sent Events: each event's `id` is the fact's chain position
and its `data` the fact's JSON (with `chain_position` and `hash`), as `biv facts
--json` prints it. A client that reconnects sends `Last-Event-ID` (browsers'
`EventSource` and SSE libraries do) and resumes right after that fact, so that it
sees each fact once and in order. A comment line every `KEEPALIVE` seconds keeps
proxies from closing a quiet stream.

Readers and writers receive the facts as a reader may see them
(`biv_adapters.feed.public_data`: no participant's data); auditors every field.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from biv_adapters import feed
from biv_adapters.documents import Document
from biv_adapters.http.auth import Limited, Unauthenticated
from biv_adapters.http.endpoints import Call, Endpoint
from biv_adapters.http.errors import error, log
from biv_adapters.http.params import BadParameter, Param
from biv_adapters.http.responses import Returns
from biv_domain.converter import document, json_text
from biv_domain.ledger.feed import DEFAULT_LIMIT
from biv_domain.projections.feed import FeedFact, FeedPage

if TYPE_CHECKING:
    from biv_adapters.http.app import Service

POLL = 0.25  # seconds between looks at the store while nothing is new
KEEPALIVE = 15.0


def _page(call: Call) -> Document:
    after = call.args["after"] or 0
    limit = call.args["limit"] or DEFAULT_LIMIT
    return feed.feed_page_document(call.ledger, after, limit, public=not call.caller.auditor)


AFTER = Param("after", "position", "the chain position of the last fact handled (0: the start)")
FACTS = Endpoint(
    "facts",
    "GET",
    "/facts",
    "The change feed: the partnership's facts after a chain position, in chain order, each "
    "with its chain_position and hash, and `next`, the position to ask after next time "
    "(readers: without participants' data)",
    _page,
    (AFTER, Param("limit", "limit", f"at most this many facts (default {DEFAULT_LIMIT})", "100")),
    cli="facts --after N --limit K",
    returns=Returns(FeedPage),
)


def parse_after(text: str) -> int:
    if not text.isdigit() or len(text) > 18:
        raise BadParameter("after", f"must be a chain position (a whole number), got {text[:20]!r}")
    return int(text)


def _event(fact: FeedFact) -> str:
    text = json_text(document(fact), indent=False)
    return f"id: {fact.chain_position}\nevent: fact\ndata: {text}\n\n"


def stream_route(service: Service) -> Route:
    """`GET /facts/stream?after=N`: Server-Sent Events, resuming after `Last-Event-ID`."""

    async def stream(request: Request) -> Response:
        try:
            caller = service.caller(request)
            unknown = sorted(set(request.query_params) - {"after"})
            if unknown:
                raise BadParameter(unknown[0], "is not a parameter here (this one takes after)")
            resume = request.headers.get("last-event-id") or request.query_params.get("after")
            after = parse_after(resume) if resume else 0
        except Unauthenticated as refused:
            response = error(401, "authorization", str(refused))
            response.headers["WWW-Authenticate"] = "Bearer"
            return response
        except Limited as limited:
            response = error(429, "authorization", "too many requests: try again later")
            response.headers["Retry-After"] = str(limited.seconds)
            return response
        except BadParameter as bad:
            return error(400, bad.field, bad.reason)
        public = not caller.auditor

        async def events() -> AsyncIterator[str]:
            position = after
            quiet_since = time.monotonic()
            yield "retry: 1000\n\n"
            while not await request.is_disconnected():
                try:
                    page = await run_in_threadpool(service.ledger.facts_after, position, 200)
                except service.failures as failure:  # the client retries after `retry`
                    log(request, failure)
                    return
                shown = feed.feed_facts(page, public=public)
                if shown:  # one write a page
                    yield "".join(_event(fact) for fact in shown)
                if page:
                    position = page[-1].position
                    quiet_since = time.monotonic()
                    continue
                if time.monotonic() - quiet_since > KEEPALIVE:
                    yield ": keepalive\n\n"
                    quiet_since = time.monotonic()
                await asyncio.sleep(POLL)

        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        return StreamingResponse(events(), media_type="text/event-stream", headers=headers)

    return Route("/facts/stream", stream, methods=["GET"], name="facts_stream")
