"""Event handlers of the diagnostics service: the ledger's posted transactions feed the
live currency aggregates, the funding service's budget and payment events the grant ones,
its instruments' figures the loans and guarantees of each département."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.aggregates.service import apply_transaction
from services.diagnostics.grants.service import (
    apply_budget_movement,
    apply_instrument_figures,
    apply_payment,
)
from shared.events.catalog.funding import (
    BudgetCommitted,
    BudgetReleased,
    InstrumentFigures,
    PaymentPaid,
)
from shared.events.catalog.ledger import TransactionPosted
from shared.events.consumer import Subscription
from shared.events.envelope import Event

GROUP = "diagnostics"


async def on_transaction_posted(session: AsyncSession, event: Event) -> None:
    """Fold one posted transaction into the aggregates (inside the inbox transaction)."""
    await apply_transaction(session, event)


def subscription(group: str = GROUP) -> Subscription:
    """The handlers of this service under a consumer group (a new group replays from 0)."""
    return Subscription(
        group=group,
        handlers={
            TransactionPosted.event_type: on_transaction_posted,
            BudgetCommitted.event_type: apply_budget_movement,
            BudgetReleased.event_type: apply_budget_movement,
            PaymentPaid.event_type: apply_payment,
            InstrumentFigures.event_type: apply_instrument_figures,
        },
    )


def subscriptions() -> list[Subscription]:
    """What this service consumes, under its default group (Kafka ACLs, dead-letter replay)."""
    return [subscription()]
