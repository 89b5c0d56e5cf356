"""The base request and response models of every ledger concept's schemas, and the field
types they share."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from services.ledger.transactions.rules import MAX_AMOUNT

CODE = r"^[A-Z][A-Z0-9_]{1,15}$"
INSEE = r"^(\d{5}|2[AB]\d{3})$"


def storable(value: str) -> str:
    """PostgreSQL text cannot hold NUL, and lone surrogates are not UTF-8: refuse both."""
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("text must be valid Unicode") from exc
    return value


Text = Annotated[str, AfterValidator(storable)]

Amount = Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT, description="Signed minor units")
PositiveAmount = Field(gt=0, le=MAX_AMOUNT, description="Minor units")
Metadata: Any = Field(default_factory=dict, max_length=50, description="Free key/value pairs")
MetadataMap = dict[Text, Text]


class Schema(BaseModel):
    """Request bodies: unknown fields are refused rather than silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    """Response bodies."""

    model_config = ConfigDict(from_attributes=True)


ClientId = Annotated[
    str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@-]*$")
]
"""A client id (or a service principal such as ``funding:IDECLIC``)."""
