"""Accounts: opening, status, credit limits, balances, history and statements."""
