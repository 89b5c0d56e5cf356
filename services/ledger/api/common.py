"""Tenancy checks the routers not yet in their concept package still use."""

from __future__ import annotations

from services.ledger.accounts.service import readable_account, visible_account
from services.ledger.authority.service.checks import ensure_operator_read
from services.ledger.currencies.service.registry import visible_currency

__all__ = ["ensure_operator_read", "readable_account", "visible_account", "visible_currency"]
