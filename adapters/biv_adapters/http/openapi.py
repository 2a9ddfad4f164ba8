"""The OpenAPI schema, generated from the endpoints' declarations, and `/docs`.

Each response's schema is made from the type its endpoint declares it returns
(`Endpoint.returns`; `biv_adapters.http.schemas` turns attrs document classes into
JSON Schema as the converter writes them), each parameter's from what its reader
accepts (`biv_adapters.http.params.READERS`). The example documents
(`examples.json`, made by `biv_adapters.http.examples`) are shown beside them, not
used to make them. The pages and files beside the endpoints are declared in `PAGES`:
every route the app mounts is in the schema (a test holds it to that). `/docs` is a
plain page drawn from the schema: no script, nothing fetched from elsewhere.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from importlib.resources import files
from types import UnionType
from typing import Any, get_args

from attrs import frozen

from biv_adapters.http.endpoints import ENDPOINTS, Endpoint
from biv_adapters.http.examples import example_request
from biv_adapters.http.feed import FACTS
from biv_adapters.http.log import CHECKPOINT, LOG_ENDPOINTS
from biv_adapters.http.params import READERS
from biv_adapters.http.responses import Returns
from biv_adapters.http.schemas import Components, schema_of
from biv_domain.converter import json_text, parse_json

ERROR = {
    "type": "object",
    "properties": {
        "field": {"type": ["string", "null"]},
        "reason": {"type": "string"},
        "line": {"type": "integer", "description": "POST /imports: the refused line"},
    },
    "required": ["field", "reason"],
}
STATUSES = {
    "400": "a usage error: a parameter unknown, missing, repeated or malformed (exit code 2)",
    "401": "no token, or one this store does not know",
    "403": "the token's role does not allow this, or the request came from another web page",
    "404": "an unknown case number, follow-up or path (NotFound; exit code 1)",
    "413": "the body is over the limit",
    "422": "refused by the ledger: a value or a rule (exit code 1); nothing stored",
    "429": "too many requests: see Retry-After",
    "500": "the service failed (its log has one line on it); never a traceback",
    "503": "the store cannot be used just now",
    "405": "this path takes another method: see Allow",
    "408": "the body did not arrive in time",
    "409": "other writers kept extending the chain: nothing stored; retry after Retry-After",
    "415": "a write's body must be JSON Lines (application/x-ndjson or application/jsonl)",
    "421": "the service does not answer for this Host (see biv serve --allowed-host)",
}
RETRY_AFTER = {
    "Retry-After": {"description": "seconds to wait", "schema": {"type": "integer", "minimum": 0}}
}
FILES = files("biv_adapters.http") / "static"


@frozen
class Page:
    """A route beside the endpoints: a page, a file or the schema itself (GET, any role)."""

    name: str
    path: str
    summary: str
    media_type: str
    files: tuple[str, ...] = ()  # a mounted folder's files: its {file} parameter's values
    parameters: tuple[Mapping[str, Any], ...] = ()  # its query parameters and headers
    statuses: tuple[str, ...] = ("403", "404", "421", "429", "500")  # its other answers


PAGES = (
    Page("page", "/", "The auditor's page (Swedish): budget, chain and timeline", "text/html"),
    Page("docs", "/docs", "This API described as a plain page", "text/html"),
    Page(
        "accessibility",
        "/tillganglighet",
        "The page's accessibility statement (tillgänglighetsredogörelse, DIGG's template)",
        "text/html",
    ),
    Page("openapi", "/openapi.json", "This schema", "application/json"),
    Page(
        "static",
        "/static/{file}",
        "The page's script and style",
        "text/css",
        tuple(sorted(f.name for f in FILES.iterdir() if f.name.endswith((".js", ".css")))),
    ),
    # The change feed as Server-Sent Events (`biv_adapters.http.feed`): each event's `id` is a
    # chain position and its `data` a FeedFact's JSON; it never ends while the client listens.
    Page(
        "facts_stream",
        "/facts/stream",
        "The change feed as Server-Sent Events, resuming after Last-Event-ID",
        "text/event-stream",
        parameters=(
            {
                "name": "after",
                "in": "query",
                "required": False,
                "description": "the chain position of the last fact handled (0: the start)",
                "schema": READERS["position"][2],
            },
            {
                "name": "Last-Event-ID",
                "in": "header",
                "required": False,
                "description": "the id of the last event received: resume after it",
                "schema": READERS["position"][2],
            },
        ),
        statuses=("400", "401", "403", "421", "429", "500"),
    ),
    # Health and metrics (`biv_adapters.http.health`): no token needed.
    Page("healthz", "/healthz", 'The process answers: {"status": "alive"}', "application/json"),
    Page(
        "readyz",
        "/readyz",
        "The store, the chain's head and the keys answer (503 names the failing check)",
        "application/json",
        statuses=("421", "500", "503"),
    ),
    Page("metrics", "/metrics", "Prometheus' text format", "text/plain"),
)


def examples() -> dict[str, Any]:
    text = (files("biv_adapters.http") / "examples.json").read_text("utf-8")
    found: dict[str, Any] = parse_json(text)
    return found


def _version() -> str:
    try:
        return version("biv-domain")
    except PackageNotFoundError:  # pragma: no cover
        return "unknown"


def response_schema(returns: Returns, components: Components) -> dict[str, Any]:
    """The schema of what an endpoint returns: its type's, with `extra` keys beside its fields."""
    if returns.type is None:
        return {"type": "string"}
    if not returns.extra and not returns.optional:
        return schema_of(returns.type, components)
    members = get_args(returns.type) if isinstance(returns.type, UnionType) else (returns.type,)
    merged = [
        components.merged(
            returns.name or f"{m.__name__}Document", m, returns.extra, returns.optional
        )
        for m in members
    ]
    return merged[0] if len(merged) == 1 else {"anyOf": merged}


def _returns(endpoint: Endpoint) -> Returns:
    if endpoint.returns is None:
        raise TypeError(
            f"the endpoint {endpoint.name} declares no `returns`: its schema is unknown"
        )
    return endpoint.returns


def _error(status: str, text: str) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": text,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if status in ("409", "429"):
        answer["headers"] = RETRY_AFTER
    if status == "405":
        answer["headers"] = {"Allow": {"description": "the methods", "schema": {"type": "string"}}}
    return answer


def _page(page: Page) -> dict[str, Any]:
    parameters: list[Mapping[str, Any]] = list(page.parameters)
    if page.files:
        parameters.append(
            {
                "name": "file",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "enum": list(page.files)},
            }
        )
    media = ["text/css", "text/javascript"] if page.files else [page.media_type]
    return {
        "operationId": page.name,
        "summary": page.summary,
        "x-roles": ["any"],
        "parameters": parameters,
        "security": [{}],
        "responses": {
            "200": {
                "description": page.summary,
                "content": {
                    m: {"schema": {"type": "object" if "json" in m else "string"}} for m in media
                },
            },
            **{s: _error(s, STATUSES[s]) for s in page.statuses},
        },
    }


def openapi(*, max_body: int, rate_per_minute: int) -> dict[str, Any]:
    known = examples()
    paths: dict[str, Any] = {}
    components = Components()
    for endpoint in (*ENDPOINTS, CHECKPOINT, *LOG_ENDPOINTS, FACTS):
        example = known.get(endpoint.name, {})
        document = example.get("document")
        returns = _returns(endpoint)
        operation: dict[str, Any] = {
            "operationId": endpoint.name,
            "summary": endpoint.summary,
            "x-roles": sorted(endpoint.roles),
            "x-example-request": example.get("request") or example_request(endpoint),
            "parameters": [
                {
                    "name": p.name,
                    "in": p.where,
                    "required": p.required,
                    "description": f"{p.description} ({READERS[p.kind][1]})",
                    "schema": READERS[p.kind][2],
                    **({"style": "form", "explode": True} if p.where == "query" else {}),
                    **({"example": p.example} if p.example is not None else {}),
                }
                for p in endpoint.params
            ],
            "responses": {
                "200": {
                    "description": f"as `biv {endpoint.cli} --json` prints it"
                    if endpoint.cli
                    else "the document",
                    "content": {
                        returns.media_type: {
                            "schema": response_schema(returns, components),
                            **({"example": document} if document is not None else {}),
                        }
                    },
                },
                **{status: _error(status, text) for status, text in STATUSES.items()},
            },
        }
        if endpoint.cli:
            operation["x-cli"] = f"biv {endpoint.cli} --json"
        if endpoint.method == "POST" and endpoint.body is not None:  # a body of its own kind
            operation["requestBody"] = endpoint.body
        elif endpoint.method == "POST":
            body = {"type": "string", "minLength": 1, "maxLength": max_body}
            operation["requestBody"] = {
                "required": True,
                "description": "an exchange file: JSON Lines, one command a line (a JSON object "
                f"naming it in `command`), at least one line, at most {max_body} bytes",
                "content": {media: {"schema": body} for media in endpoint.accepts},
            }
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = operation
    for page in PAGES:
        paths.setdefault(page.path, {})["get"] = _page(page)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "biv-domain",
            "version": _version(),
            "description": (
                "The ledger of an idea-based public partnership (IOP) over HTTP: every "
                "document as `biv … --json` prints it. Tokens: `Authorization: Bearer TOKEN` "
                "(`biv token add NAME --role reader|writer|auditor`); on loopback a request "
                "without one is the local user's. Roles: reader (public figures only: a "
                "report is always for publication, no history, replay, diff or verify), "
                "writer (a reader who may import), auditor (every figure, history, replay, "
                f"diff, verify). Limits: a body of at most {max_body} bytes, "
                f"{rate_per_minute} requests a minute per caller. TLS is the reverse proxy's job."
            ),
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": ERROR, **components.schemas},
        },
        "security": [{"bearer": []}, {}],
        "paths": paths,
    }


def _kind(sub: dict[str, Any], named: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """How a schema reads in a line, and the object schema whose fields follow it."""
    if "$ref" in sub:
        name = sub["$ref"].rsplit("/", 1)[-1]
        return name, named.get(name, {})
    if "anyOf" in sub:
        kinds = [_kind(option, named) for option in sub["anyOf"]]
        inner = next((k[1] for k in kinds if k[1].get("properties")), {})
        return " or ".join(k[0] for k in kinds), inner
    kind = sub.get("type", "any")
    text = " or ".join(kind) if isinstance(kind, list) else str(kind)
    if "enum" in sub:
        text += " (" + ", ".join(map(str, sub["enum"])) + ")"
    if sub.get("type") == "array":
        item, inner = _kind(sub.get("items", {}), named)
        return f"array of {item}", inner
    if isinstance(sub.get("additionalProperties"), dict):
        value, inner = _kind(sub["additionalProperties"], named)
        return f"map of {value}", inner
    return text, sub


def _schema_lines(
    schema: dict[str, Any], named: dict[str, Any], depth: int = 0, optional: bool = False
) -> list[str]:
    _, schema = _kind(schema, named)
    pad = "  " * depth
    lines: list[str] = []
    required = set(schema.get("required", []))
    for name, sub in schema.get("properties", {}).items():
        kind, inner = _kind(sub, named)
        absent = "" if name in required else " (may be absent)"
        lines.append(f"{pad}{name}: {kind}{absent}")
        if depth < 6 and inner is not schema:
            lines += _schema_lines(inner, named, depth + 1)
    return lines


def docs_page(schema: dict[str, Any]) -> str:
    e = html.escape
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<title>biv-domain HTTP API</title><link rel='stylesheet' href='/static/style.css'>",
        f"</head><body><h1>biv-domain HTTP API {e(schema['info']['version'])}</h1>",
        f"<p>{e(schema['info']['description'])}</p>",
        "<p>The schema itself: <a href='/openapi.json'>/openapi.json</a>. Errors are "
        '<code>{"field", "reason"}</code>:</p><ul>',
        *(f"<li><b>{s}</b> {e(t)}</li>" for s, t in STATUSES.items()),
        "</ul>",
    ]
    named = schema["components"]["schemas"]
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            if "x-example-request" not in op:  # a page or a file, not an endpoint
                continue
            response = next(iter(op["responses"]["200"]["content"].values()))
            rows = "".join(
                f"<tr><td><code>{e(p['name'])}</code></td><td>{e(p['in'])}</td>"
                f"<td>{'yes' if p['required'] else ''}</td><td>{e(p['description'])}</td>"
                f"<td>{e(str(p.get('example', '')))}</td></tr>"
                for p in op["parameters"]
            )
            parts += [
                f"<section id='{e(op['operationId'])}'>",
                f"<h2><code>{method.upper()} {e(path)}</code></h2>",
                f"<p>{e(op['summary'])}</p>",
                f"<p>Roles: {e(', '.join(op['x-roles']))}"
                + (f"; the CLI: <code>{e(op['x-cli'])}</code>" if "x-cli" in op else "")
                + "</p>",
                "<table><tr><th>parameter</th><th>in</th><th>required</th><th>what</th>"
                f"<th>example</th></tr>{rows}</table>"
                if rows
                else "",
                f"<p>Example: <code>{method.upper()} "
                f"{e(op['x-example-request'] or path)}</code></p>",
                "<details><summary>Schema</summary><pre>"
                + e("\n".join(_schema_lines(response["schema"], named)))
                + "</pre></details>",
                "<details><summary>Example document</summary><pre>"
                + e(json_text(response.get("example")))
                + "</pre></details></section>",
            ]
    parts.append("</body></html>")
    return "\n".join(parts)
