"""Errors of income sources."""

from __future__ import annotations

from services.diagnostics.errors import DiagnosticsDomainError


class IncomeSourcesNotFound(DiagnosticsDomainError):
    """No Filosofi figure was imported for the territory (at its own level: shares of
    income are never summed from communes)."""

    status, code, title = 404, "income-sources-not-found", "Aucune donnée Filosofi importée"


class OfficialFiguresNotFound(DiagnosticsDomainError):
    """Neither the territory nor any of its communes has a line of the file (IRCOM,
    tourist capacity) for the vintage asked."""

    status, code, title = 404, "official-figures-not-found", "Aucune donnée officielle importée"
