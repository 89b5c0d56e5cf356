"""Who may touch which application, envelope or programme (tenancy, on top of scopes).

Scopes say what kind of thing a client may do; tenant bindings say where. An applicant
sees only its own applications; staff see the applications of their programmes in their
territories; a territorial partner additionally needs the envelope delegated to it.
Lists filter in their query (`clauses`); a single row is checked once fetched (`checks`),
so that a row outside the tenancy is a 403, not a 404
(docs/decisions/funding-tenancy-in-queries.md).
"""
