"""How a table of the diagnostics is written as CSV: French headers and labels always; on
request (``dialect=fr``) the dialect a French spreadsheet opens cleanly, semicolons,
a UTF-8 byte order mark and decimal commas. Every text cell goes through the CSV-injection
neutralisation of ``shared.csv_safety`` (a cell starting with ``=``, ``+``, ``-``, ``@``
is written as text)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from openpyxl import Workbook

from shared.csv_safety import writer

Dialect = Literal["standard", "fr"]
Format = Literal["csv", "xlsx"]


def _cell(value: Any, dialect: Dialect) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float):
        text = repr(round(value, 6))
        return text.replace(".", ",") if dialect == "fr" else text
    return value


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]], dialect: Dialect) -> bytes:
    """The table as CSV bytes in ``dialect``."""
    out = io.StringIO(newline="")
    table = writer(out, delimiter=";" if dialect == "fr" else ",", lineterminator="\r\n")
    table.writerow(header)
    for row in rows:
        table.writerow([_cell(v, dialect) for v in row])
    text = out.getvalue()
    return ("\ufeff" + text).encode("utf-8") if dialect == "fr" else text.encode("utf-8")


def to_xlsx(header: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str) -> bytes:
    """The table as an XLSX workbook: numbers as numbers, every text as text, never a
    formula (a cell starting with ``=``, ``+``, ``-``, ``@`` is typed as a string)."""
    book = Workbook(write_only=False)
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    for r, row in enumerate([list(header), *rows], start=1):
        for c, value in enumerate(row, start=1):
            cell = sheet.cell(row=r, column=c)
            if value is None:
                continue
            if isinstance(value, bool):
                cell.value = "oui" if value else "non"
            elif isinstance(value, int | float):
                cell.value = value
            else:
                cell.value = str(value)
                cell.data_type = "s"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
