"""The ledger service: writing, reading, sealing, the chain and the log, stored formats."""
