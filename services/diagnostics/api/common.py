"""What every diagnostics router shares: scopes, keyset cursors, request bodies as tables."""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict

from services.diagnostics.errors import DiagnosticsDomainError
from services.diagnostics.service.errors import InvalidCursor, UnreadableBody
from shared.auth import Principal, require_scope
from shared.problems import Forbidden, Problem, Unauthorized, problem_responses

READ = "diagnostics:read"
IMPORT = "diagnostics:import"
ADMIN = "diagnostics:admin"

Reader = Annotated[Principal, Depends(require_scope(READ))]
Importer = Annotated[Principal, Depends(require_scope(IMPORT))]
Admin = Annotated[Principal, Depends(require_scope(ADMIN))]

Limit = Annotated[int, Query(ge=1, le=500, description="Page size")]
Cursor = Annotated[
    str | None, Query(max_length=400, description="`next_cursor` of the previous page")
]
TerritoryCode = Annotated[
    str,
    Path(
        min_length=2,
        max_length=9,
        pattern=r"^[0-9AB]+$",
        description="INSEE code (région, département, commune) or SIREN (EPCI)",
    ),
]
Year = Annotated[int, Query(ge=1950, le=2100, description="Year of the figures")]
Currency = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=40,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="A local currency code (one the client is bound to): adds its "
        "circulation indicators over the year",
    ),
]

MAX_BODY_BYTES = 20 * 1024 * 1024

AUTH_ERRORS = problem_responses(Unauthorized, Forbidden)

T = TypeVar("T")


class UnsupportedMediaType(Problem):
    status, code, title = 415, "unsupported-media-type", "Send text/csv or application/json"


class PayloadTooLarge(Problem):
    status, code, title = 413, "payload-too-large", "The request body is too large"


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def errors(*problems: type[Exception]) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for an endpoint: authentication errors plus ``problems``."""
    return problem_responses(Unauthorized, Forbidden, *problems)


def encode_cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, parse: Callable[[list[Any]], T]) -> T | None:
    """The key a cursor carries, or InvalidCursor (422) for anything we did not produce."""
    if cursor is None:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list):
            raise ValueError("not a list")
        for item in raw:
            if isinstance(item, str):
                _check_text(item)
        return parse(raw)
    except (ValueError, TypeError, IndexError, UnicodeDecodeError, UnreadableBody) as exc:
        raise InvalidCursor("cursor is not one this API returned") from exc


def next_cursor(items: list[Any], *, limit: int, key: Callable[[Any], list[Any]]) -> str | None:
    return encode_cursor(key(items[-1])) if len(items) == limit else None


TABLE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["rows"],
                    "properties": {
                        "rows": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "additionalProperties": {
                                    "anyOf": [
                                        {"type": "string"},
                                        {"type": "integer"},
                                        {"type": "null"},
                                    ]
                                },
                            },
                        }
                    },
                }
            },
        },
    }
}
"""OpenAPI of an import body: a CSV file with a header line, or JSON ``{"rows": [...]}``."""


async def read_table(request: Request) -> tuple[list[str], list[dict[Any, object]]]:
    """The body as a header and rows, from CSV (header line first) or JSON ``{"rows": []}``."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in ("text/csv", "application/csv", "application/json"):
        raise UnsupportedMediaType(f"content type {media or 'none'!r} is not accepted")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"at most {MAX_BODY_BYTES} bytes")
    if media == "application/json":
        return _json_table(body)
    try:
        text = body.decode("utf-8-sig")
        if "\x00" in text:
            raise UnreadableBody("NUL characters are not allowed")
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = list(reader.fieldnames or [])
        rows: list[dict[Any, object]] = [dict(row) for row in reader]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise UnreadableBody(f"not a UTF-8 CSV file: {exc}") from exc
    return header, rows


def _json_table(body: bytes) -> tuple[list[str], list[dict[Any, object]]]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise UnreadableBody(f"not JSON: {exc}") from exc
    rows = data.get("rows") if isinstance(data, dict) else None
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise UnreadableBody('expected {"rows": [ {column: value, ...}, ... ]}')
    header: dict[str, None] = {}
    for row in rows:
        for key, value in row.items():
            _check_text(key)
            if isinstance(value, str):
                _check_text(value)
        header.update(dict.fromkeys(row))
    return list(header), rows


def _check_text(value: str) -> None:
    """PostgreSQL stores neither NUL characters nor lone surrogates: refuse them up front."""
    if "\x00" in value:
        raise UnreadableBody("NUL characters are not allowed")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UnreadableBody("strings must be valid Unicode (no lone surrogates)") from exc


DOMAIN_ERRORS = (DiagnosticsDomainError,)
