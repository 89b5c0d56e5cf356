"""Use cases of instruments: `base` (recorded at decision, read), `servicing` (schedules,
repayments, positions, guarantee calls) and `report` (figures per programme, territory,
year and kind)."""
