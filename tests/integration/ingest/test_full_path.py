"""The whole path with the real registry consuming ingest's chunks over real NATS."""

from __future__ import annotations

import pytest

from tests.helpers import eventually
from tests.integration.ingest.conftest import DESA, auth


@pytest.fixture
def registry_namespace(nats_namespace):
    return nats_namespace  # the registry consumes this test's chunks


async def test_registry_summaries_complete_the_submission(client):
    data = [{"region": DESA, "period": "2024", "jenis_kelamin": "L", "jumlah": 1234},
            {"region": DESA, "period": "2024", "jenis_kelamin": "P", "jumlah": 1300},
            {"region": "Desa Antah Berantah", "period": "2024", "jenis_kelamin": "L",
             "jumlah": 5}]
    response = await client.post("/v1/submissions",
                                 json={"dataset": "jumlah-penduduk", "rows": data},
                                 headers=auth())
    assert response.status_code == 202

    async def completed():
        got = (await client.get(response.json()["status_url"], headers=auth())).json()
        return got if got["status"] == "completed" else None

    done = await eventually(completed, timeout=20)
    assert done["chunks_processed"] == 2
    assert done["counts"]["created"] == 2 and done["counts"]["rejected"] == 1
    assert done["rejected_rows"][0]["index"] == 2
    assert done["rejected_rows"][0]["field"] == "region"
