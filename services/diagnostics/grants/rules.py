"""The instruments' figures of a territory summed from its départements', without I/O.

Funding publishes one set of figures per département. A région's are the sums of its
départements' amounts; its leverage and repayment rate are recomputed from those sums,
never averaged (a small département would weigh as much as a large one). The two ratios
are funding's definitions (``services/funding/instruments/rules.py``): bank credit per euro
of public money; the share of what fell due that came back, capped at 1 because early
repayments do not count twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

AMOUNTS = ("instruments", "public_cents", "bank_loans_cents", "due_cents", "repaid_cents")


@dataclass(frozen=True)
class Figures:
    """One département's figures, as funding published them (euro cents)."""

    territory: str
    as_of: date
    instruments: int
    public_cents: int
    bank_loans_cents: int
    due_cents: int
    repaid_cents: int
    losses_cents: int


def leverage(bank_credit_cents: int, public_cents: int) -> float | None:
    """Bank credit brought in per euro of public money; None without public money."""
    if public_cents <= 0:
        return None
    return round(bank_credit_cents / public_cents, 4)


def repayment_rate(repaid_cents: int, due_cents: int) -> float | None:
    """Share of what fell due that came back (capped at 1); None when nothing fell due."""
    if due_cents <= 0:
        return None
    return round(min(repaid_cents, due_cents) / due_cents, 4)


def summed(territory: str, members: Sequence[Figures]) -> dict[str, Any]:
    """The figures of ``territory`` from its départements' (itself, for a département):
    zeros, no day and no ratios when none has any. ``as_of`` is the oldest member's day:
    the sum holds at least up to it."""
    totals = {name: sum(getattr(m, name) for m in members) for name in AMOUNTS}
    losses = sum(m.losses_cents for m in members)
    return {
        "territory": territory,
        "departements": sorted(m.territory for m in members),
        "as_of": min((m.as_of for m in members), default=None),
        **totals,
        "losses_cents": losses,
        "leverage": leverage(totals["bank_loans_cents"], totals["public_cents"]),
        "repayment_rate": repayment_rate(totals["repaid_cents"], totals["due_cents"]),
    }
