"""The public directory of businesses accepting the currencies ("où payer")."""
