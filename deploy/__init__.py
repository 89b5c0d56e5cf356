"""Deployment and local-run tooling (importable so `python -m deploy.local...` works)."""
