// The dashboard's charts, as inline SVG (no library, no CDN): lines over time for the
// currencies' circulation and velocity, and gauges of the grant envelopes' consumption.
"use strict";

window.ProximaCharts = (() => {
  const SVG_NS = "http://www.w3.org/2000/svg";
  const COLOURS = ["#005a9c", "#c2410c", "#15803d", "#7e22ce", "#b45309", "#0f766e"];
  const day = new Intl.DateTimeFormat("fr-FR", { day: "numeric", month: "short" });

  function svg(name, attributes, text) {
    const node = document.createElementNS(SVG_NS, name);
    for (const [attribute, value] of Object.entries(attributes)) node.setAttribute(attribute, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function empty(container, text) {
    const p = document.createElement("p");
    p.className = "vide";
    p.textContent = text;
    container.replaceChildren(p);
  }

  /**
   * Lines over time: `series` is [{name, points: [{t: Date, v: number|null}]}]; `format`
   * writes a value in French. Each point carries its value in data-valeur for tests and
   * in a <title> for screen readers and hover.
   */
  function lines(container, series, { id, label, format }) {
    const drawn = series.filter((s) => s.points.some((p) => typeof p.v === "number"));
    if (drawn.length === 0) {
      empty(container, "Aucune donnée pour l'instant.");
      return;
    }
    const [width, height, left, right, top, bottom] = [760, 260, 96, 16, 12, 28];
    const times = drawn.flatMap((s) => s.points.map((p) => p.t.getTime()));
    const values = drawn.flatMap((s) => s.points.map((p) => p.v).filter((v) => typeof v === "number"));
    const [t0, t1] = [Math.min(...times), Math.max(...times)];
    const vMax = Math.max(...values, 0) || 1;
    const x = (t) => left + ((t - t0) / Math.max(t1 - t0, 1)) * (width - left - right);
    const y = (v) => top + (1 - v / vMax) * (height - top - bottom);
    const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label, id });
    for (let i = 0; i <= 4; i += 1) {
      const v = (vMax * i) / 4;
      chart.appendChild(svg("line", { class: "grille", x1: left, x2: width - right, y1: y(v), y2: y(v) }));
      chart.appendChild(svg("text", { class: "axe", x: left - 6, y: y(v) + 4, "text-anchor": "end" }, format(v)));
    }
    const stamps = [...new Set(times)].sort((a, b) => a - b);
    for (const t of stamps) {
      chart.appendChild(svg("text", { class: "axe", x: x(t), y: height - 8, "text-anchor": "middle" }, day.format(new Date(t))));
    }
    drawn.forEach((s, index) => {
      const colour = COLOURS[index % COLOURS.length];
      const known = s.points.filter((p) => typeof p.v === "number");
      const group = svg("g", { "data-serie": s.name });
      group.appendChild(
        svg("polyline", {
          class: "courbe",
          stroke: colour,
          points: known.map((p) => `${x(p.t.getTime()).toFixed(1)},${y(p.v).toFixed(1)}`).join(" "),
        }),
      );
      for (const p of known) {
        const dot = svg("circle", { cx: x(p.t.getTime()), cy: y(p.v), r: 3.5, fill: colour, "data-valeur": p.v });
        dot.appendChild(svg("title", {}, `${s.name} · ${day.format(p.t)} : ${format(p.v)}`));
        group.appendChild(dot);
      }
      chart.appendChild(group);
    });
    const keys = document.createElement("ul");
    keys.className = "legende";
    drawn.forEach((s, index) => {
      const li = document.createElement("li");
      const swatch = document.createElement("span");
      swatch.className = "puce";
      swatch.style.background = COLOURS[index % COLOURS.length];
      li.append(swatch, s.name);
      keys.appendChild(li);
    });
    container.replaceChildren(chart, keys);
  }

  /**
   * One row per envelope: the AP (autorisations d'engagement) gauge filled by what is
   * committed, and the CP (crédits de paiement) gauge filled by what is paid, then ordered.
   */
  function envelopes(container, rows, { money, percent }) {
    if (rows.length === 0) {
      empty(container, "Aucune enveloppe pour l'instant.");
      return;
    }
    const [width, rowHeight, left] = [760, 80, 170];
    const track = width - left - 10;
    const chart = svg("svg", {
      viewBox: `0 0 ${width} ${rows.length * rowHeight + 8}`,
      role: "img",
      "aria-label": "Consommation des enveloppes : autorisations d'engagement et crédits de paiement",
      id: "graphique-enveloppes",
    });
    rows.forEach((e, index) => {
      const top = 8 + index * rowHeight;
      const group = svg("g", { "data-enveloppe": e.code });
      group.appendChild(svg("text", { x: 0, y: top + 14, class: "libelle-graphique" }, e.code));
      const short = e.programme.length > 26 ? `${e.programme.slice(0, 25)}…` : e.programme;
      const name = svg("text", { x: 0, y: top + 32, class: "axe" }, short);
      name.appendChild(svg("title", {}, e.programme));
      group.appendChild(name);
      const gauge = (offset, total, parts, text) => {
        group.appendChild(svg("rect", { class: "piste", x: left, y: top + offset, width: track, height: 14, rx: 3 }));
        let start = 0;
        for (const [value, className] of parts) {
          const w = total > 0 ? Math.min(track - start, (track * value) / total) : 0;
          if (w > 0) group.appendChild(svg("rect", { class: className, x: left + start, y: top + offset, width: w, height: 14, rx: 3 }));
          start += Math.max(w, 0);
        }
        group.appendChild(svg("text", { class: "axe", x: left + 4, y: top + offset + 27 }, text));
      };
      const committedRate = e.ap > 0 ? e.committed / e.ap : 0;
      const paidRate = e.cp > 0 ? e.paid / e.cp : 0;
      gauge(0, e.ap, [[e.committed, "engage"]], `AP : ${money(e.committed)} engagés sur ${money(e.ap)} (${percent(committedRate)})`);
      gauge(
        36,
        e.cp,
        [
          [e.paid, "verse"],
          [e.ordered, "ordonnance"],
        ],
        `CP : ${money(e.paid)} versés, ${money(e.ordered)} ordonnancés, sur ${money(e.cp)} (${percent(paidRate)} versés)`,
      );
      chart.appendChild(group);
    });
    container.replaceChildren(chart);
  }

  return { lines, envelopes };
})();
