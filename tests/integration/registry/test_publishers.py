"""Publishers through the API: create, change each field, an empty change, the public list."""

from tests.integration.registry.conftest import principal_headers

STEWARD = principal_headers()
NEW = {"id": "desa-contoh", "name": "Pemerintah Desa Contoh", "kind": "desa",
       "region_scope": "64.08.04.2001", "datasets": []}


async def test_each_field_of_a_publisher_changes_alone(client):
    r = await client.post("/v1/publishers", json=NEW, headers=STEWARD)
    assert r.status_code == 201, r.text
    r = await client.patch("/v1/publishers/desa-contoh", json={"name": "Desa Contoh Baru"},
                           headers=STEWARD)
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["datasets"]) == ("Desa Contoh Baru", [])
    r = await client.patch("/v1/publishers/desa-contoh", json={"datasets": ["jumlah-penduduk"]},
                           headers=STEWARD)
    assert (r.json()["name"], r.json()["datasets"]) == ("Desa Contoh Baru", ["jumlah-penduduk"])
    r = await client.patch("/v1/publishers/desa-contoh", json={}, headers=STEWARD)
    assert r.status_code == 200 and r.json()["name"] == "Desa Contoh Baru"
    r = await client.get("/v1/publishers")
    listed = {p["id"]: p for p in r.json()["items"]}
    assert listed["desa-contoh"]["datasets"] == ["jumlah-penduduk"]
    assert r.json()["next_cursor"] is None


async def test_a_publisher_cannot_change_publishers(client):
    r = await client.patch("/v1/publishers/disdukcapil", json={"name": "Bukan walidata"},
                           headers=principal_headers("disdukcapil", "publisher"))
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "steward_only"
