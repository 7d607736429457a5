/* Portal Satu Data Kutai Timur: plain JS, no outside scripts. Real URLs (the gateway answers
   each with this page): /  search · /dataset/<slug> · /wilayah[/<kode>] ·
   /kelengkapan?dataset=&period= · /kirim. Old #/ links are mapped onto them. */
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
/* a figure as a person reads it: Indonesian digits; a hidden small count says so (never
   "[object Object]"); a value object without a number shows its value or a dash */
const HIDDEN = `<span class="suppressed" title="Jumlah kecil disembunyikan untuk melindungi privasi">disembunyikan</span>`;
const num = (v) => (typeof v === "number" ? fmt.format(v)
  : v && typeof v === "object" ? (v.suppressed ? HIDDEN : num(v.value ?? "-"))
  : esc(v ?? "-"));
const when = (v) => (v ? new Date(v).toLocaleString("id-ID",
  { dateStyle: "medium", timeStyle: "short" }) : "-");

async function api(path, fresh = false) {
  const r = await fetch(path, { headers: { Accept: "application/json" },
                                cache: fresh ? "no-cache" : "default" });
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
/* a retired code (desa merged, split or renumbered) says so and points at its successor */
function retiredMark(r, regs) {
  if (!r || !(r.successor_code || (r.valid_until && new Date(r.valid_until) <= new Date()))) return "";
  const next = r.successor_code ? (regs && regs.get(r.successor_code)) || { code: r.successor_code } : null;
  return ` <span class="retired" data-successor="${esc(r.successor_code || "")}">tidak berlaku${r.valid_until ? ` sejak ${esc(r.valid_until)}` : ""}` +
    (next ? `, digantikan <a href="/wilayah/${encodeURIComponent(next.code)}">${esc(next.name || next.code)}</a>` : "") + `</span>`;
}

/* where a region came from and what replaced it, with the dated changes (pemekaran,
   penggabungan, perubahan kode) in the registry's own Indonesian sentences */
function lineage(r) {
  const link = (x) => `<a href="/wilayah/${encodeURIComponent(x.code)}">${esc(x.name || x.code)}</a> (${esc(x.code)})`;
  const parts = [];
  if ((r.predecessors || []).length) parts.push(`<p class="lineage" data-lineage="predecessors">Berasal dari: ${r.predecessors.map(link).join(", ")}</p>`);
  if ((r.successors || []).length) parts.push(`<p class="lineage" data-lineage="successors">Digantikan oleh: ${r.successors.map(link).join(", ")}</p>`);
  if ((r.changes || []).length) parts.push(`<h2>Riwayat wilayah</h2><ul class="changes">${r.changes.map((c) => `<li>${esc(c.description)}</li>`).join("")}</ul>`);
  return parts.join("");
}

/* a code that began with a region change says since when */
const sinceMark = (r) => r && r.valid_from ? ` <span class="muted">(sejak ${esc(r.valid_from)})</span>` : "";

function parseRoute() {
  if (location.hash.startsWith("#/")) history.replaceState(null, "", location.hash.slice(1) || "/");
  return { parts: location.pathname.split("/").filter(Boolean).map(decodeURIComponent),
           params: new URLSearchParams(location.search) };
}
const PAGE_PATH = /^\/(|dataset\/[^/]+|wilayah(\/[^/]+)?|kelengkapan|kirim|permohonan)$/;
function go(path) { history.pushState(null, "", path); route(); }

/* each page's title and description (the gateway writes the first ones on the server) */
function setMeta(title, description) {
  document.title = title ? `${title} · Satu Data Kutai Timur` : "Satu Data Kutai Timur";
  const m = document.querySelector('meta[name="description"]');
  if (m && description) m.setAttribute("content", String(description).slice(0, 300));
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
function barChart(rows, title, suffix = "") {
  /* a hidden small count keeps its row, without a bar, and says so */
  const hidden = (r) => Boolean(r.value && typeof r.value === "object" && r.value.suppressed);
  rows = rows.filter((r) => typeof r.value === "number" || hidden(r));
  if (!rows.some((r) => typeof r.value === "number")) return `<p class="muted">Belum ada nilai untuk digambar.</p>`;
  const max = Math.max(...rows.map((r) => (hidden(r) ? 0 : r.value)), 1);
  /* drawn at the width it is shown (no shrinking): 12 px text stays 12 px on a phone, and a
     label longer than its column is cut with an ellipsis instead of running into the bars */
  const avail = (app.clientWidth || 700) - 40;
  const W = Math.round(Math.max(300, Math.min(680, narrow() ? avail : avail * 2 / 3)));
  const valueW = rows.some((r) => r.partial) ? 150 : 90;
  const labelW = Math.round(W * 0.3), barW = W - labelW - valueW, rowH = 24, top = 28;
  const fit = Math.max(6, Math.floor((labelW - 10) / 7));
  const cut = (t) => (t.length > fit ? t.slice(0, fit - 1) + "…" : t);
  const h = top + rows.length * rowH + 8;
  const bars = rows.map((r, i) => {
    const y = top + i * rowH;
    if (hidden(r)) {
      return `<g data-label="${esc(r.label)}"><title>${esc(r.label)}: disembunyikan</title><text x="${labelW - 6}" y="${y + 16}" text-anchor="end">${esc(cut(r.label))}</text>` +
        `<text class="hidden-value" x="${labelW + 4}" y="${y + 16}">disembunyikan (jumlah kecil)</text></g>`;
    }
    const w = Math.max(1, (r.value / max) * barW);
    return `<g data-label="${esc(r.label)}"><title>${esc(r.label)}: ${num(r.value)}</title><text x="${labelW - 6}" y="${y + 16}" text-anchor="end">${esc(cut(r.label))}</text>` +
      `<rect class="bar${r.partial ? " partial" : ""}" x="${labelW}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 8}" rx="2"></rect>` +
      `<text x="${labelW + w + 4}" y="${y + 16}">${num(r.value)}${suffix}${r.partial ? " (sebagian)" : ""}</text></g>`;
  }).join("");
  return `<svg viewBox="0 0 ${W} ${h}" width="${W}" role="img" aria-label="${esc(title)}">` +
    `<text x="4" y="16" font-weight="600">${esc(title)}</text>${bars}</svg>`;
}

/* ---------- figures from /v1/aggregates: the server sums, the page only shows ---------- */
const UNIT_WORDS = { desa: "desa", kelurahan: "desa/kelurahan", kecamatan: "kecamatan",
                     kabupaten: "kabupaten" };
const unitWord = (levels) => (levels || []).includes("desa") ? "desa"
  : UNIT_WORDS[(levels || [])[0]] || "wilayah";
/* a period whose reporting is incomplete is labelled, never shown as a total */
const partialNote = (p, levels) => (p.complete ? ""
  : `baru ${fmt.format(p.reporting)} dari ${fmt.format(p.expected)} ${unitWord(levels)} melapor`);
/* open on the latest period with at least 80 % reporting, else the most complete one */
function openingPeriod(periods) {
  if (!periods.length) return "";
  const good = periods.filter((p) => (p.rate ?? 0) >= 0.8);
  if (good.length) return good[good.length - 1].period;
  return periods.reduce((a, p) => ((p.rate ?? 0) >= (a.rate ?? 0) ? p : a)).period;
}
const withUnit = (m, v) => `${num(v)}${m.unit && v != null ? ` ${esc(m.unit)}` : ""}`;

async function aggregates(slug, region, extra = {}, fresh = false) {
  const qs = new URLSearchParams({ dataset: slug, ...(region ? { region } : {}), ...extra });
  try {
    return await api(`/v1/aggregates?${qs}`, fresh);
  } catch (err) {
    if (err.status === 422) return null;  // nothing of this kind to show (no additive measure)
    throw err;
  }
}

/* values awaiting the walidata are counted at their last verified value, and said so */
const heldNote = (p) => `${fmt.format(p.held)} nilai sedang diverifikasi walidata; angka memakai nilai terverifikasi terakhir`;

/* each period's total as text next to the chart; partial periods say so */
function totalsList(agg) {
  return `<ol class="totals" id="totals">` + agg.periods.slice().reverse().map((p) => {
    const note = partialNote(p, agg.region_levels);
    return `<li data-period="${esc(p.period)}" class="${note ? "partial" : ""}"><span class="period">${esc(p.period)}</span> ` +
      agg.measures.map((m) => `<span class="total-of">${agg.measures.length > 1 ? esc(m.label) + ": " : ""}<strong class="total" data-measure="${esc(m.name)}">${withUnit(m, p.values[m.name])}</strong></span>`).join(" · ") +
      (note ? ` <span class="partial-note">${esc(note)}</span>` : "") +
      (p.held ? ` <span class="held-note">${esc(heldNote(p))}</span>` : "") + `</li>`;
  }).join("") + `</ol>`;
}

function periodChart(agg, period) {
  const m = agg.measures[0];
  if (agg.periods.length > 1) {
    return barChart(agg.periods.map((p) => ({ label: p.period, value: p.values[m.name], partial: !p.complete })),
      `${m.label} menurut periode${agg.periods.some((p) => !p.complete) ? " (sebagian: pelaporan belum lengkap)" : ""}`);
  }
  const p = agg.periods.find((x) => x.period === period) || agg.periods[0];
  if (!p) return barChart([], "");
  return barChart(p.children.map((c) => ({ label: c.region.name, value: c.values[m.name], partial: c.rate !== null && c.rate < 1 }))
    .sort((a, b) => (b.value ?? 0) - (a.value ?? 0)), `${m.label} menurut wilayah (${p.period})`);
}

/* ---------- search ---------- */
const FACET_TITLES = { kind: "Jenis", dataset: "Dataset", topic: "Topik", kecamatan: "Kecamatan",
                       period: "Periode", publisher: "Produsen" };
const FACET_PARAM = { kecamatan: "region" };

const SEARCH_FILTERS = new Set(["kind", "dataset", "topic", "region", "period_from", "period_to",
                                 "publisher", "current"]);
const SEARCH_PAGE = 20;
const SEARCH_DEBOUNCE_MS = 300;  // one request when the typing pauses, not one per key
const narrow = () => window.matchMedia("(max-width: 700px)").matches;

async function renderSearch(params) {
  live(null);
  setMeta(params.get("q") ? `Cari: ${params.get("q")}` : "", "Cari data Kabupaten Kutai Timur: dataset, wilayah dan angka per desa.");
  app.innerHTML = `
    <h1>Cari data Kabupaten Kutai Timur</h1>
    <div class="searchbox"><input id="q" type="search" autocomplete="off"
      placeholder="mis. jumlah penduduk Sangatta" aria-label="Kata kunci" value="${esc(params.get("q") || "")}"></div>
    <div class="layout"><details class="facetbox" id="facetbox" ${narrow() ? "" : "open"}><summary>Saring hasil</summary>
      <div class="facets" id="facets"></div></details>
      <section><p id="count" class="muted"></p><p id="note" class="note" role="status"></p>
      <ul class="results" id="results"></ul>
      <button class="btn alt" id="more-results" hidden>Tampilkan hasil berikutnya</button>
      <div id="datasets"></div></section></div>`;
  const input = document.getElementById("q");
  const filters = {};
  /* only search's own filters travel from the page's URL to the API (a shared link's
     utm_source would be refused there as an unknown parameter) */
  for (const [k, v] of params) if (SEARCH_FILTERS.has(k)) filters[k] = v;
  let timer = null, seq = 0, next = null;
  const moreBtn = document.getElementById("more-results");
  const run = async () => {
    const mine = ++seq;
    const q = input.value.trim();
    const qs = new URLSearchParams({ q, limit: String(SEARCH_PAGE), ...filters });
    next = null;
    moreBtn.hidden = true;
    const shown = new URLSearchParams({ ...(q ? { q } : {}), ...filters }).toString();
    history.replaceState(null, "", "/" + (shown ? "?" + shown : ""));
    if (!q && !Object.keys(filters).length) {
      document.getElementById("results").innerHTML = "";
      document.getElementById("facets").innerHTML = "";
      document.getElementById("count").textContent = "";
      document.getElementById("note").textContent = "";
      return showDatasets();
    }
    document.getElementById("datasets").innerHTML = "";
    try {
      const body = await api("/v1/search?" + qs);
      if (mine !== seq) return;
      showResults(body);
      if (body.figure) await showFigure(body.figure, mine);
    } catch (err) {
      if (mine !== seq) return;
      document.getElementById("count").innerHTML = `<span class="error">Pencarian belum tersedia: ${esc(err.message)}</span>`;
      showDatasets(q);
    }
  };
  const resultItem = (it) => {
      const href = it.kind === "dataset" ? `/dataset/${encodeURIComponent(it.dataset || it.id)}`
        : it.kind === "region" ? `/wilayah/${encodeURIComponent(it.region_code || it.id)}`
        : `/dataset/${encodeURIComponent(it.dataset || "")}?region=${encodeURIComponent(it.region_code || "")}`;
      const vals = it.values ? Object.entries(it.values).map(([k, v]) => `${esc(k)}: ${num(v)}`).join(" · ") : "";
      return `<li class="result"><span class="kind">${esc(KINDS[it.kind] || it.kind)}</span><a href="${href}">${esc(it.title)}</a>
        <p class="snippet">${snippet(it.snippet || "")}${vals ? " — " + vals : ""}</p></li>`;
  };
  /* a question's figure comes first: summed by the server, marked as on every page */
  const showFigure = async (fig, mine) => {
    const extra = { ...fig.dimensions, ...(fig.year ? { period_from: fig.year, period_to: fig.year } : {}) };
    const agg = await aggregates(fig.dataset, fig.region_code, extra).catch(() => null);
    const p = agg && agg.periods.length ? agg.periods[agg.periods.length - 1] : null;
    if (mine !== seq || !p || !agg.measures.length) return;
    const level = fig.region_level.charAt(0).toUpperCase() + fig.region_level.slice(1);
    const place = fig.region_name.toLowerCase().startsWith(fig.region_level) ? fig.region_name : `${level} ${fig.region_name}`;
    const note = partialNote(p, agg.region_levels);
    document.getElementById("results").insertAdjacentHTML("afterbegin", `<li class="result figure-answer" id="answer">
      <span class="kind">jawaban</span><a href="/dataset/${encodeURIComponent(fig.dataset)}?region=${encodeURIComponent(fig.region_code)}">${esc(fig.dataset_title)}</a>
      <p class="muted">${esc(place)} · ${esc(p.period)}${fig.dimension_labels.length ? " · " + esc(fig.dimension_labels.join(", ")) : ""}</p>
      <p class="figure">` + agg.measures.map((m) => `${agg.measures.length > 1 ? esc(m.label) + ": " : ""}<strong class="total" data-measure="${esc(m.name)}">${withUnit(m, p.values[m.name])}</strong>`).join(" · ") + `</p>
      ${note ? `<p class="partial-note">Periode belum lengkap: ${esc(note)}.</p>` : ""}
      ${p.held ? `<p class="held-note">${esc(heldNote(p))}</p>` : ""}
      <p><a href="/wilayah/${encodeURIComponent(fig.region_code)}">Halaman ${esc(place)}</a></p></li>`);
  };
  const showResults = (body) => {
    document.getElementById("count").textContent = `${fmt.format(body.total ?? body.items.length)} hasil`;
    /* what the answer is: partial, a lower bound, words nothing is published about, "maksud Anda" */
    document.getElementById("note").innerHTML = (body.message ? esc(body.message) : "") +
      (body.suggestion ? ` <button class="link" id="suggested" data-q="${esc(body.suggestion)}">Cari “${esc(body.suggestion)}”</button>` : "");
    document.getElementById("results").innerHTML = body.items.map(resultItem).join("")
      || `<li class="muted">Tidak ada hasil. Coba kata lain.</li>`;
    next = body.next_cursor || null;
    moreBtn.hidden = !next;
    const facets = body.facets || {};
    document.getElementById("facets").innerHTML = Object.entries(facets).filter(([, v]) => v.length).map(([name, values]) => {
      const param = FACET_PARAM[name] || name;
      return `<div><h3>${esc(FACET_TITLES[name] || name)}</h3>` + values.map((f) =>
        `<button data-param="${esc(param)}" data-value="${esc(f.value)}" class="${filters[param] === f.value ? "active" : ""}">
          <span>${esc(f.label || (name === "kind" && KINDS[f.value]) || f.value)}</span><span class="muted">${fmt.format(f.count)}</span></button>`).join("") + `</div>`;
    }).join("");
  };
  document.getElementById("note").addEventListener("click", (e) => {
    const b = e.target.closest("#suggested");
    if (!b) return;
    input.value = b.dataset.q;
    run();
  });
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
  moreBtn.addEventListener("click", async () => {
    if (!next) return;
    const mine = seq;
    const qs = new URLSearchParams({ q: input.value.trim(), limit: String(SEARCH_PAGE), ...filters, cursor: next });
    moreBtn.disabled = true;
    try {
      const body = await api("/v1/search?" + qs);
      if (mine !== seq) return;
      document.getElementById("results").insertAdjacentHTML("beforeend", body.items.map(resultItem).join(""));
      next = body.next_cursor || null;
      moreBtn.hidden = !next;
    } finally { moreBtn.disabled = false; }
  });
  input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(run, SEARCH_DEBOUNCE_MS); });
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
    <article class="card"><h3><a href="/dataset/${encodeURIComponent(d.slug)}">${esc(d.title)}</a></h3>
    <p class="muted">${esc(d.topic || "")} · ${esc(frequencyId(d.frequency))} · diperbarui ${when(d.updated_at)}</p></article>`).join("") + `</div>`;
}

/* ---------- dataset page ---------- */
const FREQUENCY_ID = { annual: "Tahunan", semester: "Semesteran", quarterly: "Triwulanan",
                       monthly: "Bulanan", weekly: "Mingguan", daily: "Harian" };
const frequencyId = (f) => FREQUENCY_ID[f] || f || "-";
const META_ID = { konsep: "Konsep", definisi: "Definisi", klasifikasi: "Klasifikasi", ukuran: "Ukuran",
  satuan: "Satuan", produsen_data: "Produsen data", walidata: "Walidata", sample_data: "Data contoh",
  sumber: "Sumber", source: "Sumber", metodologi: "Metodologi", methodology: "Metodologi",
  cakupan: "Cakupan", coverage: "Cakupan", catatan: "Catatan", notes: "Catatan", note: "Catatan",
  contact: "Kontak", kontak: "Kontak", keywords: "Kata kunci", tags: "Label", unit: "Satuan",
  publisher: "Penerbit", license: "Lisensi", frequency: "Frekuensi", version: "Versi",
  periode_referensi: "Periode referensi", reference_period: "Periode referensi",
  url: "Tautan", language: "Bahasa", bahasa: "Bahasa", level: "Tingkat wilayah",
  region_levels: "Tingkat wilayah", accrual_periodicity: "Frekuensi", spatial: "Cakupan wilayah",
  temporal: "Cakupan waktu", created: "Dibuat", modified: "Diubah" };
/* an unknown key still reads as words: "periode_data" -> "Periode data" */
const metaLabel = (k) => META_ID[k] || (k.charAt(0).toUpperCase() + k.slice(1)).replace(/_/g, " ");
const metaValue = (v) => (v === true ? "Ya" : v === false ? "Tidak" : Array.isArray(v) ? v.join(", ")
  : v && typeof v === "object" ? Object.entries(v).map(([k, x]) => `${metaLabel(k)}: ${metaValue(x)}`).join("; ") : v);
/* BPS statistical metadata (MS-Kegiatan; per measure MS-Variabel or MS-Indikator): the
   verified version, in the forms' Indonesian labels as the API names them, with what is
   still missing and the forms as a workbook in BPS layout */
const msValue = (v) => (typeof v === "string" && /^[a-z]+(_[a-z]+)+$/.test(v)
  ? v.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase()) : metaValue(v));
async function statisticalMetadata(slug, box) {
  const body = await api(`/v1/datasets/${encodeURIComponent(slug)}/statistical-metadata`, true).catch(() => null);
  if (!body) return;
  const v = body.published, L = body.labels;
  const doc = (v && v.document) || { kegiatan: {}, measures: {} };
  const FORM = { variabel: "MS-Variabel", indikator: "MS-Indikator" };
  const formOf = (name) => FORM[((doc.measures || {})[name] || {}).jenis] || "MS-Indikator";
  const missingLabel = (path) => {
    const [kind, a, b] = path.split(".");
    if (kind === "kegiatan") return L[`MS-Kegiatan.${a}`] || a;
    return b ? `${a}: ${(L[`${formOf(a)}.${b}`] || b).toLowerCase()}` : `${a}: formulir belum ada`;
  };
  const list = (form, values) => `<dl class="meta">${Object.entries(values || {})
    .filter(([k, x]) => k !== "jenis" && x !== null && x !== "" && !(Array.isArray(x) && !x.length))
    .map(([k, x]) => `<dt>${esc(L[`${form}.${k}`] || metaLabel(k))}</dt><dd>${esc(msValue(x))}</dd>`).join("")}</dl>`;
  const url = `/v1/datasets/${encodeURIComponent(slug)}/statistical-metadata?format=xlsx`;
  box.innerHTML = `<h2>Metadata statistik (BPS)</h2>
    <p class="muted" id="ms-status">${v ? `Versi ${esc(v.version)}, diverifikasi walidata ${v.decided_at ? when(v.decided_at) : ""}` : "Belum ada versi yang diverifikasi walidata"}
      · <a href="${url}" download>Unduh formulir (XLSX, tata letak BPS)</a></p>
    <p id="ms-complete" class="${body.complete ? "" : "partial-note"}">${body.complete ? "Lengkap."
      : `Belum lengkap: ${esc(body.missing.map(missingLabel).join("; "))}.`}</p>
    <h3>MS-Kegiatan</h3>${list("MS-Kegiatan", doc.kegiatan)}
    ${Object.entries(doc.measures || {}).map(([name, m]) =>
      `<h3>${esc(FORM[m.jenis])}: ${esc(m.nama || name)}</h3>${list(FORM[m.jenis], m)}`).join("")}`;
}

async function renderDataset(slug, params) {
  app.innerHTML = `<p class="muted">Memuat dataset…</p>`;
  const region = params.get("region") || "";
  const [d, regs] = await Promise.all([api(`/v1/datasets/${encodeURIComponent(slug)}`), regions()]);
  setMeta(d.title, d.description);
  const schema = d.schema || {};
  const dims = schema.dimensions || [];
  const measures = schema.measures || [];
  let agg = await aggregates(slug, region);
  if (!agg) agg = await aggregates(slug, region, { sum: "false" });
  const periods = () => (agg ? agg.periods.map((p) => p.period) : []);
  let period = params.get("period") || (agg ? openingPeriod(agg.periods) : "");
  const meta = d.metadata || {};
  const q = region ? `&region=${encodeURIComponent(region)}` : "";
  const base = `/v1/datasets/${encodeURIComponent(slug)}/records`;
  app.innerHTML = `
    <p class="crumbs"><a href="/">Beranda</a> › ${esc(d.topic || "dataset")}</p>
    <h1>${esc(d.title)}</h1>
    <p>${esc(d.description)}</p>
    <p>Terakhir diperbarui: <strong id="updated"></strong>
      ${d.currency ? `<span class="currency ${esc(d.currency.status)}" id="currency">${esc(d.currency.label)}</span>` : ""}</p>
    <div class="downloads">
      <a class="btn" id="dl-csv" href="${base}?format=csv${q}" download>Unduh CSV</a>
      <a class="btn alt" id="dl-csv-id" href="${base}?format=csv&locale=id${q}" download>CSV untuk Excel Indonesia</a>
      <a class="btn alt" id="dl-xlsx" href="${base}?format=xlsx${q}" download>Unduh XLSX</a>
      <a class="btn alt" href="${base}?format=json${q}">JSON</a>
    </div>
    <div class="controls"><label>Periode <select id="period"></select></label>
      ${region ? `<span>Wilayah: <a href="/wilayah/${encodeURIComponent(region)}">${esc((regs.get(region) || {}).name || region)}</a> · <a href="/dataset/${encodeURIComponent(slug)}">semua wilayah</a></span>` : ""}</div>
    <div class="figures"><div class="chart" id="chart"></div><div id="totals-box"></div></div>
    <p class="partial-note" id="period-note"></p>
    <div class="chart" id="breakdown" hidden></div>
    <section class="mapbox" id="dmapbox" hidden></section>
    <h2>Tabel</h2><p class="muted" id="rowcount"></p>
    <div class="table-wrap"><table id="table"></table></div>
    <button class="btn alt" id="more" hidden>Tampilkan semua baris</button>
    <section id="reportbox" hidden aria-live="polite"></section>
    <h2>Metadata</h2>
    <dl class="meta">${Object.entries({ Frekuensi: frequencyId(d.frequency), Lisensi: d.license, Versi: d.version,
      ...Object.fromEntries(Object.entries(meta).map(([k, v]) => [metaLabel(k), metaValue(v)])) })
      .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join("")}</dl>
    <section id="ms" aria-live="polite"></section>`;
  statisticalMetadata(slug, document.getElementById("ms"));
  const select = document.getElementById("period");
  const fillPeriods = () => {
    select.innerHTML = periods().map((p) => `<option ${p === period ? "selected" : ""}>${esc(p)}</option>`).join("");
  };
  const records = new Map();   // the chosen period's rows, for the table only (never summed here)
  let cursor = null, newest = d.updated_at;
  /* figures a citizen reported: "sedang ditinjau" until the walidata answers */
  const figureKey = (r) => `${r.region_code}|${r.period}|${JSON.stringify(r.dimensions || {}, Object.keys(r.dimensions || {}).sort())}`;
  let reviewing = new Set();
  const loadReviews = async () => {
    const body = await api(`/v1/feedback?dataset=${encodeURIComponent(slug)}&status=open`, true).catch(() => ({ items: [] }));
    reviewing = new Set(body.items.map(figureKey));
  };
  const load = async (all) => {
    do {
      const qs = new URLSearchParams({ period, limit: "1000", ...(region ? { region } : {}), ...(cursor ? { cursor } : {}) });
      const page = await api(`${base}?${qs}`);
      for (const r of page.items) records.set(r.id, r);
      cursor = page.next_cursor;
    } while (all && cursor);
  };
  const dimLabel = (dim, code) => ((dim.values || {})[code]) || code;
  /* the chosen period broken down by the first closed dimension (at most 12 values): one
     server total per value (the dimension filter), the partial and held notes as elsewhere */
  let breakdownFor = null;
  const drawBreakdown = async (when) => {
    breakdownFor = when;
    const box = document.getElementById("breakdown");
    const dim = dims.find((x) => Object.keys(x.values || {}).length > 1 && Object.keys(x.values).length <= 12);
    if (!dim) { box.hidden = true; return; }
    const m = agg.measures[0];
    const parts = await Promise.all(Object.entries(dim.values).map(async ([code, label]) => {
      const one = await aggregates(slug, region, { period: when, [dim.name]: code }).catch(() => null);
      const p = one && one.periods.find((x) => x.period === when);
      return { label, value: p ? p.values[m.name] : null, partial: Boolean(p && !p.complete), held: p ? p.held || 0 : 0 };
    }));
    if (breakdownFor !== when) return;  // the reader moved on to another period
    const held = parts.reduce((n, x) => n + x.held, 0);
    box.hidden = false;
    box.innerHTML = barChart(parts,
      `${m.label} menurut ${dim.label.toLowerCase()} (${when})`, m.unit ? ` ${m.unit}` : "") +
      (held ? `<p class="muted held-note">${esc(heldNote({ held }))}.</p>` : "");
  };
  const drawFigures = () => {
    const summed = agg && agg.sum;
    document.getElementById("chart").innerHTML = summed ? periodChart(agg, period)
      : `<p class="muted">Ukuran dataset ini tidak dijumlahkan antarwilayah (mis. rasio); lihat nilainya per wilayah di tabel.</p>`;
    document.getElementById("totals-box").innerHTML = summed ? totalsList(agg) : "";
    const p = agg && agg.periods.find((x) => x.period === period);
    document.getElementById("period-note").textContent = [
      p && !p.complete ? `Periode ${period}: ${partialNote(p, agg.region_levels)}; angka belum lengkap.` : "",
      p && p.held ? `${heldNote(p)}.` : ""].filter(Boolean).join(" ");
    if (summed && breakdownFor !== period) drawBreakdown(period);
    const mapBox = document.getElementById("dmapbox");
    if (summed && p && (p.children || []).length) {
      const parent = region || ([...regs.values()].find((x) => x.level === "kabupaten") || {}).code;
      drawMap(mapBox, parent, p.children, agg.measures[0], period, p.held ? heldNote(p) : "");
    } else mapBox.hidden = true;
  };
  const draw = (flashId) => {
    for (const r of records.values()) if (r.updated_at > newest) newest = r.updated_at;
    document.getElementById("updated").textContent = when(newest);
    const rows = [...records.values()].filter((r) => r.period === period && r.status !== "retracted")
      .sort((a, b) => a.region_code.localeCompare(b.region_code) || JSON.stringify(a.dimensions).localeCompare(JSON.stringify(b.dimensions)));
    document.getElementById("rowcount").textContent = `${fmt.format(rows.length)} baris untuk periode ${period}` + (cursor ? " (sebagian ditampilkan)" : "");
    document.getElementById("more").hidden = !cursor;
    document.getElementById("table").innerHTML =
      `<thead><tr><th>Kode</th><th>Wilayah</th><th>Kecamatan</th>${dims.map((x) => `<th>${esc(x.label)}</th>`).join("")}` +
      `${measures.map((m) => `<th>${esc(m.label)}${m.unit ? ` (${esc(m.unit)})` : ""}</th>`).join("")}<th>Tinjauan</th></tr></thead><tbody>` +
      rows.map((r) => `<tr data-id="${esc(r.id)}" class="${r.id === flashId ? "flash" : ""}"><td>${esc(r.region_code)}</td>
        <td class="wrap"><a href="/wilayah/${encodeURIComponent(r.region_code)}">${esc((regs.get(r.region_code) || {}).name || r.region_code)}</a>${retiredMark(regs.get(r.region_code), regs)}</td>
        <td>${esc((regs.get(kecamatanOf(r.region_code)) || {}).name || "")}</td>
        ${dims.map((x) => `<td>${esc(dimLabel(x, r.dimensions[x.name]))}</td>`).join("")}
        ${measures.map((m) => `<td class="num" data-measure="${esc(m.name)}">${num(r.values[m.name])}</td>`).join("")}
        <td>${reviewing.has(figureKey(r)) ? `<span class="review">sedang ditinjau</span>` : `<button class="linkish" data-report="${esc(r.id)}">Laporkan angka ini</button>`}</td></tr>`).join("") + `</tbody>`;
  };
  const choose = async (p) => {
    period = p;
    records.clear();
    cursor = null;
    if (period) await load(false);
    drawFigures();  // figures and table appear together, for the same period
    draw();
  };
  document.getElementById("more").addEventListener("click", async () => { await load(true); draw(); });
  /* "Laporkan angka ini": a short form, no account; the contact is optional and never shown */
  document.getElementById("table").addEventListener("click", (e) => {
    const b = e.target.closest("button[data-report]");
    if (!b) return;
    const r = records.get(b.dataset.report);
    const box = document.getElementById("reportbox");
    const place = `${(regs.get(r.region_code) || {}).name || r.region_code}, ${r.period}${Object.keys(r.dimensions || {}).length ? `, ${dims.map((x) => dimLabel(x, r.dimensions[x.name])).join(", ")}` : ""}`;
    box.hidden = false;
    box.innerHTML = `<h2>Laporkan angka ini</h2><p>${esc(d.title)}: ${esc(place)}</p>
      <form id="reportform" class="controls">
        <label>Apa yang salah? <textarea id="rmessage" required minlength="5" maxlength="1000" rows="3"></textarea></label>
        <label>Kontak untuk jawaban (tidak wajib, tidak ditampilkan) <input id="rcontact" maxlength="200" autocomplete="email"></label>
        <button class="btn">Kirim laporan</button></form>
      <p class="muted">Kontak hanya dilihat walidata dan dihapus setelah laporan dijawab (UU 27/2022).</p>`;
    document.getElementById("rmessage").focus();
    document.getElementById("reportform").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        const sent = await fetch("/v1/feedback", { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify({ dataset: slug, region: r.region_code, period: r.period, dimensions: r.dimensions || {},
                                 message: document.getElementById("rmessage").value, contact: document.getElementById("rcontact").value || null }) });
        const body = await sent.json().catch(() => ({}));
        if (!sent.ok) throw new Error((body.error && body.error.message) || `Galat ${sent.status}`);
        box.innerHTML = `<p class="ok" id="reportdone">Terima kasih. Laporan Anda tercatat dan angka ini ditandai "sedang ditinjau" sampai walidata menjawab.</p>`;
        reviewing.add(figureKey(r));
        draw();
      } catch (err) {
        box.insertAdjacentHTML("beforeend", `<p class="error">${esc(err.message)}</p>`);
      }
    });
  });
  select.addEventListener("change", () => choose(select.value));
  fillPeriods();
  await loadReviews();
  await choose(period);
  let refresh = null;  // a burst of changes: one new aggregates call, not one per record
  live(`/v1/events?dataset=${encodeURIComponent(slug)}`, (ev) => {
    if (region && !ev.region_code.startsWith(region)) return;
    if (ev.period === period) {
      const r = { id: ev.record_id, dataset: ev.dataset, region_code: ev.region_code, period: ev.period,
                  dimensions: ev.dimensions || {}, values: ev.values || {}, version: ev.version,
                  status: ev.status, updated_at: ev.changed_at };
      records.set(r.id, r);
      draw(r.id);
    }
    clearTimeout(refresh);
    refresh = setTimeout(async () => {
      const fresh = await aggregates(slug, region, agg && !agg.sum ? { sum: "false" } : {}, true);
      if (!fresh) return;
      agg = fresh;
      if (!period) { period = openingPeriod(agg.periods); await choose(period); }
      fillPeriods();
      drawFigures();
    }, 1000);
  });
}

/* ---------- region pages ---------- */
/* Every figure comes from /v1/aggregates: one call for the additive measures (every period,
   with each child region), one for the measures that are never summed (ratios, shown per
   region). The page adds nothing up itself. */
/* ---------- maps: a choropleth of a region's children (Leaflet, vendored, no tiles) ---------- */
let leafletLoading = null, shownMap = null;
/* not named "leaflet": leaflet.js sets window.leaflet, which would replace a global function
   of that name once loaded, and the next map drawn would fail */
/* Resolved once both the script and its stylesheet are in: a map drawn before leaflet.css
   applies has no clipping of its panes, and the page was once 123,047 px wide for a moment */
function loadLeaflet() {
  const load = (el, attrs) => new Promise((resolve, reject) => {
    Object.assign(el, attrs, { onload: resolve,
                               onerror: () => reject(new Error("peta tidak dapat dimuat")) });
    document.head.appendChild(el);
  });
  leafletLoading = leafletLoading || Promise.all([
    load(document.createElement("link"), { rel: "stylesheet", href: "/portal/vendor/leaflet/leaflet.css" }),
    load(document.createElement("script"), { src: "/portal/vendor/leaflet/leaflet.js" }),
  ]).then(() => window.L, (e) => { leafletLoading = null; throw e; });
  return leafletLoading;
}
/* the last day of a period ("2024", "2024-S1", "2024-Q3", "2024-07"): the boundaries then */
function periodEnd(p) {
  const y = +p.slice(0, 4);
  const m = /-S[12]$/.test(p) ? 6 * +p.slice(-1) : /-Q[1-4]$/.test(p) ? 3 * +p.slice(-1)
    : /^\d{4}-\d{2}$/.test(p) ? +p.slice(5) : 12;
  return new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
}
const SHADES = ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"];
/* five classes of equal counts over the figures shown; a hidden count and a missing one
   are classes of their own, as the table shows them */
function classes(values) {
  const sorted = [...new Set(values.filter((v) => typeof v === "number"))].sort((a, b) => a - b);
  const n = Math.min(SHADES.length, sorted.length);
  return Array.from({ length: n }, (_, i) => ({
    min: sorted[Math.floor((i * sorted.length) / n)], max: sorted[Math.floor(((i + 1) * sorted.length) / n) - 1] }));
}
async function drawMap(box, parent, children, measure, period, note) {
  const raw = (c) => (c ? c.values[measure.name] : undefined);
  const hidden = (v) => Boolean(v && typeof v === "object" && v.suppressed);
  const plain = (v) => (v && typeof v === "object" ? (v.suppressed ? null : v.value) : v);
  const byCode = new Map(children.map((c) => [c.region.code, c]));
  const shape = await api(`/v1/regions/boundaries?parent=${encodeURIComponent(parent)}&on=${periodEnd(period)}`).catch(() => null);
  if (!shape || !shape.features.length) { box.hidden = true; return; }
  const L = await loadLeaflet().catch(() => null);
  if (!L) { box.innerHTML = `<p class="muted">Peta tidak dapat dimuat.</p>`; return; }
  const buckets = classes(children.map((c) => plain(raw(c))));
  const bucketOf = (v) => (hidden(v) ? "suppressed" : typeof plain(v) !== "number" ? "none"
    : `q${buckets.findIndex((b) => plain(v) <= b.max)}`);
  const unit = measure.unit ? ` ${esc(measure.unit)}` : "";
  box.hidden = false;
  box.innerHTML = `<figure class="mapfig"><div class="map" id="rmap"></div>
      <figcaption>Peta ${esc(measure.label)} per wilayah, periode ${esc(period)}; angkanya sama dengan tabel di bawah.</figcaption></figure>
    <ul class="legend" id="rlegend">${buckets.map((b, i) => `<li data-bucket="q${i}" data-min="${b.min}" data-max="${b.max}">
      <span class="swatch q${i}"></span>${b.min === b.max ? fmt.format(b.min) : `${fmt.format(b.min)} – ${fmt.format(b.max)}`}${unit}</li>`).join("")}
      <li data-bucket="suppressed"><span class="swatch suppressed"></span>disembunyikan (jumlah kecil)</li>
      <li data-bucket="none"><span class="swatch none"></span>belum ada data</li></ul>
    ${shape.sample ? `<p class="muted" id="rmap-sample">Batas wilayah pada peta ini adalah <strong>contoh</strong>, bukan batas resmi.</p>` : ""}
    ${note ? `<p class="muted">${esc(note)}</p>` : ""}`;
  if (shownMap) shownMap.remove();  // the map drawn before (another period): its listeners go
  const map = shownMap = L.map(box.querySelector("#rmap"), { scrollWheelZoom: false, attributionControl: true });
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution(esc([...new Set(shape.features.map((f) => f.properties.source))].join("; ")));
  const layer = L.geoJSON(shape, {
    style: (f) => {
      const b = bucketOf(raw(byCode.get(f.properties.code)));
      return { className: `area ${b} code-${f.properties.code.replace(/\./g, "_")}`, weight: 1, color: "#555",
               fillOpacity: 0.9, fillColor: b.startsWith("q") ? SHADES[+b.slice(1)] : b === "suppressed" ? "#9e9e9e" : "#ffffff",
               dashArray: b === "suppressed" ? "3" : null };
    },
    onEachFeature: (f, l) => {
      const v = raw(byCode.get(f.properties.code));
      const text = hidden(v) ? "disembunyikan" : typeof plain(v) === "number"
        ? `${fmt.format(plain(v))}${measure.unit ? ` ${measure.unit}` : ""}` : "belum ada data";
      l.bindTooltip(esc(`${f.properties.name}: ${text}`));
      l.on("click", () => go(`/wilayah/${encodeURIComponent(f.properties.code)}`));
    } }).addTo(map);
  map.fitBounds(layer.getBounds());
}

async function renderRegion(code, params) {
  live(null);
  const regs = await regions();
  if (!code) {
    const root = [...regs.values()].find((r) => r.level === "kabupaten") || [...regs.values()][0];
    if (!root) { app.innerHTML = `<p class="muted">Belum ada data wilayah.</p>`; return; }
    code = root.code;
  }
  app.innerHTML = `<p class="muted">Memuat wilayah…</p>`;
  const [r, datasets] = await Promise.all([api(`/v1/regions/${encodeURIComponent(code)}`), api("/v1/datasets")]);
  setMeta(`${r.name} (${r.code})`, `Data ${r.level} ${r.name}, Kabupaten Kutai Timur.`);
  const path = (r.path || []).map((p) => typeof p === "string" ? { code: p, name: (regs.get(p) || {}).name || p } : p);
  const items = datasets.items;
  const d = items.find((x) => x.slug === params.get("dataset")) || items[0];
  app.innerHTML = `
    <p class="crumbs">${path.map((p) => p.code === r.code ? esc(p.name) : `<a href="/wilayah/${encodeURIComponent(p.code)}">${esc(p.name)}</a>`).join(" › ")}</p>
    <h1>${esc(r.name)} <span class="muted">(${esc(r.level)} · ${esc(r.code)})</span></h1>
    ${retiredMark(r, regs) ? `<p class="retired-note">Kode wilayah ini${retiredMark(r, regs)}.</p>` : ""}
    ${lineage(r)}
    ${(r.children || []).length ? `<h2>${r.level === "kabupaten" ? "Kecamatan" : "Desa/kelurahan"} (${r.children.length})</h2>
      <ul class="children">${r.children.map((c) => `<li><a href="/wilayah/${encodeURIComponent(c.code)}${d ? `?dataset=${encodeURIComponent(d.slug)}` : ""}">${esc(c.name)}</a>${sinceMark(regs.get(c.code))}${retiredMark(regs.get(c.code), regs)}</li>`).join("")}</ul>` : ""}
    <h2>Data wilayah ini</h2>
    ${items.length ? `<div class="controls"><label>Dataset <select id="rdataset">${items.map((x) =>
      `<option value="${esc(x.slug)}" ${x === d ? "selected" : ""}>${esc(x.title)}</option>`).join("")}</select></label>
      <label>Periode <select id="rperiod"></select></label></div>` : ""}
    <div id="regiondata"><p class="muted">${items.length ? "Memuat data…" : "Belum ada dataset."}</p></div>`;
  if (!d) return;
  document.getElementById("rdataset").addEventListener("change", (e) => {
    go(`/wilayah/${encodeURIComponent(code)}?dataset=${encodeURIComponent(e.target.value)}`);
  });
  const schema = d.schema || {};
  const ratios = (schema.measures || []).filter((m) => m.aggregation === "per_region");
  const [sums, perRegion] = await Promise.all([
    aggregates(d.slug, code),
    ratios.length ? aggregates(d.slug, code, { sum: "false", measure: ratios.map((m) => m.name).join(",") }) : null]);
  const all = [...new Set([...(sums ? sums.periods : []), ...(perRegion ? perRegion.periods : [])].map((p) => p.period))].sort();
  const out = document.getElementById("regiondata");
  if (!all.length) { out.innerHTML = `<p class="muted">Belum ada data ${esc(d.title)} untuk wilayah ini.</p>`; return; }
  let period = params.get("period") || openingPeriod(sums ? sums.periods : perRegion.periods);
  const select = document.getElementById("rperiod");
  select.innerHTML = all.map((p) => `<option ${p === period ? "selected" : ""}>${esc(p)}</option>`).join("");
  const dimText = (dimsOf) => Object.entries(dimsOf || {}).map(([k, v]) => {
    const spec = (schema.dimensions || []).find((x) => x.name === k) || {};
    return (spec.values || {})[v] || v;
  }).join(", ");
  const draw = () => {
    const blocks = [`<h3><a href="/dataset/${encodeURIComponent(d.slug)}?region=${encodeURIComponent(code)}">${esc(d.title)}</a></h3>`];
    if (sums) {
      const p = sums.periods.find((x) => x.period === period);
      blocks.push(`<div class="figures"><div class="chart" id="rchart">${periodChart(sums, period)}</div>${totalsList(sums)}</div>`);
      if (p && !p.complete) blocks.push(`<p class="partial-note" id="rnote">Periode ${esc(period)}: ${esc(partialNote(p, sums.region_levels))}; jumlah di bawah belum lengkap.</p>`);
      if (p && p.children.length) {
        const head = (m) => `${esc(m.label)}${m.unit ? ` (${esc(m.unit)})` : ""}`;
        blocks.push(`<section class="mapbox" id="rmapbox" hidden></section>`);
        blocks.push(`<div class="table-wrap"><table id="rchildren" class="stack"><thead><tr><th>Wilayah</th>${sums.measures.map((m) => `<th>${head(m)}</th>`).join("")}<th>Melapor</th></tr></thead><tbody>` +
          p.children.map((c) => `<tr><td class="wrap" data-label="Wilayah"><a href="/wilayah/${encodeURIComponent(c.region.code)}?dataset=${encodeURIComponent(d.slug)}">${esc(c.region.name)}</a>${retiredMark(regs.get(c.region.code), regs)}</td>` +
            sums.measures.map((m) => `<td class="num" data-label="${head(m)}">${num(c.values[m.name])}</td>`).join("") +
            `<td class="${c.rate === 1 ? "ok" : "no"}" data-label="Melapor">${fmt.format(c.reporting)} dari ${fmt.format(c.expected)}</td></tr>`).join("") +
          `</tbody></table></div>`);
      }
    }
    if (perRegion) {
      const p = perRegion.periods.find((x) => x.period === period);
      blocks.push(`<h4>${perRegion.measures.map((m) => esc(m.label)).join(", ")}: nilai per wilayah, tidak dijumlahkan</h4>` +
        (p && p.regions.length ? `<div class="table-wrap"><table id="rvalues" class="stack"><thead><tr><th>Wilayah</th>${(schema.dimensions || []).map((x) => `<th>${esc(x.label)}</th>`).join("")}` +
          `${perRegion.measures.map((m) => `<th>${esc(m.label)}</th>`).join("")}</tr></thead><tbody>` +
          p.regions.map((x) => `<tr><td data-label="Wilayah">${esc(x.region.name)}</td>${(schema.dimensions || []).length ? `<td data-label="${esc((schema.dimensions || []).map((y) => y.label).join(", "))}">${esc(dimText(x.dimensions))}</td>` : ""}` +
            perRegion.measures.map((m) => `<td class="num" data-label="${esc(m.label)}">${num(x.values[m.name])}</td>`).join("") + `</tr>`).join("") +
          `</tbody></table></div>` : `<p class="muted">Belum ada nilai untuk periode ${esc(period)}.</p>`));
    }
    out.innerHTML = blocks.join("");
    const p = sums && sums.periods.find((x) => x.period === period);
    if (p && p.children.length) {
      drawMap(document.getElementById("rmapbox"), code, p.children, sums.measures[0], period,
              p.held ? heldNote(p) : "");
    }
  };
  select.addEventListener("change", () => { period = select.value; draw(); });
  draw();
}

/* ---------- completeness ---------- */
const COMPLETENESS_STATUS = { reported: "sudah melapor", missing: "belum melapor", conflict: "ada konflik",
                              unverified: "melapor, belum diverifikasi" };
const pct = (rate) => (rate == null ? "-" : `${new Intl.NumberFormat("id-ID", { maximumFractionDigits: 1 }).format(rate * 100)} %`);

async function renderCompleteness(params) {
  live(null);
  const datasets = (await api("/v1/datasets")).items;
  const slug = params.get("dataset") || (datasets[0] || {}).slug || "";
  const period = params.get("period") || String(new Date().getFullYear() - 1);
  const title = (datasets.find((d) => d.slug === slug) || {}).title || slug;
  setMeta(`Kelengkapan ${title} ${period}`, `Desa/kelurahan yang sudah dan belum melaporkan ${title} periode ${period}, per kecamatan.`);
  app.innerHTML = `<h1>Kelengkapan pelaporan</h1>
    <p class="muted">Desa/kelurahan mana yang sudah melaporkan tiap dataset untuk satu periode.</p>
    <form class="controls" id="cform"><label>Dataset <select name="dataset">${datasets.map((d) =>
      `<option value="${esc(d.slug)}" ${d.slug === slug ? "selected" : ""}>${esc(d.title)}</option>`).join("")}</select></label>
      <label>Periode <input name="period" value="${esc(period)}" size="8"></label><button class="btn">Tampilkan</button></form>
    <div id="cresult"><p class="muted">Memuat…</p></div>`;
  document.getElementById("cform").addEventListener("submit", (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    go(`/kelengkapan?dataset=${encodeURIComponent(f.get("dataset"))}&period=${encodeURIComponent(f.get("period"))}`);
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
  const waiting = (body.regions || []).filter((u) => u.status !== "reported");
  const kecName = new Map((body.kecamatan || []).map((k) => [k.code, k.name]));
  out.innerHTML = `<div class="summary">
      <div><b>${fmt.format(body.reported)}</b> sudah melapor</div>
      <div><b>${fmt.format(body.missing)}</b> belum melapor</div>
      <div><b>${fmt.format(body.in_conflict)}</b> ada konflik</div>
      <div><b>${pct(body.rate)}</b> dari ${fmt.format(body.expected)} ${esc(unitWord(body.region_levels))}</div></div>
    <h2>Per kecamatan</h2>
    <div class="chart" id="cchart">${barChart((body.kecamatan || []).map((k) => ({ label: k.name, value: Math.round((k.rate || 0) * 1000) / 10 })),
      `Persentase desa/kelurahan yang sudah melapor per kecamatan, ${period}`, " %")}</div>
    <div class="table-wrap"><table id="ckecamatan"><thead><tr><th>Kecamatan</th><th>Sudah</th><th>Belum</th><th>Konflik</th><th>Persentase</th></tr></thead><tbody>` +
    (body.kecamatan || []).map((k) => `<tr><td><a href="/wilayah/${encodeURIComponent(k.code)}">${esc(k.name)}</a></td>` +
      `<td class="num">${fmt.format(k.reported)} dari ${fmt.format(k.expected)}</td><td class="num ${k.missing ? "no" : ""}">${fmt.format(k.missing)}</td>` +
      `<td class="num">${fmt.format(k.in_conflict)}</td><td class="num">${pct(k.rate)}</td></tr>`).join("") + `</tbody></table></div>
    <h2>Desa/kelurahan yang belum melapor (${fmt.format(waiting.length)})</h2>` +
    (waiting.length ? `<div class="table-wrap"><table id="cwaiting"><thead><tr><th>Kode</th><th>Nama</th><th>Kecamatan</th><th>Keadaan</th></tr></thead><tbody>` +
      waiting.map((u) => `<tr><td>${esc(u.code)}</td><td class="wrap"><a href="/wilayah/${encodeURIComponent(u.code)}">${esc(u.name)}</a></td>` +
        `<td>${esc(kecName.get(u.kecamatan) || u.kecamatan || "")}</td><td class="no">${esc(COMPLETENESS_STATUS[u.status] || u.status)}</td></tr>`).join("") +
      `</tbody></table></div>` : `<p class="ok">Semua desa/kelurahan sudah melapor.</p>`);
}

/* ---------- submit data (village operators, OPD): a key, a template, a dry run, then the real thing ---------- */
const KEY_STORE = "satudata.key";
const FINAL = new Set(["completed", "partial", "failed"]);
const STATUS_ID = { received: "diterima", processing: "sedang diproses", completed: "selesai",
                    partial: "sebagian diterapkan", failed: "gagal" };
const COUNT_ID = { created: "baru", updated: "diperbarui", unchanged: "tidak berubah",
                   conflicts: "konflik", rejected: "ditolak", held: "ditahan untuk verifikasi" };

async function keyed(path, options = {}) {
  const key = sessionStorage.getItem(KEY_STORE) || "";
  const r = await fetch(path, { ...options, headers: { Accept: "application/json",
                                                       Authorization: `Bearer ${key}`, ...(options.headers || {}) } });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) {
    const msg = (body.error && body.error.message) || `Galat ${r.status}`;
    throw Object.assign(new Error(msg), { status: r.status, body });
  }
  return body;
}

/* a keyed download (the server's template, a signed receipt): the bytes as sent, saved */
async function keyedFile(path) {
  const r = await fetch(path, { headers: { Authorization: `Bearer ${sessionStorage.getItem(KEY_STORE) || ""}` } });
  if (!r.ok) {
    const body = await r.json().catch(() => ({}));
    throw new Error((body.error && body.error.message) || `Galat ${r.status}`);
  }
  const name = /filename="([^"]+)"/.exec(r.headers.get("Content-Disposition") || "");
  return { blob: await r.blob(), name: name ? name[1] : "unduhan" };
}

function save({ blob, name }) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
}

/* rows the walidata will hold, each with the rule's or the outlier check's own message */
function heldHtml(rows) {
  if (!rows || !rows.length) return "";
  return `<h3>Baris yang akan ditahan untuk verifikasi walidata</h3><div class="table-wrap"><table id="held"><thead><tr>` +
    `<th>Baris berkas</th><th>Wilayah</th><th>Periode</th><th>Alasan</th></tr></thead><tbody>` +
    rows.map((r) => `<tr data-line="${esc(r.line ?? "")}"><td class="num">${esc(r.line ?? r.index + 1)}</td>` +
      `<td>${esc(r.region_code)}</td><td>${esc(r.period)}</td><td class="wrap">${(r.reasons || []).map((x) => esc(x.message)).join("<br>")}</td></tr>`).join("") +
    `</tbody></table></div><p class="partial-note">Baris ini tetap dikirim dan tersimpan, tetapi angkanya baru tampil setelah walidata memeriksanya.</p>`;
}

const countsHtml = (c) => `<div class="summary counts">` + Object.entries(COUNT_ID).map(([k, label]) =>
  `<div data-count="${k}"><b>${fmt.format((c || {})[k] || 0)}</b> ${label}</div>`).join("") + `</div>`;

function rejectedHtml(rows) {
  if (!rows || !rows.length) return `<p class="ok" id="no-rejected">Tidak ada baris yang ditolak.</p>`;
  const sheet = rows.some((r) => r.sheet);
  return `<h3>Baris yang ditolak</h3><div class="table-wrap"><table id="rejected"><thead><tr><th>Baris berkas</th>` +
    `${sheet ? "<th>Lembar</th>" : ""}<th>Kolom</th><th>Masalah</th></tr></thead><tbody>` +
    rows.map((r) => `<tr data-line="${esc(r.line ?? "")}"><td class="num">${esc(r.line ?? r.index + 1)}</td>` +
      `${sheet ? `<td>${esc(r.sheet || "")}</td>` : ""}<td>${esc(r.field || "")}</td><td class="wrap">${esc(r.message)}</td></tr>`).join("") +
    `</tbody></table></div>`;
}

async function renderSubmit(params = new URLSearchParams()) {
  live(null);
  setMeta("Kirim data", "Unggah data desa, kelurahan atau OPD lewat portal.");
  const key = sessionStorage.getItem(KEY_STORE);
  if (!key) {
    app.innerHTML = `<h1>Kirim data</h1>
      <p>Untuk mengirim data, masukkan kunci API lembaga Anda (desa, kelurahan atau OPD). Kunci hanya
      disimpan di tab peramban ini dan hilang saat tab ditutup.</p>
      <form class="controls" id="keyform"><label for="key">Kunci API</label>
        <input id="key" name="key" type="password" autocomplete="off" required>
        <button class="btn">Gunakan kunci</button></form>`;
    document.getElementById("keyform").addEventListener("submit", (e) => {
      e.preventDefault();
      sessionStorage.setItem(KEY_STORE, document.getElementById("key").value.trim());
      renderSubmit(params);
    });
    return;
  }
  /* only the datasets this key may write (a walidata: all) */
  const [all, mine, pubs] = await Promise.all([api("/v1/datasets"),
    keyed("/v1/timeliness/mine").catch(() => null), api("/v1/publishers").catch(() => null)]);
  const me = mine && pubs && pubs.items.find((p) => p.id === mine.publisher_id);
  const datasets = !me || me.kind === "walidata" || me.datasets.includes("*") ? all.items
    : all.items.filter((d) => me.datasets.includes(d.slug));
  const wanted = params.get("dataset");
  app.innerHTML = `<h1>Kirim data</h1>
    <p class="muted">Langkah: pilih dataset, unduh templat, isi, unggah untuk diperiksa (uji coba, belum disimpan),
      perbaiki bila ada baris ditolak, lalu kirim. <button class="linkish" id="forget">Keluar (hapus kunci)</button></p>
    <form id="subform" class="controls">
      <label>Dataset <select id="sdataset" name="dataset">${datasets.map((d) =>
        `<option value="${esc(d.slug)}" ${d.slug === wanted ? "selected" : ""}>${esc(d.title)}</option>`).join("")}</select></label>
      <button type="button" class="btn alt" id="template">Unduh templat (desa Anda, periode yang jatuh tempo)</button>
      <label>Berkas CSV atau XLSX <input id="sfile" name="file" type="file" accept=".csv,.xlsx,.zip,text/csv,application/zip,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" required></label>
      <label class="check"><input type="checkbox" id="sopensid"> Berkas ini ekspor penduduk OpenSID (XLSX, atau zip sinkronisasi OpenDK):
        dihitung per jenis kelamin dan kelompok umur di peladen; NIK, nama dan foto tidak disimpan</label>
      <button class="btn" id="check">Periksa berkas</button>
    </form>
    <section id="dryrun" aria-live="polite"></section>
    <section id="sstatus" aria-live="polite"></section>
    <h2>Riwayat kiriman kunci ini</h2>
    <div id="history"><p class="muted">Memuat…</p></div>`;
  document.getElementById("forget").addEventListener("click", () => {
    sessionStorage.removeItem(KEY_STORE);
    renderSubmit(params);
  });
  const select = document.getElementById("sdataset");
  const fileInput = document.getElementById("sfile");
  /* the server's template: this key's villages and the period due, measures blank */
  document.getElementById("template").addEventListener("click", async () => {
    try {
      save(await keyedFile(`/v1/datasets/${encodeURIComponent(select.value)}/template?format=xlsx&locale=id`));
    } catch (err) {
      document.getElementById("dryrun").innerHTML = `<p class="error">${esc(err.message)}</p>`;
    }
  });
  /* OpenSID's population export goes to its own door as it is: counted in memory there */
  const opensid = () => document.getElementById("sopensid").checked || /\.zip$/i.test((fileInput.files[0] || {}).name || "");
  const opensidCall = (dry, headers = {}) => keyed(`/v1/opensid/population?dataset=${encodeURIComponent(select.value)}${dry ? "&dry_run=true" : ""}`, {
    method: "POST", body: fileInput.files[0],
    headers: { "Content-Type": /\.zip$/i.test(fileInput.files[0].name) ? "application/zip"
      : "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ...headers } });
  const opensidHtml = (o) => (o ? `<p id="opensidcounts">OpenSID: ${fmt.format(o.persons)} orang dibaca, ${fmt.format(o.living)} hidup dihitung, ` +
    `${fmt.format(o.not_living)} tidak dihitung (meninggal, pindah, hilang)${o.unreadable.length ? `, ${fmt.format(o.unreadable.length)} baris tidak terbaca` : ""}. ` +
    `Yang dikirim hanya jumlahnya.</p>` + (o.unreadable.length ? `<ul class="rejected">${o.unreadable.map((u) =>
      `<li>${esc(typeof u === "object" ? Object.entries(u).map(([k, v]) => `${k}: ${v}`).join(", ") : u)}</li>`).join("")}</ul>` : "") : "");
  const form = () => {
    const f = new FormData();
    f.append("dataset", select.value);
    f.append("file", fileInput.files[0]);
    return f;
  };
  const showHistory = async () => {
    const box = document.getElementById("history");
    try {
      const body = await keyed("/v1/submissions?limit=20");
      box.innerHTML = body.items.length ? `<div class="table-wrap"><table id="subhistory"><thead><tr><th>Waktu</th><th>Dataset</th>` +
        `<th>Berkas</th><th>Baris</th><th>Status</th></tr></thead><tbody>` + body.items.map((s) =>
          `<tr data-id="${esc(s.id)}"><td>${when(s.created_at)}</td><td>${esc(s.dataset)}</td><td>${esc(s.filename || s.source)}</td>` +
          `<td class="num">${fmt.format(s.rows)}</td><td><button class="linkish" data-status="${esc(s.id)}">${esc(STATUS_ID[s.status] || s.status)}</button></td></tr>`).join("") +
        `</tbody></table></div>` : `<p class="muted">Belum ada kiriman.</p>`;
    } catch (err) {
      box.innerHTML = `<p class="error">${esc(err.message)}</p>`;
    }
  };
  const follow = async (id) => {
    const out = document.getElementById("sstatus");
    for (;;) {
      let s;
      try {
        s = await keyed(`/v1/submissions/${encodeURIComponent(id)}`);
      } catch (err) {
        out.innerHTML = `<p class="error">${esc(err.message)}</p>`;
        return;
      }
      const final = FINAL.has(s.status);
      const held = (s.counts || {}).held || 0;
      out.innerHTML = `<h2>Status kiriman</h2><p>Status: <strong id="substate" data-status="${esc(s.status)}" class="${s.status === "completed" && !held ? "ok" : final && !held ? "no" : ""}">${esc(STATUS_ID[s.status] || s.status)}</strong>` +
        ` · ${fmt.format(s.chunks_processed)} dari ${fmt.format(s.chunks)} bagian diproses · ${fmt.format(s.rows)} baris</p>` +
        countsHtml(s.counts) + (s.error ? `<p class="error">${esc(s.error)}</p>` : "") +
        (held ? `<p class="partial-note" id="heldnote">${fmt.format(held)} baris ditahan untuk verifikasi walidata: angkanya tampil setelah diperiksa. Alasannya ada di hasil pemeriksaan di atas.</p>` : "") +
        (final ? rejectedHtml(s.rejected_rows) +
          `<p><button type="button" class="btn alt" id="receipt">Unduh tanda terima bertanda tangan</button></p>` : "");
      if (final) {
        document.getElementById("receipt").addEventListener("click", async () => {
          try { save(await keyedFile(`/v1/submissions/${encodeURIComponent(id)}/receipt`)); }
          catch (err) { out.insertAdjacentHTML("beforeend", `<p class="error">${esc(err.message)}</p>`); }
        });
        showHistory();
        return;
      }
      await new Promise((ok) => setTimeout(ok, 1000));
    }
  };
  document.getElementById("subform").addEventListener("submit", async (e) => {
    e.preventDefault();
    const out = document.getElementById("dryrun");
    document.getElementById("sstatus").innerHTML = "";
    out.innerHTML = `<p class="muted">Memeriksa berkas…</p>`;
    try {
      const fromOpenSID = opensid();
      const r = fromOpenSID ? await opensidCall(true) : await keyed("/v1/submissions?dry_run=true", { method: "POST", body: form() });
      out.innerHTML = `<h2>Hasil pemeriksaan (uji coba, belum disimpan)</h2>` + opensidHtml(r.opensid) +
        `<p id="dryrows">${fmt.format(r.rows)} baris ${fromOpenSID ? "hitungan dibuat" : "dibaca"} dari ${esc(fileInput.files[0].name)}.</p>` +
        countsHtml(r.counts) + rejectedHtml(r.rejected_rows) + heldHtml(r.held_rows) +
        (r.counts.rejected ? `<p class="partial-note">Perbaiki baris di atas lalu periksa lagi, atau kirim sekarang: baris yang ditolak tidak akan disimpan.</p>` : "") +
        `<button class="btn" id="send">Kirim ${fmt.format(r.rows - (r.counts.rejected || 0))} baris</button>`;
      document.getElementById("send").addEventListener("click", async (ev) => {
        ev.target.disabled = true;
        try {
          const once = { "Idempotency-Key": crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) };
          const acc = fromOpenSID ? await opensidCall(false, once)
            : await keyed("/v1/submissions", { method: "POST", body: form(), headers: once });
          await follow(acc.id);
        } catch (err) {
          document.getElementById("sstatus").innerHTML = `<p class="error">${esc(err.message)}</p>`;
          ev.target.disabled = false;
        }
      });
    } catch (err) {
      if (err.status === 401) sessionStorage.removeItem(KEY_STORE);
      out.innerHTML = `<p class="error" id="dryerror">${esc(err.message)}</p>`;
    }
  });
  document.getElementById("history").addEventListener("click", (e) => {
    const b = e.target.closest("button[data-status]");
    if (b) follow(b.dataset.status);
  });
  await showHistory();
}

/* ---------- data requests (permohonan data, UU 14/2008) ---------- */
const tanggal = (v) => (v ? new Date(`${v}T12:00:00+08:00`).toLocaleDateString("id-ID",
  { day: "numeric", month: "long", year: "numeric", timeZone: "Asia/Makassar" }) : "-");
const REQUEST_STATUS = { diajukan: "diajukan", diperpanjang: "diperpanjang", dijawab: "dijawab",
                         ditolak: "ditolak" };

async function renderRequests() {
  live(null);
  setMeta("Permohonan data", "Minta data yang belum terbit.");
  app.innerHTML = `<h1>Permohonan data</h1>
    <p>Minta data yang belum terbit di portal ini. Permohonan mendapat nomor dan status yang terbuka
      untuk umum; walidata menjawab paling lambat 10 hari kerja sejak diterima (dapat diperpanjang
      sekali 7 hari kerja dengan pemberitahuan), sesuai UU No. 14 Tahun 2008 Pasal 22.</p>
    <form id="reqform" class="controls stacked">
      <label>Data yang diminta <textarea id="qsubject" required minlength="5" maxlength="500" rows="2"></textarea></label>
      <label>Untuk apa (tidak wajib) <textarea id="qpurpose" maxlength="1000" rows="2"></textarea></label>
      <label>Kontak untuk jawaban (tidak wajib, tidak ditampilkan) <input id="qcontact" maxlength="200" autocomplete="email"></label>
      <button class="btn">Ajukan permohonan</button></form>
    <section id="reqdone" aria-live="polite"></section>
    <h2>Daftar permohonan</h2><div id="reqlist"><p class="muted">Memuat…</p></div>`;
  const list = async () => {
    const body = await api("/v1/data-requests", true);
    document.getElementById("reqlist").innerHTML = body.items.length ? `<div class="table-wrap"><table id="requests" class="stack"><thead><tr>` +
      `<th>Nomor</th><th>Data yang diminta</th><th>Diterima</th><th>Batas jawaban</th><th>Status</th><th>Jawaban</th></tr></thead><tbody>` +
      body.items.map((r) => `<tr data-number="${esc(r.number)}"><td data-label="Nomor">${esc(r.number)}</td>` +
        `<td data-label="Data yang diminta" class="wrap">${esc(r.subject)}</td><td data-label="Diterima">${tanggal(r.received_on)}</td>` +
        `<td data-label="Batas jawaban">${tanggal(r.due_on)}${r.extended ? " (diperpanjang)" : ""}${r.late ? ` <span class="no late">terlambat</span>` : ""}</td>` +
        `<td data-label="Status">${esc(REQUEST_STATUS[r.status] || r.status)}</td>` +
        `<td data-label="Jawaban" class="wrap">${esc(r.answer || r.extension_notice || "")}${r.dataset ? ` <a href="/dataset/${encodeURIComponent(r.dataset)}">lihat dataset</a>` : ""}</td></tr>`).join("") +
      `</tbody></table></div>` : `<p class="muted">Belum ada permohonan.</p>`;
  };
  document.getElementById("reqform").addEventListener("submit", async (e) => {
    e.preventDefault();
    const out = document.getElementById("reqdone");
    try {
      const r = await fetch("/v1/data-requests", { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ subject: document.getElementById("qsubject").value,
                               purpose: document.getElementById("qpurpose").value || null,
                               contact: document.getElementById("qcontact").value || null }) });
      const body = await r.json().catch(() => ({}));
      if (!r.ok) throw new Error((body.error && body.error.message) || `Galat ${r.status}`);
      out.innerHTML = `<p class="ok" id="reqnumber">Permohonan ${esc(body.number)} diterima; dijawab paling lambat ${tanggal(body.due_on)}.</p>`;
      e.target.reset();
      await list();
    } catch (err) {
      out.innerHTML = `<p class="error">${esc(err.message)}</p>`;
    }
  });
  await list();
}

/* ---------- router ---------- */
async function route() {
  const { parts, params } = parseRoute();
  try {
    if (parts[0] === "dataset" && parts[1]) await renderDataset(parts[1], params);
    else if (parts[0] === "wilayah") await renderRegion(parts[1], params);
    else if (parts[0] === "kelengkapan") await renderCompleteness(params);
    else if (parts[0] === "kirim") await renderSubmit(params);
    else if (parts[0] === "permohonan") await renderRequests();
    else await renderSearch(params);
  } catch (err) {
    setMeta("Maaf", err.message);
    app.innerHTML = `<h1>Maaf</h1><p class="error">${esc(err.message)}</p><p><a href="/">Kembali ke beranda</a></p>`;
  }
}

window.addEventListener("hashchange", route);   // an old #/ link typed or pasted
window.addEventListener("popstate", route);
document.addEventListener("click", (e) => {
  const a = e.target.closest("a[href]");
  if (!a || a.hasAttribute("download") || a.target || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !PAGE_PATH.test(url.pathname)) return;
  e.preventDefault();
  go(url.pathname + url.search);
  window.scrollTo(0, 0);
});
route();
