"""The only service routes the gateway forwards without a token: an explicit allowlist.

Default deny stays the rule (`proxy.authenticate`): a request reaches a service without a
token only when its service, method and exact path are listed here. Every listed route is
a read (GET) of data its publisher chose to make public: the directory of accepting
businesses (listed with their consent) and the open data of the currencies whose operator
opted in. A write to the same path, or any other path, still needs a valid token (401).

The caller's Authorization header is not forwarded on a public route: the service answers
the same thing to everyone, so the answer is cacheable by any shared cache.
``tests/contract/test_every_endpoint_declares_a_scope.py`` names these routes one by one.
"""

from __future__ import annotations

PUBLIC_METHODS = frozenset({"GET"})
PUBLIC_ROUTES: frozenset[tuple[str, str]] = frozenset(
    {
        ("ledger", "/public/directory"),
        ("ledger", "/public/directory.geojson"),
        ("diagnostics", "/public/opendata/currency-figures.json"),
        ("diagnostics", "/public/opendata/currency-figures.csv"),
    }
)


def is_public(service: str, method: str, path: str) -> bool:
    """Whether ``method path`` of ``service`` (the decoded path inside the service, without
    the query) may be served to a caller without a token."""
    return method in PUBLIC_METHODS and (service, path) in PUBLIC_ROUTES
