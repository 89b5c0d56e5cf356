"""Territories: the administrative and statistical hierarchy the diagnostics are about."""
