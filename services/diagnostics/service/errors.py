"""Errors the diagnostics use cases raise, rendered as problem+json."""

from __future__ import annotations

from shared.problems import NotFound, Unprocessable


class ImportRejected(Unprocessable):
    code, title = "import-rejected", "Import rejected: nothing was written"


class TerritoryNotFound(NotFound):
    code, title = "territory-not-found", "Unknown territory"


class NoDataForYear(NotFound):
    code, title = "no-data-for-year", "No data for this territory and year"


class ImportNotFound(NotFound):
    code, title = "import-not-found", "Unknown import"


class PerimeterNotFound(NotFound):
    code, title = "perimeter-not-found", "No such perimeter at that date"


class InvalidCursor(Unprocessable):
    code, title = "invalid-cursor", "Cursor is not one this API returned"


class UnreadableBody(Unprocessable):
    code, title = "unreadable-body", "The request body cannot be read"
