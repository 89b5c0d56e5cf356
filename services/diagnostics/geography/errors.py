"""Errors of the official geography."""

from __future__ import annotations

from services.diagnostics.errors import DiagnosticsDomainError


class NoBoundary(DiagnosticsDomainError):
    status, code, title = 404, "no-boundary", "Contour inconnu pour ce territoire"
