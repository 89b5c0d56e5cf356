"""Demurrage: positive balances melt a little per period, charged by resumable runs."""
