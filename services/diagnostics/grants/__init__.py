"""Live grant aggregates from the funding service's budget and payment events."""
