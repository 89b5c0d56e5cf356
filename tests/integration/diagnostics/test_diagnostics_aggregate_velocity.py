"""The velocity the aggregate publisher computes every second for each changed row: the
same figure as the pure rule on every stored transfer, at a cost that does not grow with
the history.

Why the second test: the publisher used to load every transfer of the territory since the
first one for each publication; in the 30-minute soak the diagnostics process's memory
then grew with the number of transfers (~100 MiB/h at 20 transfers/s)."""

from __future__ import annotations

import random
import tracemalloc
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.aggregates import repository
from services.diagnostics.aggregates.rules.circulation import (
    Transfer,
    TransferKind,
    velocity,
)
from services.diagnostics.aggregates.rules.postings import month_bounds
from services.diagnostics.aggregates.service import territory_velocity
from services.diagnostics.errors import UndefinedIndicator
from shared.db import make_engine, make_session_factory

CURRENCY = "VITESSE"
TERRITORIES = ("38185", "38421", "69123")
# How much more Python memory one velocity may hold at once after 3,000 more transfers:
# noise (a statement's cache entry, a larger integer). Loading them took ~2 KiB each.
MAX_GROWTH_BYTES = 64 * 1024


@pytest.fixture
async def session(migrated_database: Callable[[str], str]) -> AsyncIterator[AsyncSession]:
    engine = make_engine(migrated_database("diagnostics"), pool_size=1, max_overflow=0)
    try:
        async with make_session_factory(engine)() as session:
            yield session
    finally:
        await engine.dispose()


def history(count: int, *, seed: int) -> list[Transfer]:
    """Issuance, payments and reconversions between accounts of three territories (and
    the operator's, outside any), spread over November to January."""
    rng = random.Random(seed)
    first = datetime(2026, 11, 1, tzinfo=UTC)
    transfers = []
    for i in range(count):
        at = first + timedelta(seconds=rng.randrange(92 * 24 * 3600), microseconds=i)
        kind = rng.choice([TransferKind.ISSUANCE, *[TransferKind.PAYMENT] * 4, "reconversion"])
        member = (f"m{rng.randrange(20)}", rng.choice(TERRITORIES))
        other = (f"m{rng.randrange(20)}", rng.choice(TERRITORIES))
        payer, payee = {
            TransferKind.ISSUANCE: (("operator", None), member),
            TransferKind.PAYMENT: (member, other),
            TransferKind.RECONVERSION: (member, ("operator", None)),
        }[TransferKind(kind)]
        transfers.append(
            Transfer(
                payer_account=payer[0],
                payee_account=payee[0],
                payer_territory=payer[1],
                payee_territory=payee[1],
                amount=rng.randint(1, 50_000),
                at=at,
                kind=kind,
            )
        )
    return transfers


async def store(session: AsyncSession, transfers: list[Transfer]) -> None:
    for n in range(0, len(transfers), 500):
        await repository.add_transfers(
            session,
            transaction_id=f"tx-{n}",
            currency=CURRENCY,
            period="2026-12",  # the velocity reads ``at``, never the stored period
            transfers=transfers[n : n + 500],
        )
    await session.commit()


def expected(transfers: list[Transfer], territory: str, period: str) -> float | None:
    start, end = month_bounds(period)
    try:
        return velocity(transfers, start=start, end=end, territory=territory)
    except UndefinedIndicator:
        return None


async def test_the_published_velocity_is_the_rule_applied_to_every_stored_transfer(
    session: AsyncSession,
) -> None:
    transfers = history(400, seed=7)
    await store(session, transfers)
    for territory in TERRITORIES:
        for period in ("2026-10", "2026-11", "2026-12", "2027-01"):
            got = await territory_velocity(
                session, territory=territory, currency=CURRENCY, period=period
            )
            assert got == expected(transfers, territory, period), (territory, period)
    assert (
        await territory_velocity(session, territory="01001", currency=CURRENCY, period="2026-12")
        is None
    )


async def peak_of_one_velocity(session: AsyncSession) -> tuple[float | None, int]:
    """The velocity of 38185 in December, and the most Python memory it held at once."""
    await territory_velocity(session, territory="38185", currency=CURRENCY, period="2026-12")
    tracemalloc.start()
    try:
        got = await territory_velocity(
            session, territory="38185", currency=CURRENCY, period="2026-12"
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return got, peak


async def test_the_velocity_costs_the_same_memory_after_a_ten_times_longer_history(
    session: AsyncSession,
) -> None:
    transfers = history(3_300, seed=11)
    await store(session, transfers[:300])
    _, short = await peak_of_one_velocity(session)
    await store(session, transfers[300:])
    got, long = await peak_of_one_velocity(session)
    assert got == expected(transfers, "38185", "2026-12")
    assert long < short + MAX_GROWTH_BYTES, f"{short / 1024:.0f} KiB → {long / 1024:.0f} KiB"
