"""Near-tie slack shared by the numpy distance searches (k-means, nearest peers).

:mod:`.kmeans` and :mod:`.peers` rank candidates by squared Euclidean distances computed
in numpy, but their plain-Python references measure with ``math.dist``, and the two do
not round alike: they differ by a few ulps (~1e-15 relative), and squared differences
below ~1e-308 underflow to zero in numpy but not in ``math.dist``. So numpy's ranking is
trusted only where it cannot be wrong: any candidate within :func:`near_tie_cutoff` of
the one that decides (the nearest centre, the k-th peer) is measured again with
``math.dist``, which makes the vectorised results those of the references to the last
bit (tests/property/diagnostics; docs/decisions/diagnostics-exact-vectorised-searches.md).
"""

from __future__ import annotations

import numpy as np

RELATIVE_SLACK = 1e-12
"""Relative tolerance on numpy's squared distances: wide enough that rounding (a few
ulps, ~1e-15 relative) can never hide a near-tie, narrow enough that the candidates
measured again with ``math.dist`` stay a handful."""

ABSOLUTE_SLACK = 1e-300
"""Squared differences below ~1e-308 underflow in numpy but not in ``math.dist``."""


def near_tie_cutoff(squared: np.ndarray) -> np.ndarray:
    """Largest squared distance (numpy's) that may still tie with ``squared`` in ``math.dist``.

    Element-wise; a candidate at or below the cutoff must be measured again.
    """
    return squared * (1 + RELATIVE_SLACK) + ABSOLUTE_SLACK
