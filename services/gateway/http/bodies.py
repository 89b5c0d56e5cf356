"""The base of every request and response body of the gateway's own endpoints."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, field_validator


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: object) -> object:
        """PostgreSQL text cannot hold NUL, and lone surrogates are not UTF-8: a 422 here
        rather than a 500 from the database."""
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str):
                if "\x00" in text:
                    raise ValueError("text must not contain NUL characters")
                try:
                    text.encode("utf-8")
                except UnicodeEncodeError:
                    raise ValueError("text must be valid UTF-8") from None
        return value
