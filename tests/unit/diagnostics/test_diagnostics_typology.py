"""Typology: transparent rules, deterministic k-means, and their comparison."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.diagnostics.errors import InvalidInput
from services.diagnostics.indicators.rules.engines import Engine
from services.diagnostics.indicators.rules.typology import (
    Model,
    TypologyRules,
    adjusted_rand_index,
    classify,
    classify_all,
    cluster_engine_shares,
    compare_typologies,
    reference_shares,
)

P, R, PUB, S = Engine.PRODUCTIVE, Engine.RESIDENTIAL, Engine.PUBLIC, Engine.SOCIAL


def mix(productive: float, residential: float, public: float, social: float) -> dict:
    return {P: productive, R: residential, PUB: public, S: social}


def test_productive_territory_fires_the_dominant_engine_rule():
    # reference 0.25 / 0.45 / 0.12 / 0.18: quotients 0.40/0.25 = 1.6, 0.35/0.45 = 0.78,
    # 0.10/0.12 = 0.83, 0.15/0.18 = 0.83 → productive is the highest and ≥ 1.15
    result = classify(mix(0.40, 0.35, 0.10, 0.15))
    assert result.model is Model.PRODUCTIVE
    assert result.rule == "dominant-engine"
    assert result.quotients[P] == pytest.approx(1.6)
    assert "1.60×" in result.explanation


def test_territory_like_the_reference_is_balanced():
    result = classify(mix(0.25, 0.45, 0.12, 0.18))
    assert result.model is Model.BALANCED
    assert result.rule == "balanced"


def test_highest_quotient_wins_not_highest_share():
    # residential 0.50 is the largest share but only 1.11× its reference;
    # public 0.16 is 1.33× its reference
    assert classify(mix(0.20, 0.50, 0.16, 0.14)).model is Model.PUBLIC


def test_rules_thresholds_can_be_changed():
    strict = TypologyRules(dominance_quotient=2.0)
    assert classify(mix(0.40, 0.35, 0.10, 0.15), strict).model is Model.BALANCED


def test_shares_that_do_not_add_up_are_refused():
    with pytest.raises(InvalidInput, match="add up to 1"):
        classify(mix(0.5, 0.5, 0.5, 0.5))


def test_reference_shares_pool_the_bases():
    # (100 + 300) / 1000, (200 + 200) / 1000, 100 / 1000, 100 / 1000
    pooled = reference_shares([{P: 100, R: 200, PUB: 50, S: 50}, {P: 300, R: 200, PUB: 50, S: 50}])
    assert pooled == {P: 0.4, R: 0.4, PUB: 0.1, S: 0.1}


GROUPS = {
    "p1": mix(0.40, 0.35, 0.10, 0.15),
    "p2": mix(0.42, 0.34, 0.10, 0.14),
    "p3": mix(0.39, 0.36, 0.11, 0.14),
    "r1": mix(0.12, 0.68, 0.09, 0.11),
    "r2": mix(0.10, 0.70, 0.09, 0.11),
    "r3": mix(0.13, 0.66, 0.10, 0.11),
    "s1": mix(0.15, 0.40, 0.12, 0.33),
    "s2": mix(0.16, 0.39, 0.12, 0.33),
}


def test_kmeans_finds_obvious_groups():
    clustering = cluster_engine_shares(GROUPS, k=3)
    labels = clustering.assignments
    assert labels["p1"] == labels["p2"] == labels["p3"]
    assert labels["r1"] == labels["r2"] == labels["r3"]
    assert labels["s1"] == labels["s2"]
    assert len({labels["p1"], labels["r1"], labels["s1"]}) == 3
    # clusters are numbered by their first member in code order: p1, r1, s1
    assert (labels["p1"], labels["r1"], labels["s1"]) == (0, 1, 2)
    assert clustering.cluster_models == (Model.PRODUCTIVE, Model.RESIDENTIAL, Model.SOCIAL)


def test_kmeans_caps_k_at_the_number_of_distinct_territories():
    clustering = cluster_engine_shares({"a": GROUPS["p1"], "b": GROUPS["p1"]}, k=5)
    assert set(clustering.assignments.values()) == {0}


def test_comparison_of_agreeing_typologies():
    clustering = cluster_engine_shares(GROUPS, k=3)
    rules = {code: c.model for code, c in classify_all(GROUPS).items()}
    comparison = compare_typologies(rules, clustering)
    assert comparison.agreement == 1.0
    assert comparison.adjusted_rand_index == 1.0
    assert comparison.disagreements == ()
    assert comparison.contingency[(Model.PRODUCTIVE, 0)] == 3


def test_comparison_lists_disagreements():
    clustering = cluster_engine_shares(GROUPS, k=2)
    rules = {code: c.model for code, c in classify_all(GROUPS).items()}
    comparison = compare_typologies(rules, clustering)
    assert 0 < len(comparison.disagreements) < len(GROUPS)
    assert comparison.agreement == pytest.approx(1 - len(comparison.disagreements) / len(GROUPS))


def test_adjusted_rand_index_worked_example():
    # pairs: joint = 1, a = 1 + 1 = 2, b = 1, C(4,2) = 6, expected = 2 · 1 / 6 = 1/3,
    # max = (2 + 1) / 2 = 1.5, ARI = (1 − 1/3) / (1.5 − 1/3) = 4/7
    assert adjusted_rand_index([0, 0, 1, 1], [0, 0, 1, 2]) == pytest.approx(4 / 7)


@st.composite
def share_tables(draw):
    size = draw(st.integers(min_value=1, max_value=12))
    table = {}
    for index in range(size):
        weights = [draw(st.integers(min_value=1, max_value=100)) for _ in range(4)]
        total = sum(weights)
        table[f"t{index:02d}"] = dict(
            zip((P, R, PUB, S), (w / total for w in weights), strict=True)
        )
    return table


@settings(max_examples=100, deadline=None)
@given(share_tables(), st.randoms(use_true_random=False))
def test_typology_is_deterministic_whatever_the_input_order(table, rng):
    codes = list(table)
    rng.shuffle(codes)
    shuffled = {code: table[code] for code in codes}
    assert classify_all(table) == classify_all(shuffled)
    assert cluster_engine_shares(table, k=3) == cluster_engine_shares(shuffled, k=3)


@settings(max_examples=100, deadline=None)
@given(share_tables())
def test_kmeans_assigns_every_territory_to_a_cluster_with_a_model(table):
    clustering = cluster_engine_shares(table, k=4)
    assert set(clustering.assignments) == set(table)
    used = set(clustering.assignments.values())
    assert used == set(range(len(clustering.cluster_models)))
    comparison = compare_typologies({c: classify(s).model for c, s in table.items()}, clustering)
    assert 0.0 <= comparison.agreement <= 1.0
    assert -1.0 <= comparison.adjusted_rand_index <= 1.0


def test_same_seed_same_clusters_on_larger_random_data():
    rng = random.Random(7)
    table = {}
    for index in range(60):
        weights = [rng.random() + 0.01 for _ in range(4)]
        total = sum(weights)
        table[f"{index:03d}"] = dict(zip((P, R, PUB, S), (w / total for w in weights), strict=True))
    first = cluster_engine_shares(table, seed=1)
    assert first == cluster_engine_shares(dict(reversed(table.items())), seed=1)
    assert len(first.cluster_models) == 5
