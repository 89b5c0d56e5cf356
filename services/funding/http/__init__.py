"""HTTP plumbing every funding router uses: scopes, keyset pages, field types, problems."""
