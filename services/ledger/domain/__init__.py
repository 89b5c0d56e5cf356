"""Pure rules of the ledger: no I/O, no database, no web framework.

Modules, one concept each: ``errors`` (every refusal, with its problem+json code),
``currencies`` (kinds and operator rules), ``accounts`` (types, statuses, bounds),
``postings`` (double-entry validation, reversal), ``holds`` (two-phase payments),
``demurrage`` (melting balances), ``conversion`` (issuance, reconversion, reserve),
``programmes`` (earmarked voucher credits). The store and API call these before writing.
"""
