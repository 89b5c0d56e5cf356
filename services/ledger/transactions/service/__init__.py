"""Use cases of transactions: one transaction and the reads (`single`), batches
(`batch`), reversals (`reversal`)."""
