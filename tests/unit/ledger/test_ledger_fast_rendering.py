"""The posting paths write their JSON without models: the text must be the models' own."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from uuid import UUID

import pytest

from services.ledger.transactions.events import posted_rows
from services.ledger.transactions.schemas import (
    TransactionRead,
    json_text,
    transaction_json,
    view_json,
)
from services.ledger.transactions.service.single import transaction_view
from shared.events.catalog.ledger import PostedLeg, TransactionPosted
from shared.events.envelope import Event, encode
from shared.observability import correlation_id_var

A, B, C = (UUID(int=n << 64 | n) for n in (1, 2, 3))
TX = UUID("0195f3c4-1111-7abc-8def-0123456789ab")


def rendered_by_model(tx: dict, legs: list[tuple[UUID, str, int]]) -> str:
    view = {
        **tx,
        "postings": [{"account_id": a, "currency": c, "amount": n} for a, c, n in legs],
    }
    return json_text(TransactionRead.model_validate(view).model_dump(mode="json"))


@pytest.mark.parametrize(
    ("inserted_at", "description", "metadata", "reverses"),
    [
        (datetime(2026, 11, 26, 6, 1, 2, 345678, tzinfo=UTC), "", {}, None),
        (
            datetime(2026, 11, 26, 6, 1, 2, tzinfo=UTC),
            'café "quoted" \\ \n',
            {"b": "é", "a": "1"},
            A,
        ),
    ],
)
def test_a_transaction_is_written_as_transaction_read_renders_it(
    inserted_at: datetime, description: str, metadata: dict, reverses: UUID | None
) -> None:
    tx = {
        "id": TX,
        "kind": "transfer",
        "effective_date": date(2026, 11, 26),
        "inserted_at": inserted_at,
        "description": description,
        "metadata": metadata,
        "reverses": reverses,
    }
    legs = [(A, "EUSKO", -5), (B, "EUSKO", 3), (C, "EUSKO", 2)]
    assert transaction_json(tx, legs) == rendered_by_model(tx, legs)
    view = transaction_view(tx, legs)
    assert view_json(view) == rendered_by_model(tx, legs)


@pytest.mark.parametrize("correlation", [None, "corr-1"])
def test_posted_rows_are_the_bytes_the_envelope_encoder_writes(correlation: str | None) -> None:
    now = datetime(2026, 11, 26, 6, 1, 2, 345678, tzinfo=UTC)
    legs = {
        "EUSKO": [(str(A), "member", "64024", -7), (str(B), "merchant", None, 7)],
        "ABC": [(str(B), "member", None, -1), (str(C), "member", "2A004", 1)],
    }
    token = correlation_id_var.set(correlation)
    try:
        rows = posted_rows(
            [(str(TX), "transfer", date(2026, 11, 26), None, legs)],
            source="/proxima/ledger",
            now=now,
            ids=iter(["e1", "e2"]),
        )
    finally:
        correlation_id_var.reset(token)
    expected = []
    for event_id, currency in zip(("e1", "e2"), sorted(legs), strict=True):
        payload = TransactionPosted(
            transaction_id=str(TX),
            currency=currency,
            kind="transfer",
            effective_date=date(2026, 11, 26),
            reverses=None,
            postings=[
                PostedLeg(account_id=a, account_type=t, territory=z, amount=n)
                for a, t, z, n in legs[currency]
            ],
        )
        event = Event(
            id=event_id,
            source="/proxima/ledger",
            type=payload.event_type,
            subject=str(TX),
            time=now,
            correlation_id=correlation,
            data=payload,
        )
        expected.append(
            (event_id, payload.event_type, "proxima.ledger.transaction", str(TX), encode(event))
        )
    assert rows == expected
    assert json.loads(rows[0][4])["data"]["currency"] == "ABC"
