// The dashboard's map: territories drawn as inline SVG from the official boundaries the
// diagnostics API serves as GeoJSON (longitude/latitude), no tile server, nothing remote.
// A plain equirectangular projection corrected by the cosine of the mean latitude is enough
// at the scale of a région, and keeps the code small.
"use strict";

window.ProximaMap = (() => {
  const SVG_NS = "http://www.w3.org/2000/svg";
  const WIDTH = 760;
  const PALETTE = ["#dbe9f6", "#a9cce8", "#6aa6d6", "#2f7bbf", "#08458a"];
  const NO_DATA = "#e6e6e6";

  function svg(name, attributes) {
    const node = document.createElementNS(SVG_NS, name);
    for (const [attribute, value] of Object.entries(attributes)) node.setAttribute(attribute, value);
    return node;
  }

  function polygons(geometry) {
    if (!geometry) return [];
    if (geometry.type === "Polygon") return [geometry.coordinates];
    if (geometry.type === "MultiPolygon") return geometry.coordinates;
    return [];
  }

  function bounds(features) {
    let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity];
    for (const feature of features) {
      for (const polygon of polygons(feature.geometry)) {
        for (const [x, y] of polygon[0]) {
          minX = Math.min(minX, x);
          maxX = Math.max(maxX, x);
          minY = Math.min(minY, y);
          maxY = Math.max(maxY, y);
        }
      }
    }
    return { minX, minY, maxX, maxY };
  }

  function projection(features) {
    const b = bounds(features);
    const k = Math.cos((((b.minY + b.maxY) / 2) * Math.PI) / 180);
    const scale = WIDTH / Math.max((b.maxX - b.minX) * k, 1e-9);
    const height = Math.ceil((b.maxY - b.minY) * scale) || 1;
    const project = ([x, y]) => [((x - b.minX) * k * scale).toFixed(1), ((b.maxY - y) * scale).toFixed(1)];
    return { project, height };
  }

  function pathOf(geometry, project) {
    const parts = [];
    for (const polygon of polygons(geometry)) {
      for (const ring of polygon) {
        parts.push(`M${ring.map((point) => project(point).join(",")).join("L")}Z`);
      }
    }
    return parts.join("");
  }

  // At most five classes, each a run of the distinct known values with about as many in
  // each (quantiles), so one large city does not leave every other territory in the palest
  // colour; with five values or fewer, one class each. Colours spread over the palette.
  function classes(values) {
    const known = [...new Set(values.filter((v) => typeof v === "number" && Number.isFinite(v)))].sort((a, b) => a - b);
    const count = Math.min(known.length, PALETTE.length);
    const bins = [];
    for (let i = 0; i < count; i += 1) {
      bins.push([known[Math.floor((i * known.length) / count)], known[Math.floor(((i + 1) * known.length) / count) - 1]]);
    }
    const colours = bins.map((_, i) => PALETTE[count === 1 ? PALETTE.length - 1 : Math.round((i * (PALETTE.length - 1)) / (count - 1))]);
    return { bins, colours };
  }

  function colourOf(value, scale) {
    if (typeof value !== "number" || !Number.isFinite(value)) return NO_DATA;
    let index = -1;
    scale.bins.forEach(([low], i) => {
      if (value >= low) index = i;
    });
    return index < 0 ? NO_DATA : scale.colours[index];
  }

  function legend(scale, format, label) {
    const list = document.createElement("ul");
    list.className = "legende legende-carte";
    list.setAttribute("aria-label", `Légende : ${label}`);
    const item = (colour, text) => {
      const li = document.createElement("li");
      const swatch = document.createElement("span");
      swatch.className = "puce";
      swatch.style.background = colour;
      li.append(swatch, text);
      list.appendChild(li);
    };
    scale.bins.forEach(([low, high], i) => item(scale.colours[i], low === high ? format(low) : `${format(low)} – ${format(high)}`));
    item(NO_DATA, "Pas de donnée");
    return list;
  }

  /**
   * Draw `features` into `container`, each coloured by `values.get(code)`.
   * `describe(code, name)` gives the tooltip's lines; `open(code)` answers a click.
   */
  function draw(container, features, values, { label, format, describe, open }) {
    const tooltip = document.createElement("div");
    tooltip.className = "infobulle";
    tooltip.id = "infobulle-carte";
    tooltip.setAttribute("role", "tooltip");
    tooltip.hidden = true;
    if (features.length === 0) {
      const empty = document.createElement("p");
      empty.className = "vide";
      empty.textContent = "Aucun contour disponible pour cette échelle.";
      container.replaceChildren(empty);
      return;
    }
    const { project, height } = projection(features);
    const scale = classes(features.map((f) => values.get(f.properties.code)));
    const map = svg("svg", {
      viewBox: `-2 -2 ${WIDTH + 4} ${height + 4}`,
      role: "group",
      "aria-label": `Carte des territoires : ${label}`,
      id: "carte-svg",
    });
    const show = (event, feature) => {
      const { code, name } = feature.properties;
      const title = document.createElement("strong");
      title.textContent = name;
      const lines = describe(code, name).map((line) => {
        const p = document.createElement("span");
        p.textContent = line;
        return p;
      });
      tooltip.replaceChildren(title, ...lines);
      tooltip.hidden = false;
      const box = container.getBoundingClientRect();
      tooltip.style.left = `${Math.min(event.clientX - box.left + 14, box.width - 240)}px`;
      tooltip.style.top = `${event.clientY - box.top + 14}px`;
    };
    for (const feature of features) {
      const { code, name } = feature.properties;
      const value = values.get(code);
      const path = svg("path", {
        d: pathOf(feature.geometry, project),
        fill: colourOf(value, scale),
        class: "territoire",
        tabindex: "0",
        "data-code": code,
        "aria-label": `${name} : ${typeof value === "number" ? format(value) : "pas de donnée"}`,
      });
      path.addEventListener("mousemove", (event) => show(event, feature));
      path.addEventListener("mouseenter", (event) => show(event, feature));
      path.addEventListener("mouseleave", () => {
        tooltip.hidden = true;
      });
      path.addEventListener("click", () => open(code, name));
      path.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          open(code, name);
        }
      });
      map.appendChild(path);
    }
    container.replaceChildren(map, legend(scale, format, label), tooltip);
  }

  return { draw };
})();
