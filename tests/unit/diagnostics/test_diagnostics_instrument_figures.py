"""A territory's instruments' figures are sums of its départements', ratios recomputed."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from services.diagnostics.grants.rules import Figures, summed


def _dep(code: str, day: date, public: int, bank: int, due: int, repaid: int) -> Figures:
    return Figures(code, day, 1, public, bank, due, repaid, losses_cents=-5)


def test_ratios_come_from_the_sums_never_from_a_mean() -> None:
    small = _dep("38", date(2026, 12, 6), 100, 900, 10, 10)  # leverage 9, fully repaid
    large = _dep("74", date(2026, 12, 7), 10_000, 10_000, 1_000, 0)  # leverage 1, nothing back
    out = summed("82", [large, small])
    assert out["departements"] == ["38", "74"] and out["as_of"] == date(2026, 12, 6)
    assert (out["public_cents"], out["bank_loans_cents"], out["losses_cents"]) == (
        10_100,
        10_900,
        -10,
    )
    assert out["leverage"] == round(10_900 / 10_100, 4)  # not (9 + 1) / 2
    assert out["repayment_rate"] == round(10 / 1_010, 4)  # not (1 + 0) / 2


def test_no_departement_gives_zeros_and_no_ratio() -> None:
    out = summed("38001", [])
    assert (out["departements"], out["as_of"], out["instruments"]) == ([], None, 0)
    assert (out["leverage"], out["repayment_rate"]) == (None, None)


@given(st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 10**9)), max_size=8))
def test_repayment_rate_stays_within_zero_and_one(pairs: list[tuple[int, int]]) -> None:
    members = [
        _dep(f"{i:02d}", date(2026, 1, 1), 1, 1, due, repaid)
        for i, (due, repaid) in enumerate(pairs)
    ]
    rate = summed("84", members)["repayment_rate"]
    assert rate is None or 0 <= rate <= 1
    assert (rate is None) == (sum(due for due, _ in pairs) == 0)
