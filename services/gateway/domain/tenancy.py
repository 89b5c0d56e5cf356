"""Which live events a caller may see, given its tenant bindings.

Rule (default deny, the same in the SSE stream and the dashboard summary): an event is
visible when the caller is bound to EVERY tenant the event names: its territory, its
currency and its programme, each checked only if the event carries it. An admin sees all.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.auth import Principal, TenantKind


@dataclass(frozen=True, slots=True)
class Tags:
    """The tenants a stream event belongs to (None = the event says nothing of that kind)."""

    territory: str | None = None
    currency: str | None = None
    programme: str | None = None

    def items(self) -> tuple[tuple[TenantKind, str | None], ...]:
        return (
            ("territories", self.territory),
            ("currencies", self.currency),
            ("programmes", self.programme),
        )


def is_visible(principal: Principal, tags: Tags) -> bool:
    return all(
        principal.may_access(kind, value) for kind, value in tags.items() if value is not None
    )


@dataclass(frozen=True, slots=True)
class TenantFilter:
    """The same rule in a form a SQL query can use: for each kind, the allowed values, or
    None when every value is allowed."""

    territories: frozenset[str] | None
    currencies: frozenset[str] | None
    programmes: frozenset[str] | None

    @classmethod
    def of(cls, principal: Principal) -> TenantFilter:
        return cls(
            territories=principal.visible("territories"),
            currencies=principal.visible("currencies"),
            programmes=principal.visible("programmes"),
        )
