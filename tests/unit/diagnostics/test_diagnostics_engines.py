"""Engines of development: bases, shares, balance measures (hand-computed examples)."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.diagnostics.errors import InvalidInput, UndefinedIndicator
from services.diagnostics.indicators.rules.engines import (
    BasicIncome,
    Engine,
    basic_income,
    basic_income_per_inhabitant,
    engine_bases,
    engine_profile,
    engine_shares,
    herfindahl,
    normalised_herfindahl,
    shannon_entropy,
)

EXAMPLE = BasicIncome(
    productive_wages=300,
    productive_self_employed=100,
    pensions=200,
    commuter_wages=100,
    tourism_spending=50,
    property_income=50,
    public_wages=100,
    social_transfers=100,
)


def test_engine_bases_sum_their_components():
    # productive 300 + 100; residential 200 + 100 + 50 + 50; public 100; social 100
    assert engine_bases(EXAMPLE) == {
        Engine.PRODUCTIVE: 400,
        Engine.RESIDENTIAL: 400,
        Engine.PUBLIC: 100,
        Engine.SOCIAL: 100,
    }


def test_basic_income_is_the_sum_of_the_four_bases():
    assert basic_income(EXAMPLE) == 400 + 400 + 100 + 100


def test_engine_shares_divide_each_base_by_basic_income():
    # 400/1000, 400/1000, 100/1000, 100/1000
    assert engine_shares(EXAMPLE) == {
        Engine.PRODUCTIVE: 0.4,
        Engine.RESIDENTIAL: 0.4,
        Engine.PUBLIC: 0.1,
        Engine.SOCIAL: 0.1,
    }


def test_basic_income_per_inhabitant_divides_by_population():
    assert basic_income_per_inhabitant(1000, 50) == 20.0  # 1000 € / 50 inhabitants


def test_herfindahl_worked_example():
    # H = 0.4² + 0.4² + 0.1² + 0.1² = 0.16 + 0.16 + 0.01 + 0.01 = 0.34
    assert herfindahl(engine_bases(EXAMPLE)) == pytest.approx(0.34)


def test_normalised_herfindahl_worked_example():
    # H* = (0.34 − 1/4) / (1 − 1/4) = 0.09 / 0.75 = 0.12
    assert normalised_herfindahl(engine_bases(EXAMPLE)) == pytest.approx(0.12)


def test_shannon_entropy_worked_example():
    # E = −(2 · 0.4 ln 0.4 + 2 · 0.1 ln 0.1) = 0.733033 + 0.460517 = 1.193550 nats
    expected = -(2 * 0.4 * math.log(0.4) + 2 * 0.1 * math.log(0.1))
    assert shannon_entropy(engine_bases(EXAMPLE)) == pytest.approx(expected)
    assert expected == pytest.approx(1.193550, abs=1e-6)
    # evenness E / ln 4 = 1.193550 / 1.386294 = 0.860964
    assert shannon_entropy(engine_bases(EXAMPLE), normalised=True) == pytest.approx(
        0.860964, abs=1e-6
    )


def test_single_engine_is_fully_concentrated():
    one = {"productive": 5, "residential": 0, "public": 0, "social": 0}
    assert normalised_herfindahl(one) == 1.0
    assert shannon_entropy(one) == 0.0
    assert shannon_entropy(one, normalised=True) == 0.0


def test_engine_profile_gathers_everything():
    profile = engine_profile(EXAMPLE, 50)
    assert profile.basic_income == 1000
    assert profile.basic_income_per_inhabitant == 20.0
    assert profile.normalised_herfindahl == pytest.approx(0.12)
    # productive and residential tie at 0.4: the first in engine order wins
    assert profile.dominant_engine is Engine.PRODUCTIVE


def test_negative_component_is_refused():
    with pytest.raises(InvalidInput):
        BasicIncome(pensions=-1)


def test_float_component_is_refused():
    with pytest.raises(InvalidInput):
        BasicIncome(pensions=1.5)  # type: ignore[arg-type]


def test_zero_basic_income_makes_shares_undefined():
    with pytest.raises(UndefinedIndicator):
        engine_shares(BasicIncome())


def test_zero_population_makes_income_per_inhabitant_undefined():
    with pytest.raises(UndefinedIndicator):
        basic_income_per_inhabitant(1000, 0)


amounts = st.integers(min_value=0, max_value=10**12)
incomes = st.builds(
    BasicIncome,
    productive_wages=amounts,
    productive_self_employed=amounts,
    pensions=amounts,
    commuter_wages=amounts,
    tourism_spending=amounts,
    property_income=amounts,
    public_wages=amounts,
    social_transfers=amounts,
).filter(lambda income: basic_income(income) > 0)
bases = st.lists(st.integers(min_value=0, max_value=10**12), min_size=4, max_size=4).filter(
    lambda values: sum(values) > 0
)


@settings(max_examples=200, deadline=None)
@given(incomes)
def test_engine_shares_sum_to_one(income):
    assert math.isclose(sum(engine_shares(income).values()), 1.0, rel_tol=1e-12)


@settings(max_examples=200, deadline=None)
@given(bases)
def test_normalised_herfindahl_is_within_zero_and_one(values):
    h = normalised_herfindahl(dict(enumerate(values)))
    assert 0.0 <= h <= 1.0


@settings(max_examples=200, deadline=None)
@given(bases)
def test_normalised_herfindahl_is_zero_iff_shares_are_equal(values):
    h = normalised_herfindahl(dict(enumerate(values)))
    assert (h == 0.0) == (len(set(values)) == 1)


@settings(max_examples=200, deadline=None)
@given(bases)
def test_normalised_entropy_is_within_zero_and_one(values):
    evenness = shannon_entropy(dict(enumerate(values)), normalised=True)
    assert 0.0 <= evenness <= 1.0


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=1, max_value=10**12))
def test_equal_shares_have_maximal_entropy(value):
    assert shannon_entropy(dict.fromkeys(Engine, value), normalised=True) == pytest.approx(1.0)
