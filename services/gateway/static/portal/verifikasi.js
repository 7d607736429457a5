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

/* the rest of the walidata's desk: one dataset's rules, privacy and schedule; the reminder
   log, region changes, SIPD pushes and the audit trail (read here, changed through the API) */
const when = (v) => (v ? `${new Date(v).toLocaleString("id-ID", { timeZone: "Asia/Makassar",
  dateStyle: "medium", timeStyle: "short" })} WITA` : "–");
const table = (id, head, rows) => (rows.length ? `<div class="table-wrap"><table class="stack" id="${id}"><thead><tr>` +
  head.map((h) => `<th>${esc(h)}</th>`).join("") + `</tr></thead><tbody>` + rows.map((r) => `<tr>` +
  r.map((c, i) => `<td data-label="${esc(head[i])}">${c}</td>`).join("") + `</tr>`).join("") + `</tbody></table></div>`
  : `<p class="muted" id="${id}">Belum ada.</p>`);
const settled = async (path) => { try { return await call(path); } catch (e) { return { error: e.message }; } };

async function loadDataset(done = "") {
  const slug = $("f-dataset").value.trim();
  $("dataset-box").hidden = !slug;
  if (!slug) return;
  const s = encodeURIComponent(slug);
  const [rules, privacy, schedule, policy] = await Promise.all([settled(`/v1/datasets/${s}/rules`),
    settled(`/v1/datasets/${s}/privacy`), settled(`/v1/datasets/${s}/schedule`),
    settled(`/v1/datasets/${s}/verification-policy`)]);
  const checked = (b) => (b ? "checked" : "");
  $("dataset-desk").innerHTML = `<p id="dataset-done" class="ok" role="status">${esc(done)}</p>` +
    (rules.error ? `<p class="no">${esc(rules.error)}</p>` : `<h3>Aturan validasi</h3>` +
      table("desk-rules", ["Aturan", "Kepentingan", "Pesan untuk produsen", ""], rules.items.map((r) =>
        [`<code>${esc(r.expression)}</code>`, esc(r.importance), esc(r.message),
         `<button type="button" data-rule="${esc(r.id)}">Hapus</button>`])) +
      `<form id="rule-form" class="row"><label>Aturan baru <input name="expression" placeholder="mis. jumlah >= 0" required></label>
        <label>Pesan untuk produsen <input name="message" required minlength="3"></label>
        <label>Kepentingan <select name="importance"><option>tinggi</option><option selected>sedang</option><option>rendah</option></select></label>
        <button>Tambah aturan</button></form>`) +
    (policy.error ? "" : `<h3>Kebijakan terbit dan pemeriksaan pencilan</h3>
      <form id="policy-form" class="row"><label>Kebijakan <select name="policy">
        <option value="langsung" ${policy.policy === "langsung" ? "selected" : ""}>langsung (tahan yang gagal saja)</option>
        <option value="verifikasi" ${policy.policy === "verifikasi" ? "selected" : ""}>verifikasi (tahan semua nilai baru)</option></select></label>
        <label><input type="checkbox" name="outliers" ${checked(policy.outliers)}> periksa pencilan</label>
        <label>Ambang skor-z <input name="outlier_z" type="number" step="0.1" min="0.1" max="100" value="${esc(policy.outlier_z)}" size="5"></label>
        <label>Riwayat minimum <input name="min_history" type="number" min="2" max="100" value="${esc(policy.min_history)}" size="4"></label>
        <label>Pembanding minimum <input name="min_peers" type="number" min="3" max="10000" value="${esc(policy.min_peers)}" size="5"></label>
        <button>Simpan kebijakan</button></form>
      <p class="muted">Diubah ${esc(policy.updated_by || "–")}, ${when(policy.updated_at)}</p>`) +
    (privacy.error ? "" : `<h3>Privasi</h3><p id="desk-privacy">${privacy.sensitive
      ? `Dataset sensitif: jumlah 1–${fmt.format(privacy.k - 1)} disembunyikan${privacy.publish_zero ? "; nol tetap terbit" : ""}.`
      : "Tidak sensitif: semua jumlah terbit."} <span class="muted">Diubah ${esc(privacy.updated_by || "–")}, ${when(privacy.updated_at)}</span></p>
      <form id="privacy-form" class="row"><label><input type="checkbox" name="sensitive" ${checked(privacy.sensitive)}> sensitif</label>
        <label>Sembunyikan jumlah di bawah <input name="k" type="number" min="2" max="100" value="${esc(privacy.k)}" size="4"></label>
        <label><input type="checkbox" name="publish_zero" ${checked(privacy.publish_zero)}> nol tetap terbit</label>
        <button>Simpan privasi</button></form>`) +
    (schedule.error ? "" : `<h3>Jadwal lapor</h3><p id="desk-schedule">Periode ${esc(schedule.latest_due.period)} jatuh tempo ` +
      `${esc(schedule.latest_due.due_at ? when(schedule.latest_due.due_at) : "–")}; tenggang ${fmt.format(schedule.grace_days)} hari` +
      `${schedule.custom ? "" : " (bawaan frekuensinya)"}.</p>
      <form id="schedule-form" class="row"><label>Tenggang (hari setelah periode berakhir) <input name="grace_days" type="number" min="0" max="366" value="${esc(schedule.grace_days)}" size="4"></label>
        <button>Simpan jadwal</button></form>`);
}

/* changes from the dataset's desk, each through the audited API; the audit trail reloads */
async function change(path, method, body, done) {
  try {
    await call(path, { method, body: body === undefined ? undefined : JSON.stringify(body) });
    await Promise.all([loadDataset(done), loadDesk()]);
  } catch (e) { $("dataset-done").textContent = ""; $("dataset-done").insertAdjacentHTML("afterend", `<p class="no">${esc(e.message)}</p>`); }
}
$("dataset-desk").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const f = ev.target, s = `/v1/datasets/${encodeURIComponent($("f-dataset").value.trim())}`;
  const v = (n) => f.elements[n].value, on = (n) => f.elements[n].checked;
  if (f.id === "rule-form") change(`${s}/rules`, "POST", { expression: v("expression"), message: v("message"), importance: v("importance") }, "Aturan ditambahkan.");
  if (f.id === "policy-form") change(`${s}/verification-policy`, "PUT", { policy: v("policy"), outliers: on("outliers"),
    outlier_z: +v("outlier_z"), min_history: +v("min_history"), min_peers: +v("min_peers") }, "Kebijakan disimpan.");
  if (f.id === "privacy-form") change(`${s}/privacy`, "PUT", { sensitive: on("sensitive"), k: +v("k"), publish_zero: on("publish_zero") }, "Privasi disimpan.");
  if (f.id === "schedule-form") change(`${s}/schedule`, "PUT", { grace_days: +v("grace_days") }, "Jadwal disimpan.");
});
$("dataset-desk").addEventListener("click", (ev) => {
  const b = ev.target.closest("button[data-rule]");
  if (b) change(`/v1/datasets/${encodeURIComponent($("f-dataset").value.trim())}/rules/${b.dataset.rule}`, "DELETE", undefined, "Aturan dihapus.");
});

const SUBMISSION_STATUS = { received: "diterima", processing: "sedang diproses", completed: "selesai",
                            partial: "sebagian diterapkan", failed: "gagal" };
async function loadDesk() {
  $("desk-box").hidden = false;
  const [reminders, changes, sipd, audit, opensid] = await Promise.all([settled("/v1/reminders?limit=10"),
    settled("/v1/regions/changes"), settled("/v1/sipd/status"), settled("/v1/audit?limit=15"),
    settled("/v1/opensid/syncs")]);
  const part = (title, body) => `<h3>${esc(title)}</h3>${body.error ? `<p class="no">${esc(body.error)}</p>` : body.html}`;
  const html = (body, f) => (body.error ? body : { html: f(body) });
  $("desk").innerHTML =
    part("Pengingat terakhir", html(reminders, (b) => table("desk-reminders", ["Produsen", "Dataset, periode", "Tahap", "Pengiriman"],
      b.items.map((r) => [esc(r.publisher_id), `${esc(r.dataset)} ${esc(r.period)}`, esc(r.stage),
        r.deliveries.map((d) => `${esc(d.channel)}: ${esc(d.status)}`).join(", ") || "–"])))) +
    part("Perubahan wilayah", html(changes, (b) => table("desk-changes", ["Berlaku", "Perubahan", "Dasar"],
      b.items.slice(0, 10).map((c) => [esc(c.effective || "–"), esc(c.description) + (c.sample ? ` <span class="muted">(contoh)</span>` : ""),
        esc(c.decree_number || c.source)])))) +
    part("Kiriman ke SIPD", html(sipd, (b) => table("desk-sipd", ["Indikator", "Tahun", "Status", "Jawaban SIPD"],
      b.items.map((y) => [esc(y.kodeindikator), esc(y.tahun), esc(y.state), esc(y.response || (y.waiting_for || []).join(", ") || "–")])))) +
    part("Sinkronisasi OpenSID terakhir per desa", html(opensid, (b) => table("desk-opensid", ["Desa (produsen)", "Waktu", "Dataset", "Baris", "Status"],
      b.items.map((x) => [esc(x.publisher_id), when(x.created_at), esc(x.dataset), fmt.format(x.rows),
        `<span class="${x.status === "completed" ? "ok" : x.status === "failed" ? "no" : ""}">${esc(SUBMISSION_STATUS[x.status] || x.status)}</span>`])))) +
    part("Jejak audit", html(audit, (b) => table("desk-audit", ["Waktu", "Pelaku", "Tindakan", "Sasaran"],
      b.items.map((a) => [when(a.at), esc(a.actor), esc(a.action), esc(a.target || "–")]))));
}

/* statistical metadata: held versions to decide, incomplete forms with what they lack */
async function loadForms(done = "") {
  $("forms-box").hidden = false;
  $("forms-done").textContent = done;
  const every = await settled("/v1/statistical-metadata");
  if (every.error) { $("forms").innerHTML = `<p class="no">${esc(every.error)}</p>`; return; }
  const shown = every.items.filter((i) => i.held_version || !i.complete);
  const held = await Promise.all(shown.map((i) => (i.held_version ? settled(
    `/v1/datasets/${encodeURIComponent(i.dataset)}/statistical-metadata/versions?limit=1`) : null)));
  const content = (v) => (v && v.items && v.items[0] ? `<details><summary>Isi versi ${esc(v.items[0].version)}</summary>` +
    `<p>${esc(v.items[0].document.kegiatan.judul || "(tanpa judul kegiatan)")}; ukuran: ` +
    `${esc(Object.keys(v.items[0].document.measures).join(", ") || "–")}</p>` +
    `${v.items[0].missing.length ? `<p class="muted">Kurang: ${esc(v.items[0].missing.join(", "))}</p>` : "<p>Lengkap.</p>"}</details>` : "");
  $("forms").innerHTML = `<p class="muted">${fmt.format(every.complete)} dari ` +
    `${fmt.format(every.count)} dataset metadatanya lengkap dan terverifikasi.</p>` +
    table("desk-forms", ["Dataset", "Terbit", "Kurang", "Keputusan"], shown.map((i, n) => [
      `<a href="/dataset/${encodeURIComponent(i.dataset)}">${esc(i.title)}</a>`,
      i.version ? `versi ${esc(i.version)}` : "–",
      i.complete ? "lengkap" : esc(i.missing.slice(0, 6).join(", ") + (i.missing.length > 6 ? `, … (${i.missing.length})` : "")),
      i.held_version ? `versi ${esc(i.held_version)} ditahan ${content(held[n])}<span data-slug="${esc(i.dataset)}" data-version="${esc(i.held_version)}">` +
        `<button data-form="verify">Verifikasi</button> <button data-form="return">Kembalikan</button></span>` : "–"]));
}

$("forms").addEventListener("click", async (ev) => {
  const b = ev.target.closest("button[data-form]");
  if (!b) return;
  const { slug, version } = b.parentElement.dataset, note = $("f-note").value.trim();
  try {
    await call(`/v1/datasets/${encodeURIComponent(slug)}/statistical-metadata/versions/${version}/${b.dataset.form}`,
      { method: "POST", body: JSON.stringify(b.dataset.form === "return" ? { note } : { note: note || null }) });
    await loadForms(`Metadata ${slug} versi ${version} ${b.dataset.form === "verify" ? "diverifikasi dan terbit" : "dikembalikan ke produsen"}.`);
  } catch (e) { $("forms-done").textContent = ""; $("forms").insertAdjacentHTML("afterbegin", `<p class="no">${esc(e.message)}</p>`); }
});

/* the year's Daftar Data: which items were fulfilled, late or missing */
const PLAN_STATUS = { terpenuhi: "terpenuhi", terlambat: "terlambat", belum_ada: "belum ada",
                      belum_jatuh_tempo: "belum jatuh tempo" };
async function loadPlan() {
  $("plan-box").hidden = false;
  const input = $("p-year");
  if (!input.value) input.value = new Date().toLocaleDateString("en-CA", { timeZone: "Asia/Makassar" }).slice(0, 4);
  const body = await settled(`/v1/epss/plan/${encodeURIComponent(input.value)}`);
  $("plan").innerHTML = body.error ? `<p class="no">${esc(body.error)}</p>` : body.items.length
    ? `<p class="muted">${fmt.format(body.items.filter((i) => i.status === "terpenuhi").length)} dari ` +
      `${fmt.format(body.items.length)} butir terpenuhi.</p>` +
      table("desk-plan", ["Butir", "Produsen", "Dataset", "Status"], body.items.map((i) => [esc(i.title),
        esc(i.producer), i.datasets.map((d) => `<a href="/dataset/${encodeURIComponent(d)}">${esc(d)}</a>`).join(", ") || "–",
        `<span class="${i.status === "terpenuhi" ? "ok" : "no"}">${esc(PLAN_STATUS[i.status] || i.status)}</span>` +
        (i.status === "belum_ada" ? "" : ` <span class="muted">(${fmt.format(i.on_time)} tepat waktu, ` +
          `${fmt.format(i.late)} terlambat, ${fmt.format(i.missing)} belum masuk)</span>`)]))
    : `<p class="muted" id="desk-plan">Belum ada Daftar Data untuk tahun ${esc(body.year)}.</p>`;
}
$("plan-year").addEventListener("submit", (ev) => { ev.preventDefault(); loadPlan(); });

async function decide(path, body) {
  try {
    const out = await call(path, { method: "POST", body: JSON.stringify(body) });
    await load(`${fmt.format(out.decided)} nilai ${out.status === "verified" ? "diverifikasi dan terbit" : "dikembalikan"}.`);
  } catch (e) { $("done").textContent = ""; $("msg").textContent = e.message; }
}

$("key").addEventListener("submit", (ev) => {
  ev.preventDefault();
  sessionStorage.setItem(KEY, $("k").value.trim());
  $("key").hidden = true; $("filters").hidden = false; load(); loadReports(); loadRequests(); loadDesk(); loadForms(); loadPlan();
});
$("filters").addEventListener("submit", (ev) => { ev.preventDefault(); load(); loadDataset(); });
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
  $("key").hidden = true; $("filters").hidden = false; load(); loadReports(); loadRequests(); loadDesk(); loadForms(); loadPlan();
}
