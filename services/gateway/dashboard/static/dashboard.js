// Proxima regional dashboard. No framework, no build step: plain DOM, EventSource, inline SVG.
// The folding rules below mirror services/gateway/domain/dashboard.py, so the figures the page
// computes from live events always match GET /api/dashboard/summary.
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
  };
  const KIND_LABELS = {
    transfer: "paiement",
    issuance: "émission",
    reconversion: "reconversion",
    demurrage: "fonte",
    programme_credit: "crédit de programme",
  };
  const UNIT_LABELS = { EUR: "€", per_month: "/mois", per_year: "/an", ratio: "", share: "", "%": "%" };
  const FEED_SIZE = 30;
  const RANKING_SIZE = 15;
  const SVG_NS = "http://www.w3.org/2000/svg";

  const number = new Intl.NumberFormat("fr-FR", { maximumFractionDigits: 2 });
  const money = new Intl.NumberFormat("fr-FR", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const percent = new Intl.NumberFormat("fr-FR", { style: "percent", maximumFractionDigits: 1 });
  const clock = new Intl.DateTimeFormat("fr-FR", { hour: "2-digit", minute: "2-digit", second: "2-digit" });

  const session = { clientId: "", secret: "", token: "", refreshTimer: 0, source: null, position: 0 };
  let state = emptyState();
  let changed = new Set();
  let renderQueued = false;

  const $ = (id) => document.getElementById(id);

  // ---------------------------------------------------------------- state and folding

  function emptyState() {
    return { territories: new Map(), engines: new Map(), programmes: new Map(), ledger: new Map(), instruments: new Map(), feed: [] };
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
    return `${money.format(minor / 100)} ${currency ?? ""}`.trim();
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
      cell(tr, territory || "—", { col: "territoire" });
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
      if (volume) totals.set(entry.territory, (totals.get(entry.territory) || 0) + volume.value);
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
      group.appendChild(svg("text", { x: 0, y: y + barHeight * 0.7 }, `${index + 1}. ${territory}`));
      group.appendChild(svg("rect", { class: "barre", x: labelWidth, y, width: barWidth, height: barHeight, rx: 3 }));
      group.appendChild(
        svg("text", { class: "etiquette-valeur", x: labelWidth + barWidth + 8, y: y + barHeight * 0.7 }, number.format(value)),
      );
      chart.appendChild(group);
    });
    container.replaceChildren(chart);
  }

  function renderProgrammes() {
    const rows = [...state.programmes.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, p]) => {
      const tr = document.createElement("tr");
      tr.dataset.key = k;
      cell(tr, p.programme || "—", { col: "programme" });
      cell(tr, p.currency || "—", { col: "monnaie" });
      cell(tr, amount(p.committed, p.currency), { className: "nombre", col: "engage" });
      cell(tr, amount(p.ordered, p.currency), { className: "nombre", col: "ordonnance" });
      cell(tr, amount(p.paid, p.currency), { className: "nombre", col: "verse" });
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
      flashIf(tr, `programme:${k}`);
      return tr;
    });
    fillTable("table-programmes", rows);
  }

  function renderInstruments() {
    const rows = [...state.instruments.values()].sort((a, b) => a.territory.localeCompare(b.territory)).map((i) => {
      const tr = document.createElement("tr");
      tr.dataset.key = i.territory;
      cell(tr, i.territory, { col: "territoire" });
      cell(tr, i.leverage === null ? "—" : number.format(i.leverage), { className: "nombre", col: "levier" });
      cell(tr, i.repayment_rate === null ? "—" : percent.format(i.repayment_rate), { className: "nombre", col: "remboursement" });
      cell(tr, i.as_of || "—", { col: "date" });
      flashIf(tr, `instruments:${i.territory}`);
      return tr;
    });
    fillTable("table-instruments", rows);
  }

  function renderEngines() {
    const rows = [...state.engines.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([territory, shares]) => {
      const tr = document.createElement("tr");
      tr.dataset.key = territory;
      cell(tr, territory, { col: "territoire" });
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
    for (const t of state.engines.keys()) territories.add(t);
    $("kpi-territoires").textContent = number.format(territories.size);
    const transactions = [...state.ledger.values()].reduce((sum, l) => sum + l.transactions, 0);
    $("kpi-transactions").textContent = number.format(transactions);
    $("kpi-engage").textContent = totalsByCurrency("committed");
    $("kpi-verse").textContent = totalsByCurrency("paid");
  }

  function totalsByCurrency(field) {
    const totals = new Map();
    for (const p of state.programmes.values()) totals.set(p.currency, (totals.get(p.currency) || 0) + p[field]);
    if (totals.size === 0) return "0";
    return [...totals.entries()].map(([currency, value]) => amount(value, currency)).join(" · ");
  }

  function describe(item) {
    const d = item.data;
    if (item.type === TYPES.aggregate) {
      const label = METRIC_LABELS[d.metric] || d.metric.replaceAll("_", " ");
      return `Indicateur mis à jour · ${item.territory} · ${label} : ${withUnit(d.value, d.unit)}`;
    }
    if (item.type === TYPES.figures) {
      const label = d.metric === "instruments_leverage" ? "effet de levier" : "taux de remboursement";
      const value = d.metric === "instruments_leverage" ? number.format(d.value) : percent.format(d.value);
      return `Prêts et garanties · ${item.territory} · ${label} : ${value}`;
    }
    if (item.type === TYPES.transaction) {
      return `Transaction (${KIND_LABELS[d.kind] || d.kind}) · ${item.territory || "hors territoire"} · ${amount(d.amount, item.currency)}`;
    }
    const programme = item.programme ? ` · programme ${item.programme}` : "";
    if (item.type === TYPES.ordered) return `Paiement ordonnancé${programme} · ${amount(d.amount, item.currency)}`;
    if (item.type === TYPES.paid) return `Versement effectué${programme} · ${amount(d.amount, item.currency)}`;
    if (item.type === TYPES.committed) return `Engagement budgétaire${programme} · ${amount(d.amount, item.currency)}`;
    if (item.type === TYPES.released) return `Dégagement budgétaire${programme} · ${amount(d.amount, item.currency)}`;
    if (item.type === TYPES.decision) {
      const outcome = d.outcome === "approved" ? "accordé" : "refusé";
      const granted = d.amount_cents ? ` (${amount(d.amount_cents, item.currency)})` : "";
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
    $("client-secret").value = "";
    $("tableau").hidden = true;
    $("etat").hidden = true;
    $("connexion").hidden = false;
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("formulaire-connexion").addEventListener("submit", onLogin);
    $("deconnexion").addEventListener("click", onLogout);
  });
})();
