"""A witness (the partner, kommunrevisionen) and a log it reads: over HTTP or in a store.

`biv witness` fetches the log's checkpoint, checks the log's signature, asks for
a consistency proof from the checkpoint it kept (its state), and only then
co-signs (C2SP tlog-cosignature/v1), hands the cosignature to the log and keeps
the new state. A log that shrank, forked or rewrote what the witness saw is
refused, and the witness keeps its old state. `biv audit check-receipt --store`
asks a log the same way whether it still extends a receipt.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from biv_domain.converter import converter, document, json_text
from biv_domain.errors import InvalidValue
from biv_domain.ledger import Ledger
from biv_domain.ledger.log import LogRefused
from biv_domain.ledger.note import Checkpoint, Note, Signer, Verifier, cosign
from biv_domain.ledger.receipts import check_consistency, signed_checkpoint
from biv_domain.model.log_proofs import ConsistencyProof

TIMEOUT_SECONDS = 30


class Log(Protocol):
    """What a witness or a receipt's holder asks of a log."""

    def checkpoint(self) -> str: ...
    def consistency(self, old: int, new: int) -> ConsistencyProof: ...
    def add_cosignature(self, note: str, witness: str) -> None: ...
    def close(self) -> None: ...


class StoreLog:
    """A log read in its store directly."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def checkpoint(self) -> str:
        return str(self.ledger.checkpoint())

    def consistency(self, old: int, new: int) -> ConsistencyProof:
        return self.ledger.consistency_proof(old, new)

    def add_cosignature(self, note: str, witness: str) -> None:
        self.ledger.add_cosignature(note, witness)

    def close(self) -> None:
        self.ledger.close()


class HttpLog:
    """A log served by `biv serve`: GET /log/checkpoint, /log/proof/consistency,
    POST /log/cosignatures (a token from BIV_TOKEN, if set)."""

    def __init__(self, url: str, token: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.token = token if token is not None else os.environ.get("BIV_TOKEN")

    def _ask(self, path: str, body: bytes | None = None) -> bytes:
        request = urllib.request.Request(self.url + path, data=body)
        if body is not None:
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:
                return bytes(answer.read())
        except urllib.error.HTTPError as refused:
            try:
                reason = json.loads(refused.read())
                said = f"{reason.get('field')}: {reason.get('reason')}"
            except (ValueError, AttributeError):
                said = refused.reason
            raise LogRefused("log", f"{self.url}{path} answered {refused.code}: {said}") from None
        except (urllib.error.URLError, OSError) as failure:
            reason = getattr(failure, "reason", failure)
            raise LogRefused("log", f"cannot reach {self.url}: {reason}") from None

    def checkpoint(self) -> str:
        return self._ask("/log/checkpoint").decode("utf-8", "replace")

    def consistency(self, old: int, new: int) -> ConsistencyProof:
        query = urllib.parse.urlencode({"from": old, "to": new})
        try:
            return converter.structure(
                json.loads(self._ask(f"/log/proof/consistency?{query}")), ConsistencyProof
            )
        except Exception as failure:
            if isinstance(failure, LogRefused):
                raise
            raise LogRefused("log", "gave no consistency proof (from, to, hashes)") from None

    def add_cosignature(self, note: str, witness: str) -> None:
        body = json_text({"note": note, "key": witness}, indent=False).encode()
        self._ask("/log/cosignatures", body)

    def close(self) -> None:
        pass  # a request a connection


def log_at(url: str, open_store: Any) -> Log:
    """The log at a URL: a service (http:, https:) or a store (`open_store(url)` opens it)."""
    if url.startswith(("http://", "https://")):
        return HttpLog(url)
    return StoreLog(open_store(url))


def read_state(path: Path) -> Checkpoint | None:
    """The checkpoint a witness kept (its state file), or None before its first."""
    if not path.exists():
        return None
    try:
        state = json.loads(path.read_text("utf-8"))
        return Checkpoint(state["origin"], int(state["size"]), bytes.fromhex(state["root"]))
    except (OSError, ValueError, KeyError, TypeError):
        raise InvalidValue(
            "state", f"{path} is not a witness's state (origin, size, root)"
        ) from None


def write_state(path: Path, checkpoint: Checkpoint, note: str) -> None:
    """Keeps the checkpoint co-signed, replacing the old state whole (never half written)."""
    state = {**document(checkpoint), "root": checkpoint.root.hex(), "checkpoint": note}
    partial = path.with_name(path.name + ".partial")
    try:
        partial.write_text(json_text(state) + "\n", "utf-8")
        os.replace(partial, path)
    except OSError as error:
        raise InvalidValue("state", f"cannot write {path}: {error.strerror or error}") from None


def witness(log: Log, signer: Signer, log_key: Verifier, state: Path, now: datetime) -> Checkpoint:
    """Co-signs the log's checkpoint if it extends what this witness saw; keeps it as the state.

    Refused (LogRefused, InvalidValue) with the old state kept when the log's
    signature does not hold, or the log shrank, forked or rewrote its history.
    """
    seen = read_state(state)
    text = log.checkpoint()
    current = signed_checkpoint(text, log_key, "log")
    note = Note.parse(text, "log")
    if seen is not None:
        if current.size < seen.size:
            raise LogRefused(
                "log", f"shrank: it holds {current.size} facts, this witness saw {seen.size}"
            )
        if current.size == seen.size and current.root != seen.root:
            raise LogRefused(
                "log", f"forked: its tree of {seen.size} facts is not the one this witness saw"
            )
        if current.size > seen.size > 0:  # (every tree extends the empty one)
            proof = log.consistency(seen.size, current.size)
            check_consistency(seen, current, proof)
    ours = Note(note.text, tuple(s for s in note.signatures if s.id == log_key.id))
    cosigned = Note(note.text, (*ours.signatures, cosign(ours, signer, now)))
    log.add_cosignature(str(cosigned), str(signer.verifier))
    write_state(state, current, str(cosigned))
    return current
