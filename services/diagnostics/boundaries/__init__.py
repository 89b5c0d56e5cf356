"""Boundaries of the territories above the commune as GeoJSON pages, for the map."""
