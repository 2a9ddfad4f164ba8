"""The hash chain over every stored fact: where it starts, and the hash it takes.

Every fact stores its place in the store's chain (`position`), the hash of the
fact before it (`previous`) and its own hash: a SHA-256 over its content and
`previous`. The content is the fact's stream, version, type and its envelope's
keys *as stored* (`ledger.envelope.content`, from the envelope's one table of
keys), so reading an old fact in a newer shape (upcasting) never changes what
the chain checks.
"""

from __future__ import annotations

import hashlib

GENESIS = "0" * 64
"""The `previous` of the first fact: no fact comes before it."""


def sha256(data: bytes) -> str:
    """The chain's hash of a fact's content: SHA-256 in lowercase hexadecimal."""
    return hashlib.sha256(data).hexdigest()
