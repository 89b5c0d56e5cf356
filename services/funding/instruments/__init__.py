"""Financial instruments a programme awards besides grants: repayable advances, honour loans,
participatory loans and guarantees on bank loans, with their schedules and repayments."""
