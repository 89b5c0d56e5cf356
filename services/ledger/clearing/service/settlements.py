"""Net positions per pair of currencies and period, the settlement of a period (euros
from the debtor's reserve to the creditor's, in one transaction), the settlement report,
and the invariant *reserve + net clearing position = circulation*."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.authority.errors import OperatorActRequired
from services.ledger.authority.rules import Basis, Grant
from services.ledger.authority.service import checks as authority
from services.ledger.clearing import repository as repo
from services.ledger.clearing import rules
from services.ledger.clearing.errors import PeriodAlreadySettled
from services.ledger.clearing.schemas import SettlementCreate
from services.ledger.clearing.service.payments import euro_backed_reserve, opted_in
from services.ledger.database.outbox import emit
from services.ledger.transactions.rules import Posting
from services.ledger.transactions.service import single
from shared.auth import Principal
from shared.events.catalog.ledger import ClearingSettled
from shared.ids import uuid7

CSV_MAX_ROWS = 10_000


def _operator_read(principal: Principal, currency: str, what: str) -> None:
    principal.ensure_access("currencies", currency)
    authority.ensure_operator_read(principal, currency, what=what)


def position_view(row: Mapping[Any, Any]) -> dict[str, Any]:
    net = rules.net(
        row["currency_low"], row["currency_high"], row["low_to_high"], row["high_to_low"]
    )
    return {
        **{k: row[k] for k in ("currency_low", "currency_high", "low_to_high", "high_to_low")},
        "period": rules.period_text(row["period"]),
        "payments": row["payments"],
        "payer_currency": net.payer,
        "payee_currency": net.payee,
        "net": net.amount,
        "settlement_id": row["settlement_id"],
    }


def parse_position_cursor(raw: str) -> tuple[date, str, str]:
    period, low, high = raw.split("|")
    return rules.parse_period(period), low, high


def position_cursor(view: Mapping[str, Any]) -> str:
    return f"{view['period']}|{view['currency_low']}|{view['currency_high']}"


async def positions(
    session: AsyncSession,
    principal: Principal,
    *,
    currency: str,
    period: str | None,
    after: tuple[date, str, str] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """The net position of each pair ``currency`` clears with, per period (the operator's
    read, or an auditor's)."""
    _operator_read(principal, currency, "clearing positions")
    rows = await repo.positions(
        session,
        currency=currency,
        period=rules.parse_period(period) if period else None,
        after=after,
        limit=limit,
    )
    return [position_view(row) for row in rows]


def _reserve(row: Mapping[Any, Any]) -> rules.Reserve:
    return rules.Reserve(
        row["currency"],
        row["issuer_account"],
        row["reserve_account"],
        row["external_account"],
        row["euro_currency"],
    )


def _standing_grants(
    legs: tuple[Posting, ...], owners: Mapping[UUID, str], terms: Mapping[str, Any]
) -> list[Grant]:
    """Each debit leg under the standing authorisation of the currency whose accounts it
    debits (that currency's clearing terms name the operator who gave it)."""
    return [
        Grant(
            leg.account_id,
            Basis.OPERATOR,
            terms[owners[leg.account_id]]["authorised_by"],
            -leg.amount,
        )
        for leg in legs
        if leg.amount < 0
    ]


async def _post_settlement(
    session: AsyncSession,
    principal: Principal,
    net: rules.Net,
    terms: Mapping[str, Any],
    period: date,
) -> str:
    assert net.payer is not None and net.payee is not None
    payer = _reserve(await euro_backed_reserve(session, net.payer))
    payee = _reserve(await euro_backed_reserve(session, net.payee))
    payer_clearing = terms[net.payer]["clearing_account"]
    payee_clearing = terms[net.payee]["clearing_account"]
    legs = rules.settlement_legs(
        payer=payer,
        payer_clearing=payer_clearing,
        payee=payee,
        payee_clearing=payee_clearing,
        amount=net.amount,
    )
    owners = dict.fromkeys((payer_clearing, payer.issuer, payer.reserve, payer.external), net.payer)
    owners |= dict.fromkeys(
        (payee_clearing, payee.issuer, payee.reserve, payee.external), net.payee
    )
    await repo.clearing_posting(session, True)
    view = await single.post(
        session,
        actor=authority.actor(principal),
        legs=legs,
        kind="clearing_settlement",
        description=f"règlement {net.payer} → {net.payee} {rules.period_text(period)}",
        metadata={"period": rules.period_text(period), "payer": net.payer, "payee": net.payee},
        standing=_standing_grants(legs, owners, terms),
    )
    await repo.clearing_posting(session, False)
    return str(view["id"])


async def settle(
    session: AsyncSession, principal: Principal, body: SettlementCreate
) -> dict[str, Any]:
    """Settle a pair's ended period: the net of its payments moves in euros between the
    reserves and back out of both clearing accounts, once (an operator of either currency
    asks; each side's legs move under its own operator's standing authorisation)."""
    low, high = rules.pair(body.currency_a, body.currency_b)
    period = rules.parse_period(body.period)
    actor = authority.actor(principal)
    if not (actor.operates(low) or actor.operates(high)):
        raise OperatorActRequired(
            f"le règlement {low}/{high} est un acte de l'opérateur de l'une des deux monnaies",
            currency=low,
            act="settling clearing",
        )
    terms = await opted_in(session, [low, high], exclusive=True)
    rules.check_period_ended(period, datetime.now(UTC).date())
    totals = await repo.pair_totals(session, low, high, period)
    net = rules.net(low, high, int(totals["low_to_high"]), int(totals["high_to_low"]))
    tx_id = await _post_settlement(session, principal, net, terms, period) if net.amount else None
    row = await repo.insert_settlement(
        session,
        id=uuid7(),
        currency_low=low,
        currency_high=high,
        period=period,
        low_to_high=int(totals["low_to_high"]),
        high_to_low=int(totals["high_to_low"]),
        payments=int(totals["payments"]),
        payer_currency=net.payer,
        payee_currency=net.payee,
        amount=net.amount,
        transaction_id=UUID(tx_id) if tx_id else None,
        settled_by=principal.client_id,
    )
    if row is None:
        raise PeriodAlreadySettled(
            f"{low}/{high} {body.period} est déjà réglée", period=body.period
        )
    await repo.mark_settled(session, low, high, period, row["id"])
    view = settlement_view(row)
    await emit(
        session,
        ClearingSettled(
            settlement_id=str(row["id"]),
            currency_low=low,
            currency_high=high,
            period=view["period"],
            payer_currency=net.payer,
            payee_currency=net.payee,
            amount=net.amount,
            transaction_id=tx_id,
        ),
        str(row["id"]),
    )
    return view


def settlement_view(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {**row, "period": rules.period_text(row["period"])}


async def settlements(
    session: AsyncSession,
    principal: Principal,
    *,
    currency: str,
    period: str | None,
    after: UUID | None,
    limit: int,
) -> list[dict[str, Any]]:
    """The settlement report of ``currency`` (every pair it clears with), by period."""
    _operator_read(principal, currency, "the clearing settlement report")
    rows = await repo.settlements(
        session,
        currency=currency,
        period=rules.parse_period(period) if period else None,
        after=after,
        limit=limit,
    )
    return [settlement_view(row) for row in rows]


async def settlements_csv(
    session: AsyncSession, principal: Principal, *, currency: str, period: str | None
) -> str:
    found = await settlements(
        session, principal, currency=currency, period=period, after=None, limit=CSV_MAX_ROWS
    )
    return rules.report_csv(found)


async def invariant(session: AsyncSession, principal: Principal, currency: str) -> dict[str, Any]:
    """reserve + net clearing position = circulation for ``currency``, from one snapshot."""
    _operator_read(principal, currency, "the clearing invariant")
    reserve = await euro_backed_reserve(session, currency)
    terms = await repo.get_terms(session, currency)
    figures = await repo.invariant_figures(
        session,
        currency=currency,
        issuer=reserve["issuer_account"],
        reserve=reserve["reserve_account"],
        clearing=terms["clearing_account"] if terms else None,
    )
    return {
        "currency": currency,
        **rules.invariant(
            issued=-int(figures["issuer"] or 0),
            reserve=int(figures["reserve"] or 0),
            clearing_balance=int(figures["clearing"] or 0),
            held=int(figures["held"]),
        ),
    }
