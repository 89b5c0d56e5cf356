"""HTTP plumbing every router of the gateway uses: its process-wide components as
dependencies (`components`), the scopes its endpoints require (`scopes`) and the base of
its request and response bodies (`bodies`)."""
