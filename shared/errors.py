"""The one framework-free base of every error meant for a client.

Domain packages (pure rules, no FastAPI) raise subclasses of `DomainError`; each carries the
HTTP status, a stable machine-readable ``code`` and a ``title``, plus free ``extra`` fields.
`shared.problems` renders any of them as RFC 9457 problem+json, so no endpoint builds an
error response by hand, and each service declares its errors next to the concept that
raises them.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """An error a client can act on: status, code, title, detail and extra fields."""

    status: ClassVar[int] = 422
    code: ClassVar[str] = "rule-violated"
    title: ClassVar[str] = "Business rule violated"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail: str = detail or self.title
        self.extra: dict[str, Any] = extra
