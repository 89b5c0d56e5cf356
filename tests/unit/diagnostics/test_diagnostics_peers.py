"""Nearest peers on standardised indicators and percentile positions."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.diagnostics.errors import InvalidInput, UndefinedIndicator
from services.diagnostics.indicators.rules.peers import IndicatorTable, percentile_rank

# x: mean 13/4 = 3.25; sd = √((3.25² + 2.25² + 1.25² + 6.75²) / 4) = √15.6875 = 3.96075
# y: the same everywhere (sd = 0), so it is left out of distances
TABLE = IndicatorTable(
    {
        "A": {"x": 0.0, "y": 1.0},
        "B": {"x": 1.0, "y": 1.0},
        "C": {"x": 2.0, "y": 1.0},
        "D": {"x": 10.0, "y": 1.0, "z": 4.0},
        "E": {"x": None, "y": 1.0},
    }
)
SD = math.sqrt(15.6875)


def test_nearest_peers_use_z_score_distances():
    peers = TABLE.nearest_peers("A", k=3)
    # distances 1/sd, 2/sd, 10/sd; E has no x so it cannot be compared
    assert [p.territory for p in peers] == ["B", "C", "D"]
    assert peers[0].distance == pytest.approx(1 / SD)
    assert peers[2].distance == pytest.approx(10 / SD)


def test_nearest_peers_breaks_ties_by_code():
    table = IndicatorTable({"M": {"x": 1.0}, "L": {"x": 2.0}, "K": {"x": 0.0}})
    assert [p.territory for p in table.nearest_peers("M", k=2)] == ["K", "L"]


def test_percentile_is_a_mid_rank():
    # B: 1 value below (A), itself equal, among 4 defined values: 100 · (1 + 0.5) / 4
    assert TABLE.percentile("B", "x") == 37.5
    # everybody equal on y: 50th percentile
    assert TABLE.percentile("A", "y") == 50.0


def test_percentile_of_an_undefined_value_is_undefined():
    with pytest.raises(UndefinedIndicator):
        TABLE.percentile("E", "x")


def test_percentiles_cover_the_defined_indicators():
    assert set(TABLE.percentiles("D")) == {"x", "y", "z"}


def test_unknown_territory_is_refused():
    with pytest.raises(InvalidInput):
        TABLE.nearest_peers("Q")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=-1e6, max_value=1e6), min_size=1, max_size=50))
def test_percentile_rank_is_between_zero_and_hundred(values):
    for value in values:
        assert 0.0 < percentile_rank(value, values) <= 100.0
