"""The ledger's database plumbing: its Core tables, the asyncpg fast path of the hot
statements, and the outbox its events are written to."""
