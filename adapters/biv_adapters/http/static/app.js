// The auditor's page: every figure is fetched from the JSON endpoints, as a program would ask.
// No inline script or style: the page works under a Content-Security-Policy of 'self'.
"use strict";
const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const NBSP = "\u00a0";
// Kronor with no-break spaces, so that an amount never wraps ("300 500 kr").
const kr = (text) => Number(text).toLocaleString("sv-SE", { maximumFractionDigits: 0 })
  .replace(/\s/g, NBSP) + NBSP + "kr";
const STATUS = { in_force: "gäller", not_started: "inte påbörjat", ended: "upphört",
  under_notice: "uppsagt", terminated: "upphört efter uppsägning" };
const PARTY = { municipality: "kommunen", partner: "partnern" };
const FIELD = { case_number: "diarienummer", on: "effektivt datum", as_known_at: "känt per",
  token: "token", digest: "kontrollsumma" };

// Every refusal in Swedish: what the status means, and the field it names.
function swedish(status, body) {
  const field = FIELD[body.field] || body.field;
  const reason = body.reason || "";
  const dates = reason.match(/\d{4}-\d{2}-\d{2}/g) || [];
  if (status === 404 && /not yet recorded/.test(reason)) {
    return `Avtalet var ännu inte registrerat vid "Känt per" (${dates[0]}); det registrerades ` +
      `första gången ${dates[1]}. Välj en senare dag i "Känt per".`;
  }
  if (status === 404) return "Hittades inte: inget avtal med det diarienumret.";
  if (status === 401) return "Token saknas eller är okänd: skriv in en giltig token.";
  if (status === 403) return "Din roll får inte se det här.";
  if (status === 429) return "För många förfrågningar: vänta en stund och försök igen.";
  if (status === 503) return "Lagret kan inte nås just nu.";
  if (status === 400) return `Ogiltig uppgift${field ? " i " + field : ""}: kontrollera fältet.`;
  if (status === 422) return `Avvisat${field ? " (" + field + ")" : ""}: uppgiften bryter mot en regel.`;
  return "Något gick fel i tjänsten; försök igen.";
}

function headers() {
  const token = $("token").value.trim();
  sessionStorage.setItem("biv-token", token);
  return token ? { Authorization: "Bearer " + token } : {};
}

async function get(path, params) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v));
  let response;
  try {
    response = await fetch(path + (query.size ? "?" + query : ""), { headers: headers() });
  } catch {
    throw new Error("Tjänsten svarar inte.");
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(swedish(response.status, body));
  return body;
}

function el(name, attrs, text) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function hatch() {
  const defs = el("defs", {});
  const pattern = el("pattern", { id: "hatch", width: 8, height: 8,
    patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" });
  pattern.append(el("rect", { width: 8, height: 8, fill: "#ffffff" }));
  pattern.append(el("line", { x1: 0, y1: 0, x2: 0, y2: 8, stroke: "#6b6b6b", "stroke-width": 2 }));
  defs.append(pattern);
  return defs;
}

// The years from the first to the last with a decision; a year between with none is a gap,
// hatched and labelled "saknas i underlagen" as in the pack, never a zero.
function budgetYears(years) {
  const known = Object.keys(years).map(Number);
  if (!known.length) return [];
  const all = [];
  for (let y = Math.min(...known); y <= Math.max(...known); y++) all.push([String(y), years[y]]);
  return all;
}

function budgetChart(years) {
  const entries = budgetYears(years);
  const band = 46, left = 92, bottom = 34, top = 34, height = 260;
  const width = left + Math.max(1, entries.length) * band + 16;
  const svg = el("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-labelledby": "h-budget", "aria-describedby": "budget-table" });
  svg.append(hatch());
  const max = Math.max(1, ...entries.filter(([, s]) => s).map(([, s]) => Number(s.total)));
  const y = (v) => top + (height - top - bottom) * (1 - v / max);
  svg.append(el("line", { x1: left, y1: y(0), x2: width - 10, y2: y(0), class: "axis" }));
  svg.append(el("text", { x: 4, y: y(max) + 5 }, kr(max)));
  svg.append(el("text", { x: 4, y: y(0) }, kr(0)));
  entries.forEach(([year, sums], i) => {
    const x = left + i * band + band * 0.1, w = band * 0.4;
    if (!sums) {
      svg.append(el("rect", { x, y: top, width: w * 2 - 2, height: y(0) - top, class: "gap",
        "data-year": year }));
      svg.append(el("text", { x: x + w, y: top + 60, "text-anchor": "middle", class: "missing",
        transform: `rotate(-90 ${x + w} ${top + 60})` }, "saknas"));
    } else {
      for (const [j, party] of [[0, "municipality"], [1, "partner"]]) {
        const value = Number(sums[party]);
        const bar = el("rect", { x: x + j * w, y: y(value), width: w - 2,
          height: y(0) - y(value), class: "bar " + party, "data-year": year, "data-party": party });
        bar.append(el("title", {}, `${year} ${PARTY[party]}: ${kr(value)}`));
        svg.append(bar);
      }
    }
    svg.append(el("text", { x: x + w, y: height - 12, "text-anchor": "middle" }, year));
  });
  svg.append(el("text", { x: left, y: 16, class: "municipality" }, "■ kommunen"));
  svg.append(el("text", { x: left + 110, y: 16, class: "partner" }, "■ partnern"));
  svg.append(el("text", { x: left + 220, y: 16, class: "missing" }, "▨ saknas i underlagen"));
  $("budget-chart").replaceChildren(svg);
  $("budget-table").tBodies[0].replaceChildren(...entries.map(([year, sums]) => {
    const row = document.createElement("tr");
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = year;
    row.append(th);
    if (!sums) {
      const missing = cell("saknas i underlagen");
      missing.colSpan = 3;
      row.append(missing);
    } else {
      row.append(cell(kr(sums.municipality), "amount"), cell(kr(sums.partner), "amount"),
        cell(kr(sums.total), "amount"));
    }
    return row;
  }));
}

function kind(type) {
  if (/Eras/.test(type)) return "erasure";
  if (/^(Correct|Retract)|Corrected$|Retracted$/.test(type)) return "correction";
  return "fact";
}

function erasureDated(f) {
  if (kind(f.type) !== "erasure" || f.effective_on || !f.decision) return f;
  return { ...f, effective_on: f.decision.decided_on };
}

// Who is erased is named by pseudonym only (the stand-in the history shows), never a reference.
function erasureText(f) {
  if (kind(f.type) !== "erasure") return "";
  const gallring = f.data.reason.startsWith("retention:") ? "gallring" : "radering";
  return ` · ${gallring} av erased-${f.data.participant.slice(0, 12)} · beslutat ` +
    `${f.decision ? f.decision.decided_on : "-"} · skäl: ${f.data.reason}`;
}

// What `audit verify` found: the chain's first break (a real row), else its first other problem.
function verificationFailure(v) {
  const b = v.first_break;
  if (!b) return "kontrollen fann: " + (v.problems || [])[0];
  return `kedjan bryts vid rad ${b.notification_id} (${b.type} av ${b.stream} v${b.version}, ` +
    `position ${b.position}): ${b.problem}`;
}

function timeline(facts) {
  const width = 960, height = 280, left = 110, bottom = 40, top = 14, right = 16;
  const svg = el("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-labelledby": "h-timeline", "aria-describedby": "timeline-table" });
  // An erasure or retention (gallring) is placed on the day it was decided.
  const dated = facts.map((f) => erasureDated(f)).filter((f) => f.effective_on);
  $("timeline-table").tBodies[0].replaceChildren(...dated.map((f) => {
    const row = document.createElement("tr");
    row.append(cell(String(f.chain_position)), cell(f.type), cell(f.effective_on, "date"),
      cell(f.recorded_at.slice(0, 19).replace("T", " "), "date"), cell(f.actor || "–"));
    return row;
  }));
  if (!dated.length) { $("timeline").replaceChildren(svg); return; }
  const eff = dated.map((f) => Date.parse(f.effective_on));
  const rec = dated.map((f) => Date.parse(f.recorded_at));
  const span = (values) => [Math.min(...values), Math.max(...values) + 86400000];
  const [e0, e1] = span(eff), [r0, r1] = span(rec);
  const x = (t) => left + (width - left - right) * (t - e0) / (e1 - e0);
  const y = (t) => top + (height - top - bottom) * (1 - (t - r0) / (r1 - r0));
  const day = (t) => new Date(t).toISOString().slice(0, 10);
  svg.append(el("line", { x1: left, y1: height - bottom, x2: width - right, y2: height - bottom,
    class: "axis" }));
  svg.append(el("line", { x1: left, y1: top, x2: left, y2: height - bottom, class: "axis" }));
  svg.append(el("text", { x: left, y: height - 10 }, day(e0)));
  svg.append(el("text", { x: width - right, y: height - 10, "text-anchor": "end" }, day(e1)));
  svg.append(el("text", { x: 4, y: height - bottom }, day(r0)));
  svg.append(el("text", { x: 4, y: top + 12 }, day(r1)));
  svg.append(el("text", { x: (left + width) / 2, y: height - 10, "text-anchor": "middle" },
    "effektivt datum →"));
  svg.append(el("text", { x: 4, y: (top + height - bottom) / 2 }, "registrerat ↑"));
  dated.forEach((f, i) => {
    const k = kind(f.type);
    const dot = el("circle", { cx: x(eff[i]), cy: y(rec[i]), r: k === "fact" ? 3 : 5,
      class: "fact " + k, "data-type": f.type });
    dot.append(el("title", {}, `#${f.chain_position} ${f.type} · effektivt ${f.effective_on} · ` +
      `registrerat ${f.recorded_at.slice(0, 19)} · ${f.actor || "-"}` + erasureText(f)));
    svg.append(dot);
  });
  $("timeline").replaceChildren(svg);
}

// A store holding the demo says what it is: simulated recorded times, invented figures.
function demoNote(demo) {
  const parts = [];
  if (demo.simulated_recorded_times) parts.push("registreringstiderna är simulerade");
  if (demo.invented_figures) parts.push("uppgifterna för 2023–24 är påhittade (illustrativa)");
  return "Demonstrationsdata: " + parts.join(" och ") + ".";
}

function clear() {
  for (const id of ["title", "status", "end", "last-notice", "in-force", "budget-total",
    "disbursed"]) $(id).textContent = "–";
  $("budget-chart").replaceChildren();
  $("budget-table").tBodies[0].replaceChildren();
  $("timeline").replaceChildren();
  $("timeline-table").tBodies[0].replaceChildren();
  $("demo").hidden = true;
}

async function refresh() {
  const caseNumber = $("agreement").value;
  if (!caseNumber) { clear(); return; }
  const base = "/agreements/" + encodeURIComponent(caseNumber);
  const known = $("known-at").value;
  $("message").textContent = "";
  document.body.dataset.loading = "yes";
  const agreement = [...$("agreement").options].find((o) => o.value === caseNumber);
  try {
    const budget = await get(base + "/budget", { on: $("on").value, as_known_at: known });
    $("title").textContent = agreement ? agreement.dataset.title : caseNumber;
    $("status").textContent = STATUS[budget.status] || budget.status;
    $("end").textContent = budget.end;
    $("last-notice").textContent = budget.last_notice_day || "–";
    $("in-force").textContent = `${kr(budget.in_force.municipality)} / ${kr(budget.in_force.partner)}`;
    const total = Object.values(budget.by_fiscal_year).reduce((s, y) => s + Number(y.total), 0);
    $("budget-total").textContent = kr(total);
    $("disbursed").textContent = kr(budget.disbursed);
    budgetChart(budget.by_fiscal_year);
    $("demo").hidden = !budget.demo;
    $("demo").textContent = budget.demo ? demoNote(budget.demo) : "";
  } catch (error) {
    clear();
    $("message").textContent = "Budget: " + error.message;
  }
  try {
    timeline((await get(base + "/history", { as_known_at: known })).facts);
  } catch (error) {
    $("timeline").replaceChildren();
    $("timeline-table").tBodies[0].replaceChildren();
  }
  try {
    const [verified, digest] = await Promise.all([get("/audit/verify", {}), get("/audit/digest", {})]);
    $("chain").textContent = verified.intact ? "kedjan håller" : verificationFailure(verified);
    $("chain").className = verified.intact ? "ok" : "broken";
    $("chain-facts").textContent = verified.facts;
    $("digest").textContent = digest.digest || "(tom)";
  } catch (error) {
    $("chain").textContent = "Kontrollen: " + error.message;
  }
  try {  // the witnesses who co-signed the log's current checkpoint (issue 21)
    const { cosignatures } = await get("/log/cosignatures", {});
    $("cosigners").textContent = cosignatures.length
      ? cosignatures.map((c) => `${c.witness} (${c.at.slice(0, 16).replace("T", " ")} UTC)`).join(", ")
      : "ingen ännu";
  } catch (error) {
    $("cosigners").textContent = "–";
  }
  document.body.dataset.loading = "no";
}

async function start() {
  $("token").value = sessionStorage.getItem("biv-token") || "";
  $("on").value = new Date().toISOString().slice(0, 10);
  try {
    const { agreements } = await get("/agreements", {});
    const placeholder = agreements.length ? "– välj avtal –" : "– inga avtal registrerade –";
    $("agreement").replaceChildren(new Option(placeholder, ""), ...agreements.map((a) => {
      const option = new Option(`${a.case_number} – ${a.title}`, a.case_number);
      option.dataset.title = a.title;
      return option;
    }));
    if (agreements.length === 1) $("agreement").value = agreements[0].case_number;
  } catch (error) {
    $("message").textContent = "Avtalen: " + error.message;
  }
  await refresh();
  document.body.dataset.ready = "yes";
}

$("controls").addEventListener("submit", (event) => event.preventDefault());
for (const id of ["agreement", "on", "known-at"]) $(id).addEventListener("change", refresh);
$("token").addEventListener("change", start);
start();
