"""Event handlers of the diagnostics service: the ledger's posted transactions feed the
live currency aggregates."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.service.aggregates import apply_transaction
from shared.events.catalog.ledger import TransactionPosted
from shared.events.consumer import Subscription
from shared.events.envelope import Event

GROUP = "diagnostics"


async def on_transaction_posted(session: AsyncSession, event: Event) -> None:
    """Fold one posted transaction into the aggregates (inside the inbox transaction)."""
    await apply_transaction(session, event)


SUBSCRIPTION = Subscription(
    group=GROUP, handlers={TransactionPosted.event_type: on_transaction_posted}
)
