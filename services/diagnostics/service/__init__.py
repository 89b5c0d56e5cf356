"""Use cases of the diagnostics service: they load through the repository, call the pure
domain, and only flush; the request or the consumer runner commits."""
