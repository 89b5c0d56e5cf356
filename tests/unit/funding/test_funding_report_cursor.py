"""The instruments report's cursor: any group key round-trips, anything else is refused."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.funding.instruments.rules import report_cursor, report_key


@given(
    st.text(min_size=1, max_size=40),
    st.text(min_size=1, max_size=3),
    st.integers(2000, 2100),
    st.sampled_from(["repayable_advance", "honour_loan", "participatory_loan", "guarantee"]),
)
def test_a_group_key_round_trips_through_its_url_safe_cursor(
    code: str, area: str, year: int, kind: str
) -> None:
    cursor = report_cursor((code, area, year, kind))
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert report_key(cursor) == (code, area, year, kind)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "nope!",
        _b64(b"not json"),
        _b64(b'["IDECLIC", "38", 2026]'),
        _b64(b'["IDECLIC", "38", "2026", "guarantee"]'),
        _b64(b'["IDECLIC", "38", true, "guarantee"]'),
        _b64(b'{"a": 1}'),
        _b64(b"\xff\xfe"),
    ],
)
def test_anything_else_is_not_a_cursor(cursor: str) -> None:
    assert report_key(cursor) is None
