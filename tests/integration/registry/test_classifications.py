"""A reference classification (a sample part of KBLI 2020, contoh) loaded by the walidata: a
dimension that declares it takes its codes (all, or the labels of those it lists), a row with a
code outside it is refused, a listed code outside it or an unknown classification is refused
when the dataset is defined, and the EPSS evidence names the classified dimension."""

from __future__ import annotations

from services.registry.publishing import apply
from tests.helpers import dataset_payload
from tests.integration.registry.conftest import principal_headers

STEWARD = principal_headers()
KBLI = {"title": "KBLI 2020 (contoh: sebagian kode)",
        "source": "Peraturan BPS Nomor 2 Tahun 2020 tentang KBLI; empat kode sebagai contoh",
        "codes": {"01111": "Pertanian jagung", "01112": "Pertanian gandum",
                  "47111": "Perdagangan eceran di minimarket/supermarket/hypermarket",
                  "56101": "Restoran"}}


def _dataset(slug: str, **dimension) -> dict:
    return dataset_payload(slug, schema={
        "dimensions": [{"name": "lapangan_usaha", "label": "Lapangan usaha", **dimension}],
        "measures": [{"name": "jumlah", "label": "Jumlah usaha", "type": "integer",
                      "additive": True}]})


async def test_a_dimension_takes_its_codes_from_a_reference_classification(client, registry):
    pool = registry["pool"]
    r = await client.put("/v1/classifications/kbli-2020", json=KBLI,
                         headers=principal_headers("disdik", role="publisher"))
    assert r.status_code == 403, r.text
    r = await client.put("/v1/classifications/kbli-2020", json=KBLI, headers=STEWARD)
    assert r.status_code == 200 and r.json()["count"] == 4, r.text
    assert r.json()["hash"] == await pool.fetchval(
        "SELECT encode(sha256(convert_to(codes::text, 'UTF8')), 'hex') "
        "FROM registry.reference_classifications WHERE name = 'kbli-2020'")
    listed = (await client.get("/v1/classifications")).json()["items"]
    assert [(c["name"], c["count"]) for c in listed] == [("kbli-2020", 4)]

    r = await client.post("/v1/datasets", headers=STEWARD, json=_dataset(
        "contoh-usaha", classification="kbli-2020"))
    assert r.status_code == 201, r.text
    [dim] = r.json()["schema"]["dimensions"]
    assert dim["values"] == KBLI["codes"] and dim["classification"] == "kbli-2020"
    r = await client.post("/v1/datasets", headers=STEWARD, json=_dataset(
        "contoh-rumah-makan", classification="kbli-2020", values={"56101": ""}))
    assert r.status_code == 201, r.text
    assert r.json()["schema"]["dimensions"][0]["values"] == {"56101": "Restoran"}

    r = await client.post("/v1/datasets", headers=STEWARD, json=_dataset(
        "contoh-salah", classification="kbli-2020", values={"56101": "", "99999": "?"}))
    assert r.status_code == 422 and r.json()["error"]["code"] == "not_in_classification"
    assert "99999" in r.json()["error"]["message"]
    r = await client.post("/v1/datasets", headers=STEWARD, json=_dataset(
        "contoh-salah", classification="kbji-2014"))
    assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_classification"
    r = await client.patch("/v1/datasets/contoh-rumah-makan", headers=STEWARD, json={
        "schema": _dataset("x", classification="kbli-2020", values={"01111": ""})["schema"]})
    assert r.status_code == 200, r.text
    assert r.json()["schema"]["dimensions"][0]["values"] == {"01111": "Pertanian jagung"}

    async with pool.acquire() as conn, conn.transaction():
        outcome = await apply.apply_rows(conn, dataset_slug="contoh-usaha",
                                         publisher_id="walidata", rows=[
            {"region": "64.08.04.2001", "period": "2026", "lapangan_usaha": "56101",
             "jumlah": 4},
            {"region": "64.08.04.2001", "period": "2026", "lapangan_usaha": "99999",
             "jumlah": 1}])
    assert (outcome.counts.created, outcome.counts.rejected) == (1, 1)
    assert await pool.fetchval(
        "SELECT count(*) FROM registry.records r JOIN registry.datasets d "
        "ON d.id = r.dataset_id WHERE d.slug = 'contoh-usaha'") == 1

    r = await client.get("/v1/epss/evidence", params={"year": 2026}, headers=STEWARD)
    codes = next(i for i in r.json()["indicators"] if i["indicator"] == "kode_referensi")
    detail = {i["dataset"]: i["detail"] for i in codes["items"]}
    assert "lapangan_usaha (kbli-2020)" in detail["contoh-usaha"]
    assert "tidak ada dimensi lain" in detail["jumlah-penduduk"]
