"""Time helpers shared by the domain modules."""

from __future__ import annotations

from datetime import datetime


def require_aware(moment: datetime) -> datetime:
    """Return ``moment`` if it carries a time zone; naive datetimes compare wrongly."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("datetimes must be timezone-aware")
    return moment
