"""Commune boundaries simplified once, at import, without slivers between neighbours.

The wheel's boundaries are WKB multipolygons in longitude/latitude (WGS 84), about 31
vertices per commune already. Simplifying each polygon on its own would open gaps and
overlaps along shared borders; shapely's ``coverage_simplify`` (GEOS ≥ 3.12) simplifies
the shared edges once for both neighbours, so the communes still tile the territory.
Only COM rows form a coverage (a commune déléguée overlaps its commune), so only they are
simplified and stored. Whole of France: ~2 s on one core for 34,867 boundaries.
"""

from __future__ import annotations

from collections.abc import Sequence

import shapely

TOLERANCE_DEGREES = 0.002
"""About 150–220 m in metropolitan France: enough for a regional map, 25 % fewer vertices."""


def simplify_coverage(
    boundaries: Sequence[bytes], tolerance: float = TOLERANCE_DEGREES
) -> list[bytes]:
    """The WKB boundaries of a coverage (communes that tile a territory), simplified
    together; the result keeps the order of the input."""
    if not boundaries:
        return []
    geometries = shapely.from_wkb(list(boundaries))
    simplified = shapely.coverage_simplify(geometries, tolerance)
    return [bytes(w) for w in shapely.to_wkb(simplified)]


def vertices(boundaries: Sequence[bytes]) -> int:
    """How many vertices the boundaries have (to report what simplification saved)."""
    if not boundaries:
        return 0
    return int(shapely.get_num_coordinates(shapely.from_wkb(list(boundaries))).sum())
