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
from typing import Any

from attrs import frozen

from biv_domain.ledger.log_storage import LogAppend, LogFactory
from biv_domain.ledger.read_models import FundingViewFactory, MemoryFundingView
from biv_domain.ledger.subjects import KeyChanges, MemorySubjectKeys, SubjectKeysFactory

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


@frozen
class BatchRows:
    """What a store's recorder writes beside a batch's facts, in the same transaction.

    The ledger gives it to `insert_events(rows, batch=...)`; a store that keeps none of
    these (memory) ignores it. `key_changes`: participants' new keys and destroyed ones
    (written by the recorder's own key table); `log`: the log's tree nodes and checkpoint;
    `view`: the funding view's rows, under a savepoint; `counts`: the facts by type and
    version. Each of the last three is called with the recorder's cursor (and the batch's
    last row id): see `after_insert`.
    """

    key_changes: KeyChanges | None = None
    log: LogAppend | None = None
    view: Callable[[Any, int], None] | None = None
    counts: Callable[[Any, int], None] | None = None

    def after_insert(self, cursor: Any, last_id: int | None) -> None:
        """Writes the log, the view and the counts after the facts (`last_id`: the batch's
        last row id; None when the store gave none, then only the log is written)."""
        if self.log is not None:
            self.log(cursor)  # the log's tree grows in the same transaction (issue 21)
        if last_id is None:
            return
        if self.view is not None:
            self.view(cursor, last_id)  # the funding view follows in the same transaction
        if self.counts is not None:
            self.counts(cursor, last_id)  # and the facts by type and version (`stores.counts`)
