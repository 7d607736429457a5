"""The portal's real URLs: path routes answered with the portal page, its <title>, description
and canonical link filled in on the server (so search engines and chat previews read them
without running the script), and a sitemap.xml of every dataset and region."""

from __future__ import annotations

import html
import logging
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote
from xml.sax.saxutils import escape

from services.gateway.registry_client import RegistryReads
from services.gateway.upstream import PassThrough
from shared.errors import AppError

PORTAL = Path(__file__).parent / "static" / "portal"
VERIFICATION_PAGE = PORTAL / "verifikasi.html"  # the walidata's queue (own page)
SITE = "Satu Data Kutai Timur"
DEFAULT_DESCRIPTION = ("Portal data terbuka Kabupaten Kutai Timur: cari dataset, lihat angka per "
                       "kecamatan dan desa, unduh CSV/XLSX.")
STATIC = {  # path -> (title, description)
    "/": (SITE, DEFAULT_DESCRIPTION),
    "/wilayah": (f"Wilayah · {SITE}", "Data menurut kabupaten, kecamatan dan desa/kelurahan "
                 "di Kabupaten Kutai Timur."),
    "/kelengkapan": (f"Kelengkapan pelaporan · {SITE}", "Desa/kelurahan mana yang sudah dan "
                     "belum melaporkan tiap dataset, per kecamatan."),
    "/kirim": (f"Kirim data · {SITE}", "Unggah data desa, kelurahan atau OPD lewat portal: "
               "templat, uji coba, kirim, pantau status."),
    "/permohonan": (f"Permohonan data · {SITE}", "Minta data yang belum terbit: nomor "
                    "permohonan, status terbuka, dijawab paling lambat 10 hari kerja."),
}
LEVELS = {"kabupaten": "Kabupaten", "kecamatan": "Kecamatan", "desa": "Desa",
          "kelurahan": "Kelurahan", "provinsi": "Provinsi"}
log = logging.getLogger("satudata.gateway.pages")


@lru_cache(maxsize=1)
def _template() -> str:
    return (PORTAL / "index.html").read_text(encoding="utf-8")


def render(title: str, description: str, canonical: str) -> str:
    """The portal page with this page's title, description and canonical URL."""
    page = _template()
    t, d, c = (html.escape(x, quote=True) for x in (title, description[:300], canonical))
    page = page.replace("<title>Satu Data Kutai Timur</title>", f"<title>{t}</title>", 1)
    page = page.replace(f'content="{html.escape(DEFAULT_DESCRIPTION, quote=True)}"',
                        f'content="{d}"', 1)
    return page.replace("<!--canonical-->", f'<link rel="canonical" href="{c}">'
                        f'<meta property="og:title" content="{t}">'
                        f'<meta property="og:description" content="{d}">', 1)


async def meta(registry: RegistryReads, path: str) -> tuple[int, str, str]:
    """(status, title, description) for a portal path; the registry fills in names. When the
    registry is away the page is still served (the script retries), with the site's own text."""
    if path in STATIC:
        return 200, *STATIC[path]
    parts = [p for p in path.split("/") if p]
    try:
        if len(parts) == 2 and parts[0] == "dataset":
            d = await registry.dataset(parts[1])
            return 200, f"{d['title']} · {SITE}", d.get("description") or d["title"]
        if len(parts) == 2 and parts[0] == "wilayah":
            r = await registry.region(parts[1])
            level = LEVELS.get(r.get("level"), r.get("level") or "")
            retired = (f" Kode ini tidak berlaku lagi; penggantinya {r['successor_code']}."
                       if r.get("successor_code") else "")
            return (200, f"{level} {r['name']} ({r['code']}) · {SITE}",
                    f"Data {level.lower()} {r['name']}, Kabupaten Kutai Timur: jumlah per "
                    f"periode dan per wilayah di bawahnya.{retired}")
    except PassThrough as exc:
        if exc.status_code == 410:  # a retracted dataset
            return 410, f"Dataset ditarik · {SITE}", DEFAULT_DESCRIPTION
        if exc.status_code in (404, 422):
            return 404, f"Halaman tidak ditemukan · {SITE}", DEFAULT_DESCRIPTION
    except AppError as exc:
        log.warning("portal page %s without registry names: %s", path, exc.message)
    return 200, SITE, DEFAULT_DESCRIPTION


async def sitemap(registry: RegistryReads, base: str) -> str:
    urls = [(f"{base}{p}", None) for p in ("/", "/wilayah", "/kelengkapan", "/ketepatan",
                                           "/permohonan")]
    urls += [(f"{base}/dataset/{quote(d['slug'])}", (d.get("updated_at") or "")[:10] or None)
             for d in await registry.datasets()]
    urls += [(f"{base}/wilayah/{quote(r['code'])}", None) for r in await registry.regions()]
    body = "".join(f"<url><loc>{escape(u)}</loc>{f'<lastmod>{m}</lastmod>' if m else ''}</url>"
                   for u, m in urls)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</urlset>\n')
