"""A printable HTML rendering of a diagnostic report, with inline SVG charts (no script)."""

from __future__ import annotations

from html import escape
from typing import Any

from services.diagnostics.indicators.rules.labels import ENGINE_LABELS, LEVEL_LABELS, MODEL_LABELS

_COLOURS = {
    "productive": "#3465a4",
    "residential": "#73a12e",
    "public": "#c17d11",
    "social": "#a40000",
}

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;color:#222;line-height:1.4}
h1{margin-bottom:0}.sub{color:#555;margin-top:.2rem}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.25rem .5rem;text-align:left;font-size:.9rem}
td.n{text-align:right;font-variant-numeric:tabular-nums}.flag{color:#888;font-style:italic}
.strength{color:#2e7d32}.fragility{color:#b71c1c}.note{font-size:.8rem;color:#666}
section{break-inside:avoid;margin-top:1.5rem}@media print{body{margin:0}}
"""


def _fmt(value: float | None, unit: str = "") -> str:
    """A French number: narrow no-break space between thousands, decimal comma."""
    if value is None:
        return "—"
    if unit == "ratio":
        return f"{value:.1%}".replace(".", ",").replace("%", "\u202f%")
    if abs(value) >= 1000:
        return f"{value:,.0f}".replace(",", "\u202f")
    return f"{value:.2f}".replace(".", ",")


def _percentile(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}"


def _engine(engine: str) -> str:
    return ENGINE_LABELS.get(engine, engine)


def _engine_chart(shares: dict[str, float] | None) -> str:
    if not shares:
        return "<p class='flag'>Parts des moteurs indéfinies (revenu basique nul).</p>"
    x, parts = 0.0, []
    for engine, share in shares.items():
        width = share * 600
        colour = _COLOURS.get(engine, "#888")
        label = escape(_engine(engine))
        parts.append(
            f"<rect x='{x:.1f}' y='0' width='{width:.1f}' height='40' fill='{colour}'>"
            f"<title>{label} : {_fmt(share, 'ratio')}</title></rect>"
        )
        if width > 60:
            parts.append(
                f"<text x='{x + 4:.1f}' y='25' fill='white' font-size='13'>"
                f"{label} {share:.0%}</text>".replace("%", "\u202f%")
            )
        x += width
    legend = " · ".join(
        f"<span style='color:{_COLOURS.get(e, '#888')}'>■</span> {escape(_engine(e))} "
        f"{_fmt(v, 'ratio')}"
        for e, v in shares.items()
    )
    return (
        "<svg role='img' aria-label='Parts des moteurs' viewBox='0 0 600 40' width='100%'>"
        + "".join(parts)
        + f"</svg><p class='note'>{legend}</p>"
    )


def _peer_chart(report: dict[str, Any]) -> str:
    by_name = {i["name"]: i["value"] for i in report["indicators"]}
    rows = [(report["name"], by_name.get("income_per_proximity_job"), True)] + [
        (p["name"], p.get("income_per_proximity_job"), False) for p in report["peers"]
    ]
    values = [v for _, v, _ in rows if v is not None]
    if not values:
        return "<p class='flag'>Aucune valeur comparable.</p>"
    top = max(values) or 1.0
    bars = []
    for i, (name, value, own) in enumerate(rows):
        y = i * 26
        width = 0 if value is None else value / top * 380
        bars.append(
            f"<text x='0' y='{y + 17}' font-size='12'>{escape(name[:34])}</text>"
            f"<rect x='210' y='{y + 4}' width='{width:.1f}' height='18' "
            f"fill='{'#3465a4' if own else '#999'}'/>"
            f"<text x='{214 + width:.1f}' y='{y + 17}' font-size='11'>{_fmt(value)} €</text>"
        )
    height = len(rows) * 26
    return (
        f"<svg role='img' aria-label='Comparaison avec les pairs' viewBox='0 0 680 {height}' "
        f"width='100%'>" + "".join(bars) + "</svg>"
    )


def _findings(report: dict[str, Any]) -> str:
    items = [
        f"<li class='{'strength' if f['kind'] == 'strength' else 'fragility'}'>"
        f"{escape(f['message'])}</li>"
        for f in (*report["strengths"], *report["fragilities"])
    ]
    return "<ul>" + "".join(items) + "</ul>" if items else "<p>Aucun constat notable.</p>"


def _comparison(report: dict[str, Any]) -> str:
    change = report.get("comparison")
    if not change:
        return "<p class='flag'>Pas d'autre millésime à comparer.</p>"
    rows = "".join(
        f"<tr><td>{escape(_engine(e))}</td><td class='n'>{_fmt(v['start'], 'ratio')}</td>"
        f"<td class='n'>{_fmt(v['end'], 'ratio')}</td>"
        f"<td class='n'>{_points(v['change'])}</td></tr>"
        for e, v in change["engine_shares"].items()
    )
    shift = change.get("shift_share")
    decomposition = (
        "<p>Évolution de l'emploi décomposée (méthode structurelle-résiduelle) : "
        f"variation totale {_fmt(shift['change'])} emplois, dont effet national-régional "
        f"{_fmt(shift['reference_growth'])}, effet de structure {_fmt(shift['industry_mix'])} "
        f"et effet local {_fmt(shift['competitive'])}.</p>"
        if shift
        else "<p class='flag'>Décomposition de l'emploi indisponible (emploi par secteur "
        "absent ou secret sur l'une des deux années).</p>"
    )
    return (
        f"<table><thead><tr><th>Moteur</th><th>{change['from_year']}</th>"
        f"<th>{change['to_year']}</th><th>Évolution</th></tr></thead><tbody>{rows}</tbody>"
        f"</table>{decomposition}"
    )


def _points(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value * 100:+.1f}".replace(".", ",") + "\u202fpt"


def _why(typology: dict[str, Any]) -> str:
    """The typology's rule in one French sentence, from its quotients (share of an engine
    over its reference share) and threshold."""
    quotients: dict[str, float] = typology["quotients"]
    top = max(quotients, key=lambda e: quotients[e])
    times = f"{typology['threshold']:g}".replace(".", ",")
    highest = f"{quotients[top]:.2f}".replace(".", ",")
    if typology["model"] == "balanced":
        return (
            f"aucun moteur n'atteint {times} fois sa part de référence (le plus élevé : "
            f"{_engine(top).lower()}, {highest} fois)."
        )
    return (
        f"le {_engine(top).lower()} pèse {highest} fois sa part de référence "
        f"(seuil : {times} fois)."
    )


def _euros(cents: int) -> str:
    """Euro cents as a French amount: « 12 345,67 € »."""
    text = f"{cents / 100:,.2f}".replace(",", "\u202f").replace(".", ",")
    return f"{text}\u00a0€"


def _instruments(report: dict[str, Any]) -> str:
    """Loans and guarantees of the territory (funding's figures, summed over its
    départements), or why there are none."""
    found = report.get("instruments")
    if found is None or not found["departements"]:
        return "<p class='flag'>Aucun prêt ni garantie publié pour ce territoire.</p>"
    rows = (
        ("Prêts et garanties", str(found["instruments"])),
        ("Argent public (prêts décaissés, plafonds garantis)", _euros(found["public_cents"])),
        ("Prêts bancaires associés", _euros(found["bank_loans_cents"])),
        ("Effet de levier (crédit bancaire par euro public)", _fmt(found["leverage"])),
        ("Échéances échues", _euros(found["due_cents"])),
        ("Remboursements reçus", _euros(found["repaid_cents"])),
        ("Taux de remboursement", _fmt(found["repayment_rate"], "ratio")),
        ("Pertes", _euros(found["losses_cents"])),
    )
    body = "".join(f"<tr><td>{label}</td><td class='n'>{value}</td></tr>" for label, value in rows)
    members = ", ".join(escape(code) for code in found["departements"])
    day = escape(str(found["as_of"]))
    return (
        f"<table><tbody>{body}</tbody></table><p class='note'>Chiffres du service de "
        f"financement au {day}, départements : {members}.</p>"
    )


def _official(value: float | None, unit: str) -> str:
    if unit == "per_100" and value is not None:
        return f"{value:.1f}".replace(".", ",")
    if unit in ("eur", "count") and value is not None:
        return f"{value:,.0f}".replace(",", "\u202f")
    return _fmt(value, unit)


def _residential(report: dict[str, Any]) -> str:
    """Filosofi, IRCOM and tourist capacity: each section with where its figures come
    from (the territory's own line, or its communes summed) and its source lines."""
    parts = []
    for found in report.get("residential_base") or []:
        head = f"<h3>{escape(found['title'])}</h3>"
        if found["basis"] == "none":
            why = found.get("note") or found["basis_label"]
            parts.append(f"{head}<p class='flag'>{escape(why.rstrip('.'))}.</p>")
            continue
        rows = "".join(
            f"<tr><td>{escape(f['label'])}<div class='note'>{escape(f['meaning'])}</div></td>"
            f"<td class='n'>{_official(f['value'], f['unit'])}</td>"
            f"<td>{escape(f['unit_label'])}</td></tr>"
            for f in found["figures"]
        )
        lines = "<br>".join(escape(line) for line in found["sources"])
        parts.append(
            f"{head}<table><tbody>{rows}</tbody></table><p class='note'>"
            f"{escape(found['basis_label'])}. {lines}. « — » : inconnu (secret statistique "
            "ou commune sans donnée).</p>"
        )
    return "".join(parts) or "<p class='flag'>Aucune donnée officielle importée.</p>"


def render_report(report: dict[str, Any]) -> str:
    """The whole page, in French; every value comes from the JSON report and is escaped,
    and no identifier of the API reaches the page (labels from ``rules/labels.py``)."""
    typology = report["typology"]
    model = (
        f"<p><strong>Modèle : {escape(MODEL_LABELS.get(typology['model'], ''))}</strong> — "
        f"{escape(_why(typology))}</p>"
        if typology
        else "<p class='flag'>Pas de typologie (revenu basique nul).</p>"
    )
    indicator_rows = "".join(
        f"<tr><td>{escape(i['label'])}<div class='note'>{escape(i['meaning'])}</div></td>"
        f"<td class='n'>{_fmt(i['value'], i['unit'])}</td>"
        f"<td>{escape(i['unit_label'])}</td>"
        f"<td class='n'>{_percentile(i['percentile'])}</td>"
        f"<td class='flag'>{escape(i.get('flag_label') or '')}</td></tr>"
        for i in report["indicators"]
    )
    levers = "".join(f"<li>{escape(lv['text'])}</li>" for lv in report["levers"])
    level = LEVEL_LABELS.get(report.get("level") or "", "territoire")
    synthetic = (
        "<p class='fragility'>Données économiques synthétiques (démonstration) : ce ne sont "
        "pas des chiffres officiels.</p>"
        if report.get("synthetic")
        else ""
    )
    return f"""<!doctype html>
<html lang="fr"><head><meta charset="utf-8">
<title>Diagnostic — {escape(report["name"])} ({report["year"]})</title>
<style>{_STYLE}</style></head><body>
<h1>{escape(report["name"])}</h1>
<p class="sub">{escape(level.capitalize())} {escape(report["territory"].split(":")[-1])} ·
{report["year"]} ·
{_fmt(report["population"])} habitants</p>{synthetic}
<section><h2>Moteurs du développement</h2>{_engine_chart(report["engine_shares"])}{model}
</section>
<section><h2>Revenu basique par emploi présentiel, comparé aux pairs</h2>
<p class="note">Pairs : territoires du même niveau ({escape(level)}) les plus proches.</p>
{_peer_chart(report)}</section>
<section><h2>Atouts et fragilités</h2>{_findings(report)}</section>
<section><h2>Leviers suggérés</h2><ul>{levers or "<li>Aucun levier suggéré.</li>"}</ul>
</section>
<section><h2>Évolution entre deux millésimes</h2>{_comparison(report)}</section>
<section><h2>Base résidentielle : revenus des ménages et tourisme</h2>
{_residential(report)}</section>
<section><h2>Prêts et garanties</h2>{_instruments(report)}</section>
<section><h2>Indicateurs</h2><table><thead><tr><th>Indicateur</th><th>Valeur</th>
<th>Unité</th><th>Rang centile</th><th>Remarque</th></tr></thead><tbody>{indicator_rows}
</tbody></table></section>
<p class="note">{escape(report.get("geography") or "")}. Données :
{escape(report["source"] or "données importées")}.</p>
</body></html>"""
