"""Field types that refuse pydantic's lax coercions where a coercion would change the
meaning of a request: money and limits, dates and instants.

Why per field and not a global ``strict`` mode: strict everywhere would also refuse what is
meant (a UUID or an enum in a query string arrives as text). These types say, field by
field, that ``false`` is not the amount 0, ``0.5`` is not the instant
1970-01-01T00:00:00.5Z and ``0`` is not the date 1970-01-01: each is a 422.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator


def whole_number(value: Any) -> Any:
    """A JSON integer (``3``, or ``3.0``, which JSON Schema counts as an integer too);
    never ``true``/``false``, a fraction or a numeric string."""
    if isinstance(value, bool):
        raise ValueError("must be a whole number, not true or false")
    if isinstance(value, str):
        raise ValueError("must be a JSON number, not text")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("must be a whole number")
        return int(value)
    return value


WHOLE = BeforeValidator(whole_number)
"""Put it AFTER a ``Field`` of constraints (``Annotated[int, Field(ge=0), WHOLE]``): placed
before them, pydantic leaves the constraints out of the JSON Schema."""

WholeNumber = Annotated[int, WHOLE]
"""Money in minor units, limits, counts: an integer given as a JSON number. With
constraints, write ``x: WholeNumber = Field(ge=0)``, or the ``WHOLE`` form when optional."""

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_INSTANT = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})?"
)


def iso_date(value: Any) -> Any:
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise ValueError("must be a date written YYYY-MM-DD")
    if isinstance(value, (int, float, bool)):
        raise ValueError("must be a date written YYYY-MM-DD, not a number")
    return value


def iso_instant(value: Any) -> Any:
    if isinstance(value, str) and not _ISO_INSTANT.fullmatch(value):
        raise ValueError("must be an ISO 8601 instant, e.g. 2026-01-31T12:00:00Z")
    if isinstance(value, (int, float, bool)):
        raise ValueError("must be an ISO 8601 instant, not a number")
    return value


IsoDate = Annotated[date, BeforeValidator(iso_date)]
"""A calendar date, only as ``YYYY-MM-DD`` (never a Unix timestamp)."""

IsoInstant = Annotated[datetime, BeforeValidator(iso_instant)]
"""An instant, only as ISO 8601 text (never a Unix timestamp)."""

AwareInstant = Annotated[AwareDatetime, BeforeValidator(iso_instant)]
"""An instant with its offset, only as ISO 8601 text."""
