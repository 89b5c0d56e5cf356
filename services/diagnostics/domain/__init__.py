"""Pure rules of the diagnostics service: indicators, typology, validation, report.

Nothing in this package performs I/O or imports a web or database framework; every
function is deterministic and can be called from a unit test without fixtures.
"""
