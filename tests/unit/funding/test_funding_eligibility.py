"""Programme eligibility: each rule reports its own verdict."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.funding.programmes.errors import (
    InvalidEligibilityRulesError,
    InvalidTerritoryCodeError,
    NotEligibleError,
)
from services.funding.programmes.rules.eligibility import (
    CallWindow,
    Candidate,
    EligibilityRules,
    LegalForm,
    ProjectStage,
    assert_eligible,
    check_eligibility,
)

PARIS_TIME = timezone(timedelta(hours=1))
CALL = CallWindow(
    opens_at=datetime(2013, 1, 15, tzinfo=PARIS_TIME),
    closes_at=datetime(2013, 3, 15, tzinfo=PARIS_TIME),
)
IDECLIC = EligibilityRules(
    call=CALL,
    territories=frozenset({"26", "07", "74012"}),
    legal_forms=frozenset({LegalForm.ASSOCIATION, LegalForm.SCIC, LegalForm.SCOP}),
    project_stages=frozenset({ProjectStage.EMERGENCE}),
    max_amount_cents=1_500_000,
)
LA_MESURE = Candidate(
    commune_insee_code="26281",  # Romans-sur-Isère
    legal_form=LegalForm.ASSOCIATION,
    project_stage=ProjectStage.EMERGENCE,
    requested_amount_cents=1_000_000,
)
DURING_CALL = datetime(2013, 2, 1, 12, tzinfo=PARIS_TIME)


def _failed_codes(candidate: Candidate, at: datetime = DURING_CALL) -> list[str]:
    return [c.code for c in check_eligibility(IDECLIC, candidate, at=at).failures]


def test_eligible_candidate_passes_every_rule() -> None:
    report = check_eligibility(IDECLIC, LA_MESURE, at=DURING_CALL)
    assert report.eligible
    assert [c.rule for c in report.checks] == [
        "call_window",
        "territory",
        "legal_form",
        "project_stage",
        "requested_amount",
    ]


def test_call_window_is_half_open() -> None:
    assert _failed_codes(LA_MESURE, CALL.opens_at) == []
    assert _failed_codes(LA_MESURE, CALL.opens_at - timedelta(seconds=1)) == ["call-not-open-yet"]
    assert _failed_codes(LA_MESURE, CALL.closes_at) == ["call-closed"]
    assert _failed_codes(LA_MESURE, CALL.closes_at.astimezone(UTC)) == ["call-closed"]


@pytest.mark.parametrize(
    ("commune", "codes"),
    [
        ("07010", []),  # département listed
        ("74012", []),  # commune listed
        ("74010", ["territory-not-eligible"]),  # same département, other commune
        ("69123", ["territory-not-eligible"]),
        ("6912", ["invalid-commune-code"]),
    ],
)
def test_territory_rule(commune: str, codes: list[str]) -> None:
    candidate = Candidate(
        commune_insee_code=commune,
        legal_form=LegalForm.ASSOCIATION,
        project_stage=ProjectStage.EMERGENCE,
        requested_amount_cents=1,
    )
    assert _failed_codes(candidate) == codes


def test_every_failing_rule_is_reported_at_once() -> None:
    candidate = Candidate(
        commune_insee_code="69123",
        legal_form=LegalForm.COMMERCIAL_COMPANY,
        project_stage=ProjectStage.DEVELOPMENT,
        requested_amount_cents=2_000_000,
    )
    assert _failed_codes(candidate, CALL.closes_at) == [
        "call-closed",
        "territory-not-eligible",
        "legal-form-not-eligible",
        "project-stage-not-eligible",
        "amount-above-maximum",
    ]


def test_rules_left_unset_do_not_restrict() -> None:
    report = check_eligibility(EligibilityRules(), LA_MESURE, at=DURING_CALL)
    assert report.eligible and report.checks == ()


def test_minimum_amount() -> None:
    rules = EligibilityRules(min_amount_cents=500_000)
    small = Candidate("26281", LegalForm.SCOP, ProjectStage.CREATION, 499_999)
    assert [c.code for c in check_eligibility(rules, small, at=DURING_CALL).failures] == [
        "amount-below-minimum"
    ]


def test_assert_eligible_raises_with_every_failure() -> None:
    late = CALL.closes_at + timedelta(days=1)
    with pytest.raises(NotEligibleError) as caught:
        assert_eligible(IDECLIC, LA_MESURE, at=late)
    assert caught.value.status == 422
    assert caught.value.extra["failures"][0]["code"] == "call-closed"


@pytest.mark.parametrize(
    "build",
    [
        lambda: EligibilityRules(territories=frozenset()),
        lambda: EligibilityRules(legal_forms=frozenset()),
        lambda: EligibilityRules(min_amount_cents=10, max_amount_cents=5),
        lambda: CallWindow(opens_at=CALL.closes_at, closes_at=CALL.opens_at),
        lambda: CallWindow(opens_at=datetime(2013, 1, 1), closes_at=datetime(2013, 2, 1)),
    ],
)
def test_malformed_rules_are_refused(build: object) -> None:
    with pytest.raises(InvalidEligibilityRulesError):
        build()  # type: ignore[operator]


def test_invalid_territory_codes_in_rules_are_refused() -> None:
    with pytest.raises(InvalidTerritoryCodeError):
        EligibilityRules(territories=frozenset({"Drôme"}))


def test_naive_submission_time_is_refused() -> None:
    with pytest.raises(InvalidEligibilityRulesError):
        check_eligibility(IDECLIC, LA_MESURE, at=datetime(2013, 2, 1))
