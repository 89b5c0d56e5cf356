"""HTTP plumbing every ledger router uses: scopes, keyset pagination, idempotent requests,
bodies read from bytes, the base request and response models, file responses."""
