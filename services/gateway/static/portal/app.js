/* Portal Satu Data Kutai Timur: plain JS, no outside scripts. Hash routes:
   #/  search · #/dataset/<slug> · #/wilayah[/<kode>] · #/kelengkapan?dataset=&period= */
"use strict";

const app = document.getElementById("app");
const liveDot = document.getElementById("live");
const fmt = new Intl.NumberFormat("id-ID");
let source = null;          // the page's EventSource (one at a time)
let regionsCache = null;

const esc = (v) => String(v ?? "").replace(/[&<>"']/g,
  (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
/* search snippets mark hits with <mark>: keep only that tag, escape the rest */
const snippet = (v) => esc(v).replace(/&lt;(\/?)mark&gt;/g, "<$1mark>");
const KINDS = { dataset: "dataset", region: "wilayah", record: "data" };
const num = (v) => (typeof v === "number" ? fmt.format(v) : esc(v));
const when = (v) => (v ? new Date(v).toLocaleString("id-ID",
  { dateStyle: "medium", timeStyle: "short" }) : "-");

async function api(path) {
  const r = await fetch(path, { headers: { Accept: "application/json" } });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) {
    const msg = (body.error && body.error.message) || `Galat ${r.status}`;
    throw Object.assign(new Error(msg), { status: r.status });
  }
  return body;
}

async function regions() {
  if (!regionsCache) {
    const body = await api("/v1/regions");
    regionsCache = new Map(body.items.map((r) => [r.code, r]));
  }
  return regionsCache;
}

const kecamatanOf = (code) => code.split(".").slice(0, 3).join(".");

function parseHash() {
  const [path, query] = (location.hash.slice(1) || "/").split("?");
  return { parts: path.split("/").filter(Boolean).map(decodeURIComponent),
           params: new URLSearchParams(query || "") };
}

function live(url, onRecord) {
  if (source) source.close();
  source = null;
  liveDot.classList.remove("on");
  if (!url || !window.EventSource) return;
  source = new EventSource(url);
  source.onopen = () => liveDot.classList.add("on");
  source.onerror = () => liveDot.classList.remove("on");
  source.addEventListener("record", (e) => onRecord(JSON.parse(e.data)));
}

/* ---------- chart: horizontal bars, hand-written SVG ---------- */
function barChart(rows, title) {
  if (!rows.length) return `<p class="muted">Belum ada nilai untuk digambar.</p>`;
  const max = Math.max(...rows.map((r) => r.value), 1);
  const labelW = 170, barW = 420, rowH = 24, top = 28;
  const h = top + rows.length * rowH + 8;
  const bars = rows.map((r, i) => {
    const w = Math.max(1, (r.value / max) * barW), y = top + i * rowH;
    return `<g data-label="${esc(r.label)}"><text x="${labelW - 6}" y="${y + 15}" text-anchor="end">${esc(r.label.slice(0, 26))}</text>` +
      `<rect class="bar" x="${labelW}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 8}" rx="2"></rect>` +
      `<text x="${labelW + w + 4}" y="${y + 15}">${num(r.value)}</text></g>`;
  }).join("");
  return `<svg viewBox="0 0 ${labelW + barW + 90} ${h}" role="img" aria-label="${esc(title)}">` +
    `<text x="4" y="16" font-weight="600">${esc(title)}</text>${bars}</svg>`;
}

/* ---------- search ---------- */
const FACET_TITLES = { kind: "Jenis", dataset: "Dataset", topic: "Topik", kecamatan: "Kecamatan",
                       period: "Periode", publisher: "Produsen" };
const FACET_PARAM = { kecamatan: "region" };

async function renderSearch(params) {
  live(null);
  app.innerHTML = `
    <h1>Cari data Kabupaten Kutai Timur</h1>
    <div class="searchbox"><input id="q" type="search" autocomplete="off"
      placeholder="mis. jumlah penduduk Sangatta" aria-label="Kata kunci" value="${esc(params.get("q") || "")}"></div>
    <div class="layout"><aside class="facets" id="facets"></aside>
      <section><p id="count" class="muted"></p><ul class="results" id="results"></ul>
      <div id="datasets"></div></section></div>`;
  const input = document.getElementById("q");
  const filters = {};
  for (const [k, v] of params) if (k !== "q") filters[k] = v;
  let timer = null, seq = 0;
  const run = async () => {
    const mine = ++seq;
    const q = input.value.trim();
    const qs = new URLSearchParams({ q, limit: "20", ...filters });
    history.replaceState(null, "", "#/?" + new URLSearchParams({ ...(q ? { q } : {}), ...filters }));
    if (!q && !Object.keys(filters).length) {
      document.getElementById("results").innerHTML = "";
      document.getElementById("facets").innerHTML = "";
      document.getElementById("count").textContent = "";
      return showDatasets();
    }
    document.getElementById("datasets").innerHTML = "";
    try {
      const body = await api("/v1/search?" + qs);
      if (mine !== seq) return;
      showResults(body);
    } catch (err) {
      if (mine !== seq) return;
      document.getElementById("count").innerHTML = `<span class="error">Pencarian belum tersedia: ${esc(err.message)}</span>`;
      showDatasets(q);
    }
  };
  const showResults = (body) => {
    document.getElementById("count").textContent = `${fmt.format(body.total ?? body.items.length)} hasil`;
    document.getElementById("results").innerHTML = body.items.map((it) => {
      const href = it.kind === "dataset" ? `#/dataset/${encodeURIComponent(it.dataset || it.id)}`
        : it.kind === "region" ? `#/wilayah/${encodeURIComponent(it.region_code || it.id)}`
        : `#/dataset/${encodeURIComponent(it.dataset || "")}?region=${encodeURIComponent(it.region_code || "")}`;
      const vals = it.values ? Object.entries(it.values).map(([k, v]) => `${esc(k)}: ${num(v)}`).join(" · ") : "";
      return `<li class="result"><span class="kind">${esc(KINDS[it.kind] || it.kind)}</span><a href="${href}">${esc(it.title)}</a>
        <p class="snippet">${snippet(it.snippet || "")}${vals ? " — " + vals : ""}</p></li>`;
    }).join("") || `<li class="muted">Tidak ada hasil. Coba kata lain.</li>`;
    const facets = body.facets || {};
    document.getElementById("facets").innerHTML = Object.entries(facets).filter(([, v]) => v.length).map(([name, values]) => {
      const param = FACET_PARAM[name] || name;
      return `<div><h3>${esc(FACET_TITLES[name] || name)}</h3>` + values.map((f) =>
        `<button data-param="${esc(param)}" data-value="${esc(f.value)}" class="${filters[param] === f.value ? "active" : ""}">
          <span>${esc(f.label || f.value)}</span><span class="muted">${fmt.format(f.count)}</span></button>`).join("") + `</div>`;
    }).join("");
  };
  document.getElementById("facets").addEventListener("click", (e) => {
    const b = e.target.closest("button");
    if (!b) return;
    const { param, value } = b.dataset;
    if (param === "period") {
      if (filters.period_from === value) { delete filters.period_from; delete filters.period_to; }
      else { filters.period_from = value; filters.period_to = value; }
    } else if (filters[param] === value) delete filters[param];
    else filters[param] = value;
    run();
  });
  input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(run, 150); });
  input.focus();
  run();
}

async function showDatasets(filterText) {
  const box = document.getElementById("datasets");
  const body = await api("/v1/datasets");
  const words = (filterText || "").toLowerCase().split(/\s+/).filter(Boolean);
  const items = body.items.filter((d) => words.every((w) =>
    `${d.title} ${d.description} ${(d.tags || []).join(" ")}`.toLowerCase().includes(w)));
  box.innerHTML = `<h2>Dataset</h2><div class="cards">` + items.map((d) => `
    <article class="card"><h3><a href="#/dataset/${encodeURIComponent(d.slug)}">${esc(d.title)}</a></h3>
    <p class="muted">${esc(d.topic || "")} · ${esc(d.frequency)} · diperbarui ${when(d.updated_at)}</p></article>`).join("") + `</div>`;
}

/* ---------- dataset page ---------- */
async function renderDataset(slug, params) {
  app.innerHTML = `<p class="muted">Memuat dataset…</p>`;
  const [d, regs] = await Promise.all([api(`/v1/datasets/${encodeURIComponent(slug)}`), regions()]);
  const schema = d.schema || {};
  const dims = schema.dimensions || [];
  const measures = schema.measures || [];
  const main = measures.find((m) => m.type !== "text") || measures[0];
  const records = new Map();
  const region = params.get("region") || "";
  let cursor = null, pages = 0;
  do {
    const qs = new URLSearchParams({ limit: "1000", ...(region ? { region } : {}), ...(cursor ? { cursor } : {}) });
    const page = await api(`/v1/datasets/${encodeURIComponent(slug)}/records?${qs}`);
    for (const r of page.items) records.set(r.id, r);
    cursor = page.next_cursor;
  } while (cursor && ++pages < 10);
  const periods = () => [...new Set([...records.values()].map((r) => r.period))].sort();
  let period = params.get("period") || periods().slice(-1)[0] || "";
  const meta = d.metadata || {};
  const q = region ? `&region=${encodeURIComponent(region)}` : "";
  app.innerHTML = `
    <p class="crumbs"><a href="#/">Beranda</a> › ${esc(d.topic || "dataset")}</p>
    <h1>${esc(d.title)}</h1>
    <p>${esc(d.description)}</p>
    <p>Terakhir diperbarui: <strong id="updated"></strong></p>
    <div class="downloads">
      <a class="btn" id="dl-csv" href="/v1/datasets/${encodeURIComponent(slug)}/records?format=csv${q}" download>Unduh CSV</a>
      <a class="btn alt" id="dl-xlsx" href="/v1/datasets/${encodeURIComponent(slug)}/records?format=xlsx${q}" download>Unduh XLSX</a>
      <a class="btn alt" href="/v1/datasets/${encodeURIComponent(slug)}/records?format=json${q}">JSON</a>
    </div>
    <div class="controls"><label>Periode <select id="period"></select></label>
      ${region ? `<span>Wilayah: <a href="#/wilayah/${encodeURIComponent(region)}">${esc((regs.get(region) || {}).name || region)}</a> · <a href="#/dataset/${encodeURIComponent(slug)}">semua wilayah</a></span>` : ""}</div>
    <div class="chart" id="chart"></div>
    <h2>Tabel</h2><p class="muted" id="rowcount"></p>
    <div class="table-wrap"><table id="table"></table></div>
    <button class="btn alt" id="more" hidden>Tampilkan semua baris</button>
    <h2>Metadata</h2>
    <dl class="meta">${Object.entries({ Frekuensi: d.frequency, Lisensi: d.license, Versi: d.version,
      ...Object.fromEntries(Object.entries(meta).map(([k, v]) => [k.replace(/_/g, " "), typeof v === "object" ? JSON.stringify(v) : v])) })
      .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join("")}</dl>`;
  const select = document.getElementById("period");
  const fillPeriods = () => {
    select.innerHTML = periods().map((p) => `<option ${p === period ? "selected" : ""}>${esc(p)}</option>`).join("");
  };
  let shown = 100;
  document.getElementById("more").addEventListener("click", () => { shown = 5000; draw(); });
  const dimLabel = (dim, code) => ((dim.values || {})[code]) || code;
  const draw = (flashId) => {
    const all = [...records.values()];
    const newest = all.reduce((a, r) => (r.updated_at > a ? r.updated_at : a), d.updated_at);
    document.getElementById("updated").textContent = when(newest);
    const rows = all.filter((r) => r.period === period && r.status !== "retracted")
      .sort((a, b) => a.region_code.localeCompare(b.region_code));
    document.getElementById("rowcount").textContent = `${fmt.format(rows.length)} baris untuk periode ${period}` + (rows.length > shown ? ` (${fmt.format(shown)} pertama ditampilkan)` : "");
    document.getElementById("more").hidden = rows.length <= shown;
    document.getElementById("table").innerHTML =
      `<thead><tr><th>Kode</th><th>Wilayah</th><th>Kecamatan</th>${dims.map((x) => `<th>${esc(x.label)}</th>`).join("")}` +
      `${measures.map((m) => `<th>${esc(m.label)}${m.unit ? ` (${esc(m.unit)})` : ""}</th>`).join("")}</tr></thead><tbody>` +
      rows.slice(0, shown).map((r) => `<tr data-id="${esc(r.id)}" class="${r.id === flashId ? "flash" : ""}"><td>${esc(r.region_code)}</td>
        <td><a href="#/wilayah/${encodeURIComponent(r.region_code)}">${esc((regs.get(r.region_code) || {}).name || r.region_code)}</a></td>
        <td>${esc((regs.get(kecamatanOf(r.region_code)) || {}).name || "")}</td>
        ${dims.map((x) => `<td>${esc(dimLabel(x, r.dimensions[x.name]))}</td>`).join("")}
        ${measures.map((m) => `<td class="num" data-measure="${esc(m.name)}">${num(r.values[m.name])}</td>`).join("")}</tr>`).join("") + `</tbody>`;
    // chart: by period when there are several, else by kecamatan for the chosen period
    const sums = new Map();
    const ps = periods();
    const byPeriod = ps.length > 1;
    for (const r of all) {
      if (r.status === "retracted" || !main) continue;
      if (!byPeriod && r.period !== period) continue;
      const key = byPeriod ? r.period : ((regs.get(kecamatanOf(r.region_code)) || {}).name || kecamatanOf(r.region_code));
      sums.set(key, (sums.get(key) || 0) + (Number(r.values[main.name]) || 0));
    }
    const chartRows = [...sums].map(([label, value]) => ({ label, value }));
    if (!byPeriod) chartRows.sort((a, b) => b.value - a.value);
    document.getElementById("chart").innerHTML = barChart(chartRows,
      `${main ? main.label : ""} menurut ${byPeriod ? "periode" : "kecamatan"}${byPeriod ? "" : " (" + period + ")"}`);
  };
  select.addEventListener("change", () => { period = select.value; draw(); });
  fillPeriods();
  draw();
  live(`/v1/events?dataset=${encodeURIComponent(slug)}`, (ev) => {
    if (region && !ev.region_code.startsWith(region)) return;
    const r = { id: ev.record_id, dataset: ev.dataset, region_code: ev.region_code, period: ev.period,
                dimensions: ev.dimensions || {}, values: ev.values || {}, version: ev.version,
                status: ev.status, updated_at: ev.changed_at };
    records.set(r.id, r);
    if (!period) period = r.period;
    fillPeriods();
    draw(r.id);
  });
}

/* ---------- region pages ---------- */
async function renderRegion(code) {
  live(null);
  const regs = await regions();
  if (!code) {
    const root = [...regs.values()].find((r) => r.level === "kabupaten") || [...regs.values()][0];
    if (!root) { app.innerHTML = `<p class="muted">Belum ada data wilayah.</p>`; return; }
    code = root.code;
  }
  app.innerHTML = `<p class="muted">Memuat wilayah…</p>`;
  const [r, datasets] = await Promise.all([api(`/v1/regions/${encodeURIComponent(code)}`), api("/v1/datasets")]);
  const path = (r.path || []).map((p) => typeof p === "string" ? { code: p, name: (regs.get(p) || {}).name || p } : p);
  app.innerHTML = `
    <p class="crumbs">${path.map((p) => p.code === r.code ? esc(p.name) : `<a href="#/wilayah/${encodeURIComponent(p.code)}">${esc(p.name)}</a>`).join(" › ")}</p>
    <h1>${esc(r.name)} <span class="muted">(${esc(r.level)} · ${esc(r.code)})</span></h1>
    ${(r.children || []).length ? `<h2>${r.level === "kabupaten" ? "Kecamatan" : "Desa/kelurahan"} (${r.children.length})</h2>
      <ul class="children">${r.children.map((c) => `<li><a href="#/wilayah/${encodeURIComponent(c.code)}">${esc(c.name)}</a></li>`).join("")}</ul>` : ""}
    <h2>Data wilayah ini</h2><div id="regiondata"><p class="muted">Memuat data…</p></div>`;
  const blocks = [];
  for (const d of datasets.items) {
    const records = [];
    let cursor = null, pages = 0;
    do {
      const qs = new URLSearchParams({ region: code, limit: "1000", ...(cursor ? { cursor } : {}) });
      const page = await api(`/v1/datasets/${encodeURIComponent(d.slug)}/records?${qs}`);
      records.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor && ++pages < 5);
    if (!records.length) continue;
    const measures = ((d.schema || {}).measures || []).filter((m) => m.type !== "text");
    const byPeriod = new Map();
    for (const rec of records) {
      if (rec.status === "retracted") continue;
      const row = byPeriod.get(rec.period) || {};
      for (const m of measures) row[m.name] = (row[m.name] || 0) + (Number(rec.values[m.name]) || 0);
      byPeriod.set(rec.period, row);
    }
    blocks.push(`<h3><a href="#/dataset/${encodeURIComponent(d.slug)}?region=${encodeURIComponent(code)}">${esc(d.title)}</a></h3>
      <div class="table-wrap"><table><thead><tr><th>Periode</th>${measures.map((m) => `<th>${esc(m.label)}${m.additive === false ? "" : " (jumlah)"}</th>`).join("")}</tr></thead><tbody>` +
      [...byPeriod].sort().map(([p, row]) => `<tr><td>${esc(p)}</td>${measures.map((m) => `<td class="num">${num(row[m.name])}</td>`).join("")}</tr>`).join("") +
      `</tbody></table></div>`);
  }
  document.getElementById("regiondata").innerHTML = blocks.join("") || `<p class="muted">Belum ada data untuk wilayah ini.</p>`;
}

/* ---------- completeness ---------- */
async function renderCompleteness(params) {
  live(null);
  const datasets = (await api("/v1/datasets")).items;
  const slug = params.get("dataset") || (datasets[0] || {}).slug || "";
  const period = params.get("period") || String(new Date().getFullYear() - 1);
  app.innerHTML = `<h1>Kelengkapan pelaporan</h1>
    <p class="muted">Desa/kelurahan mana yang sudah melaporkan tiap dataset untuk satu periode.</p>
    <form class="controls" id="cform"><label>Dataset <select name="dataset">${datasets.map((d) =>
      `<option value="${esc(d.slug)}" ${d.slug === slug ? "selected" : ""}>${esc(d.title)}</option>`).join("")}</select></label>
      <label>Periode <input name="period" value="${esc(period)}" size="8"></label><button class="btn">Tampilkan</button></form>
    <div id="cresult"><p class="muted">Memuat…</p></div>`;
  document.getElementById("cform").addEventListener("submit", (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    location.hash = `#/kelengkapan?dataset=${encodeURIComponent(f.get("dataset"))}&period=${encodeURIComponent(f.get("period"))}`;
  });
  const out = document.getElementById("cresult");
  if (!slug) { out.innerHTML = `<p class="muted">Belum ada dataset.</p>`; return; }
  let body;
  try {
    body = await api(`/v1/completeness?${new URLSearchParams({ dataset: slug, period })}`);
  } catch (err) {
    out.innerHTML = `<p class="error">Data kelengkapan belum tersedia: ${esc(err.message)}</p>`;
    return;
  }
  const list = Array.isArray(body) ? body : (body.items || body.units || body.regions || []);
  const isDone = (u) => u.reported === true || u.status === "reported" || u.complete === true;
  const done = list.filter(isDone).length;
  const scalars = Object.entries(body).filter(([, v]) => v === null || typeof v !== "object");
  out.innerHTML = `<div class="summary"><div><b>${fmt.format(done)}</b> sudah melapor</div>
      <div><b>${fmt.format(list.length - done)}</b> belum</div>
      ${scalars.map(([k, v]) => `<div><b>${num(v)}</b> ${esc(k.replace(/_/g, " "))}</div>`).join("")}</div>` +
    (list.length ? `<div class="table-wrap"><table><thead><tr>${Object.keys(list[0]).map((k) => `<th>${esc(k.replace(/_/g, " "))}</th>`).join("")}</tr></thead><tbody>` +
      list.map((u) => `<tr>${Object.entries(u).map(([k, v]) => typeof v === "boolean"
        ? `<td class="${v === (k !== "in_conflict") ? "ok" : "no"}">${v ? "ya" : "tidak"}</td>`
        : `<td>${k === "code" ? `<a href="#/wilayah/${encodeURIComponent(v)}">${esc(v)}</a>` : esc(typeof v === "object" ? JSON.stringify(v) : v)}</td>`).join("")}</tr>`).join("") +
      `</tbody></table></div>` : `<pre>${esc(JSON.stringify(body, null, 2))}</pre>`);
}

/* ---------- router ---------- */
async function route() {
  const { parts, params } = parseHash();
  try {
    if (parts[0] === "dataset" && parts[1]) await renderDataset(parts[1], params);
    else if (parts[0] === "wilayah") await renderRegion(parts[1]);
    else if (parts[0] === "kelengkapan") await renderCompleteness(params);
    else await renderSearch(params);
  } catch (err) {
    app.innerHTML = `<h1>Maaf</h1><p class="error">${esc(err.message)}</p><p><a href="#/">Kembali ke beranda</a></p>`;
  }
}

window.addEventListener("hashchange", route);
route();
