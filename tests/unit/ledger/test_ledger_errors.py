import re

import services.ledger.app  # noqa: F401  (imports every concept, so every error class)
from services.ledger.accounts.errors import InsufficientFunds
from services.ledger.errors import LedgerDomainError


def error_types() -> tuple[type[LedgerDomainError], ...]:
    """Every concrete rule error of the ledger."""
    found: list[type[LedgerDomainError]] = []
    pending: list[type[LedgerDomainError]] = [LedgerDomainError]
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            found.append(sub)
            pending.append(sub)
    return tuple(sorted(found, key=lambda c: c.code))


def test_every_error_code_is_unique():
    codes = [cls.code for cls in error_types()]
    assert len(codes) == len(set(codes))


def test_every_error_code_is_kebab_case_like_shared_problems():
    for cls in error_types():
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", cls.code), cls


def test_every_error_status_is_403_404_422_or_409():
    # 404: a currency named in the path or body that does not exist (currency-not-found)
    assert {cls.status for cls in error_types()} == {403, 404, 409, 422}


def test_error_keeps_detail_and_extra_fields():
    error = InsufficientFunds("short by 3", available=7)
    assert error.detail == "short by 3"
    assert error.extra == {"available": 7}
    assert str(error) == "short by 3"


def test_error_without_detail_uses_its_title():
    assert InsufficientFunds().detail == InsufficientFunds.title
