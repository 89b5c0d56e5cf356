"""Clearing between euro-backed local currencies: cross-currency payments at par through
a regional clearing account per currency, and the settlement of each period in euros."""
