"""Errors of imports: a refused file, an unknown import, and a request body that cannot be
read as a table (the last three are problems of the HTTP request itself)."""

from __future__ import annotations

from services.diagnostics.errors import DiagnosticsDomainError
from shared.problems import Problem, Unprocessable


class ImportRejected(DiagnosticsDomainError):
    status, code, title = 422, "import-rejected", "Import rejected: nothing was written"


class ImportNotFound(DiagnosticsDomainError):
    status, code, title = 404, "import-not-found", "Unknown import"


class UnreadableBody(Unprocessable):
    code, title = "unreadable-body", "The request body cannot be read"


class UnsupportedMediaType(Problem):
    status, code, title = 415, "unsupported-media-type", "Send text/csv or application/json"


class PayloadTooLarge(Problem):
    status, code, title = 413, "payload-too-large", "The request body is too large"


class JobAlreadyRunning(DiagnosticsDomainError):
    """A load of the same kind is running: its progress is at ``GET /imports/{job_id}``."""

    status, code, title = 409, "job-already-running", "Un chargement du même type est en cours"
