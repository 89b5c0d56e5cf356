"""Use cases of the indicators, over the computed year of `year` (loaded once, cached)."""
