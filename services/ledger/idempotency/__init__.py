"""Idempotency keys: a client's key claimed once, with the answer a replay returns."""
