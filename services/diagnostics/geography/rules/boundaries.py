"""Commune boundaries simplified once, at import, without slivers between neighbours.

The wheel's boundaries are WKB multipolygons in longitude/latitude (WGS 84), about 31
vertices per commune already. Simplifying each polygon on its own would open gaps and
overlaps along shared borders; shapely's ``coverage_simplify`` (GEOS ≥ 3.12) simplifies
the shared edges once for both neighbours, so the communes still tile the territory.
Only COM rows form a coverage (a commune déléguée overlaps its commune), so only they are
simplified and stored. Whole of France: about 2 s on one core for its 34,867 boundaries.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

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


COORDINATE_GRID = 1e-4
"""About 10 m: far below the simplification tolerance, and it halves the GeoJSON's size."""


def merged(boundaries: Sequence[bytes]) -> bytes | None:
    """The boundary of a territory made of communes (an EPCI, a département): the union of
    its communes' simplified boundaries, which tile it (a coverage: the union is then exact
    and fast); None when none of its communes has a boundary."""
    if not boundaries:
        return None
    geometries = shapely.from_wkb(list(boundaries))
    # GEOS's coverage union trusts its input (overlaps are summed, not merged): checked
    # first, it is still twice as fast as a general union (Isère: 0.06 s against 0.12 s).
    if shapely.coverage_is_valid(geometries):
        union = shapely.coverage_union_all(geometries)
    else:
        union = shapely.union_all(shapely.make_valid(geometries))
    return bytes(shapely.to_wkb(union))


def geojson_geometry(boundary: bytes) -> str:
    """A boundary as a GeoJSON geometry (longitude/latitude), its coordinates rounded to a
    10 m grid point by point (no topology repair: it fails on some unions and a map does
    not need it)."""
    geometry = shapely.set_precision(shapely.from_wkb(boundary), COORDINATE_GRID, mode="pointwise")
    return str(shapely.to_geojson(geometry))


FEATURE_PROPERTIES = ("code", "name", "level", "population", "synthetic")
"""``synthetic`` marks a zoning generated for the demo or the bench, never official."""


def feature_collection(features: Sequence[Mapping[str, Any]], *, next_cursor: str | None) -> str:
    """GeoJSON text of territories whose ``geometry`` is already GeoJSON text (so the
    geometries are not parsed again only to be serialised), with ``next_cursor`` at the top
    level (a foreign member, allowed by RFC 7946)."""
    parts = []
    for f in features:
        properties = json.dumps({k: f[k] for k in FEATURE_PROPERTIES}, ensure_ascii=False)
        parts.append(
            f'{{"type":"Feature","id":{json.dumps(f["code"])},'
            f'"properties":{properties},"geometry":{f["geometry"]}}}'
        )
    return (
        f'{{"type":"FeatureCollection","features":[{",".join(parts)}],'
        f'"next_cursor":{json.dumps(next_cursor)}}}'
    )


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
