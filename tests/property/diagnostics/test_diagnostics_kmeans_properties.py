"""The numpy Lloyd iterations and the incremental k-means++ seeding give exactly what the
plain-Python definitions give: same draws, same assignments, same centres to the last bit."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from services.diagnostics.indicators.rules.kmeans import (
    distance2,
    lloyd,
    lloyd_reference,
    seed_centroids,
)

coordinate = st.one_of(
    st.sampled_from([0.0, 1.0, -1.0, 0.5, 1e-200]),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False),
)


@st.composite
def point_sets(draw, *, lattice: bool = False):
    dimension = draw(st.integers(1, 4))
    value = st.integers(-2, 2).map(float) if lattice else coordinate
    point = st.tuples(*(value for _ in range(dimension)))
    return draw(st.lists(point, min_size=1, max_size=40))


def seed_centroids_by_definition(points, k, rng):
    """k-means++ as first written: each round recomputes d² over every centre so far."""
    centroids = [points[rng.randrange(len(points))]]
    while len(centroids) < k:
        weights = [min(distance2(p, c) for c in centroids) for p in points]
        centroids.append(rng.choices(points, weights=weights)[0])
    return centroids


@settings(max_examples=300, deadline=None)
@given(points=point_sets(), k=st.integers(1, 6), seed=st.integers(0, 2**32))
def test_incremental_seeding_draws_the_same_centres(points, k, seed):
    k = min(k, len(set(points)))
    try:
        expected = seed_centroids_by_definition(points, k, random.Random(seed))
    except ValueError:  # all weights underflow to zero: both must refuse
        expected = None
    try:
        got = seed_centroids(points, k, random.Random(seed))
    except ValueError:
        got = None
    assert got == expected


@settings(max_examples=300, deadline=None)
@given(
    data=st.data(),
    points=st.one_of(point_sets(), point_sets(lattice=True)),
    iterations=st.integers(0, 30),
)
def test_numpy_lloyd_equals_the_reference(data, points, iterations):
    # Centres drawn among the points (as seeding does) or anywhere, including duplicates
    # and centres no point is nearest to, so the empty-cluster path runs too.
    dimension = len(points[0])
    anywhere = st.tuples(*(coordinate for _ in range(dimension)))
    centroids = data.draw(
        st.lists(st.one_of(st.sampled_from(points), anywhere), min_size=1, max_size=6)
    )
    reference_centroids = list(centroids)
    expected = lloyd_reference(points, reference_centroids, iterations)
    got_centroids = list(centroids)
    got = lloyd(points, got_centroids, iterations)
    assert got == expected
    assert got_centroids == reference_centroids
