"""Commercial retention and leakage."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.diagnostics.errors import InvalidInput, UndefinedIndicator
from services.diagnostics.indicators.rules.retention import (
    attraction_ratio,
    leakage_rate,
    retention,
    retention_by_category,
    retention_rate,
)


def test_retention_worked_example():
    # 700,000 € spent locally out of a 1,000,000 € potential
    result = retention(consumption_potential=1_000_000, local_spending=700_000)
    assert result.retention_rate == 0.7
    assert result.leakage_rate == 0.3  # (1,000,000 − 700,000) / 1,000,000
    assert result.leaked_amount == 300_000


def test_rates_as_separate_functions():
    assert retention_rate(consumption_potential=400, local_spending=100) == 0.25
    assert leakage_rate(consumption_potential=400, local_spending=100) == 0.75


def test_local_spending_above_potential_is_refused():
    with pytest.raises(InvalidInput):
        retention(consumption_potential=100, local_spending=101)


def test_zero_potential_is_undefined():
    with pytest.raises(UndefinedIndicator):
        retention_rate(consumption_potential=0, local_spending=0)


def test_retention_by_category_skips_empty_categories():
    result = retention_by_category({"food": 200, "equipment": 100, "none": 0}, {"food": 180})
    assert set(result) == {"equipment", "food"}
    assert result["food"].retention_rate == 0.9  # 180 / 200
    assert result["equipment"].leakage_rate == 1.0  # nothing bought locally


def test_attraction_ratio_worked_example():
    # local shops sell 1.2 M€ while residents' potential is 1 M€: a commercial pole
    assert attraction_ratio(local_turnover=1_200_000, consumption_potential=1_000_000) == 1.2


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=10**12), st.floats(min_value=0, max_value=1))
def test_retention_and_leakage_add_up_to_one(potential, fraction):
    local = int(potential * fraction)
    result = retention(consumption_potential=potential, local_spending=local)
    assert 0.0 <= result.retention_rate <= 1.0
    assert result.retention_rate + result.leakage_rate == pytest.approx(1.0)
    assert result.leaked_amount + result.local_spending == potential
