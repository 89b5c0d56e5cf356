"""The synthetic economics of the regional demo: a documented model, per commune, that
no one can mistake for official figures (every row says so in ``source``).

For a commune of legal population P, the profile u₁…u₄ ∈ [0, 1) is read from the
SHA-256 of its code (the same commune always gets the same figures, no random state):

| figure (€ per year, or jobs) | model (first vintage) |
|---|---|
| productive wages | P × (3,000 + 6,000·u₁) |
| productive self-employed income | P × (300 + 600·u₂) |
| pensions | P × (2,500 + 2,000·u₃) |
| commuters' wages | P × 1,500·u₄ |
| tourism spending | P × 900·u₂·u₃, ×3 in Savoie and Haute-Savoie |
| property income | P × 600 |
| public wages | P × (1,000 + 1,500·u₁·u₄) |
| social transfers | P × (1,200 + 800·(1 − u₁)) |
| présentielle / productive jobs | P × (0.25 + 0.1·u₃) / P × (0.10 + 0.2·u₁) |

The second vintage multiplies incomes by 1.02 + 0.06·(u₄ − ½) and jobs by
1 + 0.03·(u₂ − ½); the n-th vintage after the first (``step`` n, for the ten years of the
France bench) by those factors to the power n. Jobs of each sphere are split over its
sectors with weights from the same hash; a sector cell of 1 or 2 jobs is published as
secret (``s``), as INSEE does for cells too small to publish, while the département gets
its own, complete figures.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

SOURCE = "synthétique : modèle de démonstration Proxima (demo/rules.py), non officiel"
MOUNTAIN = frozenset({"73", "74"})


def profile(code: str) -> tuple[float, float, float, float]:
    """Four numbers in [0, 1) read from the commune's code."""
    digest = hashlib.sha256(code.encode()).digest()
    return tuple(int.from_bytes(digest[i : i + 4], "big") / 2**32 for i in (0, 4, 8, 12))  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class SyntheticYear:
    """One commune's figures for one vintage, in the ``territory-years`` columns."""

    figures: dict[str, int]
    sector_jobs: dict[str, int]


def commune_year(
    code: str,
    departement: str,
    population: int,
    *,
    second: bool = False,
    sectors: Mapping[str, Sequence[str]],
    step: int | None = None,
) -> SyntheticYear:
    """The model above for one commune (``second``: the later vintage; ``step``: vintages
    after the first, 0 or 1 being the demo's two)."""
    u1, u2, u3, u4 = profile(code)
    p = population
    n = int(second) if step is None else step
    income = (1.0 + (0.02 + 0.06 * (u4 - 0.5))) ** n if n else 1.0
    jobs = (1.0 + 0.03 * (u2 - 0.5)) ** n if n else 1.0
    tourism = 900 * u2 * u3 * (3 if departement in MOUNTAIN else 1)
    euros = {
        "productive_wages_eur": 3000 + 6000 * u1,
        "productive_self_employed_eur": 300 + 600 * u2,
        "pensions_eur": 2500 + 2000 * u3,
        "commuter_wages_eur": 1500 * u4,
        "tourism_spending_eur": tourism,
        "property_income_eur": 600,
        "public_wages_eur": 1000 + 1500 * u1 * u4,
        "social_transfers_eur": 1200 + 800 * (1 - u1),
    }
    figures = {name: round(p * per_head * income) for name, per_head in euros.items()}
    figures["population"] = p
    figures["jobs_presentielle"] = round(p * (0.25 + 0.1 * u3) * jobs)
    figures["jobs_productive"] = round(p * (0.10 + 0.2 * u1) * jobs)
    split: dict[str, int] = {}
    for sphere, total in (
        ("presentielle", figures["jobs_presentielle"]),
        ("productive", figures["jobs_productive"]),
    ):
        split.update(_split(code, total, sectors.get(sphere, ())))
    return SyntheticYear(figures=figures, sector_jobs=split)


def _split(code: str, total: int, sectors: Sequence[str]) -> dict[str, int]:
    """``total`` jobs over ``sectors`` with weights from the hash of (code, sector); the
    remainder of the rounding goes to the first sector, so the parts sum to ``total``."""
    if not sectors:
        return {}
    weights = [0.2 + profile(f"{code}:{s}")[0] for s in sectors]
    parts = [int(total * w / sum(weights)) for w in weights]
    parts[0] += total - sum(parts)
    return dict(zip(sectors, parts, strict=True))


def published(jobs: int) -> int | None:
    """A commune's cell as published: 1 or 2 jobs are secret (None)."""
    return None if 0 < jobs < 3 else jobs
