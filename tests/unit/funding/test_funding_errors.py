"""Domain errors: one base, stable distinct codes, HTTP statuses the API can use as-is."""

from __future__ import annotations

from services.funding.domain import errors


def _error_classes() -> list[type[errors.FundingDomainError]]:
    return [
        value
        for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, errors.FundingDomainError)
    ]


def test_every_error_has_a_distinct_code() -> None:
    codes = [cls.code for cls in _error_classes()]
    assert len(codes) == len(set(codes))


def test_every_error_has_a_client_error_status_and_a_title() -> None:
    for cls in _error_classes():
        assert cls.status in {403, 404, 409, 422}, cls
        assert cls.title and cls.__doc__, cls


def test_error_carries_detail_and_extra_for_problem_json() -> None:
    error = errors.EnvelopeExceededError(requested_cents=500, remaining_cents=200)
    assert error.detail == "cannot commit 500 cents: 200 cents remain"
    assert error.extra == {"requested_cents": 500, "remaining_cents": 200}
    assert isinstance(error, errors.FundingDomainError)
