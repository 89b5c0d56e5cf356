"""A payment order is not paid because it arrived (embedded bus, the ledger's real
handler): one written to funding's topic by another service, or published by funding under
another service's source, is dead-lettered with the reason and moves nothing, while
funding's own order, the positive control, is paid. Replay never applies the untrusted
ones."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from services.ledger.consumers import subscriptions
from services.ledger.database.tables import transactions
from shared.events.catalog.funding import PaymentOrdered
from shared.events.envelope import new_event
from shared.events.replay import replay_dead_letters
from shared.events.tables import dead_letters, outbox, processed_events
from tests.integration.ledger.ledger_support import CURRENCY, Ledger
from tests.support.events import owned_event, producer_as, publish_as_owner, record_of
from tests.support.waiting import eventually


async def test_foreign_payment_orders_are_dead_lettered_with_the_reason_and_move_nothing(
    ledger: Ledger,
) -> None:
    issuer, fund = await ledger.funded(10_000)
    beneficiary = await ledger.account(type="merchant", territory="38185")
    await ledger.mandate_to_programme(fund, "IDECLIC")
    await ledger.link_grant(beneficiary, "IDECLIC", "app-1")

    def order(amount: int) -> PaymentOrdered:
        return PaymentOrdered(
            order_id=str(uuid.uuid4()),
            application_id="app-1",
            tranche_id="t-1",
            programme_code="IDECLIC",
            currency=CURRENCY,
            amount=amount,
        )

    settings = ledger.client.app.state.settings  # type: ignore[attr-defined]
    # diagnostics writes a perfect copy of a funding order, source and all, to funding's topic
    forged = owned_event(order(3_000), subject="app-1")
    diagnostics = producer_as(settings, "diagnostics")
    await diagnostics.start()
    try:
        await diagnostics.send_many([record_of(forged)])
    finally:
        await diagnostics.stop()
    # funding's producer, but the envelope says it comes from diagnostics
    relabelled = new_event(order(4_000), source="/proxima/diagnostics", subject="app-1")
    funding = producer_as(settings, "funding")
    await funding.start()
    try:
        await funding.send_many([record_of(relabelled)])
    finally:
        await funding.stop()
    genuine = order(2_500)
    genuine_event = owned_event(genuine, subject="app-1")
    await publish_as_owner(settings, [genuine_event])

    factory = ledger.client.app.state.session_factory  # type: ignore[attr-defined]

    async def answered() -> list[str]:
        async with factory() as session:
            query = select(outbox.c.payload).where(outbox.c.topic == "proxima.ledger.payment")
            rows = await session.execute(query)
            return [bytes(r[0]).decode() for r in rows]

    answers = await eventually(answered, lambda found: len(found) >= 1)
    assert len(answers) == 1 and genuine.order_id in answers[0]  # only funding's was answered
    assert (await ledger.balance(beneficiary))["posted"] == 2_500
    assert (await ledger.balance(fund))["posted"] == 10_000 - 2_500

    async with factory() as session:
        letters = (await session.execute(select(dead_letters).order_by(dead_letters.c.id))).all()
        applied = (await session.execute(select(processed_events.c.dedup_key))).scalars().all()
        grants = await session.scalar(
            select(func.count())
            .select_from(transactions)
            .where(transactions.c.kind == "grant_payment")
        )
    assert [r.reason for r in letters] == [
        "untrusted producer: diagnostics wrote to proxima.funding.payment, "
        "which belongs to funding",
        "untrusted source: /proxima/diagnostics does not own proxima.funding.payment "
        "(only /proxima/funding publishes there)",
    ]
    assert all(r.attempts == 0 and r.topic == "proxima.funding.payment" for r in letters)
    assert applied == [genuine_event.dedup_key]  # the inbox never saw the others
    assert grants == 1

    report = await replay_dead_letters(factory, subscriptions())
    assert report.replayed == 0
    assert sorted(report.refused) == [r.id for r in letters]
    assert all(why.startswith("never replayed: untrusted") for why in report.refused.values())
    assert (await ledger.balance(beneficiary))["posted"] == 2_500
