"""How a table of the diagnostics is written as CSV: French headers and labels always; on
request (``dialect=fr``) the dialect a French spreadsheet opens cleanly, semicolons,
a UTF-8 byte order mark and decimal commas. Every text cell goes through the CSV-injection
neutralisation of ``shared.csv_safety`` (a cell starting with ``=``, ``+``, ``-``, ``@``
is written as text)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from shared.csv_safety import writer

Dialect = Literal["standard", "fr"]


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
