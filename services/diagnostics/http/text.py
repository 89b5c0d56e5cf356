"""Text a client sends that PostgreSQL could not store."""

from __future__ import annotations


class UnstorableText(ValueError):
    """A string with a NUL character or a lone surrogate."""


def check_storable(value: str) -> None:
    """PostgreSQL stores neither NUL characters nor lone surrogates: refuse them up front."""
    if "\x00" in value:
        raise UnstorableText("NUL characters are not allowed")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UnstorableText("strings must be valid Unicode (no lone surrogates)") from exc
