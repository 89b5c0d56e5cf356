"""Time helpers shared by the domain modules."""

from __future__ import annotations

from datetime import datetime


def json_instant(value: datetime) -> str:
    """An aware instant as pydantic and the CloudEvents JSON format write it (UTC as ``Z``)."""
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def require_aware(moment: datetime) -> datetime:
    """Return ``moment`` if it carries a time zone; naive datetimes compare wrongly."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("datetimes must be timezone-aware")
    return moment
