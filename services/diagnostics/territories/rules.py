"""Pure rules of territories: the levels of the administrative and statistical hierarchy."""

LEVELS = ("region", "departement", "zone_emploi", "epci", "commune")
"""Every territory level, from the région down to the commune (EPCI: SIREN-coded groupings)."""
