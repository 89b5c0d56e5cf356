"""Transactions: the posting path (one transaction, batches, reversals) and its reads."""
