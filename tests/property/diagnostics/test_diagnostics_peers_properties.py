"""The batch peer search and percentile ranking give exactly what the one-territory
reference definitions give, on random tables full of ties, gaps and extreme values."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from services.diagnostics.indicators.rules.peers import (
    IndicatorTable,
    percentile_rank,
    percentile_ranks,
)

NAMES = ("a", "b", "c", "d")

# A few repeated values make ties (equal distances, equal ranks) common; the wide floats
# make near-ties and very different scales.
value = st.one_of(
    st.none(),
    st.sampled_from([0.0, 1.0, 2.0, -1.0, 1e-200, 3.5]),
    st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False),
)
row = st.fixed_dictionaries({}, optional=dict.fromkeys(NAMES, value))
table_rows = st.dictionaries(
    st.text(alphabet="ABCDEFGH", min_size=1, max_size=2), row, min_size=1, max_size=40
)


indicator_sets = st.none() | st.lists(st.sampled_from(NAMES), unique=True, max_size=4)


@settings(max_examples=300, deadline=None)
@given(
    rows=table_rows,
    questions=st.lists(st.tuples(st.integers(0, 8), indicator_sets), min_size=1, max_size=3),
)
def test_batch_nearest_peers_equal_the_reference(rows, questions):
    # Several questions on one table: searches memoised for one (k, indicators) must not
    # leak into another, whatever territories (with gaps of their own) asked first.
    table = IndicatorTable(rows)
    for k, indicators in questions:
        for code in rows:
            assert table.nearest_peers(
                code, k=k, indicators=indicators
            ) == table.nearest_peers_reference(code, k=k, indicators=indicators)


@settings(max_examples=100, deadline=None)
@given(
    points=st.lists(
        st.tuples(*(st.integers(-3, 3) for _ in NAMES)), min_size=2, max_size=60, unique=False
    )
)
def test_batch_nearest_peers_equal_the_reference_on_a_lattice(points):
    # Integer points give many exactly equal distances, decided by territory code.
    table = IndicatorTable(
        {f"T{i:03d}": dict(zip(NAMES, map(float, p), strict=True)) for i, p in enumerate(points)}
    )
    for code in table.territories:
        assert table.nearest_peers(code, k=5) == table.nearest_peers_reference(code, k=5)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from([0.0, -0.0, 1.0, 2.5]),
            st.floats(allow_nan=False, allow_infinity=False),
        ),
        min_size=1,
        max_size=80,
    )
)
def test_percentile_ranks_equal_the_scalar_rank_of_each_value(values):
    assert percentile_ranks(values) == [percentile_rank(v, values) for v in values]


@settings(max_examples=200, deadline=None)
@given(rows=table_rows)
def test_table_percentiles_equal_the_scalar_rank_among_defined_values(rows):
    table = IndicatorTable(rows)
    for code, values in rows.items():
        expected = {
            name: percentile_rank(v, [r[name] for r in rows.values() if r.get(name) is not None])
            for name, v in sorted(values.items())
            if v is not None
        }
        assert table.percentiles(code) == expected


@settings(max_examples=15, deadline=None)
@given(
    points=st.lists(st.tuples(*(st.integers(-4, 4) for _ in NAMES)), min_size=520, max_size=700),
    spread=st.sampled_from([1.0, 1e-3, 1e6]),
)
def test_pruned_search_of_a_large_space_equals_the_reference(points, spread):
    # From _PRUNE_FROM territories the search only compares a leaf with the territories
    # inside its box: on a lattice (ties everywhere, decided by code) and with one far
    # outlier, it must still find exactly the reference's peers.
    rows = {
        f"T{i:04d}": {n: float(v) * spread for n, v in zip(NAMES, p, strict=True)}
        for i, p in enumerate(points)
    }
    rows["Z9999"] = dict.fromkeys(NAMES, 1e3 * spread)
    table = IndicatorTable(rows)
    for code in table.territories:
        assert table.nearest_peers(code, k=5) == table.nearest_peers_reference(code, k=5)
