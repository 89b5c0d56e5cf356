"""Persisted diagnostics are serialised with orjson, which would write NaN and infinities
as null: the explicit check must refuse them as ``json.dumps(..., allow_nan=False)`` did,
and a finite document must give the same JSON value as the standard library."""

from __future__ import annotations

import json
import math

import pytest

from services.diagnostics.indicators.service.persisted import _json


def _document(value: float = 0.25, distance: float = 1.5) -> dict[str, object]:
    return {
        "name": "Oyonnax — Ain",
        "population": 22_000,
        "engine_bases_eur": {"productive": 10, "residential": 20},
        "engine_shares": {"productive": 1 / 3, "residential": 2 / 3},
        "typology": {"model": "residential", "rule": "dominant-engine"},
        "indicators": {"share_productive": [value, 42.5, None], "lm3": [None, None, "inconnu"]},
        "peers": [["01004", distance]],
        "strengths": [],
        "fragilities": ["dependence"],
        "levers": ["retention"],
    }


def test_a_finite_document_reads_back_as_the_standard_library_writes_it() -> None:
    document = _document()
    assert json.loads(_json("01283", document)) == json.loads(
        json.dumps(document, ensure_ascii=False, allow_nan=False)
    )
    assert "Oyonnax — Ain" in _json("01283", document)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_figure_that_is_not_finite_is_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="01283"):
        _json("01283", _document(value=bad))
    with pytest.raises(ValueError, match="01283"):
        _json("01283", _document(distance=bad))
