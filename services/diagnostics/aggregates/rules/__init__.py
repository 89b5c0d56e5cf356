"""Pure rules of the live aggregates: ledger postings to transfers and counters, circulation."""
