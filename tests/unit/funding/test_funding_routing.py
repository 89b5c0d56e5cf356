"""Routing applications to local accompanists, and the territory codes it relies on."""

from __future__ import annotations

import pytest

from services.funding.programmes.errors import InvalidTerritoryCodeError, NoAccompanistError
from services.funding.programmes.rules.routing import Accompanist, route
from services.funding.programmes.rules.territory import (
    TerritoryMatch,
    departement_of,
    is_commune_code,
    is_departement_code,
    match_commune,
)

DROME = Accompanist(accompanist_id="acc-drome", territories=frozenset({"26"}))
ROMANS = Accompanist(accompanist_id="acc-romans", territories=frozenset({"26281"}), capacity=2)
DROME_BIS = Accompanist(accompanist_id="acc-drome-bis", territories=frozenset({"26"}))


@pytest.mark.parametrize(
    ("code", "commune", "departement"),
    [
        ("26281", True, False),
        ("2A004", True, False),
        ("97411", True, False),
        ("26", False, True),
        ("2B", False, True),
        ("974", False, True),
        ("00123", False, False),
        ("20", False, False),  # Corsica is 2A / 2B
        ("2C001", False, False),
        ("", False, False),
    ],
)
def test_insee_code_shapes(code: str, commune: bool, departement: bool) -> None:
    assert (is_commune_code(code), is_departement_code(code)) == (commune, departement)


def test_departement_of_overseas_commune_has_three_characters() -> None:
    assert (departement_of("97411"), departement_of("2A004"), departement_of("26281")) == (
        "974",
        "2A",
        "26",
    )


def test_commune_match_is_more_specific_than_departement_match() -> None:
    territories = frozenset({"26", "26281"})
    assert match_commune(territories, "26281") is TerritoryMatch.COMMUNE
    assert match_commune(territories, "26124") is TerritoryMatch.DEPARTEMENT
    assert match_commune(territories, "38185") is None
    with pytest.raises(InvalidTerritoryCodeError):
        match_commune(territories, "Romans")


def test_commune_accompanist_wins_over_departement_accompanist() -> None:
    assignment = route("26281", [DROME, ROMANS])
    assert (assignment.accompanist_id, assignment.matched_on) == (
        "acc-romans",
        TerritoryMatch.COMMUNE,
    )


def test_full_accompanist_is_skipped() -> None:
    assignment = route("26281", [DROME, ROMANS], open_cases={"acc-romans": 2})
    assert assignment.accompanist_id == "acc-drome"


def test_least_loaded_then_id_breaks_ties() -> None:
    assert route("26124", [DROME, DROME_BIS]).accompanist_id == "acc-drome"
    loaded = {"acc-drome": 3, "acc-drome-bis": 1}
    assert route("26124", [DROME, DROME_BIS], open_cases=loaded).accompanist_id == "acc-drome-bis"


def test_programme_scoped_and_inactive_accompanists() -> None:
    cae_only = Accompanist(
        accompanist_id="acc-cae", territories=frozenset({"38"}), programmes=frozenset({"cae"})
    )
    retired = Accompanist(accompanist_id="acc-old", territories=frozenset({"38"}), active=False)
    assert route("38185", [cae_only, retired], programme_id="cae").accompanist_id == "acc-cae"
    with pytest.raises(NoAccompanistError) as caught:
        route("38185", [cae_only, retired], programme_id="ideclic")
    assert caught.value.status == 409


def test_no_accompanist_for_territory() -> None:
    with pytest.raises(NoAccompanistError):
        route("69123", [DROME, ROMANS])


def test_accompanist_territories_are_validated() -> None:
    with pytest.raises(InvalidTerritoryCodeError):
        Accompanist(accompanist_id="x", territories=frozenset({"Drôme"}))
