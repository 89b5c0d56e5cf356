"""The cells of an official statistics file: secrecy markers and numbers as INSEE and the
DGFiP write them (decimal comma or point, spaces between thousands), without I/O."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from services.diagnostics.imports.rules.yearly_data import SECRET, ErrorKind, RowError

SECRET_MARKS = SECRET | {"n.c.", "n.d.", "nc", "n.c", "n.d"}
"""INSEE's ``s``, ``nd`` and the DGFiP's ``n.c.`` (non communiqué, statistical secrecy):
the figure is unknown, never zero."""
_NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?")
_SPACES = re.compile(r"[\s\u00a0\u202f]")
_MAX = Decimal("1e15")


@dataclass(slots=True)
class FileRows:
    """The rows an official file will write, or every reason to refuse it."""

    errors: list[RowError] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    rows_checked: int = 0
    year: int | None = None


def cell(row: Mapping[Any, object], column: str) -> str:
    """The cell's text, stripped ('' when absent)."""
    value = row.get(column)
    return "" if value is None else str(value).strip()


def number(
    text: str,
    *,
    column: str,
    line: int,
    code: str | None,
    errors: list[RowError],
    signed: bool = False,
) -> Decimal | None:
    """The cell as a decimal, None when it is a secrecy marker (or blank); an error naming
    the line and the column when it is neither (``signed``: a negative value is allowed)."""
    if not text or text.lower() in SECRET_MARKS:
        return None
    compact = _SPACES.sub("", text)
    if not _NUMBER.fullmatch(compact) or (compact.startswith("-") and not signed):
        errors.append(
            RowError(
                line,
                ErrorKind.INVALID_NUMBER,
                f"{column} : « {text} » n'est ni un nombre positif ni une marque de secret "
                "(s, nd, n.c.)",
                column,
                code,
            )
        )
        return None
    try:
        value = Decimal(compact.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        return None
    if abs(value) >= _MAX:
        errors.append(
            RowError(
                line, ErrorKind.INVALID_NUMBER, f"{column} : {text} hors limites", column, code
            )
        )
        return None
    return value
