"""Pure rules of the public directory: what a public profile shows, and its GeoJSON form.

What is public is decided here once, by an explicit list of fields (`PUBLIC_FIELDS`): the
consent record, the account id and who curated the profile never leave the ledger.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

PUBLIC_FIELDS = (
    "id",
    "name",
    "category",
    "address",
    "latitude",
    "longitude",
    "currencies",
    "opening_hours",
    "updated_at",
)
MAX_FEATURES = 5000


def public_profile(row: Mapping[Any, Any]) -> dict[str, Any]:
    """The fields of a listed profile anyone may read, and nothing else."""
    profile = {field: row[field] for field in PUBLIC_FIELDS}
    profile["currencies"] = sorted(profile["currencies"])
    return profile


def feature_collection(profiles: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """RFC 7946 FeatureCollection: one Point per business, longitude first."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": str(p["id"]),
                "geometry": {"type": "Point", "coordinates": [p["longitude"], p["latitude"]]},
                "properties": {
                    k: v for k, v in p.items() if k not in ("id", "latitude", "longitude")
                },
            }
            for p in profiles
        ],
    }
