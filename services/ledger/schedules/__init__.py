"""Scheduled operations of a currency: its operator's standing orders, run by one leader."""
