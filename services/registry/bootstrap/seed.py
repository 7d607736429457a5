"""`satudata seed`: reference data, the demo dataset and development API keys.

It only adds what is missing and never changes what is there: a region, alias, publisher,
dataset, value or key the walidata has changed since stays as the walidata left it (a change of
reference data goes through the region import and the audit log like any other change). Sample
values are loaded only into a demo dataset with no values yet. ``satudata up`` seeds only an
empty database; ``satudata seed`` says what it added (``--dry-run``: what it would add). The
demo dataset's values are SAMPLE DATA (data contoh), generated here and labelled so in the
dataset's description; so are the region boundaries seeded with them while none is loaded
(generated squares, ``sample`` true, said so under every map).
"""

from __future__ import annotations

import random

import asyncpg

from services.registry.access import service as access
from services.registry.datasets import service as datasets
from services.registry.boundaries import service as boundaries
from services.registry.publishing import service as publishing
from services.registry.regions import service as regions
from shared.auth import hash_key
from shared.db import xact_lock

DEMO_DATASET = {
    "slug": "jumlah-penduduk",
    "title": "Jumlah Penduduk menurut Desa dan Jenis Kelamin",
    "description": ("DATA CONTOH (sample data), bukan data resmi: nilai dibuat untuk demonstrasi "
                    "platform Satu Data. Jumlah penduduk per desa/kelurahan di Kabupaten Kutai "
                    "Timur menurut jenis kelamin."),
    "frequency": "annual",
    "topic": "kependudukan",
    "tags": ["penduduk", "kependudukan", "demografi", "contoh"],
    "license": "CC-BY-4.0",
    "metadata": {
        "konsep": "Penduduk",
        "definisi": "Semua orang yang berdomisili di wilayah desa/kelurahan selama 6 bulan atau "
                    "lebih, atau kurang dari 6 bulan tetapi bertujuan menetap.",
        "klasifikasi": "Jenis kelamin: Laki-laki (L), Perempuan (P)",
        "ukuran": "Jumlah",
        "satuan": "jiwa",
        "produsen_data": "Dinas Kependudukan dan Pencatatan Sipil (contoh)",
        "walidata": "Dinas Komunikasi dan Informatika Kabupaten Kutai Timur",
        "sample_data": True,
    },
    "schema": {
        "dimensions": [{"name": "jenis_kelamin", "label": "Jenis kelamin",
                        "values": {"L": "Laki-laki", "P": "Perempuan"}}],
        "measures": [{"name": "jumlah", "label": "Jumlah penduduk", "type": "integer",
                      "unit": "jiwa", "min": 0, "max": 1_000_000, "additive": True,
                      "required": True}],
        "region_levels": ["desa", "kelurahan"],
    },
    "authoritative": ["disdukcapil"],
}

DEV_DESA = "64.08.04.2001"  # Desa Sangatta Utara, Kec. Sangatta Utara
PUBLISHERS = [
    {"id": "walidata", "name": "Walidata Kabupaten Kutai Timur (Diskominfo)", "kind": "walidata",
     "region_scope": "64.08", "datasets": []},
    {"id": "disdukcapil", "name": "Dinas Kependudukan dan Pencatatan Sipil", "kind": "opd",
     "region_scope": "64.08", "datasets": ["jumlah-penduduk"]},
    {"id": f"desa-{DEV_DESA}", "name": "Pemerintah Desa Sangatta Utara", "kind": "desa",
     "region_scope": DEV_DESA, "datasets": ["jumlah-penduduk"]},
]
DEV_KEYS = {  # env name in dev-keys.env -> (publisher, role)
    "SATUDATA_KEY_DESA": (f"desa-{DEV_DESA}", "publisher"),
    "SATUDATA_KEY_OPD": ("disdukcapil", "publisher"),
    "SATUDATA_KEY_WALIDATA": ("walidata", "walidata"),
}


async def seed_reference(conn: asyncpg.Connection) -> dict:
    loaded = await regions.load_reference(conn)
    publishers = [p["id"] for p in PUBLISHERS
                  if await access.add_publisher(conn, p) is not None]
    dataset_created = not await datasets.dataset_exists(conn, DEMO_DATASET["slug"])
    if dataset_created:
        await datasets.create_dataset(conn, DEMO_DATASET)
    return {**loaded, "publishers": publishers, "dataset_created": dataset_created}


async def seed_sample_values(conn: asyncpg.Connection, period: str = "2023") -> int:
    """Sample (contoh) population values for every village in ``period``, from the
    authoritative OPD (``seed`` loads them only into a demo dataset with no value yet)."""
    known = await regions.load_regions(conn)
    rng = random.Random(6408)
    rows = []
    for r in known:
        if r.level in ("desa", "kelurahan"):
            for sex in ("L", "P"):
                rows.append({"region": r.code, "period": period, "jenis_kelamin": sex,
                             "jumlah": rng.randint(300, 6000)})
    outcome = await publishing.apply_rows(conn, dataset_slug="jumlah-penduduk",
                                            publisher_id="disdukcapil", rows=rows)
    return outcome.counts.created


async def _demo_is_empty(conn: asyncpg.Connection) -> bool:
    """Sample values go only where no value was ever sent: never over someone's figures."""
    dataset = await datasets.get_dataset_row(conn, DEMO_DATASET["slug"])
    return dataset is not None and not await datasets.dataset_has_records(
        conn, dataset["id"])


async def ensure_dev_keys(conn: asyncpg.Connection, existing: dict[str, str]) -> dict[str, str]:
    """Keep the keys in ``existing`` that the database knows (revoked ones too: revoking is
    the walidata's decision); create the missing ones. ``created`` lists the new ones."""
    keys = {"SATUDATA_DESA_CODE": DEV_DESA}
    created = []
    for env_name, (publisher_id, role) in DEV_KEYS.items():
        raw = existing.get(env_name)
        if raw and await access.key_exists(conn, hash_key(raw)):
            keys[env_name] = raw
            continue
        if await access.get_publisher(conn, publisher_id) is None:
            continue  # a development publisher someone removed stays removed
        raw, _ = await access.create_key(conn, publisher_id=publisher_id, role=role,
                                          label=f"development key ({env_name})")
        keys[env_name] = raw
        created.append(env_name)
    return keys, created


async def is_empty(conn: asyncpg.Connection) -> bool:
    """A database nothing was ever loaded into (no region): the only one a start seeds."""
    return await regions.root_region(conn) is None


async def seed(pool: asyncpg.Pool, existing_keys: dict[str, str] | None = None,
               sample_values: bool = True, dry_run: bool = False) -> dict:
    """Add what is missing (see the module's doc) in one transaction; ``dry_run`` rolls it
    back, so the summary says what would be added."""
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        try:
            await xact_lock(conn, "satudata.seed")
            summary = await seed_reference(conn)
            summary["sample_records"] = await seed_sample_values(conn) if (
                sample_values and await _demo_is_empty(conn)) else 0
            summary["sample_boundaries"] = await boundaries.seed_sample(conn) if (
                sample_values) else 0
            summary["keys"], summary["keys_created"] = await ensure_dev_keys(
                conn, existing_keys or {})
        except BaseException:
            await tx.rollback()
            raise
        await (tx.rollback() if dry_run else tx.commit())
    return summary
