"""The portal's timeliness page (``/ketepatan``): what is overdue, by how long, per kecamatan
and village, with a chart. Rendered on the server from the registry's ``/v1/timeliness``
(plain HTML and an inline SVG chart: no script, no CDN), so it reads the same for the walidata,
a citizen, a search engine and a phone. A publisher's own overdue list is loaded by
``/portal/ketepatan.js`` with the key the portal already holds."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from services.gateway import pages
from services.gateway.container import GatewayDep
from services.gateway.upstream import PassThrough
from shared.clock import WITA

router = APIRouter()
STATUS = {  # status -> (label, colour); colours readable by the colour-blind (Okabe-Ito)
    "on_time": ("Tepat waktu", "#009E73"), "late": ("Terlambat dikirim", "#E69F00"),
    "missing": ("Terlambat, belum dikirim", "#D55E00"),
    "not_yet_due": ("Belum jatuh tempo", "#BBBBBB")}
TITLE = f"Ketepatan waktu pelaporan · {pages.SITE}"
DESCRIPTION = ("Dataset mana yang sudah jatuh tempo, desa/kelurahan mana yang terlambat "
               "mengirim, dan berapa lama, per kecamatan.")
e = html.escape


def _when(value: str) -> str:
    return datetime.fromisoformat(value).astimezone(WITA).strftime("%d-%m-%Y %H:%M WITA")


def chart(kecamatan: list[dict], width: int = 640) -> str:
    """Horizontal stacked bars, one per kecamatan: how many units per status."""
    bar_h, gap, label_w = 18, 6, 150
    height = len(kecamatan) * (bar_h + gap) + 30
    most = max((k["expected"] for k in kecamatan), default=1) or 1
    scale = (width - label_w - 40) / most
    parts = [f'<svg class="tl-chart" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="Status pelaporan per kecamatan" xmlns="http://www.w3.org/2000/svg">']
    for i, k in enumerate(kecamatan):
        y, x = i * (bar_h + gap), label_w
        parts.append(f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end">{e(k["name"])}</text>')
        for status, (label, colour) in STATUS.items():
            w = k[status] * scale
            if w:
                parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" '
                             f'fill="{colour}"><title>{e(k["name"])}: {k[status]} {label.lower()}'
                             f'</title></rect>')
            x += w
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 13}">{k["missing"]}/{k["expected"]}</text>')
    y = len(kecamatan) * (bar_h + gap) + 8
    for j, (label, colour) in enumerate(STATUS.values()):
        parts.append(f'<rect x="{j * 160}" y="{y}" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{j * 160 + 16}" y="{y + 11}">{e(label)}</text>')
    return "".join(parts) + "</svg>"


def overdue_table(item: dict) -> str:
    late = sorted((u for u in item["regions"] if u["status"] in ("missing", "late")),
                  key=lambda u: (-u["days_late"], u["kecamatan_name"], u["name"]))
    if not late:
        return '<p class="tl-ok">Tidak ada yang terlambat.</p>'
    rows = "".join(
        f'<tr class="tl-{u["status"]}"><td>{e(u["kecamatan_name"])}</td><td>{e(u["name"])} '
        f'<span class="muted">{e(u["code"])}</span></td><td>{e(STATUS[u["status"]][0])}</td>'
        f'<td class="num">{u["days_late"]} hari</td><td>{e(u["publisher_id"] or "-")}</td></tr>'
        for u in late)
    return ('<div class="table-wrap"><table class="tl-table"><thead><tr><th>Kecamatan</th>'
            '<th>Desa/kelurahan</th><th>Status</th><th>Terlambat</th><th>Pengirim</th></tr>'
            f'</thead><tbody>{rows}</tbody></table></div>')


def section(item: dict) -> str:
    state = (f"jatuh tempo {_when(item['due_at'])}" if item["is_due"]
             else f"jatuh tempo nanti: {_when(item['due_at'])}")
    counts = " · ".join(f"{STATUS[s][0]}: <strong>{item[s]}</strong>" for s in STATUS)
    return (f'<section class="tl-item"><h2>{e(item["title"])} · periode {e(item["period"])}'
            f'</h2><p class="muted">{e(state)} (tenggang {item["grace_days"]} hari)</p>'
            f'<p>{counts} dari {item["expected"]}</p>{chart(item["kecamatan"])}'
            f'{overdue_table(item) if item["is_due"] else ""}</section>')


def form(datasets: list[dict], params: dict) -> str:
    options = "".join(
        f'<option value="{e(d["slug"])}"{" selected" if d["slug"] == params.get("dataset") else ""}>'
        f'{e(d["title"])}</option>' for d in datasets)
    return ('<form class="controls" method="get" action="/ketepatan"><label>Dataset '
            f'<select name="dataset"><option value="">Semua</option>{options}</select></label>'
            f'<label>Periode <input name="period" value="{e(params.get("period") or "")}" '
            'size="8" placeholder="2026"></label><label>Kecamatan <input name="kecamatan" '
            f'value="{e(params.get("kecamatan") or "")}" size="9" placeholder="64.08.04">'
            '</label><button class="btn">Tampilkan</button></form>')


def body(report: dict, datasets: list[dict], params: dict) -> str:
    s = report["summary"]
    return ('<p class="crumbs"><a href="/">Beranda</a> › Ketepatan waktu</p>'
            '<h1>Ketepatan waktu pelaporan</h1>'
            f'<p>Per {_when(report["generated_at"])}: {s["missing"]} laporan terlambat belum '
            f'dikirim, {s["late"]} terlambat dikirim, {s["on_time"]} tepat waktu, '
            f'{s["not_yet_due"]} belum jatuh tempo.</p>{form(datasets, params)}'
            '<section id="mine" class="tl-mine"></section>'
            + "".join(section(i) for i in report["items"]))


async def render(gw, params: dict) -> tuple[int, str]:
    query = {k: v for k, v in params.items() if v}
    try:
        report = await gw.registry.timeliness(query)
        content = body(report, await gw.registry.datasets(), query)
        status = 200
    except PassThrough as exc:
        status, content = exc.status_code, (
            '<h1>Ketepatan waktu pelaporan</h1><p class="error">Pilihan tidak dikenali: '
            'periksa dataset, periode (mis. 2026) dan kode kecamatan (mis. 64.08.04).</p>'
            + form([], query))
    return status, content


@router.get("/ketepatan", include_in_schema=False, response_class=HTMLResponse)
async def timeliness_routes(request: Request, gw: GatewayDep,
                          dataset: Annotated[str | None, Query(max_length=200)] = None,
                          period: Annotated[str | None, Query(max_length=20)] = None,
                          kecamatan: Annotated[str | None, Query(max_length=20)] = None):
    status, content = await render(gw, {"dataset": dataset, "period": period,
                                        "kecamatan": kecamatan})
    page = pages.render(TITLE, DESCRIPTION, gw.base_url(request) + "/ketepatan")
    page = page.replace('<main id="app" aria-live="polite">\n    <p class="muted">Memuat…</p>',
                        f'<main id="timeliness">{content}', 1)
    page = page.replace('<script src="/portal/app.js" defer></script>',
                        '<link rel="stylesheet" href="/portal/ketepatan.css">'
                        '<script src="/portal/ketepatan.js" defer></script>', 1)
    return HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-cache"})
