"""Health and metrics: `/healthz`, `/readyz` and `/metrics`, for an orchestrator and monitoring.

- `GET /healthz`: the process answers (no store is asked): `{"status": "alive"}`.
- `GET /readyz`: the store answers, the chain's head is readable and the keys open the
  latest facts: `{"status": "ready", "chain_position": N}`, else 503 with
  `{"status": "unready", "check", "reason"}` naming which check failed.
- `GET /metrics`: Prometheus' text format (`prometheus-client`): requests by route,
  method and status, their latency, facts appended through this server, the chain's
  size, and refused writes by the kind of refusal.

Labels are route templates (`/agreements/{case_number}/budget`) and kinds of refusal
(`RuleBroken`), never a path as asked, a case number or a token. None of the three
needs a token, and none tells more than that the service is alive and how busy.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, TypeVar

from attrs import frozen
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from biv_adapters.stores.registry import redact
from biv_domain.converter import document, json_text
from biv_domain.errors import Refused
from biv_domain.ledger import Ledger, LineRefused, WriteConflict

T = TypeVar("T")
# Seconds: a budget answers in a few milliseconds, an import of 20,000 lines in seconds.
READY_WITHIN = 5.0  # seconds: an orchestrator's probe waits little longer
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@frozen
class Alive:
    """`/healthz`: the process answers."""

    status: str = "alive"


@frozen
class Ready:
    """`/readyz`: the store answers, the chain's head is readable, the keys open the facts."""

    chain_position: int
    status: str = "ready"


@frozen
class Unready:
    """`/readyz` when a check fails (503): which one, and why."""

    check: str
    reason: str
    status: str = "unready"


def readiness(ledger: Ledger) -> Ready | Unready:
    """Each check in turn; the first that fails is named. Reads a few rows, writes nothing."""
    checks: list[tuple[str, Callable[[], object]]] = [
        ("store", lambda: ledger.keys.encrypted),
        ("chain", ledger.chain_head),
        ("keys", lambda: ledger.facts_after(max(ledger.chain_head().position - 20, 0), 20)),
    ]
    for name, check in checks:
        try:
            check()
        except Exception as failure:  # any failure is the answer, in one line
            reason = " ".join(str(failure).split())[:300] or type(failure).__name__
            return Unready(name, f"{type(failure).__name__}: {redact(reason)}")
    return Ready(ledger.chain_head().position)


class Metrics:
    """The service's metrics, in a registry of its own (one a server)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "biv_http_requests",
            "HTTP requests answered, by route template, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "biv_http_request_duration_seconds",
            "Time to answer, by route template (a stream: how long it was open)",
            ["route", "method"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.appended = Counter(
            "biv_facts_appended",
            "Facts stored through this server's imports (bookkeeping included)",
            registry=self.registry,
        )
        self.refused = Counter(
            "biv_writes_refused",
            "Imports refused, by the kind of refusal (nothing of them was stored)",
            ["reason"],
            registry=self.registry,
        )
        self.chain = Gauge(
            "biv_chain_facts",
            "Facts in the store's chain (its head's position), read when scraped",
            registry=self.registry,
        )

    async def read_chain(self) -> None:
        """The chain's size, read for a scrape; NaN when the store does not answer in time."""
        try:
            head = await asyncio.wait_for(run_in_threadpool(self.ledger.chain_head), READY_WITHIN)
            self.chain.set(head.position)
        except Exception:  # the store is down: /readyz says why; the gauge says NaN
            self.chain.set(float("nan"))

    def count_write(self, run: Callable[[], T]) -> T:
        """Runs a write, counting the facts it appended or the kind of its refusal."""
        before = self.ledger.chain_head().position
        try:
            result = run()
        except LineRefused as refused:
            self.refused.labels(type(refused.refusal).__name__).inc()
            raise
        except (Refused, WriteConflict) as refused:
            self.refused.labels(type(refused).__name__).inc()
            raise
        self.appended.inc(max(self.ledger.chain_head().position - before, 0))
        return result

    def middleware(self, app: ASGIApp) -> ASGIApp:
        """Pure ASGI middleware: each request's route template, status and time."""

        async def measured(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            started = time.perf_counter()
            status = 500

            async def sending(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                await send(message)

            try:
                await app(scope, receive, sending)
            finally:
                route = scope.get("route")
                template = getattr(route, "path", None) or "unmatched"
                method = str(scope.get("method", "GET"))
                self.requests.labels(template, method, str(status)).inc()
                self.latency.labels(template, method).observe(time.perf_counter() - started)

        return measured


def _json(body: object, status: int = 200) -> Response:
    return Response(json_text(document(body)), status, media_type="application/json")


def health_routes(ledger: Ledger, metrics: Metrics) -> list[BaseRoute]:
    """The three routes, for `create_app` to add."""

    async def healthz(request: Request) -> Response:
        return _json(Alive())

    async def readyz(request: Request) -> Response:
        try:
            ready = await asyncio.wait_for(run_in_threadpool(readiness, ledger), READY_WITHIN)
        except TimeoutError:
            ready = Unready("store", f"did not answer within {READY_WITHIN:g} seconds")
        return _json(ready, 200 if isinstance(ready, Ready) else 503)

    async def scrape(request: Request) -> Response:
        await metrics.read_chain()
        text: Any = await run_in_threadpool(generate_latest, metrics.registry)
        return Response(text, media_type=CONTENT_TYPE_LATEST)

    return [
        Route("/healthz", healthz, methods=["GET"], name="healthz"),
        Route("/readyz", readyz, methods=["GET"], name="readyz"),
        Route("/metrics", scrape, methods=["GET"], name="metrics"),
    ]
