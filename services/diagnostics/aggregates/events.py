"""The event the live aggregates publish: one AggregateUpdated per metric of a changed row."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.aggregates.rules.postings import Counters, Key
from shared.events.catalog.diagnostics import AggregateUpdated
from shared.events.outbox import record_event

SOURCE = "/proxima/diagnostics"
MINOR_UNITS = "minor units"


def metrics(counters: Counters) -> dict[str, tuple[float | None, str]]:
    """Published metrics of one aggregate row, with their units."""
    return {
        "currency_volume": (float(counters.volume), MINOR_UNITS),
        "transactions": (float(counters.transactions), "count"),
        "issuance": (float(counters.issued), MINOR_UNITS),
        "reconversion": (float(counters.reconverted), MINOR_UNITS),
        "reconversion_leakage": (counters.share("reconverted"), "ratio"),
        "local_respend_share": (counters.share("spent_locally"), "ratio"),
        "external_spend_share": (counters.share("spent_outside"), "ratio"),
    }


async def record_updates(
    session: AsyncSession, key: Key, values: Mapping[str, tuple[float | None, str]]
) -> None:
    """Write an AggregateUpdated to the outbox for each defined metric, in order."""
    territory, currency, period = key
    for metric, (value, unit) in values.items():
        if value is None:
            continue
        await record_event(
            session,
            AggregateUpdated(
                territory=territory,
                metric=metric,
                period=period,
                currency=currency,
                value=value,
                unit=unit,
            ),
            source=SOURCE,
            subject=territory,
        )
