"""HTTP plumbing every diagnostics router uses: scopes, keyset pages, shared parameters."""
