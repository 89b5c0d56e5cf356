"""The regional dashboard's state: how each stream row updates it, and how the summary is
laid out. Pure; ``static/dashboard.js`` applies the same rules to live events, so the page
and ``/api/dashboard/summary`` always agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from services.gateway.domain.projections import (
    AGGREGATE_TYPE,
    APPLICATION_PREFIX,
    PAYMENT_TYPE,
    TRANSACTION_TYPE,
    StreamRow,
)
from services.gateway.domain.tenancy import Tags

ENGINE_METRIC = re.compile(r"^(?:engine_)?share_(?P<engine>productive|residential|public|social)$")
Mode = Literal["replace", "add"]


@dataclass(frozen=True, slots=True)
class StateUpdate:
    """One upsert into ``dashboard_state``: ``replace`` keeps the latest value, ``add``
    accumulates ``amount`` and counts one more."""

    key: str
    kind: str
    tags: Tags
    mode: Mode
    metric: str | None = None
    value: float | None = None
    unit: str | None = None
    period: str | None = None
    amount: int = 0


def state_update(row: StreamRow) -> StateUpdate | None:
    t, d = row.tags, row.data
    if row.event_type == AGGREGATE_TYPE:
        key = f"aggregate|{t.territory}|{t.currency or ''}|{d['metric']}"
        return StateUpdate(
            key, "aggregate", t, "replace",
            metric=d["metric"], value=float(d["value"]), unit=d["unit"], period=d["period"],
        )
    if row.event_type == TRANSACTION_TYPE:
        key = f"ledger|{t.territory or ''}|{t.currency}"
        return StateUpdate(key, "ledger", t, "add", amount=int(d["amount"]))
    if row.event_type == PAYMENT_TYPE:
        key = f"payment|{t.programme}|{t.currency}|{t.territory or ''}"
        return StateUpdate(key, "payment", t, "add", amount=int(d["amount"]))
    if row.event_type.startswith(APPLICATION_PREFIX) and "committed_amount" in d:
        key = f"commitment|{d['application_id']}"
        return StateUpdate(key, "commitment", t, "replace", amount=int(d["committed_amount"]))
    return None


def summarize(rows: Iterable[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Lay ``dashboard_state`` rows out as the page shows them (sorted, stable)."""
    territories: dict[tuple[str, str | None], dict[str, Any]] = {}
    engines: dict[str, dict[str, float]] = {}
    programmes: dict[tuple[str, str | None], dict[str, Any]] = {}
    ledger: list[dict[str, Any]] = []
    for r in rows:
        kind = r["kind"]
        if kind == "aggregate":
            match = ENGINE_METRIC.match(r["metric"] or "")
            if match:
                engines.setdefault(r["territory"], {})[match["engine"]] = r["value"]
                continue
            entry = territories.setdefault(
                (r["territory"], r["currency"]),
                {"territory": r["territory"], "currency": r["currency"], "metrics": {}},
            )
            entry["metrics"][r["metric"]] = {
                "value": r["value"], "unit": r["unit"], "period": r["period"]
            }
        elif kind == "ledger":
            ledger.append(
                {"territory": r["territory"], "currency": r["currency"],
                 "volume": int(r["amount"]), "transactions": int(r["count"])}
            )
        elif kind in ("payment", "commitment"):
            entry = programmes.setdefault(
                (r["programme"] or "", r["currency"]),
                {"programme": r["programme"], "currency": r["currency"], "committed": 0,
                 "paid": 0, "payments": 0, "applications": 0},
            )
            if kind == "payment":
                entry["paid"] += int(r["amount"])
                entry["payments"] += int(r["count"])
            else:
                entry["committed"] += int(r["amount"])
                entry["applications"] += 1
    return {
        "territories": [territories[k] for k in sorted(territories, key=_sort_key)],
        "engine_shares": [
            {"territory": name, "shares": engines[name]} for name in sorted(engines)
        ],
        "programmes": [programmes[k] for k in sorted(programmes, key=_sort_key)],
        "ledger": sorted(ledger, key=lambda e: (e["territory"] or "", e["currency"] or "")),
    }


def _sort_key(key: tuple[str | None, str | None]) -> tuple[str, str]:
    return (key[0] or "", key[1] or "")
