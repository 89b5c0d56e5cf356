"""Programme eligibility: can this project apply to this programme now?

Why every rule reports separately: an applicant (or the accompanist helping them) needs to
know *all* the reasons a file is ineligible at once (wrong territory *and* call closed), not
one per attempt, and the eligibility step of the workflow records the same per-rule verdicts
as its justification. Each rule is optional on the programme (None = no restriction), and
each produces a ``RuleCheck`` with a stable ``code`` the UI can translate.

The seed's programmes differ precisely by these rules: IDéclic Solidaire "projet" targets
emerging social-enterprise and local-currency projects, CAE support targets cooperatives,
PTCE/SCIC support targets cooperation between ESS actors on a territory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services.funding.programmes.errors import (
    InvalidEligibilityRulesError,
    InvalidTerritoryCodeError,
    NotEligibleError,
)
from services.funding.programmes.rules.territory import match_commune, validate_territories


class LegalForm(StrEnum):
    """Common legal forms of applicants; programmes list those they accept."""

    ASSOCIATION = "association"
    SCOP = "scop"
    SCIC = "scic"
    OTHER_COOPERATIVE = "other_cooperative"
    COMMERCIAL_COMPANY = "commercial_company"  # SARL, SAS, SA...
    SOLE_TRADER = "sole_trader"  # entreprise individuelle, micro-entrepreneur
    FOUNDATION = "foundation"
    MUTUAL = "mutual"
    LOCAL_AUTHORITY = "local_authority"
    OTHER_PUBLIC_BODY = "other_public_body"


class ProjectStage(StrEnum):
    """Maturity of the project, from the idea to consolidation."""

    EMERGENCE = "emergence"
    CREATION = "creation"
    DEVELOPMENT = "development"
    CONSOLIDATION = "consolidation"


@dataclass(frozen=True, slots=True)
class CallWindow:
    """A call for projects accepts submissions in [opens_at, closes_at)."""

    opens_at: datetime
    closes_at: datetime

    def __post_init__(self) -> None:
        if self.opens_at.tzinfo is None or self.closes_at.tzinfo is None:
            raise InvalidEligibilityRulesError("call dates must carry a time zone")
        if self.opens_at >= self.closes_at:
            raise InvalidEligibilityRulesError("a call must open before it closes")

    def is_open(self, at: datetime) -> bool:
        """True when a submission at ``at`` falls inside the window."""
        return self.opens_at <= at < self.closes_at


@dataclass(frozen=True, slots=True)
class EligibilityRules:
    """A programme's (or call's) eligibility rules; None means "no restriction"."""

    call: CallWindow | None = None
    territories: frozenset[str] | None = None
    legal_forms: frozenset[LegalForm] | None = None
    project_stages: frozenset[ProjectStage] | None = None
    min_amount_cents: int | None = None
    max_amount_cents: int | None = None

    def __post_init__(self) -> None:
        # An empty set would silently make every project ineligible: say None or list some.
        for name in ("territories", "legal_forms", "project_stages"):
            if getattr(self, name) == frozenset():
                raise InvalidEligibilityRulesError(f"{name} is empty; use None for no limit")
        if self.territories is not None:
            validate_territories(self.territories)
        low, high = self.min_amount_cents, self.max_amount_cents
        if any(b is not None and b < 0 for b in (low, high)):
            raise InvalidEligibilityRulesError("amount bounds must be non-negative cents")
        if low is not None and high is not None and low > high:
            raise InvalidEligibilityRulesError("min_amount_cents is above max_amount_cents")


@dataclass(frozen=True, slots=True)
class Candidate:
    """The facts about an application that eligibility rules look at."""

    commune_insee_code: str
    legal_form: LegalForm
    project_stage: ProjectStage
    requested_amount_cents: int


@dataclass(frozen=True, slots=True)
class RuleCheck:
    """The verdict of one rule, with a stable code and a readable detail."""

    rule: str
    passed: bool
    code: str
    detail: str


@dataclass(frozen=True, slots=True)
class EligibilityReport:
    """Every rule's verdict on one candidate."""

    checks: tuple[RuleCheck, ...]

    @property
    def eligible(self) -> bool:
        """True when every rule passed."""
        return all(c.passed for c in self.checks)

    @property
    def failures(self) -> tuple[RuleCheck, ...]:
        """The rules that failed."""
        return tuple(c for c in self.checks if not c.passed)


def _check_call(call: CallWindow, at: datetime) -> RuleCheck:
    if at < call.opens_at:
        return RuleCheck("call_window", False, "call-not-open-yet", f"opens {call.opens_at}")
    if at >= call.closes_at:
        return RuleCheck("call_window", False, "call-closed", f"closed {call.closes_at}")
    return RuleCheck("call_window", True, "call-open", f"open until {call.closes_at}")


def _check_territory(territories: frozenset[str], commune: str) -> RuleCheck:
    try:
        matched = match_commune(territories, commune)
    except InvalidTerritoryCodeError:
        return RuleCheck("territory", False, "invalid-commune-code", f"{commune!r} is invalid")
    if matched is None:
        return RuleCheck(
            "territory", False, "territory-not-eligible", f"{commune} is outside the programme"
        )
    detail = f"{commune} matched by {matched.name.lower()}"
    return RuleCheck("territory", True, "territory-eligible", detail)


def _check_member(rule: str, value: str, accepted: frozenset[str]) -> RuleCheck:
    label = rule.replace("_", "-")
    if value in accepted:
        return RuleCheck(rule, True, f"{label}-eligible", f"{value} is accepted")
    listed = ", ".join(sorted(accepted))
    return RuleCheck(rule, False, f"{label}-not-eligible", f"{value} is not one of {listed}")


def _check_amount(rules: EligibilityRules, amount: int) -> RuleCheck:
    if rules.min_amount_cents is not None and amount < rules.min_amount_cents:
        return RuleCheck(
            "requested_amount",
            False,
            "amount-below-minimum",
            f"{amount} cents is below {rules.min_amount_cents}",
        )
    if rules.max_amount_cents is not None and amount > rules.max_amount_cents:
        return RuleCheck(
            "requested_amount",
            False,
            "amount-above-maximum",
            f"{amount} cents is above {rules.max_amount_cents}",
        )
    return RuleCheck("requested_amount", True, "amount-within-bounds", f"{amount} cents")


def check_eligibility(
    rules: EligibilityRules, candidate: Candidate, *, at: datetime
) -> EligibilityReport:
    """Run every rule the programme sets on the candidate, as of ``at``."""
    if at.tzinfo is None:
        raise InvalidEligibilityRulesError("the submission time must carry a time zone")
    checks: list[RuleCheck] = []
    if rules.call is not None:
        checks.append(_check_call(rules.call, at))
    if rules.territories is not None:
        checks.append(_check_territory(rules.territories, candidate.commune_insee_code))
    if rules.legal_forms is not None:
        checks.append(_check_member("legal_form", candidate.legal_form, rules.legal_forms))
    if rules.project_stages is not None:
        checks.append(_check_member("project_stage", candidate.project_stage, rules.project_stages))
    if rules.min_amount_cents is not None or rules.max_amount_cents is not None:
        checks.append(_check_amount(rules, candidate.requested_amount_cents))
    return EligibilityReport(checks=tuple(checks))


def assert_eligible(
    rules: EligibilityRules, candidate: Candidate, *, at: datetime
) -> EligibilityReport:
    """Like ``check_eligibility`` but raise NotEligibleError listing every failed rule."""
    report = check_eligibility(rules, candidate, at=at)
    if not report.eligible:
        failures = [{"rule": c.rule, "code": c.code, "detail": c.detail} for c in report.failures]
        raise NotEligibleError(
            "; ".join(f"{f['rule']}: {f['detail']}" for f in failures), failures=failures
        )
    return report
