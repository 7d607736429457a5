"""`satudata push` retries with the same Idempotency-Key (HTTP answered by httpx.MockTransport)."""

from __future__ import annotations

import httpx
from tenacity import wait_none

from satudata import push as push_module
from satudata.push import _upload


def test_upload_retries_a_503_with_the_same_idempotency_key(tmp_path, monkeypatch):
    monkeypatch.setattr(push_module, "RETRY_WAIT", wait_none())
    file = tmp_path / "d.csv"
    file.write_text("region,period,jenis_kelamin,jumlah\n64.08.04.2001,2024,L,1\n")
    seen = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Idempotency-Key"])
        assert b"64.08.04.2001" in request.read()
        if len(seen) < 3:
            return httpx.Response(503, json={"error": {"code": "service_unavailable",
                                                       "message": "sibuk", "details": []}})
        return httpx.Response(202, json={"id": "x", "rows": 1, "chunks": 1, "status": "received",
                                         "status_url": "/v1/submissions/x", "warnings": []})

    with httpx.Client(base_url="http://ingest", transport=httpx.MockTransport(answer)) as client:
        accepted = _upload(client, file, "jumlah-penduduk", "kunci-ulang-1")
    assert accepted["id"] == "x"
    assert seen == ["kunci-ulang-1"] * 3
