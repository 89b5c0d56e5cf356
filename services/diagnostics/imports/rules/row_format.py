"""The format of an import file's rows: which columns a schema accepts, and a row once
validated. Shared by the full line-by-line check (``yearly_data.py``) and its fast path
for clean rows (``clean_rows.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

SECRET = frozenset({"s", "nd", "c", "secret"})
"""INSEE's markers of a cell under statistical secrecy (``nd``: not available)."""


@dataclass(frozen=True, slots=True)
class ImportSchema:
    """Columns of one import format: a territory code, a year, optional keys, amounts."""

    amount_columns: tuple[str, ...]
    """Whole non-negative numbers, required on every row."""
    code_column: str = "insee_code"
    year_column: str = "year"
    key_columns: tuple[str, ...] = ()
    """Extra text columns that, with code and year, identify a row (e.g. ``sector``)."""
    optional_columns: tuple[str, ...] = ()
    """Whole non-negative numbers that may be left blank."""
    text_columns: tuple[str, ...] = ()
    """Free text (labels, sources), not checked."""
    secret_columns: tuple[str, ...] = ()
    """Amount columns where INSEE's statistical-secrecy markers (``s``, ``nd``, ``c``,
    blank) are accepted: the figure is kept as unknown (None), never as zero."""
    min_year: int = 1950
    max_year: int = 2100

    @property
    def columns(self) -> tuple[str, ...]:
        """Every accepted column, in a stable order."""
        return (
            self.code_column,
            self.year_column,
            *self.key_columns,
            *self.amount_columns,
            *self.optional_columns,
            *self.text_columns,
        )

    @property
    def required_columns(self) -> tuple[str, ...]:
        """Columns the header must contain."""
        return (self.code_column, self.year_column, *self.key_columns, *self.amount_columns)


@dataclass(frozen=True, slots=True)
class ParsedRow:
    """A valid row: its key and its numbers (blank optional columns are left out)."""

    line: int
    code: str
    year: int
    keys: tuple[str, ...]
    values: Mapping[str, int | None]
    text: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
