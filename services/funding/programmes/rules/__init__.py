"""Pure rules of the programme catalogue: envelope budgets (AP/CP), territory codes,
eligibility, and which local accompanist instructs a file. No I/O."""
