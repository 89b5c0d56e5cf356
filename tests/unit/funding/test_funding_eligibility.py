"""Eligibility of a new file: every broken rule of the programme is reported at once."""

from __future__ import annotations

import pytest

from services.funding.programmes.errors import InvalidTerritoryCodeError
from services.funding.programmes.rules.eligibility import LegalForm, ProjectStage, failures


def ideclic(commune: str, legal_form: str, project_stage: str) -> list[dict[str, str]]:
    """What IDéclic Solidaire "projet" (Drôme, Ardèche, one commune of Haute-Savoie;
    emerging associations and cooperatives) says of a file."""
    return failures(
        territories=frozenset({"26", "07", "74012"}),
        legal_forms=[LegalForm.ASSOCIATION, LegalForm.SCIC, LegalForm.SCOP],
        project_stages=[ProjectStage.EMERGENCE],
        commune=commune,
        legal_form=legal_form,
        project_stage=project_stage,
    )


def test_an_eligible_file_breaks_no_rule() -> None:
    assert (
        ideclic(
            commune="26281",  # Romans-sur-Isère
            legal_form=LegalForm.ASSOCIATION,
            project_stage=ProjectStage.EMERGENCE,
        )
        == []
    )


@pytest.mark.parametrize(
    ("commune", "rules"),
    [
        ("07010", []),  # département listed
        ("74012", []),  # commune listed
        ("74010", ["territory"]),  # same département, other commune
        ("69123", ["territory"]),
    ],
)
def test_territory_rule(commune: str, rules: list[str]) -> None:
    broken = ideclic(commune=commune, legal_form="scop", project_stage=ProjectStage.EMERGENCE)
    assert [b["rule"] for b in broken] == rules


def test_every_broken_rule_is_reported_at_once() -> None:
    assert ideclic(
        commune="69123",
        legal_form=LegalForm.COMMERCIAL_COMPANY,
        project_stage=ProjectStage.DEVELOPMENT,
    ) == [
        {"rule": "territory", "detail": "outside the programme's territories"},
        {"rule": "legal_form", "detail": "commercial_company not accepted"},
        {"rule": "project_stage", "detail": "development not accepted"},
    ]


def test_a_malformed_commune_code_is_refused() -> None:
    with pytest.raises(InvalidTerritoryCodeError):
        ideclic(commune="6912", legal_form="scop", project_stage="emergence")
