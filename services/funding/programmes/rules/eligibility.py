"""Programme eligibility: may this project be filed under this programme?

Why every rule reports separately: an applicant (or the accompanist helping them) needs to
know *all* the reasons a file is ineligible at once (wrong territory *and* wrong legal
form), not one per attempt.

The seed's programmes differ precisely by these rules: IDéclic Solidaire "projet" targets
emerging social-enterprise and local-currency projects, CAE support targets cooperatives,
PTCE/SCIC support targets cooperation between ESS actors on a territory.
"""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum

from services.funding.programmes.rules.territory import match_commune


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


def failures(
    *,
    territories: frozenset[str],
    legal_forms: Collection[str],
    project_stages: Collection[str],
    commune: str,
    legal_form: str,
    project_stage: str,
) -> list[dict[str, str]]:
    """Every rule of the programme a new file breaks (territory, legal form, project
    stage), all at once; empty when it may be filed."""
    broken: list[dict[str, str]] = []
    if match_commune(territories, commune) is None:
        broken.append({"rule": "territory", "detail": "outside the programme's territories"})
    if legal_form not in legal_forms:
        broken.append({"rule": "legal_form", "detail": f"{legal_form} not accepted"})
    if project_stage not in project_stages:
        broken.append({"rule": "project_stage", "detail": f"{project_stage} not accepted"})
    return broken
