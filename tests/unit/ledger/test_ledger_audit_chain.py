"""The audit chain's canonical serialisation and link checks, without a database."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta, timezone
from uuid import UUID

from services.ledger.audit.rules.chain import (
    GENESIS,
    Sealable,
    StoredLink,
    canonical,
    check_link,
    link_hash,
)

TX = UUID("0190f0e0-0000-7000-8000-000000000001")
A = UUID("0190f0e0-0000-7000-8000-00000000000a")
B = UUID("0190f0e0-0000-7000-8000-00000000000b")
ITEM = Sealable(
    currency="GONETTE",
    transaction_id=TX,
    kind="transfer",
    effective_date=date(2026, 11, 20),
    inserted_at=datetime(2026, 11, 20, 9, 30, 0, 120000, tzinfo=timezone(timedelta(hours=1))),
    reverses=None,
    postings=((B, 250), (A, -250)),
)


# ITEM's canonical form at position 1 after the genesis link, spelled out by hand.
ITEM_CANONICAL = (
    '{"currency":"GONETTE","effective_date":"2026-11-20",'
    '"inserted_at":"2026-11-20T08:30:00.120000Z","kind":"transfer","position":1,'
    f'"postings":[["{A}",-250],["{B}",250]],"prev_hash":"{GENESIS}",'
    f'"reverses":null,"transaction_id":"{TX}","v":1}}'
)
# Its link hash, computed once and pasted: a change of the hashing (algorithm, encoding
# or serialisation) breaks every sealed chain, so it must break this test too.
ITEM_LINK_HASH = "10d4162cb7dc3c9f2d5bcbe091bf38f3e212e754e7165e94ffb474760acfc3af"


def test_the_canonical_form_is_sorted_compact_json_in_utc() -> None:
    assert canonical(ITEM, position=1, prev_hash=GENESIS).decode() == ITEM_CANONICAL


def test_the_hash_is_sha256_of_the_canonical_form() -> None:
    assert GENESIS == "0" * 64
    assert hashlib.sha256(ITEM_CANONICAL.encode()).hexdigest() == ITEM_LINK_HASH
    assert link_hash(ITEM, position=1, prev_hash=GENESIS) == ITEM_LINK_HASH


def test_position_previous_hash_and_posting_order_matter_only_where_they_should() -> None:
    base = link_hash(ITEM, position=1, prev_hash=GENESIS)
    assert link_hash(ITEM, position=2, prev_hash=GENESIS) != base
    assert link_hash(ITEM, position=1, prev_hash="1" * 64) != base
    reordered = Sealable(**{**ITEM.__dict__, "postings": ((A, -250), (B, 250))})
    assert link_hash(reordered, position=1, prev_hash=GENESIS) == base
    same_instant = ITEM.inserted_at.astimezone(UTC)
    in_utc = Sealable(**{**ITEM.__dict__, "inserted_at": same_instant})
    assert link_hash(in_utc, position=1, prev_hash=GENESIS) == base


def test_check_link_names_each_kind_of_break() -> None:
    good = link_hash(ITEM, position=1, prev_hash=GENESIS)
    link = StoredLink(1, TX, GENESIS, good)
    assert check_link(link, ITEM, expected_position=1, prev_hash=GENESIS) is None
    cases = {
        "position_gap": (StoredLink(2, TX, GENESIS, good), ITEM),
        "prev_hash_mismatch": (StoredLink(1, TX, "2" * 64, good), ITEM),
        "transaction_missing": (link, None),
        "hash_mismatch": (StoredLink(1, TX, GENESIS, "3" * 64), ITEM),
    }
    for reason, (stored, item) in cases.items():
        broken = check_link(stored, item, expected_position=1, prev_hash=GENESIS)
        assert broken is not None and broken.reason == reason
    mismatch = check_link(cases["hash_mismatch"][0], ITEM, expected_position=1, prev_hash=GENESIS)
    assert mismatch is not None
    assert (mismatch.expected_hash, mismatch.stored_hash) == (good, "3" * 64)
