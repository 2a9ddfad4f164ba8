"""schemathesis's hooks for `biv serve`: how a JSON Lines body is sent (`SCHEMATHESIS_HOOKS`)."""

from __future__ import annotations

from typing import Any

import schemathesis


@schemathesis.serializer("application/x-ndjson", "application/jsonl")
def json_lines(context: Any, value: Any) -> bytes:
    """An exchange file as its text, in UTF-8 (schemathesis has no serializer of its own)."""
    if isinstance(value, bytes):
        return value
    text = value if isinstance(value, str) else str(value)
    return text.encode("utf-8", "surrogatepass")
