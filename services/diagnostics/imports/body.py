"""The body of an import request: a CSV file with a header line, or JSON ``{"rows": [...]}``."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from fastapi import Request

from services.diagnostics.http.text import UnstorableText, check_storable
from services.diagnostics.imports.errors import (
    PayloadTooLarge,
    UnreadableBody,
    UnsupportedMediaType,
)

MAX_BODY_BYTES = 20 * 1024 * 1024

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
    try:
        for row in rows:
            for key, value in row.items():
                check_storable(key)
                if isinstance(value, str):
                    check_storable(value)
            header.update(dict.fromkeys(row))
    except UnstorableText as exc:
        raise UnreadableBody(str(exc)) from exc
    return list(header), rows
