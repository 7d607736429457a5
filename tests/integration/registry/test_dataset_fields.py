"""Every field of a dataset survives the trip: POST, GET, PATCH, GET, through the real store.

The sample values below name every field of DatasetCreate: a field added to the models
without a sample here fails the first test, and one the store or the migration forgets
fails the round trips (it would come back missing or unchanged) instead of being dropped
with a 200."""

from services.registry.datasets.models import DatasetCreate, DatasetUpdate, column
from tests.integration.registry.conftest import principal_headers

STEWARD = principal_headers()
META = {"produsen_data": "Dinas uji", "walidata": "Diskominfo Kutai Timur",
        "konsep": "Konsep uji", "definisi": "Definisi uji", "satuan": "unit"}
CREATE = {  # wire name -> a value other than the default
    "slug": "uji-semua-kolom", "title": "Semua kolom (contoh)", "description": "Uraian contoh",
    "frequency": "quarterly", "topic": "kependudukan", "tags": ["contoh", "uji"],
    "license": "CC-BY-SA-4.0", "metadata": {**META, "klasifikasi": "contoh"},
    "authoritative": ["disdukcapil"],
    "schema": {"dimensions": [{"name": "jenis_kelamin", "label": "Jenis kelamin",
                               "values": {"L": "Laki-laki", "P": "Perempuan"}}],
               "measures": [{"name": "jumlah", "label": "Jumlah", "additive": True}],
               "region_levels": ["desa", "kelurahan"]},
}
UPDATE = {  # wire name -> another value
    "title": "Semua kolom, diubah (contoh)", "description": "Uraian lain", "frequency": "annual",
    "topic": "kesehatan", "tags": ["diubah"], "license": "CC0-1.0",
    "metadata": {**META, "satuan": "jiwa"}, "authoritative": ["walidata"],
    "schema": {"dimensions": [], "region_levels": ["kecamatan"],
               "measures": [{"name": "jumlah", "label": "Jumlah jiwa", "unit": "jiwa",
                             "type": "integer", "min": 0, "max": None, "additive": True,
                             "required": True}]},
}


def _wire(model) -> set[str]:
    return {column(name, model) for name in model.model_fields}


def test_the_samples_name_every_field_of_the_models():
    assert set(CREATE) == _wire(DatasetCreate)
    assert set(UPDATE) == _wire(DatasetUpdate)
    assert _wire(DatasetUpdate) == _wire(DatasetCreate) - {"slug"}


def _subset(sent, got) -> bool:
    if isinstance(sent, dict):
        return isinstance(got, dict) and all(_subset(v, got.get(k)) for k, v in sent.items())
    if isinstance(sent, list):
        return isinstance(got, list) and len(sent) == len(got) and all(
            _subset(a, b) for a, b in zip(sent, got))
    return sent == got


async def test_every_field_is_stored_and_read_back(client):
    r = await client.post("/v1/datasets", json=CREATE, headers=STEWARD)
    assert r.status_code == 201, r.text
    r = await client.get(f"/v1/datasets/{CREATE['slug']}")
    assert r.status_code == 200
    lost = {k: (v, r.json().get(k)) for k, v in CREATE.items() if not _subset(v, r.json().get(k))}
    assert lost == {}


async def test_every_updatable_field_is_changed_by_patch(client):
    r = await client.post("/v1/datasets", json=CREATE, headers=STEWARD)
    assert r.status_code == 201, r.text
    r = await client.patch(f"/v1/datasets/{CREATE['slug']}", json=UPDATE, headers=STEWARD)
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2
    r = await client.get(f"/v1/datasets/{CREATE['slug']}")
    lost = {k: (v, r.json().get(k)) for k, v in UPDATE.items() if not _subset(v, r.json().get(k))}
    assert lost == {}


async def test_each_measure_says_what_its_type_means_and_the_schema_can_be_sent_back(
        client, registry):
    schema = {**CREATE["schema"], "measures": [
        {"name": "jumlah", "label": "Jumlah", "type": "integer", "additive": True},
        {"name": "rasio", "label": "Rasio", "type": "decimal"},
        {"name": "catatan", "label": "Catatan", "type": "text", "required": False}]}
    r = await client.post("/v1/datasets", json={**CREATE, "schema": schema}, headers=STEWARD)
    assert r.status_code == 201, r.text
    shown = (await client.get(f"/v1/datasets/{CREATE['slug']}")).json()["schema"]
    assert [(m["name"], m["numeric"], m["aggregation"]) for m in shown["measures"]] == [
        ("jumlah", True, "sum"), ("rasio", True, "per_region"), ("catatan", False, "none")]
    # what a client read comes back unchanged: the derived fields are accepted, never stored
    r = await client.patch(f"/v1/datasets/{CREATE['slug']}", json={"schema": shown},
                           headers=STEWARD)
    assert r.status_code == 200, r.text
    async with registry["pool"].acquire() as conn:
        stored = await conn.fetchval("SELECT schema FROM datasets WHERE slug = $1",
                                     CREATE["slug"])
    assert all("numeric" not in m and "aggregation" not in m for m in stored["measures"])
