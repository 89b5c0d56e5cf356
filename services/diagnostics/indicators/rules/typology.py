"""Typology of territories among the 2012 regional models, by rules and by clustering.

The regional study behind the 2012 deliberation (seed I.1) found five models among the
employment zones: territories driven by their **productive**, **residential**, **public**
or **social** base, and **balanced** territories combining several engines.

Two ways to assign a model, meant to be compared:

* :func:`classify`: a transparent rule set on engine *quotients* q_e = s_e / r_e, the
  territory's engine share over the reference (regional) share. Every territory relies
  mostly on its residential base in absolute terms, so the rules look at relative weight.
* :func:`cluster_engine_shares`: deterministic k-means (:mod:`.kmeans`: k-means++ seeded
  with a fixed seed on territories sorted by code, Lloyd iterations) on the four engine
  shares; each cluster is then named by applying the same rules to its mean shares.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from services.diagnostics.errors import InvalidInput
from services.diagnostics.indicators.rules import kmeans
from services.diagnostics.indicators.rules.engines import ENGINES, Engine, shares

__all__ = [
    "DEFAULT_RULES",
    "ILLUSTRATIVE_REFERENCE_SHARES",
    "Classification",
    "Clustering",
    "Model",
    "TypologyComparison",
    "TypologyRules",
    "adjusted_rand_index",
    "classify",
    "classify_all",
    "cluster_engine_shares",
    "compare_typologies",
    "reference_shares",
]


class Model(StrEnum):
    """One of the five regional models of development (2012 regional study)."""

    PRODUCTIVE = "productive"
    RESIDENTIAL = "residential"
    PUBLIC = "public"
    SOCIAL = "social"
    BALANCED = "balanced"


_ENGINE_MODEL: Mapping[Engine, Model] = MappingProxyType({e: Model(e.value) for e in ENGINES})

ILLUSTRATIVE_REFERENCE_SHARES: Mapping[Engine, float] = MappingProxyType(
    {
        Engine.PRODUCTIVE: 0.25,
        Engine.RESIDENTIAL: 0.45,
        Engine.PUBLIC: 0.12,
        Engine.SOCIAL: 0.18,
    }
)
"""Orders of magnitude of a French region's engine shares. Illustrative only: pass the
region's own pooled shares (:func:`reference_shares`) for a real diagnostic."""


@dataclass(frozen=True, slots=True)
class TypologyRules:
    """Thresholds of the rule set; every field appears in the explanation it produces."""

    reference_shares: Mapping[Engine, float] = field(
        default_factory=lambda: ILLUSTRATIVE_REFERENCE_SHARES
    )
    dominance_quotient: float = 1.15
    """An engine whose share is ≥ this multiple of its reference share dominates."""

    def __post_init__(self) -> None:
        if set(self.reference_shares) != set(ENGINES):
            raise InvalidInput("reference shares must give a share for each of the 4 engines")
        if any(not share > 0 for share in self.reference_shares.values()):
            raise InvalidInput("reference shares must all be positive")
        if not math.isclose(sum(self.reference_shares.values()), 1.0, abs_tol=1e-6):
            raise InvalidInput("reference shares must add up to 1")
        if not self.dominance_quotient > 1:
            raise InvalidInput("the dominance quotient must be greater than 1")


DEFAULT_RULES = TypologyRules()


@dataclass(frozen=True, slots=True)
class Classification:
    """The model assigned by the rules, with the rule that fired and why."""

    model: Model
    rule: str
    """``"balanced"`` or ``"dominant-engine"``."""
    explanation: str
    quotients: Mapping[Engine, float]
    """q_e = s_e / r_e for each engine (dimensionless)."""
    threshold: float
    """The dominance quotient the rules used."""


def _checked_shares(engine_shares: Mapping[Engine, float]) -> dict[Engine, float]:
    # Runs twice per territory-year (rules and clustering): plain loops, no generators.
    checked = {e: engine_shares[e] for e in ENGINES if e in engine_shares}
    # Four distinct keys that include the four engines are exactly the engines.
    if len(checked) != len(ENGINES) or len(engine_shares) != len(ENGINES):
        raise InvalidInput("engine shares must give a share for each of the 4 engines")
    for share in checked.values():
        if not 0 <= share <= 1:
            raise InvalidInput("engine shares must each be between 0 and 1")
    if not math.isclose(sum(engine_shares.values()), 1.0, abs_tol=1e-6):
        raise InvalidInput(
            f"engine shares must add up to 1 (they add up to {sum(engine_shares.values()):.6f})"
        )
    return checked


def classify(
    engine_shares: Mapping[Engine, float], rules: TypologyRules = DEFAULT_RULES
) -> Classification:
    """Assign a model by two ordered rules on quotients q_e = s_e / r_e.

    1. ``balanced``: every q_e < ``dominance_quotient`` (default 1.15): no engine weighs
       15 % more than in the reference, so the territory combines its engines like the
       region does.
    2. ``dominant-engine``: otherwise the engine with the largest q_e gives the model
       (ties broken in the order productive, residential, public, social).
    """
    s = _checked_shares(engine_shares)
    quotients = {e: s[e] / rules.reference_shares[e] for e in ENGINES}
    top = ENGINES[0]
    for engine in ENGINES[1:]:  # strictly greater: the earlier engine keeps a tie
        if quotients[engine] > quotients[top]:
            top = engine
    frozen = MappingProxyType(quotients)
    threshold = rules.dominance_quotient
    if quotients[top] < threshold:
        return Classification(
            model=Model.BALANCED,
            rule="balanced",
            explanation=(
                f"no engine share reaches {threshold:g}× its reference share "
                f"(highest: {top.value} at {quotients[top]:.2f}×)"
            ),
            quotients=frozen,
            threshold=threshold,
        )
    return Classification(
        model=_ENGINE_MODEL[top],
        rule="dominant-engine",
        explanation=(
            f"{top.value} share {s[top]:.1%} is {quotients[top]:.2f}× its reference "
            f"{rules.reference_shares[top]:.1%} (≥ {threshold:g}×), the highest quotient"
        ),
        quotients=frozen,
        threshold=threshold,
    )


def classify_all(
    engine_shares: Mapping[str, Mapping[Engine, float]], rules: TypologyRules = DEFAULT_RULES
) -> dict[str, Classification]:
    """Classify every territory (keyed by code) with the same rules."""
    return {code: classify(engine_shares[code], rules) for code in sorted(engine_shares)}


def reference_shares(bases: Iterable[Mapping[Engine, int]]) -> dict[Engine, float]:
    """Pooled engine shares of a set of territories: r_e = Σ_t B_e,t / Σ_t RB_t."""
    totals = dict.fromkeys(ENGINES, 0)
    for territory_bases in bases:
        for engine in ENGINES:
            totals[engine] += territory_bases.get(engine, 0)
    return shares(totals)


@dataclass(frozen=True, slots=True)
class Clustering:
    """Result of :func:`cluster_engine_shares`."""

    assignments: Mapping[str, int]
    """Cluster index of each territory; clusters are numbered by their first member's code."""
    cluster_shares: tuple[Mapping[Engine, float], ...]
    """Mean engine shares of each cluster's members."""
    cluster_models: tuple[Model, ...]
    """Model of each cluster: :func:`classify` applied to its mean shares."""
    iterations: int


def _standardised(rows: list[tuple[float, ...]]) -> list[tuple[float, ...]]:
    columns = list(zip(*rows, strict=True))
    means = [math.fsum(col) / len(col) for col in columns]
    stds = [
        math.sqrt(math.fsum((x - m) ** 2 for x in col) / len(col))
        for col, m in zip(columns, means, strict=True)
    ]
    return [
        tuple((x - m) / sd if sd > 0 else 0.0 for x, m, sd in zip(row, means, stds, strict=True))
        for row in rows
    ]


def cluster_engine_shares(
    engine_shares: Mapping[str, Mapping[Engine, float]],
    *,
    k: int = 5,
    seed: int = 2012,
    max_iterations: int = 100,
    standardise: bool = True,
    rules: TypologyRules = DEFAULT_RULES,
) -> Clustering:
    """Deterministic k-means on the four engine shares of each territory.

    Territories are sorted by code, optionally standardised (z-score per engine, so a
    5-point gap in public share weighs as much as its spread warrants), seeded with
    k-means++ from ``random.Random(seed)`` and refined by Lloyd iterations (nearest
    centre by squared Euclidean distance, ties to the lowest index) until assignments stop
    changing. k is capped at the number of distinct share vectors. Same input, same output,
    whatever the order of the mapping.
    """
    if k < 1:
        raise InvalidInput("k must be at least 1")
    codes = sorted(engine_shares)
    if not codes:
        raise InvalidInput("at least one territory is needed to cluster")
    raw = [tuple(_checked_shares(engine_shares[code]).values()) for code in codes]
    points = _standardised(raw) if standardise else raw
    k = min(k, len(set(points)))
    rng = random.Random(seed)
    assignment, iterations = kmeans.lloyd(
        points, kmeans.seed_centroids(points, k, rng), max_iterations
    )
    renumber: dict[int, int] = {}
    for cluster in assignment:
        renumber.setdefault(cluster, len(renumber))
    labels = [renumber[cluster] for cluster in assignment]
    cluster_shares: list[Mapping[Engine, float]] = []
    for cluster in range(len(renumber)):
        members = [row for row, label in zip(raw, labels, strict=True) if label == cluster]
        mean = kmeans.mean(members)
        cluster_shares.append(MappingProxyType(dict(zip(ENGINES, mean, strict=True))))
    return Clustering(
        assignments=MappingProxyType(dict(zip(codes, labels, strict=True))),
        cluster_shares=tuple(cluster_shares),
        cluster_models=tuple(classify(mean, rules).model for mean in cluster_shares),
        iterations=iterations,
    )


@dataclass(frozen=True, slots=True)
class TypologyComparison:
    """How far the rule-based and the clustered typologies agree."""

    agreement: float
    """Share of territories whose rule model equals their cluster's model, in [0, 1]."""
    adjusted_rand_index: float
    """Label-free agreement of the two partitions: 1 identical, ≈ 0 as by chance."""
    contingency: Mapping[tuple[Model, int], int]
    """Number of territories per (rule model, cluster index)."""
    disagreements: tuple[str, ...]
    """Codes of territories whose two models differ, sorted."""


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def adjusted_rand_index(first: Sequence[object], second: Sequence[object]) -> float:
    """Hubert-Arabie adjusted Rand index of two labelings of the same items.

    ARI = (Σ_ij C(n_ij,2) − E) / (½(Σ_i C(a_i,2) + Σ_j C(b_j,2)) − E), with
    E = Σ_i C(a_i,2) · Σ_j C(b_j,2) / C(n,2). Defined as 1 when the denominator is 0
    (which only happens when both partitions are identical).
    """
    if len(first) != len(second):
        raise InvalidInput("both labelings must cover the same items")
    joint = sum(_pairs(n) for n in Counter(zip(first, second, strict=True)).values())
    a = sum(_pairs(n) for n in Counter(first).values())
    b = sum(_pairs(n) for n in Counter(second).values())
    total = _pairs(len(first))
    if total == 0:
        return 1.0
    expected = a * b / total
    maximum = (a + b) / 2
    if maximum == expected:
        return 1.0
    return (joint - expected) / (maximum - expected)


def compare_typologies(
    rule_models: Mapping[str, Model], clustering: Clustering
) -> TypologyComparison:
    """Compare the rule-based models with the clusters, territory by territory."""
    codes = sorted(rule_models)
    if set(codes) != set(clustering.assignments):
        raise InvalidInput("both typologies must cover the same territories")
    clusters = [clustering.assignments[code] for code in codes]
    cluster_models = [clustering.cluster_models[c] for c in clusters]
    disagreements = tuple(
        code
        for code, model in zip(codes, cluster_models, strict=True)
        if rule_models[code] != model
    )
    contingency = Counter((rule_models[code], c) for code, c in zip(codes, clusters, strict=True))
    return TypologyComparison(
        agreement=(len(codes) - len(disagreements)) / len(codes) if codes else 1.0,
        adjusted_rand_index=adjusted_rand_index([rule_models[c] for c in codes], clusters),
        contingency=MappingProxyType(dict(sorted(contingency.items()))),
        disagreements=disagreements,
    )
