"""Employment indicators: proximity jobs, multipliers, specialisation, shift-share."""

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.diagnostics.errors import InvalidInput, UndefinedIndicator
from services.diagnostics.indicators.rules.employment import (
    base_multiplier_income,
    base_multiplier_jobs,
    income_per_proximity_job,
    krugman_index,
    location_quotients,
    multiplier_from_local_propensity,
    presentielle_share,
    proximity_jobs_per_million,
    sector_hhi,
    shift_share,
)


def test_seed_zone_with_80000_euros_per_proximity_job():
    # 800,000,000 € of basic income / 10,000 proximity jobs = 80,000 € per job
    assert income_per_proximity_job(800_000_000, 10_000) == 80_000.0
    # inverse: 10,000 jobs / 800 M€ = 12.5 jobs per M€
    assert proximity_jobs_per_million(800_000_000, 10_000) == 12.5


def test_seed_zone_with_170000_euros_per_proximity_job():
    # 1,700,000,000 € / 10,000 jobs = 170,000 € per job; 10,000 / 1,700 M€ = 5.882 jobs per M€
    assert income_per_proximity_job(1_700_000_000, 10_000) == 170_000.0
    assert proximity_jobs_per_million(1_700_000_000, 10_000) == pytest.approx(5.882353, abs=1e-6)


def test_zero_proximity_jobs_is_undefined_not_a_division_error():
    with pytest.raises(UndefinedIndicator):
        income_per_proximity_job(1_000_000, 0)


def test_presentielle_share_worked_example():
    assert presentielle_share(presentielle_jobs=650, productive_jobs=350) == 0.65  # 650 / 1000


def test_presentielle_share_of_a_territory_without_jobs_is_undefined():
    with pytest.raises(UndefinedIndicator):
        presentielle_share(presentielle_jobs=0, productive_jobs=0)


def test_base_multiplier_jobs_worked_example():
    assert base_multiplier_jobs(3_000, 1_000) == 3.0  # k = 3000 / 1000


def test_base_multiplier_refuses_more_basic_than_total_jobs():
    with pytest.raises(InvalidInput):
        base_multiplier_jobs(100, 200)


def test_base_multiplier_income_worked_example():
    assert base_multiplier_income(2_500_000, 1_000_000) == 2.5  # k_Y = 2.5 M€ / 1 M€


def test_multiplier_from_local_propensity_worked_example():
    assert multiplier_from_local_propensity(0.6) == pytest.approx(2.5)  # 1 / (1 − 0.6)
    with pytest.raises(InvalidInput):
        multiplier_from_local_propensity(1.0)


LOCAL = {"A": 30, "B": 70}
REFERENCE = {"A": 100, "B": 900}


def test_location_quotients_worked_example():
    # A: (30/100) / (100/1000) = 0.3 / 0.1 = 3; B: 0.7 / 0.9 = 0.7778
    lq = location_quotients(LOCAL, REFERENCE)
    assert lq["A"] == pytest.approx(3.0)
    assert lq["B"] == pytest.approx(7 / 9)


def test_krugman_index_worked_example():
    # |0.3 − 0.1| + |0.7 − 0.9| = 0.4
    assert krugman_index(LOCAL, REFERENCE) == pytest.approx(0.4)


def test_local_sector_missing_from_reference_is_refused():
    with pytest.raises(InvalidInput):
        location_quotients({"A": 1, "Z": 1}, {"A": 10})


def test_sector_hhi_worked_example():
    # 0.3² + 0.7² = 0.09 + 0.49 = 0.58; normalised (0.58 − 0.5) / 0.5 = 0.16
    assert sector_hhi(LOCAL) == pytest.approx(0.58)
    assert sector_hhi(LOCAL, normalised=True) == pytest.approx(0.16)


def test_shift_share_worked_example():
    # Reference grows 4000 → 4200: G = 0.05; sector A 1000 → 1200: g_A = 0.2; B flat: g_B = 0.
    result = shift_share(
        local_start={"A": 100, "B": 200},
        local_end={"A": 120, "B": 190},
        reference_start={"A": 1000, "B": 3000},
        reference_end={"A": 1200, "B": 3000},
    )
    a, b = result.sectors
    # A: RS = 100 · 0.05 = 5; IM = 100 · (0.2 − 0.05) = 15; CE = 20 − 100 · 0.2 = 0
    assert (a.change, a.reference_growth, a.industry_mix, a.competitive) == (20, 5, 15, 0)
    # B: RS = 200 · 0.05 = 10; IM = 200 · (0 − 0.05) = −10; CE = −10 − 0 = −10
    assert (b.change, b.reference_growth, b.industry_mix, b.competitive) == (-10, 10, -10, -10)
    assert (result.change, result.reference_growth, result.industry_mix, result.competitive) == (
        10,
        15,
        5,
        -10,
    )


def test_shift_share_puts_a_new_local_sector_in_the_competitive_effect():
    result = shift_share(
        local_start={"A": 10},
        local_end={"A": 10, "B": 5},
        reference_start={"A": 100, "B": 100},
        reference_end={"A": 100, "B": 150},
    )
    new = next(s for s in result.sectors if s.sector == "B")
    assert (new.reference_growth, new.industry_mix, new.competitive) == (0, 0, 5)


sector_names = st.sampled_from(["AZ", "BE", "FZ", "G47", "OQ"])
jobs = st.integers(min_value=0, max_value=100_000)


@st.composite
def shift_share_inputs(draw):
    sectors = draw(st.lists(sector_names, min_size=1, max_size=5, unique=True))
    reference_start = {s: draw(st.integers(min_value=1, max_value=1_000_000)) for s in sectors}
    return {
        "local_start": {s: draw(jobs) for s in sectors},
        "local_end": {s: draw(jobs) for s in sectors},
        "reference_start": reference_start,
        "reference_end": {s: draw(st.integers(min_value=0, max_value=1_000_000)) for s in sectors},
    }


@settings(max_examples=200, deadline=None)
@given(shift_share_inputs())
def test_shift_share_components_sum_exactly_to_the_change(inputs):
    result = shift_share(**inputs)
    expected = sum(inputs["local_end"].values()) - sum(inputs["local_start"].values())
    assert result.change == expected
    assert result.reference_growth + result.industry_mix + result.competitive == expected
    for sector in result.sectors:
        assert isinstance(sector.competitive, Fraction)
        assert sector.reference_growth + sector.industry_mix + sector.competitive == sector.change


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(sector_names, st.integers(min_value=1, max_value=10**6), min_size=1))
def test_location_quotients_average_to_one_with_reference_weights(reference):
    local = {s: n // 2 + 1 for s, n in reference.items()}
    lq = location_quotients(local, reference)
    total = sum(reference.values())
    assert sum(reference[s] / total * q for s, q in lq.items()) == pytest.approx(1.0)
    assert 0.0 <= krugman_index(local, reference) <= 2.0
