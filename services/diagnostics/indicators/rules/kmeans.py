"""Deterministic k-means (k-means++ seeding, Lloyd iterations) behind the clustered typology.

Points are tuples of floats; distances are Euclidean, computed with ``math.dist``; a point
goes to its nearest centre, ties to the lowest index; a centre moves to the ``math.fsum``
mean of its members; an emptied cluster is re-seeded with the point farthest from its own
centre. :func:`lloyd_reference` says all this in plain Python. :func:`lloyd` does the same
with the point-to-centre distances of all points at once in numpy, and goes back to
``math.dist`` for the rare point whose two nearest centres are within rounding of each
other, so both give the same assignments and centres to the last bit
(tests/property/diagnostics).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import numpy as np

from services.diagnostics.indicators.rules.distances import near_tie_cutoff

Point = tuple[float, ...]


def distance2(a: Sequence[float], b: Sequence[float]) -> float:
    """Squared Euclidean distance, as k-means++ weighs candidate centres."""
    return math.dist(a, b) ** 2


def nearest(point: Sequence[float], centroids: Sequence[Sequence[float]]) -> int:
    """Index of the centre nearest to ``point`` (the lowest index among equals)."""
    distances = [math.dist(point, centroid) for centroid in centroids]
    return distances.index(min(distances))


def mean(points: Sequence[Sequence[float]]) -> Point:
    """Coordinate-wise mean with exactly rounded sums (the order of points is irrelevant)."""
    return tuple(math.fsum(column) / len(points) for column in zip(*points, strict=True))


def seed_centroids(points: Sequence[Point], k: int, rng: random.Random) -> list[Point]:
    """k-means++: first centre drawn uniformly, then each with probability ∝ d².

    d² is the squared distance to the nearest centre drawn so far, kept up to date as
    each centre is added (the minimum is exact, so the weights, hence the draws, are
    those of recomputing it over all centres).
    """
    centroids = [points[rng.randrange(len(points))]]
    closest = [distance2(p, centroids[0]) for p in points]
    while len(centroids) < k:
        centroids.append(rng.choices(points, weights=closest)[0])
        if len(centroids) < k:
            newest = centroids[-1]
            closest = [min(d, distance2(p, newest)) for d, p in zip(closest, points, strict=True)]
    return centroids


def _farthest_from_own_centre(
    points: Sequence[Point], centroids: Sequence[Point], assignment: Sequence[int]
) -> int:
    return max(
        range(len(points)),
        key=lambda i: (distance2(points[i], centroids[assignment[i]]), -i),
    )


def lloyd_reference(
    points: Sequence[Point], centroids: list[Point], max_iterations: int
) -> tuple[list[int], int]:
    """Lloyd iterations until assignments stop changing: (assignment, iterations)."""
    assignment = [nearest(p, centroids) for p in points]
    iterations = 0
    while iterations < max_iterations:
        iterations += 1
        for c in range(len(centroids)):
            members = [p for p, a in zip(points, assignment, strict=True) if a == c]
            if members:
                centroids[c] = mean(members)
            else:
                centroids[c] = points[_farthest_from_own_centre(points, centroids, assignment)]
        updated = [nearest(p, centroids) for p in points]
        if updated == assignment:
            break
        assignment = updated
    return assignment, iterations


def _assign(matrix: np.ndarray, points: Sequence[Point], centroids: Sequence[Point]) -> list[int]:
    """:func:`nearest` of every point, vectorised; near-ties settled by :func:`nearest`."""
    centres = np.array(centroids, dtype=np.float64).reshape(len(centroids), -1)
    squared = np.zeros((len(points), len(centroids)))
    for j in range(centres.shape[1]):
        squared += np.square(matrix[:, j, None] - centres[None, :, j])
    assignment: list[int] = np.argmin(squared, axis=1).tolist()
    if len(centroids) > 1:
        two = np.partition(squared, 1, axis=1)
        close = two[:, 1] <= near_tie_cutoff(two[:, 0])
        for i in np.flatnonzero(close).tolist():
            assignment[i] = nearest(points[i], centroids)
    return assignment


def lloyd(
    points: Sequence[Point], centroids: list[Point], max_iterations: int
) -> tuple[list[int], int]:
    """:func:`lloyd_reference`, with distances and memberships computed in numpy."""
    matrix = np.array(points, dtype=np.float64).reshape(len(points), -1)
    columns = [matrix[:, j] for j in range(matrix.shape[1])]
    assignment = _assign(matrix, points, centroids)
    iterations = 0
    while iterations < max_iterations:
        iterations += 1
        labels = np.array(assignment)
        for c in range(len(centroids)):
            members = labels == c
            count = int(np.count_nonzero(members))
            if count:
                centroids[c] = tuple(math.fsum(col[members].tolist()) / count for col in columns)
            else:
                centroids[c] = points[_farthest_from_own_centre(points, centroids, assignment)]
        updated = _assign(matrix, points, centroids)
        if updated == assignment:
            break
        assignment = updated
    return assignment, iterations
