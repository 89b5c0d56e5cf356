"""The body of an import request: a CSV file with a header line, or JSON ``{"rows": [...]}``.

CSV as INSEE publishes it is accepted: comma or semicolon, UTF-8 with or without BOM, or
latin-1 / Windows-1252 (declared with ``charset=``, or detected when not UTF-8)."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

from fastapi import Request
from openpyxl import load_workbook

from services.diagnostics.http.text import UnstorableText, check_storable
from services.diagnostics.imports.errors import (
    PayloadTooLarge,
    UnreadableBody,
    UnsupportedMediaType,
)

MAX_BODY_BYTES = 20 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_COLUMN_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")

XLSX_MEDIA = XLSX
TABLE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            XLSX_MEDIA: {"schema": {"type": "string", "format": "binary"}},
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


async def read_table(
    request: Request, sheet: str | None = None
) -> tuple[list[str], list[dict[Any, object]]]:
    """The body as a header and rows, from CSV (header line first), JSON ``{"rows": []}``,
    or an XLSX workbook as INSEE publishes them (``sheet``, else the first one)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in ("text/csv", "application/csv", "application/json", XLSX):
        raise UnsupportedMediaType(f"content type {media or 'none'!r} is not accepted")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"at most {MAX_BODY_BYTES} bytes")
    if media == "application/json":
        return _json_table(body)
    if media == XLSX:
        return workbook_table(body, sheet)
    text = decode_text(body, request.headers.get("content-type", ""))
    if "\x00" in text:
        raise UnreadableBody("NUL characters are not allowed")
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter_of(text))
        header = [name.strip() for name in reader.fieldnames or []]
        reader.fieldnames = header
        rows: list[dict[Any, object]] = [dict(row) for row in reader]
    except csv.Error as exc:
        raise UnreadableBody(f"not a CSV file: {exc}") from exc
    return header, rows


def decode_text(body: bytes, content_type: str) -> str:
    """The body as text: the declared ``charset``, else UTF-8 (a BOM is dropped), else
    Windows-1252, the superset of latin-1 in which INSEE published its older files."""
    declared = None
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            declared = value.strip('"').lower()
    try:
        if declared is not None and declared not in ("utf-8", "utf8"):
            return body.decode(declared)
        return body.decode("utf-8-sig")
    except LookupError as exc:
        raise UnreadableBody(f"unknown charset {declared!r}") from exc
    except UnicodeDecodeError as exc:
        if declared is not None:
            raise UnreadableBody(f"not a {declared} CSV file: {exc}") from exc
        try:
            return body.decode("cp1252")
        except UnicodeDecodeError as again:
            raise UnreadableBody(f"neither UTF-8 nor Windows-1252: {again}") from again


def workbook_table(body: bytes, sheet: str | None) -> tuple[list[str], list[dict[Any, object]]]:
    """A sheet of an XLSX workbook as a header and rows. INSEE's workbooks open with title
    and note rows: the header is the first row whose cells are all column names
    (``CODGEO``, ``LIBGEO``, ``ZE2020``), or, in the DGFiP's IRCOM, the row that names the
    ``Dép.`` and ``Commune`` columns, whose merged cells head a second row (joined:
    « Retraites et pensions - Montant »); every later non-empty row is data."""
    try:
        book = load_workbook(io.BytesIO(body), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError, ValueError… on a bad file
        raise UnreadableBody(f"not an XLSX workbook: {exc}") from exc
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise UnreadableBody(f"no sheet {sheet!r}; sheets: {', '.join(book.sheetnames)}")
        rows = list((book[sheet] if sheet else book.worksheets[0]).iter_rows(values_only=True))
    finally:
        book.close()
    for index, row in enumerate(rows):
        cells = [str(c).strip() for c in row if c is not None and str(c).strip()]
        labelled = _LABELLED_HEADER <= set(cells)
        if len(cells) >= 2 and (labelled or all(_COLUMN_NAME.fullmatch(c) for c in cells)):
            header = [str(c).strip() if c is not None else "" for c in row]
            first = index + 1
            if labelled and first < len(rows) and _is_sub_header(rows[first]):
                header, first = _joined(header, rows[first]), first + 1
            width = max(i for i, c in enumerate(header) if c) + 1
            header = header[:width]
            table = [
                {name: ("" if v is None else str(v)) for name, v in zip(header, r, strict=False)}
                for r in rows[first:]
                if any(v is not None and str(v).strip() for v in r)
            ]
            return header, table  # type: ignore[return-value]
    raise UnreadableBody("no header row of column names in the sheet")


_LABELLED_HEADER = frozenset({"Dép.", "Commune"})
"""The DGFiP's IRCOM heads its columns with French labels, these two among them."""
_NUMERIC = re.compile(r"[-\d\s.,]+")


def _is_sub_header(row: tuple[object, ...]) -> bool:
    """A second header row: text under merged cells, no number (data rows have codes)."""
    cells = [str(c).strip() for c in row if c is not None and str(c).strip()]
    return bool(cells) and not any(_NUMERIC.fullmatch(c) for c in cells)


def _joined(header: list[str], sub: tuple[object, ...]) -> list[str]:
    """Each column named by its own header cell, or by the merged one to its left and the
    second row's cell: « Traitements et salaires - Nombre de foyers concernés »."""
    out, group = [], ""
    names = header + [""] * (len(sub) - len(header))
    for i, name in enumerate(names):
        below = str(sub[i]).strip() if i < len(sub) and sub[i] is not None else ""
        group = name or group
        out.append(f"{group} - {below}" if below else name)
    return out


def delimiter_of(text: str) -> str:
    """``;`` when the header line has more semicolons than commas (INSEE's files), else ``,``."""
    first = text.split("\n", 1)[0]
    return ";" if first.count(";") > first.count(",") else ","


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
