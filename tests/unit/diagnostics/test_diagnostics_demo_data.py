"""The illustrative demo dataset is valid, consistent and shows contrasted profiles."""

from collections import Counter

from services.diagnostics.indicators.rules.engines import engine_shares
from services.diagnostics.indicators.rules.indicators import compute_indicators
from services.diagnostics.indicators.rules.typology import Model, classify

DEPARTEMENTS = {"01", "07", "26", "38", "42", "69", "73", "74"}


def test_demo_files_pass_validation(demo):
    assert demo.years_report.errors == ()
    assert demo.sectors_report.errors == ()
    assert len(demo.by_key) == 2 * (len(demo.territories) - 1)  # the région has no row


def test_demo_covers_the_eight_departements_and_some_epci_and_communes(demo):
    levels = Counter(row["level"] for row in demo.territories.values())
    assert {c for c, row in demo.territories.items() if row["level"] == "departement"} == (
        DEPARTEMENTS
    )
    assert levels["epci"] >= 2 and levels["commune"] >= 2


def test_every_row_is_labelled_illustrative(demo):
    assert {row.text["source"] for row in demo.years_report.rows} == {"illustrative, not official"}


def test_sector_jobs_add_up_to_the_sphere_totals(demo):
    for t in demo.by_key.values():
        by_sphere = Counter()
        for sector, jobs in t.sector_jobs.items():
            by_sphere[demo.sectors[sector]["sphere"]] += jobs
        assert by_sphere["presentielle"] == t.jobs_presentielle, t.code
        assert by_sphere["productive"] == t.jobs_productive, t.code


def test_children_never_exceed_their_departement(demo):
    for (code, year), child in demo.by_key.items():
        parent_code = demo.territories[code]["parent_code"]
        if parent_code not in DEPARTEMENTS:
            continue
        parent = demo.by_key[(parent_code, year)]
        assert child.population <= parent.population
        for name, amount in child.income.components().items():
            assert amount <= parent.income.components()[name], (code, name)
        for sector, jobs in child.sector_jobs.items():
            assert jobs <= parent.sector_jobs[sector], (code, sector)


def test_demo_spans_the_seed_range_of_income_per_proximity_job(demo):
    values = [compute_indicators(t)["income_per_proximity_job"].value for t in demo.year(2014)]
    assert min(v for v in values if v is not None) < 90_000
    assert max(v for v in values if v is not None) > 170_000


def test_demo_shows_all_five_models(demo):
    models = {classify(engine_shares(t.income)).model for t in demo.year(2014)}
    assert models == set(Model)
