"""FEC line formatting and dashboard formulas, without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID

import pytest

from services.ledger.audit.rules.journal import FEC_COLUMNS, JournalLine, decimal_text, fec_fields
from services.ledger.figures.rules import WindowFlows, figures

ACCOUNT = UUID("0190f0e0-0000-7000-8000-00000000000a")
TX = UUID("0190f0e0-0000-7000-8000-000000000001")


@pytest.mark.parametrize(
    ("minor", "scale", "text"),
    [
        (1234, 2, "12,34"),
        (5, 2, "0,05"),
        (0, 2, "0,00"),
        (-1234, 2, "-12,34"),
        (7, 0, "7"),
        (1, 6, "0,000001"),
        (1500, 3, "1,500"),
    ],
)
def test_decimal_text_uses_the_currency_scale(minor: int, scale: int, text: str) -> None:
    assert decimal_text(minor, scale) == text


def line(**overrides: object) -> JournalLine:
    values: dict[str, object] = {
        "currency": "GONETTE",
        "currency_kind": "euro_backed",
        "scale": 2,
        "position": 7,
        "transaction_id": TX,
        "kind": "transfer",
        "description": "",
        "effective_date": date(2026, 11, 20),
        "sealed_at": datetime(2026, 11, 30, 23, 30, tzinfo=UTC),  # Dec 1 in Paris
        "account_id": ACCOUNT,
        "account_type": "member",
        "account_name": "Alice",
        "amount": -250,
    }
    return JournalLine(**{**values, **overrides})  # type: ignore[arg-type]


def test_a_negative_posting_is_a_debit_and_a_positive_one_a_credit() -> None:
    debit = dict(zip(FEC_COLUMNS, fec_fields(line()), strict=True))
    assert (debit["Debit"], debit["Credit"]) == ("2,50", "0,00")
    credit = dict(zip(FEC_COLUMNS, fec_fields(line(amount=250)), strict=True))
    assert (credit["Debit"], credit["Credit"]) == ("0,00", "2,50")
    assert debit["ValidDate"] == "20261201"
    assert (debit["CompteNum"], debit["CompAuxNum"], debit["EcritureLib"]) == (
        "4671",
        str(ACCOUNT),
        "transfer",
    )


def test_non_holder_accounts_have_no_auxiliary_and_the_euro_no_foreign_amount() -> None:
    reserve = dict(
        zip(
            FEC_COLUMNS,
            fec_fields(line(account_type="reserve", currency="EUR", currency_kind="eur")),
            strict=True,
        )
    )
    assert (reserve["CompteNum"], reserve["CompAuxNum"], reserve["CompAuxLib"]) == ("5121", "", "")
    assert (reserve["Montantdevise"], reserve["Idevise"]) == ("", "")
    unknown = dict(zip(FEC_COLUMNS, fec_fields(line(account_type="other")), strict=True))
    assert unknown["CompteNum"] == "471"


def test_labels_lose_tabs_and_line_breaks() -> None:
    fields = fec_fields(line(description="a\tb\r\nc", account_name="x\ty"))
    assert fields[10] == "a b c" and fields[7] == "x y"


def test_velocity_is_volume_over_mean_circulation_and_leakage_reconverted_over_issued() -> None:
    got = figures(
        at_start=10_000,
        at_end=14_000,
        flows=WindowFlows(transfer_count=2, transfer_volume=4_000, issued=6_000, reconverted=2_000),
    )
    assert got["average_circulation"] == 12_000
    assert got["velocity"] == 0.333333
    assert got["leakage"] == 0.333333
    assert got["leakage_share_of_volume"] == 0.5
    empty = figures(at_start=0, at_end=0, flows=WindowFlows(0, 0, 0, 0))
    assert (empty["velocity"], empty["leakage"], empty["leakage_share_of_volume"]) == (
        None,
        None,
        None,
    )
