"""Errors of territories."""

from __future__ import annotations

from services.diagnostics.errors import DiagnosticsDomainError


class TerritoryNotFound(DiagnosticsDomainError):
    status, code, title = 404, "territory-not-found", "Unknown territory"
