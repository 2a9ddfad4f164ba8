"""The ledger: the service layer on the `eventsourcing` library.

- `application`: the `Ledger`, which records commands and brings read models up to date
- `reading`: every question, for any effective date and as known at any recorded time
- `unit_of_work`: the states a batch needs, loaded once, and the events it decides;
  `deciding`: which pure decider a command goes to; `sealing`: a batch made into its rows
- `envelope`: how a fact is stored and read back (`mapper`: the library's reads through it);
  `chain`: the hash chain; `verification`: walking it
- `bookkeeping`: the ledger's own records and stream names
- `read_models`: the funding view's behaviour; `store`: what a store plugin supplies
"""

from typing import TYPE_CHECKING

from biv_domain._lazy import loaded_when_asked

if TYPE_CHECKING:
    from biv_domain.ledger.application import Ledger, Line, LineRefused, Receipt, WriteConflict
    from biv_domain.ledger.reading import LedgerReads, utc_now
    from biv_domain.ledger.store import MEMORY, Store

# Where each name lives. Each loads when first asked for, so that importing one module of
# the package (the bookkeeping's stream names, the codec) does not load the service and
# its write side; `from biv_domain.ledger import Ledger` loads what the Ledger needs.
__getattr__ = loaded_when_asked(
    globals(),
    {
        "biv_domain.ledger.application": (
            "Ledger",
            "Line",
            "LineRefused",
            "Receipt",
            "WriteConflict",
        ),
        "biv_domain.ledger.reading": ("LedgerReads", "utc_now"),
        "biv_domain.ledger.store": ("MEMORY", "Store"),
    },
)


__all__ = [
    "MEMORY",
    "Ledger",
    "LedgerReads",
    "Line",
    "LineRefused",
    "Receipt",
    "Store",
    "WriteConflict",
    "utc_now",
]
