"""Commune boundaries simplified once, at import, without slivers between neighbours.

The wheel's boundaries are WKB multipolygons in longitude/latitude (WGS 84), about 31
vertices per commune already. Simplifying each polygon on its own would open gaps and
overlaps along shared borders; shapely's ``coverage_simplify`` (GEOS ≥ 3.12) simplifies
the shared edges once for both neighbours, so the communes still tile the territory.
Only COM rows form a coverage (a commune déléguée overlaps its commune), so only they are
simplified and stored. Whole of France: about 2 s on one core for its 34,867 boundaries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import shapely
from shapely.errors import GEOSException

TOLERANCE_DEGREES = 0.003
"""About 220–330 m in metropolitan France, enough for a regional map: the whole of France
goes from 1,084,009 to about 814,000 vertices (0.002 saves only 1.5 %: the source is
already simplified about that much)."""


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


def union_by_parent(members: Mapping[str, Sequence[bytes]]) -> dict[str, bytes]:
    """Each parent's boundary (EPCI, zone d'emploi, département, région) as the union of
    its member communes' simplified boundaries (WKB). The communes were simplified as one
    coverage, so ``coverage_union_all`` dissolves their shared edges exactly and fast; a
    group that is not a clean coverage (a commune missing, overlapping rings) falls back
    to the general union."""
    out: dict[str, bytes] = {}
    for parent, boundaries in members.items():
        if not boundaries:
            continue
        geometries = shapely.from_wkb(list(boundaries))
        try:
            merged = shapely.coverage_union_all(geometries)
        except GEOSException:
            merged = shapely.union_all(geometries)
        if not merged.is_valid:
            merged = shapely.union_all(shapely.make_valid(geometries))
        out[parent] = bytes(shapely.to_wkb(merged))
    return out
