"""The regional dashboard's state: how each stream row updates it, and how the summary is
laid out. Pure; ``static/dashboard.js`` applies the same rules to live events, so the page
and ``/api/dashboard/summary`` always agree.

Grants: *committed* is what envelopes committed to applications minus what was released,
*ordered* what tranches were ordered for payment, *paid* what was actually paid.

Loans and guarantees: funding's ``instrument.figures`` are kept as territory metrics
(``instruments_leverage``, ``instruments_repayment_rate``, the latest value wins) and laid
out in their own ``instruments`` section.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from services.gateway.stream.rules import (
    AGGREGATE_TYPE,
    BUDGET_COMMITTED_TYPE,
    BUDGET_RELEASED_TYPE,
    INSTRUMENT_FIGURES_TYPE,
    PAYMENT_ORDERED_TYPE,
    PAYMENT_PAID_TYPE,
    TRANSACTION_TYPE,
    StreamRow,
    Tags,
)

ENGINE_METRIC = re.compile(r"^(?:engine_)?share_(?P<engine>productive|residential|public|social)$")
INSTRUMENT_METRIC = re.compile(r"^instruments_(?P<name>leverage|repayment_rate)$")
Mode = Literal["replace", "add"]
Kind = Literal["aggregate", "ledger", "ordered", "paid", "committed"]
GRANT_KINDS: tuple[Kind, ...] = ("committed", "ordered", "paid")


@dataclass(frozen=True, slots=True)
class StateUpdate:
    """One upsert into ``dashboard_state``: ``replace`` keeps the latest value, ``add``
    accumulates ``amount`` (signed) and counts one more."""

    key: str
    kind: Kind
    tags: Tags
    mode: Mode
    metric: str | None = None
    value: float | None = None
    unit: str | None = None
    period: str | None = None
    amount: int = 0


def state_update(row: StreamRow) -> StateUpdate | None:
    t, d = row.tags, row.data
    if row.event_type in (AGGREGATE_TYPE, INSTRUMENT_FIGURES_TYPE):
        key = f"aggregate|{t.territory}|{t.currency or ''}|{d['metric']}"
        return StateUpdate(
            key,
            "aggregate",
            t,
            "replace",
            metric=d["metric"],
            value=float(d["value"]),
            unit=d["unit"],
            period=d["period"],
        )
    if row.event_type == TRANSACTION_TYPE:
        return StateUpdate(_key("ledger", t), "ledger", t, "add", amount=int(d["amount"]))
    kind, sign = _GRANT_MOVES.get(row.event_type, (None, 0))
    if kind is None:
        return None
    return StateUpdate(_key(kind, t), kind, t, "add", amount=sign * int(d["amount"]))


_GRANT_MOVES: dict[str, tuple[Kind, int]] = {
    BUDGET_COMMITTED_TYPE: ("committed", 1),
    BUDGET_RELEASED_TYPE: ("committed", -1),
    PAYMENT_ORDERED_TYPE: ("ordered", 1),
    PAYMENT_PAID_TYPE: ("paid", 1),
}


def _key(kind: str, t: Tags) -> str:
    return f"{kind}|{t.programme or ''}|{t.currency or ''}|{t.territory or ''}"


def summarize(rows: Iterable[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Lay ``dashboard_state`` rows out as the page shows them (sorted, stable)."""
    territories: dict[tuple[str, str], dict[str, Any]] = {}
    engines: dict[str, dict[str, float]] = {}
    programmes: dict[tuple[str, str], dict[str, Any]] = {}
    ledger: list[dict[str, Any]] = []
    instruments: dict[str, dict[str, Any]] = {}
    for r in rows:
        kind = r["kind"]
        instrument_metric = INSTRUMENT_METRIC.match(r["metric"] or "")
        if kind == "aggregate" and instrument_metric:
            entry = instruments.setdefault(
                r["territory"] or "",
                {"territory": r["territory"], "leverage": None, "repayment_rate": None},
            )
            entry[instrument_metric["name"]] = r["value"]
            entry["as_of"] = max(entry.get("as_of") or "", r["period"] or "")
            continue
        if kind == "aggregate":
            match = ENGINE_METRIC.match(r["metric"] or "")
            if match:
                engines.setdefault(r["territory"], {})[match["engine"]] = r["value"]
                continue
            entry = territories.setdefault(
                (r["territory"] or "", r["currency"] or ""),
                {"territory": r["territory"], "currency": r["currency"], "metrics": {}},
            )
            entry["metrics"][r["metric"]] = {
                "value": r["value"],
                "unit": r["unit"],
                "period": r["period"],
            }
        elif kind == "ledger":
            ledger.append(
                {
                    "territory": r["territory"],
                    "currency": r["currency"],
                    "volume": int(r["amount"]),
                    "transactions": int(r["count"]),
                }
            )
        elif kind in GRANT_KINDS:
            entry = programmes.setdefault(
                (r["programme"] or "", r["currency"] or ""),
                {
                    "programme": r["programme"],
                    "currency": r["currency"],
                    "committed": 0,
                    "ordered": 0,
                    "paid": 0,
                    "payments": 0,
                },
            )
            entry[kind] += int(r["amount"])
            if kind == "paid":
                entry["payments"] += int(r["count"])
    return {
        "territories": [territories[k] for k in sorted(territories)],
        "engine_shares": [{"territory": name, "shares": engines[name]} for name in sorted(engines)],
        "programmes": [programmes[k] for k in sorted(programmes)],
        "ledger": sorted(ledger, key=lambda e: (e["territory"] or "", e["currency"] or "")),
        "instruments": [instruments[k] for k in sorted(instruments)],
    }
