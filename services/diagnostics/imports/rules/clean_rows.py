"""The happy path of the line-by-line check of an import file (``yearly_data.py``).

A file of France is 3.5 million rows, nearly all of them clean: checking those with one
pass of ``str.isdigit`` and set look-ups, without regexes, exceptions or intermediate
dicts, and handing every other row to the full check, which alone words the errors,
keeps the line-by-line report exactly what it was."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from types import MappingProxyType
from typing import Any

from services.diagnostics.imports.rules.row_format import SECRET, ImportSchema, ParsedRow


class CleanRows:
    """Precompiled once per file: plain string cells, ASCII digits, a known code, a year
    in range give the parsed row. Anything else (a blank, a sign, a space, a JSON number,
    an unknown code, a secret marker with spaces around it...) gives None, and the row
    goes through ``yearly_data._check_row``, which alone words the errors."""

    __slots__ = (
        "amounts",
        "code_column",
        "key_columns",
        "known",
        "max_year",
        "min_year",
        "optional",
        "secret",
        "text_columns",
        "year_column",
    )

    def __init__(self, schema: ImportSchema, known_codes: Collection[str]) -> None:
        self.code_column = schema.code_column
        self.year_column = schema.year_column
        self.key_columns = schema.key_columns
        self.text_columns = schema.text_columns
        self.min_year, self.max_year = schema.min_year, schema.max_year
        secret = set(schema.secret_columns)
        self.amounts = tuple((name, name in secret) for name in schema.amount_columns)
        self.optional = tuple((name, name in secret) for name in schema.optional_columns)
        self.secret = secret
        self.known = known_codes

    def __call__(self, line: int, row: Mapping[Any, object]) -> ParsedRow | None:
        """The parsed row when it is clean, else None (never an error of its own)."""
        get = row.get
        if get(None):
            return None
        code = get(self.code_column)
        if type(code) is not str:
            return None
        code = code.strip()
        if not code or code not in self.known:
            return None
        year_text = get(self.year_column)
        if type(year_text) is not str or not (year_text.isascii() and year_text.isdigit()):
            return None
        year = int(year_text)
        if not self.min_year <= year <= self.max_year:
            return None
        values: dict[str, int | None] = {}
        for name, secret in self.amounts:
            raw = get(name)
            if type(raw) is not str:
                return None
            if raw.isascii() and raw.isdigit():
                values[name] = int(raw)
            elif secret and (not raw.strip() or raw.strip().lower() in SECRET):
                values[name] = None
            else:
                return None
        for name, secret in self.optional:
            raw = get(name)
            if raw is None:
                if secret:
                    values[name] = None
                continue
            if type(raw) is not str:
                return None
            if raw.isascii() and raw.isdigit():
                values[name] = int(raw)
            elif not raw.strip():
                if secret:
                    values[name] = None
            elif secret and raw.strip().lower() in SECRET:
                values[name] = None
            else:
                return None
        keys = []
        for name in self.key_columns:
            raw = get(name)
            if type(raw) is not str or not raw.strip():
                return None
            keys.append(raw.strip())
        text: dict[str, str] = {}
        for name in self.text_columns:
            raw = get(name)
            if raw is None:
                text[name] = ""
            elif type(raw) is str:
                text[name] = raw.strip()
            else:
                return None
        return ParsedRow(
            line=line,
            code=code,
            year=year,
            keys=tuple(keys),
            values=MappingProxyType(values),
            text=MappingProxyType(text),
        )
