"""A page of boundaries as a GeoJSON FeatureCollection, without I/O."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import shapely

LEVELS = ("epci", "zone_emploi", "departement", "region")
"""Levels whose boundaries are unions of their communes' (a commune's own is served by
``/territories/{code}/boundary``)."""


def feature_collection(page: Sequence[dict[str, Any]], next_cursor: str | None) -> str:
    """The page as GeoJSON (RFC 7946, longitude/latitude): one Feature per territory with
    its code, name, level and ``synthetic`` (a zoning generated for the demo or the bench,
    never official); ``geometry`` is null when the sources have no boundary for it.
    ``next_cursor`` is a foreign member, as RFC 7946 allows."""
    features = [
        {
            "type": "Feature",
            "id": item["code"],
            "geometry": None
            if item["geometry"] is None
            else json.loads(shapely.to_geojson(shapely.from_wkb(item["geometry"]))),
            "properties": {
                "code": item["code"],
                "name": item["name"],
                "level": item["level"],
                "synthetic": item["synthetic"],
            },
        }
        for item in page
    ]
    return json.dumps(
        {"type": "FeatureCollection", "features": features, "next_cursor": next_cursor},
        ensure_ascii=False,
    )
