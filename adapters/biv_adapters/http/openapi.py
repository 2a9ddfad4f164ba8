"""The OpenAPI schema, generated from the endpoints and their example documents, and `/docs`.

Each response's schema is inferred from its example document (`examples.json`,
made by `biv_adapters.http.examples` from the same document builders the CLI
prints with): every key of an object is listed and required, except the few
values that are open by nature (a fact's `data`, a change's `before` and
`after`) and maps keyed by year. `/docs` is a plain page drawn from the schema:
no script, nothing fetched from elsewhere.
"""

from __future__ import annotations

import html
from importlib.metadata import PackageNotFoundError, version
from importlib.resources import files
from typing import Any

from biv_adapters.http.endpoints import ENDPOINTS
from biv_adapters.http.params import READERS
from biv_domain.converter import json_text, parse_json

OPEN = frozenset({"data", "before", "after"})  # any JSON value: a fact's fields, a changed value
OPTIONAL = frozenset({"demo"})  # only in the answers of a store that holds the demo (issue 23)
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
    "403": "the token's role does not allow this",
    "404": "an unknown case number, follow-up or path (NotFound; exit code 1)",
    "413": "the body is over the limit",
    "422": "refused by the ledger: a value or a rule (exit code 1); nothing stored",
    "429": "too many requests: see Retry-After",
    "500": "the service failed (its log has one line on it); never a traceback",
    "503": "the store cannot be used just now",
}


def examples() -> dict[str, Any]:
    text = (files("biv_adapters.http") / "examples.json").read_text("utf-8")
    found: dict[str, Any] = parse_json(text)
    return found


def schema_of(value: Any, key: str | None = None) -> dict[str, Any]:
    """A JSON Schema for documents shaped like `value`: every object's keys listed and required."""
    if key in OPEN:
        return {}
    if isinstance(value, dict):
        if value and all(k.isdigit() for k in value):
            return {"type": "object", "additionalProperties": _merged(list(value.values()))}
        return {
            "type": "object",
            "properties": {k: schema_of(v, k) for k, v in value.items()},
            "required": [k for k in value if k not in OPTIONAL],
            "additionalProperties": False,
        }
    if isinstance(value, list):
        return {"type": "array", "items": _merged(value)}
    if value is None:
        return {}
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    return {"type": "string"}


def _merged(items: list[Any]) -> dict[str, Any]:
    """One schema for the items of a list: the first that is not null, its objects' keys united."""
    present = [item for item in items if item is not None]
    if not present:
        return {}
    objects = [item for item in present if isinstance(item, dict)]
    if objects and not all(k.isdigit() for o in objects for k in o):
        union: dict[str, Any] = {}
        for item in objects:
            for k, v in item.items():
                if union.get(k) is None:
                    union[k] = v
        return schema_of(union)
    return schema_of(present[0])


def _version() -> str:
    try:
        return version("biv-domain")
    except PackageNotFoundError:  # pragma: no cover
        return "unknown"


def openapi(*, max_body: int, rate_per_minute: int) -> dict[str, Any]:
    known = examples()
    paths: dict[str, Any] = {}
    for endpoint in ENDPOINTS:
        example = known.get(endpoint.name, {})
        document = example.get("document")
        operation: dict[str, Any] = {
            "operationId": endpoint.name,
            "summary": endpoint.summary,
            "x-roles": sorted(endpoint.roles),
            "x-example-request": example.get("request"),
            "parameters": [
                {
                    "name": p.name,
                    "in": p.where,
                    "required": p.required,
                    "description": f"{p.description} ({READERS[p.kind][1]})",
                    "schema": READERS[p.kind][2],
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
                        "application/json": {
                            "schema": schema_of(document),
                            **({"example": document} if document is not None else {}),
                        }
                    },
                },
                **{
                    status: {
                        "description": text,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                        },
                    }
                    for status, text in STATUSES.items()
                },
            },
        }
        if endpoint.cli:
            operation["x-cli"] = f"biv {endpoint.cli} --json"
        if endpoint.method == "POST":
            operation["requestBody"] = {
                "required": True,
                "description": f"an exchange file: JSON Lines, at most {max_body} bytes",
                "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
            }
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = operation
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
            "schemas": {"Error": ERROR},
        },
        "security": [{"bearer": []}, {}],
        "paths": paths,
    }


def _schema_lines(schema: dict[str, Any], depth: int = 0) -> list[str]:
    pad = "  " * depth
    lines: list[str] = []
    for name, sub in schema.get("properties", {}).items():
        kind = sub.get("type", "any")
        if kind == "array":
            kind = f"array of {sub['items'].get('type', 'any')}"
        lines.append(f"{pad}{name}: {kind}")
        inner = sub["items"] if sub.get("type") == "array" else sub
        if isinstance(inner.get("additionalProperties"), dict):
            lines.append(f"{pad}  (by year):")
            inner = inner["additionalProperties"]
        lines += _schema_lines(inner, depth + 1)
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
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            response = op["responses"]["200"]["content"]["application/json"]
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
                + e("\n".join(_schema_lines(response["schema"])))
                + "</pre></details>",
                "<details><summary>Example document</summary><pre>"
                + e(json_text(response.get("example")))
                + "</pre></details></section>",
            ]
    parts.append("</body></html>")
    return "\n".join(parts)
