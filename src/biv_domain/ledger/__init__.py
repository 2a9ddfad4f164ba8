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

from biv_domain.ledger.application import Ledger, Line, LineRefused, Receipt, WriteConflict
from biv_domain.ledger.reading import LedgerReads, utc_now
from biv_domain.ledger.store import MEMORY, Store

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
