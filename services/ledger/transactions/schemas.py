"""Request and response bodies of transactions and batches, the problems the posting paths
may answer, and the same bodies written without the models for the hottest paths."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import Field

from services.ledger.accounts.errors import POSTING_REFUSALS
from services.ledger.authority.errors import DEBIT_ERRORS
from services.ledger.clearing.errors import ClearingAccountReserved
from services.ledger.closings.errors import EffectiveDateInFuture, EffectiveDateTooOld, PeriodClosed
from services.ledger.http.schemas import CODE, Amount, Metadata, MetadataMap, Out, Schema, Text
from services.ledger.idempotency.errors import IdempotencyKeyReused
from services.ledger.instants import json_instant
from services.ledger.transactions.errors import (
    DebtCapExceeded,
    DuplicateAccountPosting,
    InvalidAmount,
    MonthlyLoadCapExceeded,
    TooFewPostings,
    UnbalancedTransaction,
    VoucherCreditRestricted,
)
from shared.problems import Unprocessable
from shared.strict_types import IsoDate, WholeNumber

POSTING_ERRORS = (
    InvalidAmount,
    TooFewPostings,
    DuplicateAccountPosting,
    UnbalancedTransaction,
    *POSTING_REFUSALS,
    MonthlyLoadCapExceeded,
    DebtCapExceeded,
    IdempotencyKeyReused,
    VoucherCreditRestricted,
    EffectiveDateInFuture,
    EffectiveDateTooOld,
    PeriodClosed,
    Unprocessable,
    *DEBIT_ERRORS,
    ClearingAccountReserved,
)
"""What any posting path may answer about its postings (``responses=`` of its routes)."""


class PostingIn(Schema):
    account_id: UUID
    currency: str = Field(pattern=CODE)
    amount: WholeNumber = Amount


class TransactionFields(Schema):
    kind: str = Field(default="transfer", pattern=r"^[a-z][a-z_]{0,39}$")
    effective_date: IsoDate | None = None
    description: Text = Field(default="", max_length=500)
    metadata: MetadataMap = Metadata
    postings: list[PostingIn] = Field(min_length=1, max_length=100)


class TransactionCreate(TransactionFields):
    idempotency_key: Text | None = Field(default=None, min_length=1, max_length=200)


class PostingRead(Out):
    account_id: UUID
    currency: str
    amount: int


class TransactionRead(Out):
    id: UUID
    kind: str
    effective_date: date
    inserted_at: datetime
    description: str
    metadata: dict[str, Any]
    reverses: UUID | None
    postings: list[PostingRead]


class TransactionPage(Out):
    items: list[TransactionRead]
    next_cursor: str | None


class ReversalCreate(Schema):
    description: Text = Field(default="", max_length=500)
    idempotency_key: Text | None = Field(default=None, min_length=1, max_length=200)


class BatchCreate(Schema):
    mode: Literal["atomic", "independent"] = "atomic"
    items: list[TransactionFields] = Field(min_length=1, max_length=1000)
    idempotency_key: Text | None = Field(default=None, min_length=1, max_length=200)


class BatchItemResult(Out):
    index: int
    status: int
    transaction: TransactionRead | None = None
    problem: dict[str, Any] | None = None


class BatchRead(Out):
    mode: str
    posted: int
    failed: int
    results: list[BatchItemResult]


# --- the same bodies written without the models (the posting paths) -----------------------


def json_text(value: Any) -> str:
    """``value`` as `JSONResponse` renders it (compact, non-ASCII kept)."""
    if not value and isinstance(value, dict | str):
        return "{}" if isinstance(value, dict) else '""'
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _transaction_text(
    tx_id: Any,
    kind: str,
    effective_date: str,
    inserted_at: str,
    description: str,
    metadata: Any,
    reverses: Any,
    legs: Iterable[tuple[Any, str, int]],
) -> str:
    """The one layout of a rendered transaction (see `transaction_json`)."""
    postings = ",".join(f'{{"account_id":"{a}","currency":"{c}","amount":{n}}}' for a, c, n in legs)
    reversed_id = f'"{reverses}"' if reverses else "null"
    return (
        f'{{"id":"{tx_id}","kind":{json_text(kind)},'
        f'"effective_date":"{effective_date}","inserted_at":"{inserted_at}",'
        f'"description":{json_text(description)},'
        f'"metadata":{json_text(metadata)},"reverses":{reversed_id},"postings":[{postings}]}}'
    )


def transaction_json(tx: Mapping[str, Any], legs: Iterable[tuple[Any, str, int]]) -> str:
    """A transaction exactly as ``TransactionRead`` renders it, written without the model
    (a unit test holds the two to the same text). Ids are UUIDs and currency codes match
    ``ck_currencies_code``, so they are written without escaping."""
    return _transaction_text(
        tx["id"],
        tx["kind"],
        tx["effective_date"].isoformat(),
        json_instant(tx["inserted_at"]),
        tx["description"],
        tx["metadata"],
        tx["reverses"],
        legs,
    )


def view_json(view: Mapping[str, Any]) -> str:
    """`transaction_json` for a transaction view (`service.single.transaction_view`: its
    instants and ids already strings)."""
    inserted_at = view["inserted_at"]
    if inserted_at.endswith("+00:00"):  # already a string: same rule as `json_instant`
        inserted_at = inserted_at[:-6] + "Z"
    return _transaction_text(
        view["id"],
        view["kind"],
        view["effective_date"],
        inserted_at,
        view["description"],
        view["metadata"],
        view["reverses"],
        ((p["account_id"], p["currency"], p["amount"]) for p in view["postings"]),
    )


def atomic_json(posted: list[tuple[Any, Any]]) -> str:
    """An atomic batch's response as ``BatchRead`` renders it, written directly."""
    results = ",".join(
        f'{{"index":{i},"status":201,"transaction":{transaction_json(tx, legs)},"problem":null}}'
        for i, (tx, legs) in enumerate(posted)
    )
    return f'{{"mode":"atomic","posted":{len(posted)},"failed":0,"results":[{results}]}}'
