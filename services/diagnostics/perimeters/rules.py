"""Pure rules of contract perimeters: the kinds of contract a perimeter belongs to."""

PERIMETER_KINDS = ("cddra", "cfac", "pnr", "politique_ville")
"""CDDRA, CFAC, PNR and politique de la ville perimeters."""
