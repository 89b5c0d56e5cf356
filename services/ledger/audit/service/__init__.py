"""Use cases of the audit: the sealer appending committed transactions to the chains
(`sealer`), their verification (`verification`), and the journal exports (`journal`)."""
