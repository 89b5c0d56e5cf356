"""Currencies: their rules, and for euro-backed ones issuance, reconversion and the reserve."""
