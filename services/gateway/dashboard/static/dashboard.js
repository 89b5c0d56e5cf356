// Proxima regional dashboard. No framework, no build step: plain DOM, EventSource, inline SVG.
// The folding rules below mirror services/gateway/dashboard/rules.py, so the figures the page
// computes from live events always match GET /api/dashboard/summary. What the stream does not
// carry (territory names, engine shares, envelopes, circulation over time, boundaries) is read
// from the services' own APIs through the gateway, with the same token, when its scopes allow.
"use strict";

(() => {
  const TYPES = {
    aggregate: "proxima.diagnostics.aggregate.updated.v1",
    transaction: "proxima.ledger.transaction.posted.v1",
    ordered: "proxima.funding.payment.ordered.v1",
    paid: "proxima.funding.payment.paid.v1",
    committed: "proxima.funding.budget.committed.v1",
    released: "proxima.funding.budget.released.v1",
    decision: "proxima.funding.decision.recorded.v1",
    figures: "proxima.funding.instrument.figures.v1",
  };
  const APPLICATION_PREFIX = "proxima.funding.application.";
  // How each grant event moves a programme's figures (domain/dashboard.py, _GRANT_MOVES).
  const GRANT_MOVES = {
    [TYPES.committed]: ["committed", 1],
    [TYPES.released]: ["committed", -1],
    [TYPES.ordered]: ["ordered", 1],
    [TYPES.paid]: ["paid", 1],
  };
  const VERB_LABELS = {
    submitted: "déposé",
    withdrawn: "retiré",
    eligibility_check_started: "contrôle d'éligibilité",
    instruction_started: "en instruction",
    declared_eligible: "déclaré éligible",
    declared_ineligible: "déclaré inéligible",
    correction_requested: "complément demandé",
    sent_to_committee: "transmis au comité",
    resubmitted: "déposé à nouveau",
    closed_without_follow_up: "classé sans suite",
    adjourned: "ajourné",
    returned_to_instruction: "renvoyé en instruction",
    convention_signed: "convention signée",
    payment_started: "mis en paiement",
    final_report_rejected: "rapport final refusé",
    closed: "clôturé",
  };
  const ENGINES = ["productive", "residential", "public", "social"];
  const ENGINE_METRIC = /^(?:engine_)?share_(productive|residential|public|social)$/;
  const METRIC_LABELS = {
    currency_volume: "volume",
    velocity: "vélocité",
    reconversion_leakage: "fuite par reconversion",
    respend_rate: "taux de re-dépense",
    transactions: "transactions",
    issuance: "émission",
    reconversion: "reconversion",
    local_respend_share: "part re-dépensée sur le territoire",
    external_spend_share: "part dépensée hors du territoire",
    active_accounts: "comptes actifs",
  };
  const KIND_LABELS = {
    transfer: "paiement",
    payment: "paiement",
    hold_capture: "paiement par carte",
    programme_purchase: "achat sur programme",
    grant_payment: "versement de subvention",
    refund: "remboursement",
    issuance: "émission",
    reconversion: "reconversion",
    demurrage: "fonte",
    programme_credit: "crédit de programme",
  };
  const UNIT_LABELS = { EUR: "€", per_month: "par mois", "per month": "par mois", "per year": "par an", per_year: "par an", ratio: "", share: "", count: "", "%": "%" };
  const ENGINE_LABELS = { productive: "productive", residential: "résidentielle", public: "publique", social: "sociale" };
  // Circulation at these past instants, and velocity over the 30 days before each of them.
  const MONTH_WINDOWS = [30, 60, 90, 120, 150, 180];
  const DAY_MS = 86_400_000;
  const FEED_SIZE = 30;
  const RANKING_SIZE = 15;
  const SVG_NS = "http://www.w3.org/2000/svg";

  const number = new Intl.NumberFormat("fr-FR", { maximumFractionDigits: 2 });
  const money = new Intl.NumberFormat("fr-FR", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  // Grants per inhabitant can be a fraction of a cent over a whole département.
  const perHead = new Intl.NumberFormat("fr-FR", { maximumSignificantDigits: 3 });
  const percent = new Intl.NumberFormat("fr-FR", { style: "percent", maximumFractionDigits: 1 });
  const clock = new Intl.DateTimeFormat("fr-FR", { hour: "2-digit", minute: "2-digit", second: "2-digit" });

  const session = { clientId: "", secret: "", token: "", scopes: new Set(), refreshTimer: 0, source: null, position: 0 };
  let state = emptyState();
  let context = emptyContext();
  const refreshTimers = new Map();
  let changed = new Set();
  let renderQueued = false;

  const $ = (id) => document.getElementById(id);

  // ---------------------------------------------------------------- state and folding

  function emptyState() {
    return { territories: new Map(), engines: new Map(), programmes: new Map(), ledger: new Map(), instruments: new Map(), feed: [] };
  }

  // What the services' APIs say beyond the stream (see the header).
  function emptyContext() {
    return {
      names: new Map(),
      engines: new Map(),
      envelopes: [],
      currencies: new Map(),
      applications: [],
      parents: new Map(),
      boundaries: new Map(),
      typologies: new Map(),
      asking: new Set(),
    };
  }

  function key(a, b) {
    return `${a ?? ""}|${b ?? ""}`;
  }

  function loadSummary(summary) {
    const feed = state.feed;
    state = emptyState();
    state.feed = feed;
    for (const t of summary.territories) {
      state.territories.set(key(t.territory, t.currency), { territory: t.territory, currency: t.currency, metrics: { ...t.metrics } });
    }
    for (const e of summary.engine_shares) state.engines.set(e.territory, { ...e.shares });
    for (const p of summary.programmes) state.programmes.set(key(p.programme, p.currency), { ...p });
    for (const l of summary.ledger) state.ledger.set(key(l.territory, l.currency), { ...l });
    for (const i of summary.instruments || []) state.instruments.set(i.territory, { ...i });
    session.position = summary.as_of;
  }

  function programmeEntry(programme, currency) {
    const k = key(programme, currency);
    if (!state.programmes.has(k)) {
      state.programmes.set(k, { programme, currency, committed: 0, ordered: 0, paid: 0, payments: 0 });
    }
    return state.programmes.get(k);
  }

  function apply(item) {
    const d = item.data;
    if (item.type === TYPES.figures) {
      // Loans and guarantees (dashboard.py, summarize: instruments): the latest value wins.
      const entry = state.instruments.get(item.territory) || { territory: item.territory, leverage: null, repayment_rate: null };
      entry[d.metric.replace(/^instruments_/, "")] = d.value;
      entry.as_of = [entry.as_of || "", d.period || ""].sort().pop();
      state.instruments.set(item.territory, entry);
      changed.add(`instruments:${item.territory}`);
      return;
    }
    if (item.type === TYPES.aggregate) {
      const engine = ENGINE_METRIC.exec(d.metric);
      if (engine) {
        const shares = state.engines.get(item.territory) || {};
        shares[engine[1]] = d.value;
        state.engines.set(item.territory, shares);
        changed.add(`moteur:${item.territory}`);
        return;
      }
      const k = key(item.territory, item.currency);
      const entry = state.territories.get(k) || { territory: item.territory, currency: item.currency, metrics: {} };
      entry.metrics[d.metric] = { value: d.value, unit: d.unit, period: d.period };
      state.territories.set(k, entry);
      changed.add(`monnaie:${k}`);
    } else if (item.type === TYPES.transaction) {
      const k = key(item.territory, item.currency);
      const entry = state.ledger.get(k) || { territory: item.territory, currency: item.currency, volume: 0, transactions: 0 };
      entry.volume += d.amount;
      entry.transactions += 1;
      state.ledger.set(k, entry);
      changed.add(`monnaie:${k}`);
    } else if (item.type in GRANT_MOVES) {
      const [field, sign] = GRANT_MOVES[item.type];
      const entry = programmeEntry(item.programme, item.currency);
      entry[field] += sign * d.amount;
      if (field === "paid") entry.payments += 1;
      changed.add(`programme:${key(item.programme, item.currency)}`);
    }
  }

  // ---------------------------------------------------------------- formatting

  function withUnit(value, unit) {
    const label = unit in UNIT_LABELS ? UNIT_LABELS[unit] : unit;
    return label ? `${number.format(value)} ${label}` : number.format(value);
  }

  function amount(minor, currency) {
    const unit = !currency || currency === "EUR" ? "€" : currency;
    return `${money.format(minor / 100)} ${unit}`;
  }

  function euros(cents) {
    return amount(cents, "EUR");
  }

  function nameOf(code) {
    if (!code) return "hors territoire";
    return context.names.get(code) || code;
  }

  function cell(row, text, { className = "", col = "" } = {}) {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    if (col) td.dataset.col = col;
    row.appendChild(td);
    return td;
  }

  function fillTable(id, rows) {
    const body = $(id).querySelector("tbody");
    body.replaceChildren(...rows);
    document.querySelector(`[data-vide-pour="${id}"]`).hidden = rows.length > 0;
  }

  function flashIf(row, changeKey) {
    if (changed.has(changeKey)) row.classList.add("flash");
  }

  // ---------------------------------------------------------------- rendering

  function scheduleRender() {
    if (renderQueued) return;
    renderQueued = true;
    requestAnimationFrame(() => {
      renderQueued = false;
      render();
      changed = new Set();
    });
  }

  function render() {
    renderCurrencies();
    renderRanking();
    renderProgrammes();
    renderInstruments();
    renderEngines();
    renderCirculation();
    renderEnvelopes();
    renderMap();
    renderFeed();
    renderIndicators();
    $("maj").textContent = `Mise à jour : ${clock.format(new Date())}`;
  }

  function renderCurrencies() {
    const keys = new Set([...state.territories.keys(), ...state.ledger.keys()]);
    const rows = [...keys].sort().map((k) => {
      const aggregate = state.territories.get(k);
      const live = state.ledger.get(k);
      const [territory, currency] = k.split("|");
      const metrics = aggregate ? aggregate.metrics : {};
      const tr = document.createElement("tr");
      tr.dataset.key = k;
      cell(tr, nameOf(territory), { col: "territoire" }).title = territory || "";
      cell(tr, currency || "—", { col: "monnaie" });
      const period = (metrics.currency_volume || metrics.velocity || {}).period;
      cell(tr, period || "—", { col: "periode" });
      const volume = metrics.currency_volume;
      // Volumes come in the currency's minor units: shown in the currency itself, never as euros.
      const volumeText = !volume ? "—" : volume.unit === "minor units" ? amount(volume.value, currency) : withUnit(volume.value, volume.unit);
      cell(tr, volumeText, { className: "nombre", col: "volume" });
      const velocity = metrics.velocity;
      cell(tr, velocity ? withUnit(velocity.value, velocity.unit) : "—", { className: "nombre", col: "velocite" });
      cell(tr, live ? number.format(live.transactions) : "0", { className: "nombre", col: "transactions" });
      cell(tr, live ? amount(live.volume, currency) : "—", { className: "nombre", col: "montant" });
      flashIf(tr, `monnaie:${k}`);
      return tr;
    });
    fillTable("table-monnaies", rows);
  }

  function territoryVolumes() {
    const totals = new Map();
    for (const entry of state.territories.values()) {
      const volume = entry.metrics.currency_volume;
      if (volume) {
        const units = volume.unit === "minor units" ? volume.value / 100 : volume.value;
        totals.set(entry.territory, (totals.get(entry.territory) || 0) + units);
      }
    }
    if (totals.size === 0) {
      for (const entry of state.ledger.values()) {
        if (entry.territory) totals.set(entry.territory, (totals.get(entry.territory) || 0) + entry.volume / 100);
      }
    }
    return [...totals.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, RANKING_SIZE);
  }

  function svg(name, attributes, text) {
    const node = document.createElementNS(SVG_NS, name);
    for (const [attribute, value] of Object.entries(attributes)) node.setAttribute(attribute, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function renderRanking() {
    const ranking = territoryVolumes();
    const container = $("classement");
    if (ranking.length === 0) {
      const empty = document.createElement("p");
      empty.className = "vide";
      empty.textContent = "Aucun volume pour l'instant.";
      container.replaceChildren(empty);
      return;
    }
    const barHeight = 24;
    const gap = 8;
    const labelWidth = 150;
    const valueWidth = 130;
    const width = 760;
    const height = ranking.length * (barHeight + gap) + gap;
    const max = Math.max(...ranking.map(([, v]) => v)) || 1;
    const chart = svg("svg", {
      viewBox: `0 0 ${width} ${height}`,
      role: "img",
      "aria-label": "Classement des territoires par volume en monnaie locale",
      id: "graphique-classement",
    });
    ranking.forEach(([territory, value], index) => {
      const y = gap + index * (barHeight + gap);
      const barWidth = Math.max(2, ((width - labelWidth - valueWidth) * value) / max);
      const group = svg("g", { "data-territoire": territory });
      group.appendChild(svg("text", { x: 0, y: y + barHeight * 0.7 }, `${index + 1}. ${nameOf(territory)}`));
      group.appendChild(svg("rect", { class: "barre", x: labelWidth, y, width: barWidth, height: barHeight, rx: 3 }));
      group.appendChild(
        svg("text", { class: "etiquette-valeur", x: labelWidth + barWidth + 8, y: y + barHeight * 0.7 }, money.format(value)),
      );
      chart.appendChild(group);
    });
    container.replaceChildren(chart);
  }

  // Grants are decided and paid in euros (a tranche paid in a local currency is converted at
  // par): one row per programme, whatever the currency each tranche was paid in.
  function programmeTotals() {
    const totals = new Map();
    for (const p of state.programmes.values()) {
      const code = p.programme || "";
      const entry = totals.get(code) || { programme: code, committed: 0, ordered: 0, paid: 0, payments: 0, currencies: new Set() };
      entry.committed += p.committed;
      entry.ordered += p.ordered;
      entry.paid += p.paid;
      entry.payments += p.payments;
      if (p.currency && p.paid > 0) entry.currencies.add(p.currency === "EUR" ? "euros" : p.currency);
      totals.set(code, entry);
    }
    return [...totals.values()].sort((x, y) => x.programme.localeCompare(y.programme));
  }

  // Hook for more figures per programme (the leverage of honour and participatory loans,
  // once funding publishes it): each { col, label, value(programme, envelopes) → text } adds
  // a column. Empty today.
  const PROGRAMME_EXTRAS = [];

  function programmeHeaders() {
    const row = $("table-programmes").querySelector("thead tr");
    for (const extra of PROGRAMME_EXTRAS) {
      const th = Object.assign(document.createElement("th"), { scope: "col", className: "nombre", textContent: extra.label });
      row.appendChild(th);
    }
  }

  function renderProgrammes() {
    const rows = programmeTotals().map((p) => {
      const tr = document.createElement("tr");
      tr.dataset.key = p.programme;
      cell(tr, p.programme || "—", { col: "programme" });
      cell(tr, [...p.currencies].sort().join(", ") || "—", { col: "monnaie" });
      cell(tr, euros(p.committed), { className: "nombre", col: "engage" });
      cell(tr, euros(p.ordered), { className: "nombre", col: "ordonnance" });
      cell(tr, euros(p.paid), { className: "nombre", col: "verse" });
      cell(tr, number.format(p.payments), { className: "nombre", col: "versements" });
      const gauge = cell(tr, "", { col: "taux" });
      const rate = p.committed > 0 ? Math.min(1, p.paid / p.committed) : null;
      const bar = document.createElement("div");
      bar.className = "jauge";
      bar.title = rate === null ? "Aucun engagement connu" : percent.format(rate);
      const fill = document.createElement("span");
      fill.style.width = `${Math.round((rate ?? 0) * 100)}%`;
      bar.appendChild(fill);
      gauge.appendChild(bar);
      for (const extra of PROGRAMME_EXTRAS) cell(tr, extra.value(p, context.envelopes), { className: "nombre", col: extra.col });
      for (const k of state.programmes.keys()) if (k.startsWith(`${p.programme}|`)) flashIf(tr, `programme:${k}`);
      return tr;
    });
    fillTable("table-programmes", rows);
  }

  function renderInstruments() {
    const rows = [...state.instruments.values()].sort((a, b) => a.territory.localeCompare(b.territory)).map((i) => {
      const tr = document.createElement("tr");
      tr.dataset.key = i.territory;
      cell(tr, nameOf(i.territory), { col: "territoire" });
      cell(tr, i.leverage === null ? "—" : number.format(i.leverage), { className: "nombre", col: "levier" });
      cell(tr, i.repayment_rate === null ? "—" : percent.format(i.repayment_rate), { className: "nombre", col: "remboursement" });
      cell(tr, i.as_of || "—", { col: "date" });
      flashIf(tr, `instruments:${i.territory}`);
      return tr;
    });
    fillTable("table-instruments", rows);
  }

  // Engine shares computed by the diagnostics service (typology of the départements), and
  // any newer share the stream brought since.
  function engineShares() {
    const merged = new Map(context.engines);
    for (const [territory, shares] of state.engines) merged.set(territory, { ...(merged.get(territory) || {}), ...shares });
    return merged;
  }

  function renderEngines() {
    const rows = [...engineShares().entries()].sort(([a], [b]) => a.localeCompare(b)).map(([territory, shares]) => {
      const tr = document.createElement("tr");
      tr.dataset.key = territory;
      cell(tr, nameOf(territory), { col: "territoire" }).title = territory;
      const stack = cell(tr, "", { col: "repartition" });
      const bar = document.createElement("div");
      bar.className = "repartition";
      for (const engine of ENGINES) {
        const part = document.createElement("span");
        part.className = `moteur-${engine}`;
        part.style.width = `${Math.max(0, (shares[engine] || 0) * 100)}%`;
        bar.appendChild(part);
      }
      stack.appendChild(bar);
      for (const engine of ENGINES) {
        cell(tr, engine in shares ? percent.format(shares[engine]) : "—", { className: "nombre", col: engine });
      }
      flashIf(tr, `moteur:${territory}`);
      return tr;
    });
    fillTable("table-moteurs", rows);
  }

  function renderIndicators() {
    const territories = new Set([...state.territories.values()].map((t) => t.territory));
    for (const l of state.ledger.values()) if (l.territory) territories.add(l.territory);
    for (const t of engineShares().keys()) territories.add(t);
    $("kpi-territoires").textContent = number.format(territories.size);
    const transactions = [...state.ledger.values()].reduce((sum, l) => sum + l.transactions, 0);
    $("kpi-transactions").textContent = number.format(transactions);
    const grants = programmeTotals();
    $("kpi-engage").textContent = euros(grants.reduce((sum, p) => sum + p.committed, 0));
    $("kpi-verse").textContent = euros(grants.reduce((sum, p) => sum + p.paid, 0));
  }

  function describe(item) {
    const d = item.data;
    if (item.type === TYPES.aggregate) {
      const label = METRIC_LABELS[d.metric] || d.metric.replaceAll("_", " ");
      const value = d.unit === "minor units" ? amount(d.value, item.currency) : withUnit(d.value, d.unit);
      return `Indicateur mis à jour · ${nameOf(item.territory)} · ${label} : ${value}`;
    }
    if (item.type === TYPES.figures) {
      const label = d.metric === "instruments_leverage" ? "effet de levier" : "taux de remboursement";
      const value = d.metric === "instruments_leverage" ? number.format(d.value) : percent.format(d.value);
      return `Prêts et garanties · ${nameOf(item.territory)} · ${label} : ${value}`;
    }
    if (item.type === TYPES.transaction) {
      return `Transaction (${KIND_LABELS[d.kind] || d.kind}) · ${nameOf(item.territory)} · ${amount(d.amount, item.currency)}`;
    }
    const programme = item.programme ? ` · programme ${item.programme}` : "";
    const paidIn = item.currency && item.currency !== "EUR" ? ` (payé en ${item.currency})` : "";
    if (item.type === TYPES.ordered) return `Paiement ordonnancé${programme} · ${euros(d.amount)}${paidIn}`;
    if (item.type === TYPES.paid) return `Versement effectué${programme} · ${euros(d.amount)}${paidIn}`;
    if (item.type === TYPES.committed) return `Engagement budgétaire${programme} · ${euros(d.amount)}`;
    if (item.type === TYPES.released) return `Dégagement budgétaire${programme} · ${euros(d.amount)}`;
    if (item.type === TYPES.decision) {
      const outcome = d.outcome === "approved" ? "accordé" : "refusé";
      const granted = d.amount_cents ? ` (${euros(d.amount_cents)})` : "";
      return `Décision du comité · dossier ${d.application_id} · ${outcome}${granted}${programme}`;
    }
    return `Dossier ${d.application_id} · ${VERB_LABELS[d.verb] || d.verb || "mis à jour"}${programme}`;
  }

  function renderFeed() {
    const items = state.feed.map((item) => {
      const li = document.createElement("li");
      const time = document.createElement("time");
      time.dateTime = item.occurred_at;
      time.textContent = clock.format(new Date(item.occurred_at));
      li.append(time, describe(item));
      return li;
    });
    $("flux").replaceChildren(...items);
  }

  // ---------------------------------------------------------------- circulation and envelopes

  // From the ledger's figures over windows all ending now: circulation N days ago is the
  // window's circulation at start, and the transfers of the 30 days before that instant are
  // the difference of two windows' volumes; velocity = those transfers / mean circulation.
  function monthlySeries(byWindow) {
    const now = Date.now();
    const circulationAt = (days) => (days === 0 ? byWindow.get(30).circulation : byWindow.get(days).circulation_at_start);
    const volumeOver = (days) => (days === 0 ? 0 : byWindow.get(days).transfer_volume);
    const circulation = [{ t: new Date(now), v: circulationAt(0) / 100 }];
    const velocity = [];
    for (const days of MONTH_WINDOWS) {
      circulation.push({ t: new Date(now - days * DAY_MS), v: circulationAt(days) / 100 });
      const end = days - 30;
      const mean = (circulationAt(days) + circulationAt(end)) / 2;
      const volume = volumeOver(days) - volumeOver(end);
      velocity.push({ t: new Date(now - end * DAY_MS), v: mean > 0 ? volume / mean : null });
    }
    const byTime = (a, b) => a.t - b.t;
    return { circulation: circulation.sort(byTime), velocity: velocity.sort(byTime) };
  }

  function renderCirculation() {
    const rows = [...context.currencies.values()].sort((a, b) => a.code.localeCompare(b.code)).map((c) => {
      const now = c.windows.get(30);
      const tr = document.createElement("tr");
      tr.dataset.key = c.code;
      cell(tr, c.code, { col: "monnaie" }).title = c.operator;
      cell(tr, amount(now.circulation, c.code), { className: "nombre", col: "circulation" });
      cell(tr, now.velocity === null ? "—" : `${number.format(now.velocity)} par mois`, { className: "nombre", col: "velocite" });
      cell(tr, number.format(now.transfer_count), { className: "nombre", col: "paiements" });
      cell(tr, amount(now.transfer_volume, c.code), { className: "nombre", col: "volume" });
      return tr;
    });
    fillTable("table-circulation", rows);
    const series = [...context.currencies.values()].sort((a, b) => a.code.localeCompare(b.code)).map((c) => ({ code: c.code, ...monthlySeries(c.windows) }));
    window.ProximaCharts.lines($("graphique-circulation"), series.map((s) => ({ name: s.code, points: s.circulation })), {
      id: "courbe-circulation",
      label: "Circulation de chaque monnaie sur six mois",
      format: (v) => number.format(v),
    });
    window.ProximaCharts.lines($("graphique-velocite"), series.map((s) => ({ name: s.code, points: s.velocity })), {
      id: "courbe-velocite",
      label: "Vélocité de chaque monnaie, par mois, sur six mois",
      format: (v) => `${number.format(v)} par mois`,
    });
  }

  function renderEnvelopes() {
    window.ProximaCharts.envelopes($("graphique-enveloppes"), context.envelopes, {
      money: euros,
      percent: (v) => percent.format(v),
    });
  }

  // ---------------------------------------------------------------- map

  const MAP_FIGURES = {
    share_productive: { label: "Part de la base productive", format: (v) => percent.format(v) },
    share_residential: { label: "Part de la base résidentielle", format: (v) => percent.format(v) },
    share_public: { label: "Part de la base publique", format: (v) => percent.format(v) },
    share_social: { label: "Part de la base sociale", format: (v) => percent.format(v) },
    volume: { label: "Montant échangé en monnaie locale", format: (v) => money.format(v) },
    grants: { label: "Subventions versées par habitant", format: (v) => `${perHead.format(v)} € par habitant` },
  };
  let mapDrawn = "";

  // The commune's parent of `level` (its département or EPCI), once its memberships are known.
  function parentOf(commune, level) {
    if (!commune) return null;
    if (level === "commune") return commune;
    const parents = context.parents.get(commune);
    return parents ? parents[level] || null : null;
  }

  function mapFigures(level) {
    const features = context.boundaries.get(level) || [];
    const population = new Map(features.map((f) => [f.properties.code, f.properties.population]));
    const shares = level === "departement" ? engineShares() : context.typologies.get(level) || new Map();
    const volume = new Map();
    for (const entry of state.ledger.values()) {
      const parent = parentOf(entry.territory, level);
      if (parent) volume.set(parent, (volume.get(parent) || 0) + entry.volume / 100);
    }
    const paid = new Map();
    for (const application of context.applications) {
      const parent = parentOf(application.commune_insee_code, level);
      if (parent && application.paid_cents > 0) paid.set(parent, (paid.get(parent) || 0) + application.paid_cents / 100);
    }
    const grants = new Map();
    for (const [code, value] of paid) if (population.get(code)) grants.set(code, value / population.get(code));
    const out = { volume, grants };
    for (const engine of ENGINES) {
      out[`share_${engine}`] = new Map([...shares].filter(([, s]) => engine in s).map(([code, s]) => [code, s[engine]]));
    }
    return out;
  }

  function renderMap() {
    const level = $("carte-echelle").value;
    const figure = $("carte-indicateur").value;
    const features = context.boundaries.get(level);
    if (!features) return;
    const figures = mapFigures(level);
    const values = figures[figure];
    const signature = JSON.stringify([level, figure, [...values]]);
    if (signature === mapDrawn) return;
    mapDrawn = signature;
    window.ProximaMap.draw($("carte"), features, values, {
      label: MAP_FIGURES[figure].label,
      format: MAP_FIGURES[figure].format,
      describe: (code) =>
        Object.entries(MAP_FIGURES).map(([name, { label, format }]) => {
          const value = figures[name].get(code);
          return `${label} : ${typeof value === "number" ? format(value) : "—"}`;
        }),
      open: openReport,
    });
  }

  async function loadMap() {
    const level = $("carte-echelle").value;
    if (!session.scopes.has("diagnostics:read")) {
      $("carte").replaceChildren(Object.assign(document.createElement("p"), { className: "vide", textContent: "La carte demande le droit diagnostics:read." }));
      return;
    }
    if (!context.boundaries.has(level)) {
      const pages = await allPages("diagnostics/boundaries", { level, limit: "100" });
      const features = pages.flatMap((page) => page.features);
      for (const f of features) context.names.set(f.properties.code, f.properties.name);
      context.boundaries.set(level, features);
    }
    if (level !== "departement" && !context.typologies.has(level)) {
      context.typologies.set(level, await typology(level));
    }
    mapDrawn = "";
    scheduleRender();
  }

  async function openReport(code, name) {
    const dialog = $("fiche");
    $("fiche-titre").textContent = name;
    const body = $("fiche-contenu");
    body.replaceChildren(Object.assign(document.createElement("p"), { textContent: "Chargement du diagnostic…" }));
    if (!dialog.open) dialog.showModal();
    const report = await getJson(`diagnostics/territories/${encodeURIComponent(code)}/report`);
    if (!report) {
      body.replaceChildren(Object.assign(document.createElement("p"), { className: "erreur", textContent: "Diagnostic indisponible pour ce territoire." }));
      return;
    }
    const line = (text, className = "") => Object.assign(document.createElement("p"), { textContent: text, className });
    const list = (title, items) => {
      const section = document.createElement("section");
      section.appendChild(Object.assign(document.createElement("h3"), { textContent: title }));
      const ul = document.createElement("ul");
      for (const text of items.length ? items : ["Aucun."]) ul.appendChild(Object.assign(document.createElement("li"), { textContent: text }));
      section.appendChild(ul);
      return section;
    };
    const shares = report.engine_shares || {};
    body.replaceChildren(
      line(`${number.format(report.population)} habitants · année ${report.year}${report.synthetic ? " · données de démonstration" : ""}`),
      line(report.typology ? `Modèle de développement : ${report.typology.explanation}` : "Modèle de développement non déterminé."),
      line(
        ENGINES.map((e) => `Base ${ENGINE_LABELS[e]} : ${e in shares ? percent.format(shares[e]) : "—"}`).join(" · "),
      ),
      list("Atouts", report.strengths.map((f) => f.message)),
      list("Fragilités", report.fragilities.map((f) => f.message)),
      list("Leviers", report.levers.map((l) => l.text)),
      line(report.source, "aide"),
    );
  }

  // ---------------------------------------------------------------- the services' APIs

  async function getJson(path, params) {
    const query = params ? `?${new URLSearchParams(params)}` : "";
    try {
      const response = await fetch(`/api/${path}${query}`, { headers: { Authorization: `Bearer ${session.token}` } });
      return response.ok ? await response.json() : null;
    } catch {
      return null;
    }
  }

  async function allPages(path, params, maxPages = 20) {
    const pages = [];
    let cursor = null;
    do {
      const page = await getJson(path, cursor ? { ...params, cursor } : params);
      if (!page) break;
      pages.push(page);
      cursor = page.next_cursor;
    } while (cursor && pages.length < maxPages);
    return pages;
  }

  async function typology(level) {
    const pages = await allPages("diagnostics/typology", { level, limit: "500" });
    const shares = new Map();
    for (const item of pages.flatMap((page) => page.items)) {
      context.names.set(item.territory, item.name);
      shares.set(item.territory, item.engine_shares);
    }
    return shares;
  }

  async function loadNames() {
    if (!session.scopes.has("diagnostics:read")) return;
    const codes = new Set();
    for (const entry of [...state.ledger.values(), ...state.territories.values()]) if (entry.territory) codes.add(entry.territory);
    for (const application of context.applications) codes.add(application.commune_insee_code);
    const missing = [...codes].filter((code) => !context.parents.has(code) && !context.asking.has(code));
    await Promise.all(
      missing.map(async (code) => {
        context.asking.add(code);
        const [territory, memberships] = await Promise.all([
          getJson(`diagnostics/territories/${encodeURIComponent(code)}`),
          getJson(`diagnostics/territories/${encodeURIComponent(code)}/memberships`),
        ]);
        if (territory) context.names.set(code, territory.name);
        const parents = {};
        for (const m of memberships ? memberships.items : []) if (!m.valid_to) parents[m.relation] = m.parent_code;
        context.parents.set(code, parents);
      }),
    );
    scheduleRender();
  }

  async function loadEnvelopes() {
    if (!session.scopes.has("funding:read")) return;
    const programmes = (await allPages("funding/programmes", { limit: "100" })).flatMap((page) => page.items);
    const rows = [];
    for (const programme of programmes) {
      const envelopes = (await allPages(`funding/programmes/${encodeURIComponent(programme.code)}/envelopes`, { limit: "100" })).flatMap((page) => page.items);
      for (const e of envelopes) {
        rows.push({ code: e.code, programme: programme.name, ap: e.ap_cents, cp: e.cp_cents, committed: e.committed_cents, ordered: e.ordered_cents, paid: e.paid_cents });
      }
    }
    context.envelopes = rows.sort((a, b) => a.code.localeCompare(b.code));
    context.applications = (await allPages("funding/applications", { limit: "100" })).flatMap((page) => page.items);
    scheduleRender();
  }

  async function currencyWindows(code, windows) {
    const figures = await Promise.all(windows.map((days) => getJson(`ledger/currencies/${encodeURIComponent(code)}/figures`, { window_days: String(days) })));
    return new Map(windows.map((days, i) => [days, figures[i]]));
  }

  async function loadCurrencies() {
    if (!session.scopes.has("ledger:read")) return;
    const currencies = (await allPages("ledger/currencies", { limit: "100" })).flatMap((page) => page.items);
    for (const c of currencies.filter((c) => c.kind !== "eur")) {
      const windows = await currencyWindows(c.code, MONTH_WINDOWS);
      if ([...windows.values()].every(Boolean)) context.currencies.set(c.code, { code: c.code, operator: c.operator, windows });
    }
    scheduleRender();
  }

  async function loadContext() {
    if (session.scopes.has("diagnostics:read")) {
      context.engines = await typology("departement");
    }
    await Promise.all([loadEnvelopes(), loadCurrencies()]);
    await Promise.all([loadNames(), loadMap()]);
    scheduleRender();
  }

  // A live event changes figures the APIs hold: read them again, once per burst.
  function refreshLater(name, action, delay = 300) {
    if (refreshTimers.has(name)) return;
    refreshTimers.set(
      name,
      setTimeout(async () => {
        refreshTimers.delete(name);
        await action();
        scheduleRender();
      }, delay),
    );
  }

  function followUp(item) {
    if (item.type === TYPES.transaction && context.currencies.has(item.currency)) {
      refreshLater(`monnaie:${item.currency}`, async () => {
        const now = await getJson(`ledger/currencies/${encodeURIComponent(item.currency)}/figures`, { window_days: "30" });
        if (now) context.currencies.get(item.currency).windows.set(30, now);
      });
    }
    if (item.territory && !context.parents.has(item.territory)) refreshLater("noms", loadNames);
    if (item.type in GRANT_MOVES) refreshLater("enveloppes", loadEnvelopes);
  }

  // ---------------------------------------------------------------- network

  function setStatus(text, kind) {
    const status = $("statut");
    status.textContent = text;
    status.className = `pastille pastille-${kind}`;
  }

  async function problemMessage(response) {
    const body = await response.json().catch(() => ({}));
    if (response.status === 401) return "Identifiant ou secret incorrect.";
    if (response.status === 403) return "Ce client n'a pas accès au tableau de bord (droit dashboard:read requis).";
    if (response.status === 429) {
      return `Trop de tentatives : réessayez dans ${response.headers.get("Retry-After") || "quelques"} s.`;
    }
    return body.detail || `Erreur ${response.status}.`;
  }

  async function requestToken() {
    const response = await fetch("/oauth/token", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: session.clientId,
        client_secret: session.secret,
      }),
    });
    if (!response.ok) throw new Error(await problemMessage(response));
    const token = await response.json();
    session.token = token.access_token;
    session.scopes = new Set((token.scope || "").split(" ").filter(Boolean));
    clearTimeout(session.refreshTimer);
    // Renew a minute before expiry; the open stream is then reopened with the new token.
    const delay = Math.max(10, token.expires_in - 60) * 1000;
    session.refreshTimer = setTimeout(renewToken, delay);
  }

  async function renewToken() {
    try {
      await requestToken();
      openStream();
    } catch (error) {
      setStatus("Session expirée", "erreur");
      session.refreshTimer = setTimeout(renewToken, 15000);
    }
  }

  async function loadFromSummary() {
    const response = await fetch("/api/dashboard/summary", {
      headers: { Authorization: `Bearer ${session.token}` },
    });
    if (!response.ok) throw new Error(await problemMessage(response));
    loadSummary(await response.json());
    scheduleRender();
  }

  function openStream() {
    if (session.source) session.source.close();
    const query = new URLSearchParams({ since: String(session.position), access_token: session.token });
    const source = new EventSource(`/api/stream?${query}`);
    session.source = source;
    source.addEventListener("hello", () => setStatus("En direct", "direct"));
    source.onmessage = (message) => {
      const item = JSON.parse(message.data);
      session.position = Math.max(session.position, item.position);
      apply(item);
      followUp(item);
      state.feed.unshift(item);
      state.feed.length = Math.min(state.feed.length, FEED_SIZE);
      scheduleRender();
    };
    source.addEventListener("reset", async () => {
      // The server cannot replay what we missed: start again from a fresh summary.
      source.close();
      await loadFromSummary().catch(() => undefined);
      openStream();
    });
    source.addEventListener("dropped", () => setStatus("Reconnexion…", "attente"));
    source.addEventListener("closed", () => {
      // The server ended the stream: our token expired or was revoked. Do not let
      // EventSource retry with it; ask for a new token, then resume where we were.
      source.close();
      setStatus("Reconnexion…", "attente");
      renewToken();
    });
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) {
        // Refused (expired token, or the gateway restarted): renew, then resume where we were.
        setStatus("Reconnexion…", "attente");
        setTimeout(() => renewToken(), 2000);
      } else {
        setStatus("Reconnexion…", "attente");
      }
    };
  }

  async function onLogin(event) {
    event.preventDefault();
    const button = $("bouton-connexion");
    const error = $("erreur-connexion");
    error.hidden = true;
    button.disabled = true;
    session.clientId = $("client-id").value.trim();
    session.secret = $("client-secret").value;
    try {
      await requestToken();
      await loadFromSummary();
      $("connexion").hidden = true;
      $("tableau").hidden = false;
      $("etat").hidden = false;
      $("identite").textContent = session.clientId;
      openStream();
      loadContext();
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
      session.secret = "";
    } finally {
      button.disabled = false;
    }
  }

  function onLogout() {
    if (session.source) session.source.close();
    clearTimeout(session.refreshTimer);
    Object.assign(session, { clientId: "", secret: "", token: "", source: null, position: 0 });
    state = emptyState();
    context = emptyContext();
    mapDrawn = "";
    $("client-secret").value = "";
    $("tableau").hidden = true;
    $("etat").hidden = true;
    $("connexion").hidden = false;
  }

  document.addEventListener("DOMContentLoaded", () => {
    programmeHeaders();
    $("formulaire-connexion").addEventListener("submit", onLogin);
    $("deconnexion").addEventListener("click", onLogout);
    $("carte-echelle").addEventListener("change", () => loadMap());
    $("carte-indicateur").addEventListener("change", () => scheduleRender());
    $("fiche-fermer").addEventListener("click", () => $("fiche").close());
  });
})();
