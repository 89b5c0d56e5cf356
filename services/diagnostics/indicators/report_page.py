"""A printable HTML rendering of a diagnostic report, with inline SVG charts (no script)."""

from __future__ import annotations

from html import escape
from typing import Any

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
    if value is None:
        return "—"
    if unit == "ratio":
        return f"{value:.1%}"
    if abs(value) >= 1000:
        return f"{value:,.0f}".replace(",", "\u202f")
    return f"{value:.2f}"


def _percentile(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}"


def _engine_chart(shares: dict[str, float] | None) -> str:
    if not shares:
        return "<p class='flag'>Engine shares undefined (no basic income).</p>"
    x, parts = 0.0, []
    for engine, share in shares.items():
        width = share * 600
        colour = _COLOURS.get(engine, "#888")
        parts.append(
            f"<rect x='{x:.1f}' y='0' width='{width:.1f}' height='40' fill='{colour}'>"
            f"<title>{escape(engine)}: {share:.1%}</title></rect>"
        )
        if width > 60:
            parts.append(
                f"<text x='{x + 4:.1f}' y='25' fill='white' font-size='13'>"
                f"{escape(engine)} {share:.0%}</text>"
            )
        x += width
    return (
        "<svg role='img' aria-label='Engine shares' viewBox='0 0 600 40' width='100%'>"
        + "".join(parts)
        + "</svg>"
    )


def _peer_chart(report: dict[str, Any]) -> str:
    by_name = {i["name"]: i["value"] for i in report["indicators"]}
    rows = [(report["name"], by_name.get("income_per_proximity_job"), True)] + [
        (p["name"], p.get("income_per_proximity_job"), False) for p in report["peers"]
    ]
    values = [v for _, v, _ in rows if v is not None]
    if not values:
        return "<p class='flag'>No comparable values.</p>"
    top = max(values) or 1.0
    bars = []
    for i, (name, value, own) in enumerate(rows):
        y = i * 26
        width = 0 if value is None else value / top * 380
        bars.append(
            f"<text x='0' y='{y + 17}' font-size='12'>{escape(name)[:34]}</text>"
            f"<rect x='210' y='{y + 4}' width='{width:.1f}' height='18' "
            f"fill='{'#3465a4' if own else '#999'}'/>"
            f"<text x='{214 + width:.1f}' y='{y + 17}' font-size='11'>{_fmt(value)} €</text>"
        )
    height = len(rows) * 26
    return (
        f"<svg role='img' aria-label='Peer comparison' viewBox='0 0 680 {height}' width='100%'>"
        + "".join(bars)
        + "</svg>"
    )


def _findings(report: dict[str, Any]) -> str:
    items = [
        f"<li class='{f['kind']}'>{escape(f['message'])}</li>"
        for f in (*report["strengths"], *report["fragilities"])
    ]
    return "<ul>" + "".join(items) + "</ul>" if items else "<p>No notable finding.</p>"


def render_report(report: dict[str, Any]) -> str:
    """The whole page; every value comes from the JSON report and is escaped."""
    typology = report["typology"]
    model = (
        f"<p><strong>Model: {escape(typology['model'])}</strong> — "
        f"{escape(typology['explanation'])}</p>"
        if typology
        else "<p class='flag'>No typology (no basic income).</p>"
    )
    indicator_rows = "".join(
        f"<tr><td>{escape(i['name'])}</td><td class='n'>{_fmt(i['value'], i['unit'])}</td>"
        f"<td>{escape(i['unit'])}</td>"
        f"<td class='n'>{_percentile(i['percentile'])}</td>"
        f"<td class='flag'>{escape(i['flag'] or '')}</td></tr>"
        for i in report["indicators"]
    )
    levers = "".join(f"<li>{escape(lv['text'])}</li>" for lv in report["levers"])
    return f"""<!doctype html>
<html lang="fr"><head><meta charset="utf-8">
<title>Diagnostic — {escape(report["name"])} ({report["year"]})</title>
<style>{_STYLE}</style></head><body>
<h1>{escape(report["name"])}</h1>
<p class="sub">Territory {escape(report["territory"])} · {report["year"]} ·
population {_fmt(report["population"])}</p>
<section><h2>Engines of development</h2>{_engine_chart(report["engine_shares"])}{model}</section>
<section><h2>Basic income per proximity job, compared with peers</h2>
{_peer_chart(report)}</section>
<section><h2>Strengths and fragilities</h2>{_findings(report)}</section>
<section><h2>Suggested levers</h2><ul>{levers or "<li>None suggested.</li>"}</ul></section>
<section><h2>Indicators</h2><table><thead><tr><th>Indicator</th><th>Value</th><th>Unit</th>
<th>Percentile</th><th>Note</th></tr></thead><tbody>{indicator_rows}</tbody></table></section>
<p class="note">Source: {escape(report["source"] or "imported data")}.</p>
</body></html>"""
