"""A citizen says a figure is wrong, without an account: the report is public (the figure is
"sedang ditinjau"), its message and contact are the walidata's alone, the walidata answers
(audited), the contact is deleted after the retention period, and one address cannot flood
the desk. Through the gateway, over the real registry."""

import httpx

REPORT = {"dataset": "jumlah-penduduk", "region": "64.08.04.2001", "period": "2023",
          "dimensions": {"jenis_kelamin": "L"}, "measure": "jumlah",
          "message": "Jumlah laki-laki di desa kami lebih dari ini, ada 2.150 orang.",
          "contact": "warga@example.org"}


async def test_a_citizens_report_goes_to_the_walidata_and_back(stack, monkeypatch):
    monkeypatch.setenv("REGISTRY_REPORT_CONTACT_DAYS", "0")  # deleted at the next write
    async with httpx.AsyncClient(base_url=stack["url"], timeout=30) as client:
        r = await client.post("/v1/feedback", json=REPORT)
        assert r.status_code == 201, r.text
        made = r.json()
        assert made["status"] == "open" and "contact" not in made and "message" not in made
        public = (await client.get("/v1/feedback", params={"dataset": REPORT["dataset"],
                                                            "status": "open"})).json()
        [shown] = public["items"]
        assert shown["id"] == made["id"] and "contact" not in shown
        desk = (await client.get("/v1/feedback", headers=stack["walidata"])).json()["items"]
        assert (desk[0]["message"], desk[0]["contact"]) == (REPORT["message"], REPORT["contact"])

        # bad reports are refused with what to fix, and nothing is kept
        bad = [({**REPORT, "dataset": "tidak-ada"}, 404, "dataset_not_found"),
               ({**REPORT, "period": "2023-07"}, 422, "period_format"),
               ({**REPORT, "message": "x"}, 422, None)]
        for body, status, code in bad:
            r = await client.post("/v1/feedback", json=body)
            assert r.status_code == status, r.text
            assert code is None or r.json()["error"]["code"] == code

        url = f"/v1/feedback/{made['id']}/answer"
        answer = {"answer": "Terima kasih; angka 2023 sudah dicocokkan dengan Disdukcapil."}
        assert (await client.post(url, json=answer, headers=stack["desa"])).status_code == 403
        assert (await client.post(url, json=answer)).status_code == 401
        r = await client.post(url, json=answer, headers=stack["walidata"])
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "answered" and r.json()["answer"] == answer["answer"]
        again = await client.post(url, json=answer, headers=stack["walidata"])
        assert (again.status_code, again.json()["error"]["code"]) == (409, "report_answered")
        log = (await client.get("/v1/audit", headers=stack["walidata"],
                                params={"action": "feedback.answer"})).json()["items"]
        assert [e["target"] for e in log] == [made["id"]]

        # past the retention period the contact is gone (deleted at the next report)
        r = await client.post("/v1/feedback", json={**REPORT, "contact": None})
        assert r.status_code == 201, r.text
        desk = {d["id"]: d for d in (await client.get(
            "/v1/feedback", headers=stack["walidata"])).json()["items"]}
        assert desk[made["id"]].get("contact") is None
        assert desk[made["id"]]["contact_deleted_at"]
        assert await stack["pool"].fetchval(
            "SELECT count(*) FROM registry.figure_reports WHERE contact IS NOT NULL") == 0

        # one address may report 10 times an hour (5 so far)
        codes = [(await client.post("/v1/feedback", json=REPORT)).status_code
                 for _ in range(6)]
        assert codes == [201] * 5 + [429]
