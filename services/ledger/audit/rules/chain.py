"""The audit chain's hash: one canonical serialisation, so anyone can recompute a link.

A link of currency C at position n is ``hash_n = SHA-256(canonical_n)`` (lowercase hex),
where ``canonical_n`` is the UTF-8 JSON text of this object, serialised per RFC 8785 (JCS:
keys sorted, no whitespace; every value here is an ASCII string, an integer or null, so
Python's ``json.dumps(sort_keys=True, separators=(",", ":"))`` is exactly JCS while amounts
stay within ±2**53, far beyond any ledger balance):

    {"currency": C, "effective_date": "YYYY-MM-DD",
     "inserted_at": "YYYY-MM-DDTHH:MM:SS.ffffffZ" (UTC, microseconds),
     "kind": ..., "position": n,
     "postings": [[account uuid, amount], ...]  (C's postings only, sorted by account uuid),
     "prev_hash": hash_{n-1} (64 zeros at position 1),
     "reverses": uuid or null, "transaction_id": uuid, "v": 1}

UUIDs are lowercase with hyphens. Position and currency are hashed too so a link cannot be
moved to another place or another currency's chain without breaking it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from uuid import UUID

GENESIS = "0" * 64
VERSION = 1


@dataclass(frozen=True)
class Sealable:
    """What a link commits to: a transaction as seen from one currency."""

    currency: str
    transaction_id: UUID
    kind: str
    effective_date: date
    inserted_at: datetime
    reverses: UUID | None
    postings: tuple[tuple[UUID, int], ...]


def canonical(item: Sealable, *, position: int, prev_hash: str) -> bytes:
    """The exact bytes hashed for ``item`` at ``position`` after ``prev_hash``."""
    document = {
        "v": VERSION,
        "currency": item.currency,
        "position": position,
        "prev_hash": prev_hash,
        "transaction_id": str(item.transaction_id),
        "kind": item.kind,
        "effective_date": item.effective_date.isoformat(),
        "inserted_at": item.inserted_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "reverses": None if item.reverses is None else str(item.reverses),
        "postings": [[str(a), amount] for a, amount in sorted_postings(item.postings)],
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def sorted_postings(postings: Iterable[tuple[UUID, int]]) -> list[tuple[UUID, int]]:
    return sorted(postings, key=lambda p: str(p[0]))


def link_hash(item: Sealable, *, position: int, prev_hash: str) -> str:
    return hashlib.sha256(canonical(item, position=position, prev_hash=prev_hash)).hexdigest()


@dataclass(frozen=True)
class StoredLink:
    position: int
    transaction_id: UUID
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Break:
    """The first link that does not hold, and why."""

    position: int
    transaction_id: UUID
    expected_hash: str
    stored_hash: str
    reason: str


def check_link(
    link: StoredLink, item: Sealable | None, *, expected_position: int, prev_hash: str
) -> Break | None:
    """Why ``link`` is broken given the previous link's hash, or None if it holds.

    Reasons: ``position_gap`` (positions must run 1, 2, 3…), ``prev_hash_mismatch`` (the
    link does not point at its predecessor), ``transaction_missing`` (no such transaction,
    or it has no posting in this currency), ``hash_mismatch`` (recomputing from the
    transaction and its postings gives another hash: a posting or the link was altered).
    """
    expected = (
        "" if item is None else link_hash(item, position=expected_position, prev_hash=prev_hash)
    )

    def broken(reason: str) -> Break:
        return Break(link.position, link.transaction_id, expected, link.hash, reason)

    if link.position != expected_position:
        return broken("position_gap")
    if link.prev_hash != prev_hash:
        return broken("prev_hash_mismatch")
    if item is None:
        return broken("transaction_missing")
    if expected != link.hash:
        return broken("hash_mismatch")
    return None
