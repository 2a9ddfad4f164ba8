"""Signed notes, checkpoints and cosignatures (`biv_domain.ledger.note`), against the C2SP
and Go reference examples and against the rules re-implemented here independently."""

from __future__ import annotations

import base64
import hashlib
import struct
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given
from hypothesis import strategies as st

from biv_domain.ledger.note import (
    COSIGNATURE_V1,
    Checkpoint,
    Note,
    NoteRefused,
    Signer,
    Verifier,
    cosign,
    cosignatures,
)

DASH = "\u2014"
# golang.org/x/mod/sumdb/note's documented example: its key, text and exact signed note.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_SIG = (
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
)
# c2sp.org/signed-note's example.
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n"
    f"{DASH} example.com/foo "
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)


def test_the_go_example_is_signed_here_byte_for_byte() -> None:
    """Ed25519 is deterministic: signing Go's text with Go's key gives Go's note exactly."""
    signer = Signer.parse(GO_SKEY)
    assert str(signer) == GO_SKEY
    assert str(signer.verifier) == GO_VKEY
    note = Note(GO_TEXT, ()).signed_by(signer)
    assert str(note) == f"{GO_TEXT}\n{DASH} PeterNeumann {GO_SIG}\n"
    Note.parse(str(note)).verify(Verifier.parse(GO_VKEY))


def test_the_c2sp_example_verifies_here() -> None:
    Note.parse(SPEC_NOTE).verify(Verifier.parse(SPEC_VKEY))


def _independent_check(note_text: str, vkey: str) -> bool:
    """The signed-note rules written again from the spec, sharing nothing with the module."""
    name, hex_id, material = vkey.split("+", 2)
    raw = base64.b64decode(material)
    assert hashlib.sha256(name.encode() + b"\n" + raw[:1] + raw[1:]).digest()[:4].hex() == hex_id
    text, _, signatures = note_text.rpartition("\n\n")
    for line in signatures.splitlines():
        dash, key_name, b64 = line.split(" ")
        sig = base64.b64decode(b64)
        if dash == DASH and key_name == name and sig[:4].hex() == hex_id:
            try:
                Ed25519PublicKey.from_public_bytes(raw[1:]).verify(sig[4:], (text + "\n").encode())
            except Exception:
                return False
            return True
    return False


@given(st.text(alphabet="abcdefghij.-/", min_size=1, max_size=20), st.integers(0, 2**40))
def test_a_checkpoint_signed_here_verifies_by_the_rules_written_independently(
    name: str, size: int
) -> None:
    signer = Signer.generate(name)
    checkpoint = Checkpoint(name, size, hashlib.sha256(str(size).encode()).digest())
    note = str(Note(checkpoint.text, ()).signed_by(signer))
    assert _independent_check(note, str(signer.verifier))
    assert Checkpoint.from_text(Note.parse(note).text) == checkpoint


def test_a_changed_note_or_another_key_is_refused() -> None:
    signer = Signer.generate("biv.example/log")
    note = Note(Checkpoint("biv.example/log", 7, bytes(32)).text, ()).signed_by(signer)
    forged = Note(note.text.replace("\n7\n", "\n8\n"), note.signatures)
    with pytest.raises(NoteRefused, match="does not verify"):
        forged.verify(signer.verifier)
    with pytest.raises(NoteRefused, match="no signature of the key"):
        note.verify(Signer.generate("biv.example/log").verifier)


@pytest.mark.parametrize(
    "key",
    [
        GO_VKEY.replace("c74f20a3", "c74f20a4"),  # the id does not fit the key
        "PeterNeumann+c74f20a3",  # a part missing
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # a space
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # unknown type
    ],
)
def test_a_malformed_verifier_key_is_refused_by_name(key: str) -> None:
    with pytest.raises(NoteRefused) as refused:
        Verifier.parse(key)
    assert refused.value.field == "key"


def test_a_cosignature_is_c2sp_v1_and_verifies_independently() -> None:
    log = Signer.generate("biv.example/log")
    witness = Signer.generate("revisionen.example/w1", COSIGNATURE_V1)
    note = Note(Checkpoint("biv.example/log", 3, bytes(32)).text, ()).signed_by(log)
    at = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    cosigned = Note(note.text, (*note.signatures, cosign(note, witness, at)))
    reread = Note.parse(str(cosigned))
    assert cosignatures(reread, [witness.verifier]) == [cosignatures(reread, [witness.verifier])[0]]
    assert cosignatures(reread, [witness.verifier])[0].at == at
    # Written again from c2sp.org/tlog-cosignature: the key id with type 0x04, and the message.
    raw = reread.signatures[-1].raw
    public = witness.verifier.public_key
    assert raw[:4] == hashlib.sha256(b"revisionen.example/w1\n\x04" + public).digest()[:4]
    (timestamp,) = struct.unpack(">Q", raw[4:12])
    message = f"cosignature/v1\ntime {timestamp}\n{note.text}".encode()
    Ed25519PublicKey.from_public_bytes(public).verify(raw[12:], message)
    # The log's own signature still verifies beside it; a cosignature of a changed note does not.
    reread.verify(log.verifier)
    bad = Note(note.text.replace("\n3\n", "\n4\n"), reread.signatures)
    with pytest.raises(NoteRefused, match="cosignature"):
        cosignatures(bad, [witness.verifier])
