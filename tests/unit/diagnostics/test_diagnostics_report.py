"""Indicators of a territory-year and its diagnostic report."""

import pytest

from services.diagnostics.errors import InvalidInput
from services.diagnostics.indicators.rules.engines import BasicIncome, Engine
from services.diagnostics.indicators.rules.indicators import (
    INDICATORS,
    TerritoryYear,
    compute_indicators,
    indicator_table,
)
from services.diagnostics.indicators.rules.report import (
    Lever,
    ReportThresholds,
    build_report,
    findings,
)
from services.diagnostics.indicators.rules.typology import Model

SMALL = TerritoryYear(
    code="01283",
    name="Oyonnax",
    year=2019,
    population=50,
    income=BasicIncome(productive_wages=400, pensions=400, public_wages=100, social_transfers=100),
    jobs_presentielle=0,
    jobs_productive=0,
    consumption_potential=1000,
    local_spending=600,
)


def test_compute_indicators_gives_every_indicator_in_catalogue_order():
    indicators = compute_indicators(SMALL)
    assert list(indicators) == list(INDICATORS)
    assert indicators["basic_income"].value == 1000.0
    assert indicators["share_productive"].value == 0.4
    assert indicators["leakage_rate"].value == pytest.approx(0.4)  # (1000 − 600) / 1000


def test_zero_jobs_gives_flagged_indicators_not_errors():
    indicators = compute_indicators(SMALL)
    for name in ("income_per_proximity_job", "presentielle_share", "base_multiplier_jobs"):
        assert indicators[name].value is None
        assert indicators[name].flag
    assert indicators["currency_lm3"].flag == "no local currency data"


def test_zero_basic_income_gives_flagged_shares():
    empty = TerritoryYear(
        code="x",
        name="x",
        year=2019,
        population=0,
        income=BasicIncome(),
        jobs_presentielle=1,
        jobs_productive=1,
    )
    indicators = compute_indicators(empty)
    assert indicators["basic_income"].value == 0.0
    assert indicators["share_social"].value is None
    report = build_report(empty)
    assert report.typology is None and report.engine_shares is None


def test_invalid_data_is_still_refused():
    bad = TerritoryYear(
        code="x",
        name="x",
        year=2019,
        population=1,
        income=BasicIncome(pensions=1),
        jobs_presentielle=1,
        jobs_productive=1,
        consumption_potential=10,
        local_spending=11,
    )
    with pytest.raises(InvalidInput):
        compute_indicators(bad)


def test_findings_rules_fire_on_their_thresholds():
    indicators = compute_indicators(SMALL)
    found = {f.rule: f for f in findings(indicators, None, ReportThresholds(high_leakage=0.4))}
    assert "high-commercial-leakage" in found  # 0.4 ≥ 0.4
    assert found["high-commercial-leakage"].levers == (Lever.CAPTURE_AND_REDISTRIBUTION,)
    assert "dependence-on-productive" not in found  # 0.4 < 0.5


def test_report_of_haute_savoie_flags_dependence_and_weak_conversion(demo):
    territories = demo.year(2014)
    table = indicator_table(territories, reference_sectors=demo.reference_sectors(2014))
    report = build_report(
        demo.by_key[("74", 2014)],
        table=table,
        reference_sectors=demo.reference_sectors(2014),
        n_peers=3,
    )
    assert report.typology is not None and report.typology.model is Model.RESIDENTIAL
    rules = {f.rule for f in report.fragilities}
    assert {"dependence-on-residential", "weak-income-conversion"} <= rules
    assert Lever.ENGINE_REBALANCING in report.levers
    assert len(report.peers) == 3 and "74" not in {p.territory for p in report.peers}
    readings = {r.name: r for r in report.indicators}
    # the highest € per proximity job of the demo: top of the distribution
    assert readings["income_per_proximity_job"].percentile > 90
    assert readings["krugman_specialisation"].value is not None
    assert report.engine_shares is not None
    assert report.engine_shares[Engine.RESIDENTIAL] == pytest.approx(0.63, abs=0.005)


def test_report_of_drome_finds_balance_as_a_strength(demo):
    report = build_report(demo.by_key[("26", 2014)])
    assert report.typology is not None and report.typology.model is Model.BALANCED
    assert "balanced-engines" in {f.rule for f in report.strengths}
    assert report.peers == ()


def test_report_of_oyonnax_flags_commercial_leakage(demo):
    report = build_report(demo.by_key[("01283", 2019)])
    assert "high-commercial-leakage" in {f.rule for f in report.fragilities}
    assert Lever.CAPTURE_AND_REDISTRIBUTION in report.levers


def test_reports_are_deterministic(demo):
    territories = demo.year(2019)
    first = [build_report(t, table=indicator_table(territories)) for t in territories]
    second = [build_report(t, table=indicator_table(territories[::-1])) for t in territories]
    assert first == second


def test_zero_population_flags_only_the_per_inhabitant_indicator():
    nobody = TerritoryYear(
        code="x",
        name="x",
        year=2019,
        population=0,
        income=BasicIncome(pensions=10, public_wages=10),
        jobs_presentielle=1,
        jobs_productive=1,
    )
    indicators = compute_indicators(nobody)
    assert indicators["basic_income_per_inhabitant"].value is None
    assert indicators["share_public"].value == 0.5


def test_negative_counts_are_refused():
    with pytest.raises(InvalidInput):
        TerritoryYear(
            code="x",
            name="x",
            year=2019,
            population=-1,
            income=BasicIncome(),
            jobs_presentielle=0,
            jobs_productive=0,
        )
