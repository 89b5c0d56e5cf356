"""Payment schedules in tranches, payment orders and the payment saga with the ledger."""
