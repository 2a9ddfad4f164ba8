// The auditor's page: every figure is fetched from the JSON endpoints, as a program would ask.
"use strict";
const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const kr = (text) => Number(text).toLocaleString("sv-SE", { maximumFractionDigits: 0 }) + " kr";
const STATUS = { in_force: "gäller", not_started: "inte påbörjat", ended: "upphört",
  under_notice: "uppsagt", terminated: "upphört efter uppsägning" };

function headers() {
  const token = $("token").value.trim();
  sessionStorage.setItem("biv-token", token);
  return token ? { Authorization: "Bearer " + token } : {};
}

async function get(path, params) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v));
  const response = await fetch(path + (query.size ? "?" + query : ""), { headers: headers() });
  const body = await response.json();
  if (!response.ok) throw new Error((body.field ? body.field + ": " : "") + body.reason);
  return body;
}

function el(name, attrs, text) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function budgetChart(years) {
  const entries = Object.entries(years);
  const width = 480, height = 220, left = 70, bottom = 30, top = 10;
  const svg = el("svg", { width: "100%", viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": "Budget per budgetår" });
  const max = Math.max(1, ...entries.map(([, s]) => Number(s.total)));
  const band = (width - left - 10) / Math.max(1, entries.length);
  const y = (v) => top + (height - top - bottom) * (1 - v / max);
  svg.append(el("line", { x1: left, y1: y(0), x2: width - 10, y2: y(0), stroke: "#999" }));
  svg.append(el("text", { x: 4, y: y(max) + 4 }, kr(max)));
  entries.forEach(([year, sums], i) => {
    const x = left + i * band + band * 0.15, w = band * 0.35;
    for (const [j, party, colour] of [[0, "municipality", "#2b6cb0"], [1, "partner", "#38a169"]]) {
      const value = Number(sums[party]);
      const bar = el("rect", { x: x + j * w, y: y(value), width: w - 2, height: y(0) - y(value),
        fill: colour, class: "bar", "data-year": year, "data-party": party });
      bar.append(el("title", {}, `${year} ${party === "municipality" ? "kommun" : "partner"}: ${kr(value)}`));
      svg.append(bar);
    }
    svg.append(el("text", { x: x + w / 2, y: height - 10 }, year));
  });
  svg.append(el("text", { x: width - 150, y: 14, fill: "#2b6cb0" }, "■ kommun"));
  svg.append(el("text", { x: width - 80, y: 14, fill: "#38a169" }, "■ partner"));
  $("budget-chart").replaceChildren(svg);
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
  const width = 900, height = 260, left = 90, bottom = 30, top = 10, right = 10;
  const svg = el("svg", { width: "100%", viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": "Tidslinje" });
  // An erasure or retention (gallring) is placed on the day it was decided.
  const dated = facts.map((f) => erasureDated(f)).filter((f) => f.effective_on);
  if (!dated.length) { $("timeline").replaceChildren(svg); return; }
  const eff = dated.map((f) => Date.parse(f.effective_on));
  const rec = dated.map((f) => Date.parse(f.recorded_at));
  const span = (values) => [Math.min(...values), Math.max(...values) + 86400000];
  const [e0, e1] = span(eff), [r0, r1] = span(rec);
  const x = (t) => left + (width - left - right) * (t - e0) / (e1 - e0);
  const y = (t) => top + (height - top - bottom) * (1 - (t - r0) / (r1 - r0));
  svg.append(el("line", { x1: left, y1: height - bottom, x2: width - right, y2: height - bottom, stroke: "#999" }));
  svg.append(el("line", { x1: left, y1: top, x2: left, y2: height - bottom, stroke: "#999" }));
  svg.append(el("text", { x: left, y: height - 8 }, new Date(e0).toISOString().slice(0, 10)));
  svg.append(el("text", { x: width - right - 70, y: height - 8 }, new Date(e1).toISOString().slice(0, 10)));
  svg.append(el("text", { x: 2, y: height - bottom }, new Date(r0).toISOString().slice(0, 10)));
  svg.append(el("text", { x: 2, y: top + 10 }, new Date(r1).toISOString().slice(0, 10)));
  svg.append(el("text", { x: width / 2 - 40, y: height - 8 }, "effektivt datum →"));
  const colours = { fact: "#2b6cb0", correction: "#d97706", erasure: "#111" };
  dated.forEach((f, i) => {
    const k = kind(f.type);
    const dot = el("circle", { cx: x(eff[i]), cy: y(rec[i]), r: k === "fact" ? 3 : 5,
      fill: colours[k], class: "fact " + k, "data-type": f.type });
    dot.append(el("title", {}, `#${f.chain_position} ${f.type} · effektivt ${f.effective_on} · ` +
      `registrerat ${f.recorded_at.slice(0, 19)} · ${f.actor || "-"}` + erasureText(f)));
    svg.append(dot);
  });
  $("timeline").replaceChildren(svg);
}

async function refresh() {
  const caseNumber = $("agreement").value;
  if (!caseNumber) return;
  const base = "/agreements/" + encodeURIComponent(caseNumber);
  const known = $("known-at").value;
  $("message").textContent = "";
  document.body.dataset.loading = "yes";
  try {
    const budget = await get(base + "/budget", { on: $("on").value, as_known_at: known });
    $("status").textContent = STATUS[budget.status] || budget.status;
    $("end").textContent = budget.end;
    $("last-notice").textContent = budget.last_notice_day || "–";
    $("in-force").textContent = `${kr(budget.in_force.municipality)} / ${kr(budget.in_force.partner)}`;
    const total = Object.values(budget.by_fiscal_year).reduce((s, y) => s + Number(y.total), 0);
    $("budget-total").textContent = kr(total);
    $("disbursed").textContent = kr(budget.disbursed);
    budgetChart(budget.by_fiscal_year);
    const agreement = [...$("agreement").options].find((o) => o.value === caseNumber);
    $("title").textContent = agreement ? agreement.dataset.title : caseNumber;
  } catch (error) {
    for (const id of ["status", "end", "last-notice", "in-force", "budget-total", "disbursed"]) $(id).textContent = "–";
    $("budget-chart").replaceChildren();
    $("message").textContent = "Budget: " + error.message;
  }
  try {
    timeline((await get(base + "/history", { as_known_at: known })).facts);
  } catch (error) {
    $("timeline").textContent = "Tidslinjen: " + error.message;
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
    $("agreement").replaceChildren(new Option("– välj avtal –", ""), ...agreements.map((a) => {
      const option = new Option(`${a.case_number} – ${a.title}`, a.case_number);
      option.dataset.title = a.title;
      return option;
    }));
  } catch (error) {
    $("message").textContent = "Avtalen: " + error.message;
  }
  for (const id of ["agreement", "on", "known-at"]) $(id).addEventListener("change", refresh);
  $("token").addEventListener("change", start);
  document.body.dataset.ready = "yes";
}

start();
