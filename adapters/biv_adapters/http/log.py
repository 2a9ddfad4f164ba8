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

from typing import TYPE_CHECKING

from starlette.routing import BaseRoute

from biv_adapters.documents import Document
from biv_adapters.http.endpoints import Call, Endpoint
from biv_adapters.http.params import Param
from biv_adapters.http.responses import CosignatureKept, Cosigners, Returns, text
from biv_domain.converter import document, parse_json
from biv_domain.errors import InvalidValue
from biv_domain.model.log_proofs import ConsistencyProof, InclusionProof

if TYPE_CHECKING:  # app imports this module to mount its routes
    from biv_adapters.http.app import Service

POSITION = Param("position", "count", "the fact's chain position", "1", True)
SIZE = Param("size", "count", "the tree's size (default: the current size)")
FROM = Param("from", "count", "the earlier tree's size", "1", True)
TO = Param("to", "count", "the later tree's size (default: the current size)")


def _checkpoint(call: Call) -> str:
    return str(call.ledger.checkpoint())


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


_COSIGNED = {
    "required": True,
    "description": "the cosigned checkpoint note and the witness's verifier key",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"note": {"type": "string"}, "key": {"type": "string"}},
                "required": ["note", "key"],
            }
        }
    },
}

CHECKPOINT = Endpoint(
    "log_checkpoint",
    "GET",
    "/log/checkpoint",
    "The log's signed checkpoint (a C2SP signed note, text/plain) with its cosignatures",
    _checkpoint,  # type: ignore[arg-type]  # a text answer, as `returns` declares
    cli="audit checkpoint",
    returns=text("text/plain; charset=utf-8"),
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
        returns=Returns(InclusionProof),
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
        returns=Returns(ConsistencyProof),
    ),
    Endpoint(
        "log_cosigners",
        "GET",
        "/log/cosignatures",
        "Who co-signed the log's current checkpoint, and when (their cosignatures verified)",
        _cosigners,
        returns=Returns(Cosigners),
    ),
    Endpoint(
        "log_cosignature",
        "POST",
        "/log/cosignatures",
        "A witness's cosignature of a checkpoint (JSON {note, key}), kept with the log",
        _cosignature,
        compact=True,
        cli="witness",
        returns=Returns(CosignatureKept),
        # JSON, not JSON Lines: still no form can send it (a browser preflights it)
        accepts=("application/json",),
        body=_COSIGNED,
    ),
)


def log_routes(service: Service) -> list[BaseRoute]:
    """The log's routes, answered (and refused) as every endpoint of `service` is."""
    return [service.route(endpoint) for endpoint in (CHECKPOINT, *LOG_ENDPOINTS)]
