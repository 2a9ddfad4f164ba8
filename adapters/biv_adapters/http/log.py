"""The log over HTTP (issue 21), open to every role (it reveals hashes only):

- `GET /log/checkpoint`: the signed checkpoint note (text/plain), with the cosignatures kept;
- `GET /log/proof/inclusion?position=&size=`: `{"tree_size", "leaf_index", "leaf", "hashes"}`;
- `GET /log/proof/consistency?from=&to=`: `{"from", "to", "hashes"}`;
- `GET /log/cosignatures`: who co-signed the current checkpoint and when (the page shows it);
- `POST /log/cosignatures`: a witness's cosigned checkpoint, `{"note", "key"}` (its verifier
  key), kept with the log once both signatures verify; answers `{"witness", "at"}`.

Mounted by `http.app` with one line (`log_routes`); the documents are the CLI's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from biv_adapters.documents import Document
from biv_adapters.http.endpoints import Call, Endpoint
from biv_adapters.http.examples import example_request
from biv_adapters.http.params import Param
from biv_domain.converter import document, parse_json
from biv_domain.errors import InvalidValue

if TYPE_CHECKING:  # app imports this module to mount its routes
    from biv_adapters.http.app import Service

POSITION = Param("position", "count", "the fact's chain position", "1", True)
SIZE = Param("size", "count", "the tree's size (default: the current size)")
FROM = Param("from", "count", "the earlier tree's size", "1", True)
TO = Param("to", "count", "the later tree's size (default: the current size)")


def _checkpoint(call: Call) -> Document:
    return {"note": str(call.ledger.checkpoint())}


def _cosignature(call: Call) -> Document:
    try:
        body = parse_json(call.body)
        note, key = body["note"], body["key"]
        if not isinstance(note, str) or not isinstance(key, str):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise InvalidValue(
            "body", 'must be JSON {"note": COSIGNED CHECKPOINT, "key": WITNESS VERIFIER KEY}'
        ) from None
    found = call.ledger.add_cosignature(note, key)
    return {"witness": found.name, "at": found.at.isoformat()}


def _cosigners(call: Call) -> Document:
    """Who co-signed the current checkpoint, and when (the auditor's page shows it)."""
    found = call.ledger.cosigners()
    return {
        "size": call.ledger.log_size(),
        "cosignatures": [
            {"witness": c.name, "key": str(key), "at": c.at.isoformat()} for key, c in found
        ],
    }


CHECKPOINT = Endpoint(
    "log_checkpoint",
    "GET",
    "/log/checkpoint",
    "The log's signed checkpoint (a C2SP signed note, text/plain) with its cosignatures",
    _checkpoint,
    cli="audit checkpoint",
)
LOG_ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "log_inclusion",
        "GET",
        "/log/proof/inclusion",
        "RFC 9162 inclusion proof of the fact at a chain position in the tree of a size",
        lambda call: document(
            call.ledger.inclusion_proof(call.args["position"], call.args["size"])
        ),
        (POSITION, SIZE),
        compact=True,
        cli="audit prove POSITION",
    ),
    Endpoint(
        "log_consistency",
        "GET",
        "/log/proof/consistency",
        "RFC 9162 consistency proof: the tree of `from` facts is a prefix of the tree of `to`",
        lambda call: document(call.ledger.consistency_proof(call.args["from"], call.args["to"])),
        (FROM, TO),
        compact=True,
        cli="audit consistency M N",
    ),
    Endpoint(
        "log_cosigners",
        "GET",
        "/log/cosignatures",
        "Who co-signed the log's current checkpoint, and when (their cosignatures verified)",
        _cosigners,
    ),
    Endpoint(
        "log_cosignature",
        "POST",
        "/log/cosignatures",
        "A witness's cosignature of a checkpoint (JSON {note, key}), kept with the log",
        _cosignature,
        compact=True,
        cli="witness",
    ),
)


def log_routes(service: Service) -> list[BaseRoute]:
    """The log's routes, answered (and refused) as every endpoint of `service` is."""

    async def checkpoint(request: Request) -> Response:
        answer = await service.answer(CHECKPOINT, request)
        if answer.status_code != 200:
            return answer
        note = parse_json(bytes(answer.body))["note"]
        return PlainTextResponse(note, media_type="text/plain; charset=utf-8")

    routes: list[BaseRoute] = [service.route(endpoint) for endpoint in LOG_ENDPOINTS]
    routes.append(Route(CHECKPOINT.path, checkpoint, methods=["GET"], name=CHECKPOINT.name))
    return routes


# --- The routes in the OpenAPI schema (`http.openapi` adds them with one line) ----------------

_HEX = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_HEXES = {"type": "array", "items": _HEX}
_A = "3e4307bc5d829055366d1219c880f04b9932e10f180ea8e5739587e26bae1f30"  # docs' worked vector
_B = "de17e8e486149a005490e3a51c2e135b0d3926c846afbfd057876ac4bed7c615"
NOTE_EXAMPLE = (
    "example.org/biv\n20\nPkMHvF2CkFU2bRIZyIDwS5ky4Q8YDqjlc5WH4muuHzA=\n\n\u2014 example.org/biv "
    "Tv50AADsoeQVQiF6bzNGk/RPONvIaHrXE07zl9CrtuKWwECEOYoC1U5wDTI5qtLGhm3YfY3Fly1TfC1z7y3FOij8RwI=\n"
)


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties)}


RESPONSES: dict[str, tuple[dict[str, Any], Any]] = {
    # endpoint name: the 200 document's schema and example (docs/verification.md's vectors)
    "log_inclusion": (
        _object(
            {
                "tree_size": {"type": "integer"},
                "leaf_index": {"type": "integer"},
                "leaf": _HEX,
                "hashes": _HEXES,
            }
        ),
        {"tree_size": 20, "leaf_index": 2, "leaf": _B, "hashes": [_A]},
    ),
    "log_consistency": (
        _object({"from": {"type": "integer"}, "to": {"type": "integer"}, "hashes": _HEXES}),
        {"from": 6, "to": 20, "hashes": [_A, _B]},
    ),
    "log_cosigners": (
        _object(
            {
                "size": {"type": "integer"},
                "cosignatures": {
                    "type": "array",
                    "items": _object(
                        {
                            "witness": {"type": "string"},
                            "key": {"type": "string"},
                            "at": {"type": "string", "format": "date-time"},
                        }
                    ),
                },
            }
        ),
        {
            "size": 20,
            "cosignatures": [
                {
                    "witness": "auditor.example.org",
                    "key": "auditor.example.org+ebeec433+"
                    "BLC992dONHWYp8Gtp4AhjS/q9f3biugSuE8I7VBUhy9D",
                    "at": "2026-12-06T08:30:51+00:00",
                }
            ],
        },
    ),
    "log_cosignature": (
        _object({"witness": {"type": "string"}, "at": {"type": "string", "format": "date-time"}}),
        {"witness": "auditor.example.org", "at": "2026-12-06T08:30:51+00:00"},
    ),
}


def log_paths(statuses: dict[str, str], readers: dict[str, Any]) -> dict[str, Any]:
    """The log's operations for the OpenAPI schema, in its shape (`http.openapi`)."""
    errors = {
        status: {
            "description": text,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for status, text in statuses.items()
    }
    paths: dict[str, Any] = {}
    for endpoint in (CHECKPOINT, *LOG_ENDPOINTS):
        if endpoint is CHECKPOINT:
            content = {"text/plain": {"schema": {"type": "string"}, "example": NOTE_EXAMPLE}}
        else:
            schema, example = RESPONSES[endpoint.name]
            content = {"application/json": {"schema": schema, "example": example}}
        operation: dict[str, Any] = {
            "operationId": endpoint.name,
            "summary": endpoint.summary,
            "x-roles": sorted(endpoint.roles),
            "x-example-request": example_request(endpoint),
            "parameters": [
                {
                    "name": p.name,
                    "in": p.where,
                    "required": p.required,
                    "description": f"{p.description} ({readers[p.kind][1]})",
                    "schema": readers[p.kind][2],
                    **({"example": p.example} if p.example is not None else {}),
                }
                for p in endpoint.params
            ],
            "responses": {"200": {"description": endpoint.summary, "content": content}, **errors},
        }
        if endpoint.cli:
            operation["x-cli"] = f"biv {endpoint.cli}"
        if endpoint.method == "POST":
            operation["requestBody"] = {
                "required": True,
                "description": "the cosigned checkpoint note and the witness's verifier key",
                "content": {
                    "application/json": {
                        "schema": _object({"note": {"type": "string"}, "key": {"type": "string"}})
                    }
                },
            }
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = operation
    return paths
