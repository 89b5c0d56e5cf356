"""The passage table: which commune of a later geography each earlier commune became.

A time series stays consistent across a merger only if every year is expressed on the
same geography. INSEE's *mouvements de communes* say, change by change, which commune
(COM) became which: a merger (MOD 31, 32, 33, 34) maps several old codes onto the new
commune; a change of code (41, 50) maps one onto one; a change of name (10) changes no
code. A split (*rétablissement*, MOD 21) cannot be undone on figures without weights, so
the communes it involves are reported and their earlier figures stay unknown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

MERGES_OR_RECODES = frozenset({31, 32, 33, 34, 41, 50})
SPLITS = frozenset({21})


@dataclass(frozen=True, slots=True)
class Change:
    """One line of the mouvements file, as stored."""

    mod: int
    effective: date
    type_before: str
    code_before: str
    type_after: str
    code_after: str


@dataclass(slots=True)
class Passage:
    """Codes of ``source`` year's geography → codes on the geography of ``target``."""

    source: date
    target: date
    mapping: dict[str, str] = field(default_factory=dict)
    split: set[str] = field(default_factory=set)

    def code(self, old: str) -> str | None:
        """The commune ``old`` became (itself when unchanged); None when a split makes its
        figures impossible to carry over."""
        new = self.mapping.get(old, old)
        return None if new in self.split or old in self.split else new


def passage(changes: Iterable[Change], *, source: date, target: date) -> Passage:
    """The passage from the geography of ``source`` (1 January) to that of ``target``:
    every change effective in (source, target] applied in order."""
    out = Passage(source=source, target=target)
    ordered = sorted(
        (c for c in changes if source < c.effective <= target),
        key=lambda c: (c.effective, c.mod),
    )
    for change in ordered:
        if change.type_before != "COM" or change.type_after != "COM":
            continue
        if change.mod in SPLITS:
            out.split.update((change.code_before, change.code_after))
            continue
        if change.mod not in MERGES_OR_RECODES or change.code_before == change.code_after:
            continue
        for old, current in list(out.mapping.items()):
            if current == change.code_before:
                out.mapping[old] = change.code_after
        out.mapping.setdefault(change.code_before, change.code_after)
    # A code split after merging into another carries the split to its old codes too.
    out.split |= {old for old, new in out.mapping.items() if new in out.split}
    return out


def carry_over(
    figures: Mapping[str, Mapping[str, int | None]], table: Passage
) -> tuple[dict[str, dict[str, int | None]], list[str]]:
    """Figures by commune of the source geography summed onto the target geography (stocks
    only: inhabitants, jobs, euros); a secret (None) stays unknown in the sum, and communes
    a split makes unmappable are returned apart, never guessed."""
    out: dict[str, dict[str, int | None]] = {}
    dropped: list[str] = []
    for old, values in sorted(figures.items()):
        new = table.code(old)
        if new is None:
            dropped.append(old)
            continue
        into = out.setdefault(new, {})
        for name, value in values.items():
            if name not in into:
                into[name] = value
            else:
                current = into[name]
                into[name] = None if current is None or value is None else current + value
    return out, dropped


def _add(left: object, right: object) -> object:
    """Σ of two cells of a figures file: whole numbers add up; a secret cell makes the
    sum secret (``s``), a blank (unknown) one blank; anything else is left for the
    validation to refuse."""
    texts = [str(v).strip() if v is not None else "" for v in (left, right)]
    if all(t.lstrip("-").isdigit() for t in texts):
        return str(int(texts[0]) + int(texts[1]))
    if any(t.lower() in ("s", "nd", "c", "secret") for t in texts):
        return "s"
    if any(t == "" for t in texts):
        return ""
    return left


def carry_rows(
    rows: Iterable[Mapping[object, object]],
    *,
    code_column: str,
    year_column: str,
    key_columns: tuple[str, ...],
    sum_columns: tuple[str, ...],
    passages: Mapping[int, Passage],
) -> tuple[list[dict[object, object]], list[tuple[int, str]]]:
    """The rows of a figures file carried onto one geography: each row's code replaced by
    the commune it became after its year (``passages`` by year), rows that then share a
    key summed. Returns the rows and the (line, code) of communes a split makes
    impossible to carry over."""
    out: dict[tuple[object, ...], dict[object, object]] = {}
    refused: list[tuple[int, str]] = []
    for line, row in enumerate(rows, start=2):
        year_text = str(row.get(year_column) or "").strip()
        table = passages.get(int(year_text)) if year_text.isdigit() else None
        code = str(row.get(code_column) or "").strip()
        new = table.code(code) if table is not None else code
        if new is None:
            refused.append((line, code))
            continue
        moved = {**dict(row), code_column: new}
        key = (new, year_text, *(str(row.get(k) or "").strip() for k in key_columns))
        if key not in out:
            out[key] = moved
            continue
        merged = out[key]
        for column in sum_columns:
            merged[column] = _add(merged.get(column), row.get(column))
    return list(out.values()), refused
