"""The ledger's cryptography, in one place: AES-GCM to seal, HMAC-SHA256 to name a child.

From `cryptography` (pyca), the Python Cryptographic Authority's library. A
sealed value is `base64(nonce ‖ ciphertext ‖ tag)`: a fresh 96-bit nonce for
every seal, 256-bit keys, the associated data binding a ciphertext to what it
is (its subject and field), so a sealed value moved elsewhere no longer opens.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12


# `cryptography` loads when a key is first used, not with the ledger: a plain store's
# budget never needs it (tests/adapters/test_fast_start.py). It is imported once: an
# import statement run on every call cost an opening half its time (2 of 3.9 us).


@cache
def _aead() -> tuple[type[AESGCM], type[Exception]]:
    """AES-GCM and the refusal of a sealed value that does not open."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM, InvalidTag


def new_key() -> bytes:
    aesgcm, _ = _aead()
    return aesgcm.generate_key(bit_length=8 * KEY_BYTES)


def seal(key: bytes, plaintext: bytes, associated: bytes) -> str:
    aesgcm, _ = _aead()
    nonce = os.urandom(NONCE_BYTES)
    return base64.b64encode(nonce + aesgcm(key).encrypt(nonce, plaintext, associated)).decode()


class Unsealable(Exception):
    """A sealed value that this key does not open (wrong key, or changed after sealing)."""


def unseal(key: bytes, sealed: str, associated: bytes) -> bytes:
    aesgcm, invalid_tag = _aead()
    try:
        raw = base64.b64decode(sealed, validate=True)
        return aesgcm(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], associated)
    except (invalid_tag, ValueError) as error:
        raise Unsealable(str(error) or type(error).__name__) from None


def pseudonym(pepper: bytes, reference: str) -> str:
    """A child's name in the store: a keyed hash of the partner's reference, never the reference.

    The same reference gives the same pseudonym in every group, so distinct
    children are counted and found without the reference in the clear.
    """
    return hmac.new(pepper, reference.encode(), hashlib.sha256).hexdigest()[:32]
