"""Signed notes, checkpoints and cosignatures, as C2SP writes them (Ed25519).

- A signed note (c2sp.org/signed-note): a text ending in a newline, a blank line,
  then signature lines `— NAME BASE64(KEYID ‖ SIGNATURE)`. A key's id is the first
  4 bytes of SHA-256(NAME ‖ 0x0A ‖ TYPE ‖ PUBLIC KEY); TYPE is 0x01 for a log's
  Ed25519 key and 0x04 for a witness's timestamped cosignature.
- A checkpoint (c2sp.org/tlog-checkpoint): the note text `ORIGIN\\nSIZE\\nBASE64(ROOT)\\n`.
- A cosignature (c2sp.org/tlog-cosignature, v1): a witness signs
  `cosignature/v1\\ntime T\\n` ‖ the checkpoint's text, and its signature is
  KEYID ‖ T (8 bytes, big-endian) ‖ SIGNATURE.

Keys are text, as Go's golang.org/x/mod/sumdb/note writes them: a signer key
`PRIVATE+KEY+NAME+KEYID+BASE64(TYPE ‖ SEED)`, a verifier key `NAME+KEYID+BASE64(TYPE ‖
PUBLIC KEY)`, KEYID in 8 hex digits.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from attrs import frozen

from biv_domain.errors import InvalidValue

if TYPE_CHECKING:  # cryptography loads when a key is first used (a query needs none)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ED25519 = 0x01
"""The signature type of a log's (or any note's) Ed25519 key."""

COSIGNATURE_V1 = 0x04
"""The signature type of a witness's timestamped Ed25519 cosignature."""

_DASH = "\u2014"  # the em dash every signature line starts with
_NAME = re.compile(r"[^\s+]+")  # non-empty, no Unicode space and no plus
_MAX_SIGNATURES = 100  # the spec asks verifiers to accept at least 16


class NoteRefused(InvalidValue):
    """A note, key or signature that does not hold: named by field, with the reason."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(field: str, text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise NoteRefused(field, "is not base64") from None


def key_id(name: str, kind: int, public_key: bytes) -> bytes:
    """SHA-256(name ‖ 0x0A ‖ kind ‖ public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + public_key).digest()[:4]


def _checked_name(field: str, name: str) -> str:
    if not _NAME.fullmatch(name):
        raise NoteRefused(field, f"a key name must be non-empty, with no space or '+': {name!r}")
    return name


@frozen
class Verifier:
    """A verifier key: who signs (name), which key (id) and the Ed25519 public key."""

    name: str
    kind: int
    id: bytes
    public_key: bytes

    @classmethod
    def parse(cls, text: str, field: str = "key") -> Verifier:
        """Reads `NAME+KEYID+BASE64(TYPE ‖ PUBLIC KEY)`, refusing one whose id does not fit."""
        parts = text.strip().split("+", 2)  # base64 may hold '+' itself
        if len(parts) != 3:
            raise NoteRefused(field, "a verifier key is NAME+KEYID+BASE64 (three parts)")
        name, hex_id, material = parts
        _checked_name(field, name)
        raw = _unb64(field, material)
        if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE_V1):
            raise NoteRefused(field, "holds no Ed25519 public key (type 0x01 or 0x04)")
        if not re.fullmatch(r"[0-9a-f]{8}", hex_id):
            raise NoteRefused(field, "its key id must be 8 lowercase hex digits")
        if key_id(name, raw[0], raw[1:]).hex() != hex_id:
            raise NoteRefused(field, "its key id does not match its name and key")
        return cls(name, raw[0], bytes.fromhex(hex_id), raw[1:])

    def __str__(self) -> str:
        return f"{self.name}+{self.id.hex()}+{_b64(bytes([self.kind]) + self.public_key)}"

    def verifies(self, message: bytes, signature: bytes) -> bool:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@frozen
class Signer:
    """A signer key; its text is kept in a vault (BIV_LOG_KEY), never in the store."""

    name: str
    kind: int
    seed: bytes

    @classmethod
    def generate(cls, name: str, kind: int = ED25519) -> Signer:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        _checked_name("name", name)
        seed = Ed25519PrivateKey.generate().private_bytes_raw()
        return cls(name, kind, seed)

    @classmethod
    def parse(cls, text: str, field: str = "key") -> Signer:
        """Reads `PRIVATE+KEY+NAME+KEYID+BASE64(TYPE ‖ SEED)`."""
        parts = text.strip().split("+", 4)  # base64 may hold '+' itself
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise NoteRefused(field, "a signer key is PRIVATE+KEY+NAME+KEYID+BASE64")
        name, hex_id, material = parts[2:]
        _checked_name(field, name)
        raw = _unb64(field, material)
        if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE_V1):
            raise NoteRefused(field, "holds no Ed25519 key (type 0x01 or 0x04)")
        signer = cls(name, raw[0], raw[1:])
        if signer.verifier.id.hex() != hex_id:
            raise NoteRefused(field, "its key id does not match its name and key")
        return signer

    @property
    def _private(self) -> Ed25519PrivateKey:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        return Ed25519PrivateKey.from_private_bytes(self.seed)

    @property
    def verifier(self) -> Verifier:
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        public = self._private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return Verifier(self.name, self.kind, key_id(self.name, self.kind, public), public)

    def __str__(self) -> str:
        material = _b64(bytes([self.kind]) + self.seed)
        return f"PRIVATE+KEY+{self.name}+{self.verifier.id.hex()}+{material}"

    def sign(self, message: bytes) -> bytes:
        return self._private.sign(message)


@frozen
class Signature:
    """One signature line of a note: the key's name and BASE64(KEYID ‖ SIGNATURE)."""

    name: str
    raw: bytes

    @property
    def id(self) -> bytes:
        return self.raw[:4]

    def __str__(self) -> str:
        return f"{_DASH} {self.name} {_b64(self.raw)}\n"


@frozen
class Note:
    """A signed note: its text (ending in a newline) and its signature lines."""

    text: str
    signatures: tuple[Signature, ...]

    def __str__(self) -> str:
        return self.text + "\n" + "".join(str(s) for s in self.signatures)

    @classmethod
    def parse(cls, note: str, field: str = "note") -> Note:
        """Splits a note at its last blank line; every line after it must be a signature."""
        if any(ord(c) < 0x20 and c != "\n" for c in note):
            raise NoteRefused(field, "a note holds no control character but newlines")
        if not note.endswith("\n"):
            raise NoteRefused(field, "a note ends with a newline")
        split = note.rfind("\n\n")
        if split < 0:
            raise NoteRefused(field, "has no blank line before its signatures")
        text, lines = note[: split + 1], note[split + 2 :].splitlines()
        if not lines or len(lines) > _MAX_SIGNATURES:
            raise NoteRefused(field, f"must carry 1 to {_MAX_SIGNATURES} signature lines")
        signatures = []
        for line in lines:
            match = re.fullmatch(rf"{_DASH} ([^\s+]+) ([A-Za-z0-9+/=]+)", line)
            if match is None:
                raise NoteRefused(field, f"is not a signature line: {line[:80]!r}")
            raw = _unb64(field, match[2])
            if len(raw) < 5:
                raise NoteRefused(field, "a signature is a key id and at least one byte")
            signatures.append(Signature(match[1], raw))
        return cls(text, tuple(signatures))

    def signed_by(self, signer: Signer) -> Note:
        """The note with a signature of `signer` (type 0x01) added."""
        raw = signer.verifier.id + signer.sign(self.text.encode())
        return Note(self.text, (*self.signatures, Signature(signer.name, raw)))

    def verify(self, verifier: Verifier, field: str = "note") -> None:
        """Refuses the note unless a signature of this key (name and id) verifies over its text."""
        mine = [s for s in self.signatures if s.name == verifier.name and s.id == verifier.id]
        if not mine:
            raise NoteRefused(field, f"carries no signature of the key {verifier.name}")
        if not all(verifier.verifies(self.text.encode(), s.raw[4:]) for s in mine):
            raise NoteRefused(field, f"its signature by {verifier.name} does not verify")


# --- Checkpoints and cosignatures -------------------------------------------------------------


@frozen
class Checkpoint:
    """A log's state that a signature vouches for: its origin, its tree's size and root."""

    origin: str
    size: int
    root: bytes

    @property
    def text(self) -> str:
        """The note text, `ORIGIN\\nSIZE\\nBASE64(ROOT)\\n`: what is signed."""
        return f"{self.origin}\n{self.size}\n{_b64(self.root)}\n"

    @classmethod
    def from_text(cls, text: str, field: str = "checkpoint") -> Checkpoint:
        """Reads a checkpoint's text; lines after the third are extensions, which it ignores."""
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise NoteRefused(field, "a checkpoint is ORIGIN, SIZE and ROOT, a line each")
        origin, size, root = lines[:3]
        if not origin or not re.fullmatch(r"0|[1-9][0-9]{0,19}", size):
            raise NoteRefused(field, "its size must be a decimal number with no leading zero")
        digest = _unb64(field, root)
        if len(digest) != 32:
            raise NoteRefused(field, "its root must be 32 bytes in base64")
        return cls(origin, int(size), digest)


def cosigned_message(checkpoint_text: str, timestamp: int) -> bytes:
    """What a v1 cosignature signs: `cosignature/v1\\ntime T\\n` and the checkpoint's text."""
    return f"cosignature/v1\ntime {timestamp}\n{checkpoint_text}".encode()


def cosign(note: Note, witness: Signer, at: datetime) -> Signature:
    """A witness's cosignature of a checkpoint note (the witness checked consistency first)."""
    if witness.kind != COSIGNATURE_V1:
        raise NoteRefused("key", "a witness's key must be of type 0x04 (cosignature/v1)")
    timestamp = int(at.astimezone(UTC).timestamp())
    signature = witness.sign(cosigned_message(note.text, timestamp))
    return Signature(witness.name, witness.verifier.id + struct.pack(">Q", timestamp) + signature)


@frozen
class Cosignature:
    """A verified cosignature: who co-signed, and when (UTC)."""

    name: str
    at: datetime


def cosignatures(note: Note, witnesses: Sequence[Verifier]) -> list[Cosignature]:
    """The cosignatures of known witnesses that verify on this note; a known witness's line
    that does not verify refuses the note (as the signed-note spec asks)."""
    found = []
    for witness in witnesses:
        for s in note.signatures:
            if s.name != witness.name or s.id != witness.id:
                continue
            if len(s.raw) != 4 + 8 + 64:
                raise NoteRefused("note", f"the cosignature of {witness.name} is not 76 bytes")
            (timestamp,) = struct.unpack(">Q", s.raw[4:12])
            if timestamp >= 2**63 or not witness.verifies(
                cosigned_message(note.text, timestamp), s.raw[12:]
            ):
                raise NoteRefused("note", f"the cosignature of {witness.name} does not verify")
            found.append(Cosignature(witness.name, datetime.fromtimestamp(timestamp, UTC)))
    return found
