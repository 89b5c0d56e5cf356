"""Domain errors: one base, stable distinct codes, HTTP statuses the API can use as-is."""

from __future__ import annotations

from services.funding import errors
from services.funding.applications import errors as application_errors
from services.funding.committees import errors as committee_errors
from services.funding.programmes import errors as programme_errors
from services.funding.reports import errors as report_errors
from services.funding.tenancy import errors as tenancy_errors
from services.funding.tranches import errors as tranche_errors

ERROR_MODULES = (
    errors,
    programme_errors,
    application_errors,
    committee_errors,
    tranche_errors,
    report_errors,
    tenancy_errors,
)


def _error_classes() -> list[type[errors.FundingDomainError]]:
    return list(
        dict.fromkeys(
            value
            for module in ERROR_MODULES
            for value in vars(module).values()
            if isinstance(value, type) and issubclass(value, errors.FundingDomainError)
        )
    )


def test_every_error_has_a_distinct_code() -> None:
    codes = [cls.code for cls in _error_classes()]
    assert len(codes) == len(set(codes))


def test_every_error_has_a_client_error_status_and_a_title() -> None:
    for cls in _error_classes():
        assert cls.status in {403, 404, 409, 422}, cls
        assert cls.title and cls.__doc__, cls


def test_error_carries_detail_and_extra_for_problem_json() -> None:
    error = programme_errors.EnvelopeExceededError(requested_cents=500, remaining_cents=200)
    assert error.detail == "cannot commit 500 cents: 200 cents remain"
    assert error.extra == {"requested_cents": 500, "remaining_cents": 200}
    assert isinstance(error, errors.FundingDomainError)
