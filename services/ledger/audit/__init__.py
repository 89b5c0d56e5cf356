"""Audit: the per-currency hash chain (sealed after commit, verified on demand) and the
journal exports (FEC, CSV)."""
