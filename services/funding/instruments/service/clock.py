"""Today's date, the day positions and figures hold for (UTC, as every funding date)."""

from __future__ import annotations

from datetime import UTC, date, datetime


def today() -> date:
    return datetime.now(UTC).date()
