"""Pure rules of the funding service: workflow, budget, committee, tranches, eligibility.

No I/O here: every function takes values and returns new values or raises a
``FundingDomainError``, so the store and API layers can be tested apart from these rules.
"""
