"""What progress reporting refuses."""

from __future__ import annotations

from services.funding.errors import FundingDomainError


class ReportNotExpectedError(FundingDomainError):
    """The file is not at a stage where this report can be filed or reviewed."""

    status, code, title = 409, "report-not-expected", "No such report is expected now"
