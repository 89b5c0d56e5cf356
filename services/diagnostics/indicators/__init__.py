"""Indicators of a territory-year: engines, employment, retention, peers, typology, reports."""
