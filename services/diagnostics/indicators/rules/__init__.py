"""Pure rules of the indicators: every formula, the peer search, the typology and the report."""
