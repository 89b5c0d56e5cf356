"""Pure rules of the official geography (no database, no web framework)."""
