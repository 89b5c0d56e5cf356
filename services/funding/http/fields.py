"""The base of every funding request and response body, and the field types they share."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

from shared.strict_types import WHOLE, iso_instant


def _storable(value: str) -> str:
    # PostgreSQL text refuses NUL and lone surrogates cannot be encoded: refuse them here.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode text") from exc
    return value


_NOT_BLANK = r"^[^\x00]*\S[^\x00]*$"
_STORABLE = AfterValidator(_storable)


def _sane_moment(value: datetime) -> datetime:
    # Far-away years overflow once converted to UTC; no grant lives outside this range.
    if not 1900 <= value.year <= 2200:
        raise ValueError("must be between the years 1900 and 2200")
    return value


Moment = Annotated[AwareDatetime, BeforeValidator(iso_instant), AfterValidator(_sane_moment)]
Name = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=_NOT_BLANK), _STORABLE
]
ShortText = Annotated[
    str, StringConstraints(min_length=1, max_length=100, pattern=_NOT_BLANK), _STORABLE
]
LongText = Annotated[
    str, StringConstraints(min_length=1, max_length=20_000, pattern=_NOT_BLANK), _STORABLE
]
Code = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9_-]{1,39}$")]
EnvelopeCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9_-]{1,59}$")]
Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,99}$")]
TerritoryCode = Annotated[str, StringConstraints(pattern=r"^(?:\d{2,3}|2[AB]|\d{5}|2[AB]\d{3})$")]
CommuneCode = Annotated[str, StringConstraints(pattern=r"^(?:\d{5}|2[AB]\d{3})$")]
Cents = Annotated[int, Field(gt=0, le=10**13, description="Euro cents"), WHOLE]
CentsOrZero = Annotated[int, Field(ge=0, le=10**13, description="Euro cents"), WHOLE]


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid")
