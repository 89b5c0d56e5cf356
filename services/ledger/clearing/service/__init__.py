"""Clearing's service: terms and payments (`payments`), positions, settlements, their
report and the invariant (`settlements`)."""
