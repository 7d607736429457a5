/* The publisher's own overdue list on /ketepatan, with the key the portal already holds
   (the /kirim page keeps it for this browser tab). No key: a short note where to enter one. */
(function () {
  const box = document.getElementById("mine");
  if (!box) return;
  const key = sessionStorage.getItem("satudata.key");
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  if (!key) {
    box.innerHTML = `<p class="muted">Pengirim data: masukkan kunci API di <a href="/kirim">Kirim data</a> untuk melihat tunggakan Anda sendiri di sini.</p>`;
    return;
  }
  fetch("/v1/timeliness/mine", { headers: { Accept: "application/json", Authorization: `Bearer ${key}` } })
    .then((r) => r.json().then((body) => ({ ok: r.ok, body })))
    .then(({ ok, body }) => {
      if (!ok) throw new Error((body.error && body.error.message) || "Galat");
      if (!body.items.length) {
        box.innerHTML = `<h2>Tunggakan ${esc(body.publisher_id)}</h2><p class="tl-ok">Tidak ada laporan yang terlambat.</p>`;
        return;
      }
      box.innerHTML = `<h2>Tunggakan ${esc(body.publisher_id)}</h2><ul>` + body.items.map((i) =>
        `<li><strong>${esc(i.title)}</strong> periode ${esc(i.period)}: ${i.missing} wilayah, terlambat ${i.max_days_late} hari ·
         <a href="/v1/datasets/${encodeURIComponent(i.dataset)}/template?format=xlsx&period=${encodeURIComponent(i.period)}" data-keyed>templat XLSX</a> ·
         <a href="/kirim?dataset=${encodeURIComponent(i.dataset)}">kirim</a></li>`).join("") + `</ul>`;
      box.querySelectorAll("a[data-keyed]").forEach((a) => a.addEventListener("click", async (ev) => {
        ev.preventDefault();   // the template needs the key: fetch it with the header, then save
        const r = await fetch(a.href, { headers: { Authorization: `Bearer ${key}` } });
        const url = URL.createObjectURL(await r.blob());
        Object.assign(document.createElement("a"), { href: url, download: "templat.xlsx" }).click();
        URL.revokeObjectURL(url);
      }));
    })
    .catch((err) => { box.innerHTML = `<p class="error">Tunggakan Anda belum dapat dimuat: ${esc(err.message)}</p>`; });
})();
