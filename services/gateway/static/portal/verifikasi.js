/* The walidata's verification queue: held values oldest first, why, the effect on the
   kecamatan's reporting rate; verify or return one by one or everything the filter selects. */
"use strict";
const KEY = "satudata.key";
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => (
  { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const pct = (x) => (x == null ? "–"
  : `${new Intl.NumberFormat("id-ID", { maximumFractionDigits: 1 }).format(x * 100)} %`);
const fmt = new Intl.NumberFormat("id-ID");
/* numbers the Indonesian way (1.234,5); a hidden small count says so */
const figure = (x) => (typeof x === "number" ? fmt.format(x)
  : x && typeof x === "object" ? (x.suppressed ? "disembunyikan" : figure(x.value)) : esc(x ?? "–"));
const vals = (v) => (v ? Object.entries(v).map(([k, x]) => `${esc(k)}: ${figure(x)}`).join(", ") : "–");

async function call(path, options = {}) {
  const r = await fetch(path, { ...options, headers: { Accept: "application/json",
    "Content-Type": "application/json", Authorization: `Bearer ${sessionStorage.getItem(KEY) || ""}` } });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error((body.error && body.error.message) || `Galat ${r.status}`);
  return body;
}

function filters() {
  const f = { dataset: $("f-dataset").value.trim(), period: $("f-period").value.trim(),
              kecamatan: $("f-kecamatan").value.trim() };
  return Object.fromEntries(Object.entries(f).filter(([, v]) => v));
}

function row(h) {
  const why = h.reasons.map((r) => `<li>${esc(r.message)}${r.expected_min != null ?
    ` <span class="muted">(wajar ${figure(r.expected_min)}–${figure(r.expected_max)})</span>` : ""}</li>`).join("");
  const rep = h.reporting ? `${pct(h.reporting.rate_now)} → ${pct(h.reporting.rate_after)}` : "–";
  return `<tr data-id="${esc(h.id)}"><td data-label="Dataset, periode">${esc(h.dataset)}<br>${esc(h.period)}</td>` +
    `<td data-label="Wilayah">${esc(h.region_name)}<br><span class="muted">${esc(h.region_code)}</span></td>` +
    `<td data-label="Nilai ditahan">${vals(h.proposed)}<br><span class="muted">publik: ${vals(h.public)}</span></td>` +
    `<td data-label="Alasan"><ul>${why}</ul>${h.conflict_id ? `<span class="no">juga dalam konflik</span>` : ""}</td>` +
    `<td data-label="Produsen">${esc(h.publisher_name || h.publisher_id)}</td><td data-label="Tingkat lapor kecamatan">${rep}</td>` +
    `<td data-label="Keputusan"><span><button data-act="verify">Verifikasi</button> <button data-act="return">Kembalikan</button></span></td></tr>`;
}

/* ``done``: the last decision's confirmation, kept above the refreshed queue; an answer to
   an older load (the key's first, unfiltered one) never overwrites a newer one */
let loads = 0;
async function load(done = "") {
  const mine = ++loads;
  $("done").textContent = done;
  $("msg").textContent = "Memuat…";
  try {
    const q = new URLSearchParams(filters());
    const body = await call(`/v1/verification?${q}`);
    if (mine !== loads) return;
    $("msg").textContent = body.items.length ? `${fmt.format(body.items.length)} nilai menunggu (terlama dulu).` :
      "Tidak ada nilai yang menunggu verifikasi.";
    $("queue").innerHTML = body.items.length ? `<div class="table-wrap"><table class="stack"><thead><tr><th>Dataset, periode</th>` +
      `<th>Wilayah</th><th>Nilai ditahan</th><th>Alasan</th><th>Produsen</th><th>Tingkat lapor kecamatan</th>` +
      `<th></th></tr></thead><tbody>${body.items.map(row).join("")}</tbody></table></div>` : "";
  } catch (e) { $("msg").textContent = e.message; }
}

/* citizens' reports on figures, answered from the same desk */
async function loadReports(done = "") {
  $("reports-box").hidden = false;
  try {
    const body = await call("/v1/feedback?status=open");
    $("reports-msg").textContent = done || (body.items.length ? `${fmt.format(body.items.length)} laporan menunggu jawaban.`
      : "Tidak ada laporan yang menunggu.");
    $("reports").innerHTML = body.items.map((r) => `<article class="report" data-id="${esc(r.id)}">
      <p><a href="/dataset/${encodeURIComponent(r.dataset)}?region=${encodeURIComponent(r.region_code)}&period=${encodeURIComponent(r.period)}">${esc(r.dataset)}</a>
        · ${esc(r.region_code)} · ${esc(r.period)}${Object.keys(r.dimensions || {}).length ? ` · ${esc(Object.values(r.dimensions).join(", "))}` : ""}</p>
      <blockquote>${esc(r.message)}</blockquote>
      <p class="muted">Kontak: ${esc(r.contact || "tidak ada")} · dikirim ${new Date(r.created_at).toLocaleString("id-ID", { timeZone: "Asia/Makassar" })} WITA</p>
      <label>Jawaban (dipublikasikan) <textarea rows="2"></textarea></label>
      <button data-answer>Jawab</button></article>`).join("");
  } catch (e) { $("reports-msg").textContent = e.message; }
}

$("reports").addEventListener("click", async (ev) => {
  const b = ev.target.closest("button[data-answer]");
  if (!b) return;
  const box = b.closest("article");
  try {
    await call(`/v1/feedback/${box.dataset.id}/answer`, { method: "POST",
      body: JSON.stringify({ answer: box.querySelector("textarea").value }) });
    await loadReports("Jawaban terkirim dan dipublikasikan.");
  } catch (e) { $("reports-msg").textContent = e.message; }
});

/* data requests: extend once, answer (with a dataset) or refuse, from the same desk */
const tanggal = (v) => (v ? new Date(`${v}T12:00:00+08:00`).toLocaleDateString("id-ID",
  { day: "numeric", month: "long", year: "numeric", timeZone: "Asia/Makassar" }) : "–");
async function loadRequests(done = "") {
  $("requests-box").hidden = false;
  try {
    const items = (await call("/v1/data-requests")).items.filter((r) => r.status === "diajukan" || r.status === "diperpanjang");
    $("requests-msg").textContent = done || (items.length ? `${fmt.format(items.length)} permohonan menunggu jawaban.`
      : "Tidak ada permohonan yang menunggu.");
    $("requests").innerHTML = items.map((r) => `<article class="report" data-number="${esc(r.number)}">
      <p><strong>${esc(r.number)}</strong> · diterima ${tanggal(r.received_on)} · batas ${tanggal(r.due_on)}${r.late ? ` <span class="no">terlambat</span>` : ""}</p>
      <blockquote>${esc(r.subject)}${r.purpose ? `<br><span class="muted">${esc(r.purpose)}</span>` : ""}</blockquote>
      <p class="muted">Kontak: ${esc(r.contact || "tidak ada")}</p>
      <label>Jawaban, alasan penolakan atau pemberitahuan perpanjangan <textarea rows="2"></textarea></label>
      <label>Dataset yang diterbitkan (tidak wajib) <input data-dataset placeholder="mis. jumlah-penduduk"></label>
      <button data-req="answer">Jawab</button> <button data-req="refuse">Tolak</button>
      ${r.status === "diajukan" ? `<button data-req="extend">Perpanjang 7 hari kerja</button>` : ""}</article>`).join("");
  } catch (e) { $("requests-msg").textContent = e.message; }
}

$("requests").addEventListener("click", async (ev) => {
  const b = ev.target.closest("button[data-req]");
  if (!b) return;
  const box = b.closest("article"), text = box.querySelector("textarea").value;
  const act = b.dataset.req;
  const body = act === "answer" ? { answer: text, dataset: box.querySelector("[data-dataset]").value.trim() || null }
    : act === "refuse" ? { reason: text } : { notice: text };
  try {
    await call(`/v1/data-requests/${encodeURIComponent(box.dataset.number)}/${act}`, { method: "POST", body: JSON.stringify(body) });
    await loadRequests(act === "answer" ? "Permohonan dijawab." : act === "refuse" ? "Permohonan ditolak." : "Permohonan diperpanjang.");
  } catch (e) { $("requests-msg").textContent = e.message; }
});

async function decide(path, body) {
  try {
    const out = await call(path, { method: "POST", body: JSON.stringify(body) });
    await load(`${fmt.format(out.decided)} nilai ${out.status === "verified" ? "diverifikasi dan terbit" : "dikembalikan"}.`);
  } catch (e) { $("done").textContent = ""; $("msg").textContent = e.message; }
}

$("key").addEventListener("submit", (ev) => {
  ev.preventDefault();
  sessionStorage.setItem(KEY, $("k").value.trim());
  $("key").hidden = true; $("filters").hidden = false; load(); loadReports(); loadRequests();
});
$("filters").addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
$("bulk-verify").addEventListener("click", () => decide("/v1/verification/verify",
  { ...filters(), note: $("f-note").value.trim() || null }));
$("bulk-return").addEventListener("click", () => decide("/v1/verification/return",
  { ...filters(), note: $("f-note").value.trim() }));
$("queue").addEventListener("click", (ev) => {
  const b = ev.target.closest("button[data-act]");
  if (!b) return;
  const id = b.closest("tr").dataset.id, note = $("f-note").value.trim();
  decide(`/v1/verification/${id}/${b.dataset.act}`, b.dataset.act === "return" ? { note } : { note: note || null });
});
if (sessionStorage.getItem(KEY)) {
  $("key").hidden = true; $("filters").hidden = false; load(); loadReports(); loadRequests();
}
