"""A store plugin: everything the ledger needs from where it keeps its facts, in one object.

`settings` configure the `eventsourcing` library's recorders; `funding_view`
gives the read model's storage on that store; `subject_keys` the participants'
keys (written in the batch's transaction by the store's recorder); `schema_lock` is held while the
ledger creates its tables, so that processes starting at once take turns.
Plugins are found by URL scheme through the entry-point group `biv.stores`
(see `biv_adapters.stores`), the only registry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext

from attrs import frozen

from biv_domain.ledger.log_storage import LogFactory
from biv_domain.ledger.read_models import FundingViewFactory, MemoryFundingView
from biv_domain.ledger.subjects import MemorySubjectKeys, SubjectKeysFactory

MEMORY_SETTINGS: Mapping[str, str] = {"PERSISTENCE_MODULE": "eventsourcing.popo"}


def _no_lock() -> AbstractContextManager[None]:
    return nullcontext()


@frozen
class Store:
    """What a store plugin supplies: its settings, its read models' storage, its schema hook."""

    settings: Mapping[str, str]
    funding_view: FundingViewFactory
    subject_keys: SubjectKeysFactory
    schema_lock: Callable[[], AbstractContextManager[None]] = _no_lock
    log: LogFactory | None = None  # where the log is kept (None: in memory, as `memory:`)


# Nothing persists: for tests, trials and a dry run of an import.
MEMORY = Store(MEMORY_SETTINGS, MemoryFundingView, lambda _ledger: MemorySubjectKeys())
