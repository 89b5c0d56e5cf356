"""Holds (two-phase payments): authorize, capture, void, expire."""
