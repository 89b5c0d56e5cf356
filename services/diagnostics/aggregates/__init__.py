"""Live local-currency aggregates projected from the ledger's posted transactions."""
