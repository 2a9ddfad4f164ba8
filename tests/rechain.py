"""Rewrites stored rows and chains every row after them again, as a forger or a bug would.

The chain then holds (every hash fits), so only checks beyond the chain can catch
what the rewritten rows hold. Works on the stored bytes, not through the ledger.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from biv_domain.converter import canonical_json, converter, parse_json
from biv_domain.ledger.envelope import Envelope, stored_hash

Row = tuple[str, int, str, bytes]  # stream, version, type, stored bytes


def rechained(rows: list[Row], change: Callable[[int, dict[str, Any]], None]) -> list[bytes]:
    """The rows' stored bytes after `change(index, envelope)` edits envelopes in place, each
    row's `previous` and hash taken again from the first row (which keeps its `previous`)."""
    states: list[bytes] = []
    previous: str | None = None
    for index, (stream, version, type_name, state) in enumerate(rows):
        body = parse_json(state)
        change(index, body)
        chain = body["chain"]
        if previous is not None:
            chain["previous"] = previous
        chain["hash"] = stored_hash(stream, version, type_name, converter.structure(body, Envelope))
        previous = chain["hash"]
        states.append(canonical_json(body))
    return states
