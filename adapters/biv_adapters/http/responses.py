"""What each endpoint answers with, declared beside its route: a document type or a media type.

`Returns(Budget)` is a JSON document of the attrs class `Budget`;
`known(Budget)` is that document with the moment its figures are known at
(`as_known_at`, as `biv_adapters.documents.known` adds it); `text("text/plain")`
is a body of that media type. The few documents built as plain dicts are
declared here as attrs classes of the same keys, so that they have a schema too;
a test holds every real response to its schema (`tests/adapters/http/test_http_openapi.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import attrs
from attrs import field, frozen

from biv_adapters.http.schemas import ABSENT
from biv_domain.model.log_proofs import ImportReceipt as LogReceipt
from biv_domain.model.vocabulary import TargetKind
from biv_domain.projections.fiscal_year import AgreementRow


@frozen
class Returns:
    """An endpoint's answer: `type` as JSON (`extra` keys beside its fields), or `media_type`."""

    type: Any = None
    media_type: str = "application/json"
    extra: Mapping[str, Any] = field(factory=dict)
    name: str | None = None  # the component of a document with extra keys
    optional: Mapping[str, Any] = field(factory=dict)  # keys only some answers carry


@frozen
class DemoMark:
    """The mark of a store that holds the demo (`biv demo`): its recorded times simulated, its
    2023–24 figures invented; `note` says so in a sentence. Only a demo store's answers carry it."""

    simulated_recorded_times: bool
    invented_figures: bool
    note: str


MARK = {"demo": DemoMark}
"""The key `biv_adapters.documents.marked` adds to a query's document on a demo store."""


def known(of: Any, name: str | None = None, **more: Any) -> Returns:
    """A document of `of`'s figures with `as_known_at` beside them (and `more` keys), and the
    demo's mark where the store holds the demo."""
    return Returns(of, extra={"as_known_at": datetime | None, **more}, name=name, optional=MARK)


def marked(of: Any) -> Returns:
    """A query's document of `of`, with the demo's mark where the store holds the demo."""
    return Returns(of, optional=MARK)


def text(media_type: str) -> Returns:
    """A body that is no JSON document: a page, a script, plain text, an event stream."""
    return Returns(None, media_type)


def absent() -> Any:
    """A field left out of the document when it has no value (never written as null)."""
    return attrs.field(default=None, metadata={ABSENT: True})


@frozen
class AssessedTarget:
    """A yearly target in a report's document, judged (`biv_domain.projections.report`): `met`
    is null, with the `reason`, when nothing was recorded in the window (inga uppgifter
    registrerade); `counts_from` is the first day it counts; `actual` is null where a report for
    publication withholds it."""

    target: TargetKind
    yearly: int
    expected: int
    actual: int | None
    met: bool | None
    counts_from: date | None
    reason: str | None


@frozen
class Cosigner:
    """A witness that co-signed the current checkpoint: its name, verifier key, and when."""

    witness: str
    key: str
    at: datetime


@frozen
class Cosigners:
    """Who co-signed the log's current checkpoint of `size` facts (`GET /log/cosignatures`)."""

    size: int
    cosignatures: tuple[Cosigner, ...]


@frozen
class CosignatureKept:
    """A witness's cosignature, verified and kept with the log (`POST /log/cosignatures`)."""

    witness: str
    at: datetime


@frozen
class AgreementList:
    """Every agreement the store knows (`GET /agreements`)."""

    agreements: tuple[AgreementRow, ...]
    as_known_at: datetime | None


@frozen
class ChainDigest:
    """The chain's head (`biv audit digest --json`); null, without position and hash, when empty."""

    digest: str | None
    position: int | None = absent()
    hash: str | None = absent()


@frozen
class ImportReceipt:
    """What an import did (`biv import --json`); `erased` only when it erased a participant."""

    applied: int
    skipped: int
    erased: int | None = absent()
    receipt: LogReceipt | None = absent()  # noqa: RUF009 (an attrs field: with ?receipt=true)
