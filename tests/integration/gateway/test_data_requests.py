"""Data requests (permohonan data) through the gateway: a citizen asks without an account and
gets a number and a due date in working days; the walidata's collective leave day moves later
due dates; the walidata extends once, answers with a dataset or refuses with a reason (each
audited); a request still open after its due date is flagged late."""

import httpx

ASK = {"subject": "Jumlah posyandu aktif per desa tahun 2025",
       "purpose": "Penelitian skripsi tentang layanan kesehatan desa",
       "contact": "mahasiswa@example.org"}


async def test_a_data_request_from_question_to_answer(stack, monkeypatch):
    monkeypatch.setenv("SATUDATA_TESTING", "1")
    monkeypatch.setenv("SATUDATA_NOW", "2026-12-21T09:00")  # a Monday, WITA
    async with httpx.AsyncClient(base_url=stack["url"], timeout=30) as client:
        first = await client.post("/v1/data-requests", json=ASK)
        assert first.status_code == 201, first.text
        first = first.json()
        assert first["number"].startswith("PD-2026-") and first["status"] == "diajukan"
        assert first["received_on"] == "2026-12-21" and not first["late"]
        assert "contact" not in first

        leave = await client.put("/v1/collective-leave/2026", headers=stack["walidata"],
                                 json={"days": [{"day": "2026-12-24", "note": "cuti bersama Natal"}]})
        assert leave.status_code == 200, leave.text
        assert (await client.put("/v1/collective-leave/2026", headers=stack["desa"],
                                 json={"days": []})).status_code == 403
        second = (await client.post("/v1/data-requests", json=ASK)).json()
        # one working day fewer before the due date: it moves to the next working day
        listed = (await client.get("/v1/data-requests")).json()["items"]
        assert {r["number"] for r in listed} == {first["number"], second["number"]}
        assert second["due_on"] > first["due_on"]

        url = f"/v1/data-requests/{first['number']}"
        assert (await client.post(f"{url}/extend", json={"notice": "Data sedang dihimpun dari puskesmas."})
                ).status_code == 401
        r = await client.post(f"{url}/extend", headers=stack["walidata"],
                              json={"notice": "Data sedang dihimpun dari 21 puskesmas."})
        assert r.status_code == 200, r.text
        extended = r.json()
        assert extended["extended"] and extended["due_on"] > first["due_on"]
        again = await client.post(f"{url}/extend", headers=stack["walidata"],
                                  json={"notice": "Sekali lagi, mohon maaf."})
        assert (again.status_code, again.json()["error"]["code"]) == (409, "request_not_extendable")

        monkeypatch.setenv("SATUDATA_NOW", "2027-02-01T09:00")  # past both due dates
        late = {r["number"]: r["late"] for r in
                (await client.get("/v1/data-requests")).json()["items"]}
        assert late == {first["number"]: True, second["number"]: True}

        r = await client.post(f"{url}/answer", headers=stack["walidata"],
                              json={"answer": "Diterbitkan sebagai dataset.",
                                    "dataset": "jumlah-penduduk"})
        assert r.status_code == 200, r.text
        assert (r.json()["status"], r.json()["dataset"], r.json()["late"]) == (
            "dijawab", "jumlah-penduduk", False)
        r = await client.post(f"/v1/data-requests/{second['number']}/refuse",
                              headers=stack["walidata"],
                              json={"reason": "Data ini dikecualikan (Pasal 17 UU 14/2008)."})
        assert r.json()["status"] == "ditolak"
        public = (await client.get(f"/v1/data-requests/{second['number']}")).json()
        assert public["answer"].startswith("Data ini dikecualikan") and "contact" not in public
        desk = (await client.get(f"/v1/data-requests/{second['number']}",
                                 headers=stack["walidata"])).json()
        assert desk["contact"] == ASK["contact"]
        actions = [e["action"] for e in (await client.get(
            "/v1/audit", headers=stack["walidata"])).json()["items"]]
        for action in ("collective_leave.set", "data_request.extend", "data_request.answer",
                       "data_request.refuse"):
            assert action in actions
        missing = await client.get("/v1/data-requests/PD-2026-99999")
        assert (missing.status_code, missing.json()["error"]["code"]) == (404, "request_not_found")
