"""Pure rules of the public directory: what a public profile shows, its GeoJSON form, and
the validator that makes an answer cacheable.

What is public is decided here once, by an explicit list of fields (`PUBLIC_FIELDS`): the
consent record, the account id and who curated the profile never leave the ledger.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

DAYS = ("mo", "tu", "we", "th", "fr", "sa", "su")
CATEGORIES = (
    "alimentation",
    "restauration",
    "commerce",
    "artisanat",
    "services",
    "culture-loisirs",
    "sante-bien-etre",
    "producteur",
    "association",
    "autre",
)
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
CACHE_CONTROL = "public, max-age=60, stale-while-revalidate=60"


def public_profile(row: Mapping[str, Any]) -> dict[str, Any]:
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


def entity_tag(document: Any) -> str:
    """A strong ETag of a JSON document: the same content gives the same tag on every
    replica, so a shared cache and ``If-None-Match`` work across them."""
    encoded = json.dumps(document, sort_keys=True, default=str, separators=(",", ":"))
    return '"' + hashlib.sha256(encoded.encode()).hexdigest()[:32] + '"'


def matches(if_none_match: str | None, tag: str) -> bool:
    """Whether ``If-None-Match`` names ``tag`` (or ``*``); weak comparison, RFC 9110."""
    if not if_none_match:
        return False
    candidates = {c.strip().removeprefix("W/") for c in if_none_match.split(",")}
    return "*" in candidates or tag in candidates
