"""Errors of income sources."""

from __future__ import annotations

from services.diagnostics.errors import DiagnosticsDomainError


class IncomeSourcesNotFound(DiagnosticsDomainError):
    """No Filosofi figure was imported for the territory (at its own level: shares of
    income are never summed from communes)."""

    status, code, title = 404, "income-sources-not-found", "Aucune donnée Filosofi importée"
