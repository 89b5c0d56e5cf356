"""Errors of contract perimeters."""

from __future__ import annotations

from services.diagnostics.errors import DiagnosticsDomainError


class PerimeterNotFound(DiagnosticsDomainError):
    status, code, title = 404, "perimeter-not-found", "No such perimeter at that date"
